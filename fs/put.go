package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"miniais/checksum"
	"miniais/cluster"
)

// PutOptions qualify a Put.
type PutOptions struct {
	// Size is the expected body length, or -1 when unknown. Note that the
	// zero value means an empty body: a body shorter or longer than a known
	// Size fails the Put (as a truncated body) and stores nothing.
	Size int64
	// ChecksumType is the type of the checksum that Put computes and stores
	// with the object, which Head and Open then return: the bucket's
	// checksum type, one of package checksum's seven; "" means
	// checksum.XXHash2. With checksum.None nothing is computed: the object
	// is stored with the client's Checksum, unchecked, if it has a value
	// (AIStore does the same), else with {Type: "none", Value: ""}. An
	// unknown type fails with an error wrapping cluster.ErrBadRequest.
	ChecksumType string
	// Checksum is the client's expected checksum, optional, in the client's
	// own type (which need not be ChecksumType; "" means checksum.XXHash2).
	// An empty Value means no checksum. Put verifies it while it computes
	// the stored checksum, in the same pass over the body (hashing once when
	// the two types are checksum.Same); on a mismatch it fails with an error
	// wrapping cluster.ErrChecksum and stores nothing. An unknown type or a
	// value of the wrong length fails with an error wrapping
	// cluster.ErrBadRequest (checksum.ErrUnknownType, checksum.ErrBadValue),
	// even with SkipVerify.
	Checksum cluster.Checksum
	// SkipVerify makes Put not verify Checksum (AIStore's skip_vc=true):
	// the stored checksum is still computed with ChecksumType, and the
	// client's value is dropped (except in a none bucket, see ChecksumType).
	SkipVerify bool
	// Custom are key-value pairs stored with the object. Put copies the map.
	Custom map[string]string
	// MaxSize is the largest body accepted (0 = unlimited); a longer body
	// fails with cluster.ErrTooLarge.
	MaxSize int64
	// IfAbsent makes Put fail with an error wrapping cluster.ErrExists, and
	// store nothing, when the object exists on any mountpath. The check and
	// the rename into place happen under the object's lock, so a concurrent
	// Put of the same name is never overwritten by an IfAbsent one.
	IfAbsent bool
	// MD5 makes Put also compute the MD5 of the body, in the same pass,
	// and store its hex as the custom pair CustomETag (S3's ETag).
	MD5 bool
}

// Put stores the content of r as object name of bck, replacing any previous
// version (whose version number it increments). The object is written to its
// HRW mountpath (and, in a mirrored bucket, to the next ones: mirror.go);
// copies on other mountpaths are removed. Readers see either
// the previous version or the complete new one. If Put fails for any reason
// (bad name, missing bucket, reader error, cancelled ctx, size or checksum
// mismatch, name conflict) nothing changes on disk. The bucket must exist.
//
// Put reads r until io.EOF; it does not close r.
func (s *Store) Put(ctx context.Context, bck cluster.Bucket, name string, r io.Reader, opts PutOptions) (attrs ObjectAttrs, err error) {
	ctx, span := s.start(ctx, "fs.Put", bck, name)
	defer func() {
		if err == nil {
			setAttrs(span, &attrs)
		}
		endSpan(span, err)
	}()
	if err := checkNames(bck, name); err != nil {
		return ObjectAttrs{}, err
	}
	var hashes putHashes
	if err := hashes.init(&opts); err != nil {
		return ObjectAttrs{}, fmt.Errorf("fs: put %s/%s: %w", bck, name, err)
	}
	if opts.MaxSize > 0 && opts.Size > opts.MaxSize {
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrTooLarge, "object of %d bytes exceeds the limit of %d", opts.Size, opts.MaxSize)
	}
	uname := bck.Uname(name)
	mp := s.mps.Select(uname)
	if mp == nil {
		return ObjectAttrs{}, errNoMountpaths()
	}
	if s.bucketMountpath(bck, mp) == nil {
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
	}

	tmp, err := s.createTemp(mp, putPrefix)
	if err != nil && s.ioFault(mp, err) {
		// mp failed and is disabled now: the object goes to its next HRW mountpath.
		if mp = s.mps.Select(uname); mp == nil {
			return ObjectAttrs{}, errNoMountpaths()
		}
		tmp, err = s.createTemp(mp, putPrefix)
	}
	if err != nil {
		return ObjectAttrs{}, err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			if rerr := os.Remove(tmp.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				s.log.Warn("fs: remove work file", "file", tmp.Name(), "err", rerr)
			}
		}
	}()
	size, err := s.receive(ctx, tmp, r, opts, &hashes)
	if err != nil {
		return ObjectAttrs{}, err
	}
	stored, got := hashes.result()
	if want := hashes.expect; got != "" && !checksum.Equal(got, want.Value) {
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrChecksum, "put %s/%s: body has %s %s, expected %s", bck, name, want.Type, got, want.Value)
	}
	attrs = ObjectAttrs{
		Bucket:    bck,
		Name:      name,
		Size:      size,
		Checksum:  stored,
		Atime:     time.Now(),
		Custom:    maps.Clone(opts.Custom),
		Mountpath: mp.Path,
	}
	hashes.setETag(&attrs)
	s.startWriteback(tmp)
	reps, err := s.replicate(ctx, bck, uname, mp, tmp, size, nil)
	defer func() { s.dropReplicas(reps) }()
	if err != nil {
		return ObjectAttrs{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectAttrs{}, err
	}
	var parent string
	parent, reps, err = s.commit(ctx, mp, uname, tmp, reps, &attrs, opts.IfAbsent)
	if err != nil {
		return ObjectAttrs{}, err
	}
	committed = true
	err = s.syncCommitted(mp, tmp, parent)
	if err == nil {
		err = s.syncReplicas(reps)
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("fs: close: %w", cerr)
	}
	if err != nil {
		return ObjectAttrs{}, err
	}
	return attrs, nil
}

// receive copies r into f, feeding hs as it goes, and enforces opts.Size
// and opts.MaxSize (see copyBody). It returns the length.
func (s *Store) receive(ctx context.Context, f *os.File, r io.Reader, opts PutOptions, hs *putHashes) (int64, error) {
	return s.copyBody(ctx, r, opts.Size, opts.MaxSize, func(b []byte) error {
		hs.write(b)
		if _, err := f.Write(b); err != nil {
			return fmt.Errorf("fs: write: %w", err)
		}
		return nil
	})
}

// copyBody reads r to its end through one pooled buffer of copyBufSize
// and hands each full buffer (the last one partial) to sink, which hashes
// and writes it: one pass over the body, one write per buffer. size is the
// declared length (-1: unknown): a body longer or shorter fails with
// cluster.ErrBadRequest; maxSize (0: none) fails a longer body with
// cluster.ErrTooLarge. It checks ctx between buffers. sink must not keep b.
func (s *Store) copyBody(ctx context.Context, r io.Reader, size, maxSize int64, sink func(b []byte) error) (int64, error) {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		m, rerr := io.ReadFull(r, buf)
		if m > 0 {
			n += int64(m)
			if maxSize > 0 && n > maxSize {
				return 0, cluster.Errorf(cluster.ErrTooLarge, "object exceeds the limit of %d bytes", maxSize)
			}
			if size >= 0 && n > size {
				return 0, cluster.Errorf(cluster.ErrBadRequest, "body longer than the declared %d bytes", size)
			}
			if err := sink(buf[:m]); err != nil {
				return 0, err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return 0, fmt.Errorf("fs: read body: %w", rerr)
		}
	}
	if size >= 0 && n != size {
		return 0, cluster.Errorf(cluster.ErrBadRequest, "truncated body: %d of the declared %d bytes", n, size)
	}
	return n, nil
}

// commit gives the received file at tmp (and its replicas, the copies of a
// mirrored bucket's object) its version and metadata and renames it into
// place on mp (each replica on its own mountpath), under the bucket read
// lock and the name's stripe lock; copies on other mountpaths are removed.
// The number of copies is checked again under the lock (replicate). It
// returns the directory to flush (with the file) before acknowledging, and
// the replicas, each with its directory set; the caller owns them, on
// error too.
func (s *Store) commit(ctx context.Context, mp *Mountpath, uname string, tmp *os.File, reps []replica, a *ObjectAttrs, ifAbsent bool) (string, []replica, error) {
	bck, name := a.Bucket, a.Name
	s.bckMu.RLock()
	defer s.bckMu.RUnlock()
	lk := s.stripe(uname)
	lk.Lock()
	defer lk.Unlock()
	reps, err := s.replicate(ctx, bck, uname, mp, tmp, a.Size, reps) // the number of copies may have changed
	if err != nil {
		return "", reps, err
	}

	for i := -1; i < len(reps); i++ {
		on := mp
		if i >= 0 {
			on = reps[i].mp
		}
		if !isDir(objectsDir(on, bck)) {
			// A mountpath added after the bucket was created.
			if s.bucketMountpath(bck, nil) == nil {
				return "", reps, cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
			}
			if err := os.MkdirAll(objectsDir(on, bck), 0o755); err != nil {
				return "", reps, fmt.Errorf("fs: %w", err)
			}
		}
		if len(reps) > 0 {
			// A conflict on one copy must fail the write before any is renamed.
			if err := checkConflict(objectPath(on, bck, name), objectsDir(on, bck)); err != nil {
				return "", reps, err
			}
		}
	}
	prev, exists, others := s.previous(bck, name, mp, reps)
	if ifAbsent && exists {
		return "", reps, cluster.Errorf(cluster.ErrExists, "object %s/%s exists", bck, name)
	}
	a.Version = cluster.FormatVersion(prev + 1)
	meta := encodeMeta(make([]byte, 0, 128), a)
	if len(meta) > MaxMetaSize {
		return "", reps, cluster.Errorf(cluster.ErrTooLarge, "metadata of %d bytes exceeds %d (too many custom pairs)", len(meta), MaxMetaSize)
	}
	parent, err := s.renameCommitted(mp, tmp, bck, name, meta)
	if err != nil {
		return "", reps, err
	}
	for i := range reps {
		r := &reps[i]
		if r.parent, err = s.renameCommitted(r.mp, r.f, bck, name, meta); err != nil {
			return "", reps, err
		}
	}
	for _, o := range others {
		if _, err := s.remove(o, bck, name); err != nil {
			s.log.Warn("fs: remove misplaced copy", "mountpath", o.Path, "object", name, "err", err)
		}
	}
	return parent, reps, nil
}

// renameCommitted gives the work file f on mp the encoded metadata meta and
// renames it to object name of bck there, for commit. It returns the
// directory to flush.
func (s *Store) renameCommitted(mp *Mountpath, f *os.File, bck cluster.Bucket, name string, meta []byte) (string, error) {
	sidecar, err := s.setMeta(f, meta)
	if err != nil {
		return "", err
	}
	// A crash must never leave the name on a file with less in it. Where
	// the filesystem orders the data writeback started before the rename
	// ahead of the rename (ext4's data=ordered journal, see orderedData)
	// one fsync after the rename is enough (syncCommitted); elsewhere the
	// content and metadata are fsynced first. (A sidecar is written after
	// the rename and fsynced on its own.)
	if s.fsync && !s.ordered(mp) {
		if err := s.syncFile(f); err != nil {
			return "", err
		}
	}
	dst := objectPath(mp, bck, name)
	err = s.renameInto(f.Name(), dst, objectsDir(mp, bck))
	s.meta.drop(dst) // whatever happened to the file there
	if err != nil {
		return "", fmt.Errorf("fs: put %s/%s: %w", bck, name, err)
	}
	if sidecar {
		if err := s.writeSidecar(mp, bck, name, meta); err != nil {
			return "", err
		}
	}
	return filepath.Dir(dst), nil
}

// previous returns the highest version of name on any readable mountpath
// (0 if none), whether a file of that name exists on any, and the
// mountpaths other than mp and those of reps that hold a copy.
func (s *Store) previous(bck cluster.Bucket, name string, mp *Mountpath, reps []replica) (uint64, bool, []*Mountpath) {
	var prev uint64
	var exists bool
	var others []*Mountpath
	for _, o := range s.mps.List() {
		path := objectPath(o, bck, name)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		exists = true
		if o.Path != mp.Path && !hasReplica(reps, o) {
			others = append(others, o)
		}
		var a ObjectAttrs
		if !s.meta.get(path, fi, &a) {
			raw, err := readMetaPath(path, sidecarPath(o, bck, name))
			if attrsFromMeta(raw, err, fi, &a) != nil {
				continue
			}
		}
		if v, err := strconv.ParseUint(a.Version, 10, 64); err == nil && v > prev {
			prev = v
		}
	}
	return prev, exists, others
}

// renameRetries bounds the retries of a rename that races with the removal
// of empty directories by Delete.
const renameRetries = 8

// renameInto renames src to dst, making dst's parent directories below root
// as needed. A name conflict (dst is a non-empty directory, or one of its
// parents is a file) is cluster.ErrExists.
func (s *Store) renameInto(src, dst, root string) error {
	for attempt := 0; ; attempt++ {
		err := os.Rename(src, dst)
		if err == nil {
			return nil
		}
		if attempt == renameRetries {
			return err
		}
		switch {
		case errors.Is(err, syscall.ENOENT):
			// Parent missing: a new subdirectory, or removed by a concurrent Delete.
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				switch {
				case errors.Is(err, syscall.ENOTDIR):
					return errConflict(dst, root) // a parent is an object
				case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.EEXIST):
					// A concurrent Delete removed a directory that MkdirAll
					// had just made or seen (EEXIST is also what a file in
					// the way gives; the next rename tells them apart with
					// ENOTDIR). Retry, within renameRetries.
					continue
				}
				return err
			}
			if err := s.syncDirsBelow(root, filepath.Dir(dst)); err != nil {
				return err
			}
		case errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST):
			// dst is a directory: fine only if it is an empty leftover.
			if syscall.Rmdir(dst) != nil {
				return errConflict(dst, root)
			}
		case errors.Is(err, syscall.ENOTDIR):
			return errConflict(dst, root)
		default:
			return err
		}
	}
}

func errConflict(dst, root string) error {
	name := strings.TrimPrefix(dst, root+"/")
	return cluster.Errorf(cluster.ErrExists,
		"object name %q conflicts with an existing object: a name cannot be both an object and the directory prefix of another", name)
}

// syncDirsBelow fsyncs the parents of dir up to and including the parent
// of root, after MkdirAll may have created some of them.
func (s *Store) syncDirsBelow(root, dir string) error {
	if !s.fsync {
		return nil
	}
	var dirs []string
	for {
		dirs = append(dirs, filepath.Dir(dir))
		if dir == root || len(dir) <= len(root) {
			return s.syncDir(dirs[0], dirs[1:]...)
		}
		dir = filepath.Dir(dir)
	}
}

// writeSidecar stores meta in the sidecar file of name, atomically.
func (s *Store) writeSidecar(mp *Mountpath, bck cluster.Bucket, name string, meta []byte) error {
	f, err := s.createTemp(mp, metaPrefix)
	if err != nil {
		return err
	}
	_, err = f.Write(meta)
	if err == nil {
		err = s.syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	dst := sidecarPath(mp, bck, name)
	if err == nil {
		err = s.renameInto(f.Name(), dst, bucketDir(mp, bck)+"/"+sidecarDirName)
	}
	if err == nil {
		err = s.syncDir(filepath.Dir(dst))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("fs: write sidecar: %w", err)
	}
	return nil
}

// createTemp creates a work file on mp, making the work directory if a
// mountpath added at run time lacks it.
func (s *Store) createTemp(mp *Mountpath, prefix string) (*os.File, error) {
	f, err := createWorkFile(workDir(mp), prefix)
	if errors.Is(err, os.ErrNotExist) {
		// Mkdir, not MkdirAll: a mountpath directory removed under us must
		// not be made again (the health check tells).
		if err = os.Mkdir(workDir(mp), 0o755); err == nil || errors.Is(err, os.ErrExist) {
			f, err = createWorkFile(workDir(mp), prefix)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fs: create work file: %w", err)
	}
	return f, nil
}

// fileExists tells whether path names a regular file.
func fileExists(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular()
}

// setMeta writes the encoded metadata meta into f's xattr. It returns
// sidecar=true, writing nothing, when the filesystem has no user xattrs
// (then the caller writes a sidecar after the rename).
func (s *Store) setMeta(f *os.File, meta []byte) (sidecar bool, err error) {
	if s.noXattr {
		return true, nil
	}
	err = unix.Fsetxattr(int(f.Fd()), xattrName, meta, 0)
	switch {
	case xattrUnsupported(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("fs: write metadata: %w", err)
	}
	return false, nil
}
