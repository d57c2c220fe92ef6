package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"miniais/checksum"
	"miniais/cluster"
)

// GetOptions qualify an Open.
type GetOptions struct {
	// Validate re-reads the whole object and checks its checksum, of the
	// type it was stored with, before Open returns; a mismatch (or a stored
	// type that package checksum does not know) fails Open with
	// cluster.ErrCorrupt (which wraps cluster.ErrChecksum). An object stored
	// without a checksum value (type checksum.None) is validated by its size
	// only, which Open checks anyway.
	Validate bool
}

// Object is an open stored object: its attributes and its content. It
// implements io.Reader, io.ReaderAt, io.Seeker, io.Closer and io.WriterTo
// (see WriteTo). Read, Seek and
// WriteTo share one offset and must not be used concurrently; ReadAt may.
// The content is the version that was current at Open even if the object is
// overwritten or deleted afterwards. The caller must Close it.
type Object struct {
	// Attrs are the attributes of the opened version.
	Attrs ObjectAttrs
	f     *os.File
	path  string     // of the file, for dropping its cached metadata
	bufs  *sync.Pool // the Store's *[]byte of copyBufSize, for WriteTo
	moved bool       // Read, Seek or WriteTo was called: the offset may not be 0
	// pending is where a small WriteTo left the offset, not yet told to
	// the file (so that a GET costs no lseek); -1 when none.
	pending int64
}

// settle moves the file's offset to where a small WriteTo left it.
func (o *Object) settle() error {
	if o.pending < 0 {
		return nil
	}
	_, err := o.f.Seek(o.pending, io.SeekStart)
	o.pending = -1
	return err
}

// SmallObjectSize is the largest object that WriteTo sends with one read
// into a pooled buffer and one Write instead of through the kernel's
// sendfile: below it the sendfile path's extra system calls (behind an
// http.ResponseWriter a 512-byte read for content sniffing, then sendfile
// until it returns 0) cost more than copying the bytes once. Measured with
// BenchmarkWriteTo (CPU per object over loopback TCP, sender and receiver):
// 4 KiB 6.3 us copied vs 8.6 us sendfile, 16 KiB 10.8 vs 9.6 (before the
// ResponseWriter's extra read), 64 KiB 30 vs 31, 128 KiB 117 vs 60.
const SmallObjectSize = 16 << 10

var (
	_ io.ReadSeekCloser = (*Object)(nil)
	_ io.ReaderAt       = (*Object)(nil)
	_ io.WriterTo       = (*Object)(nil)
)

// Read reads from the current offset.
func (o *Object) Read(p []byte) (int, error) {
	o.moved = true
	if err := o.settle(); err != nil {
		return 0, err
	}
	return o.f.Read(p)
}

// ReadAt reads len(p) bytes at offset off; it is safe for concurrent use.
func (o *Object) ReadAt(p []byte, off int64) (int, error) { return o.f.ReadAt(p, off) }

// Seek sets the offset of the next Read or WriteTo.
func (o *Object) Seek(offset int64, whence int) (int64, error) {
	o.moved = true
	if err := o.settle(); err != nil {
		return 0, err
	}
	return o.f.Seek(offset, whence)
}

// WriteTo writes the content from the current offset to the end into w.
// An object of at most SmallObjectSize bytes, not read from before, is
// read with one pread into a pooled buffer and written with one w.Write;
// anything else goes through os.File.WriteTo, which hands the file to w's
// ReadFrom (an http.ResponseWriter or a TCP connection: sendfile/splice).
func (o *Object) WriteTo(w io.Writer) (int64, error) {
	if o.moved || o.bufs == nil || o.Attrs.Size > SmallObjectSize {
		o.moved = true
		if err := o.settle(); err != nil {
			return 0, err
		}
		return o.f.WriteTo(w)
	}
	bp := o.bufs.Get().(*[]byte)
	defer o.bufs.Put(bp)
	buf := (*bp)[:o.Attrs.Size]
	n, err := o.f.ReadAt(buf, 0)
	if n < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // shrunk under us: open checked the size
		}
		return 0, fmt.Errorf("fs: read: %w", err)
	}
	o.moved, o.pending = true, int64(n)
	m, err := w.Write(buf)
	return int64(m), err
}

// Close releases the file.
func (o *Object) Close() error { return o.f.Close() }

// File returns the underlying file, for callers that hand it to
// http.ServeContent or sendfile. It stays owned by the Object: do not close it.
// Its offset is not the Object's after WriteTo: seek it before reading.
func (o *Object) File() *os.File { return o.f }

// Open opens object name of bck for reading: on its HRW mountpath, else on
// any other. Three things can go wrong besides I/O errors: a missing bucket
// or object is an error wrapping cluster.ErrNotFound; an object whose file
// length differs from its metadata is refused with cluster.ErrCorrupt (which
// wraps cluster.ErrChecksum); and with opts.Validate, so is one whose content
// does not match its checksum. A corrupt copy is skipped for the next copy
// of a mirrored object: the error is returned only when no copy is good.
func (s *Store) Open(ctx context.Context, bck cluster.Bucket, name string, opts GetOptions) (obj *Object, err error) {
	ctx, span := s.start(ctx, "fs.Get", bck, name)
	defer func() {
		if err == nil {
			setAttrs(span, &obj.Attrs)
		}
		endSpan(span, err)
	}()
	if err := checkNames(bck, name); err != nil {
		return nil, err
	}
	uname := bck.Uname(name)
	lk := s.stripe(uname)
	var bad []string // mountpaths whose copy failed validation
	var firstBad error
	for {
		lk.RLock()
		obj, err = s.open(bck, name, uname, bad)
		lk.RUnlock()
		if err != nil {
			if firstBad != nil && errors.Is(err, cluster.ErrNotFound) {
				return nil, firstBad // no other copy
			}
			return nil, err
		}
		if !opts.Validate {
			return obj, nil
		}
		verr := s.validate(ctx, obj)
		if verr == nil {
			return obj, nil
		}
		s.meta.drop(obj.path)
		obj.Close()
		if !errors.Is(verr, cluster.ErrCorrupt) {
			return nil, verr
		}
		if firstBad == nil {
			firstBad = verr
		}
		// open skips it from now on: the loop ends after every copy.
		bad = append(bad, obj.Attrs.Mountpath)
		s.log.Warn("fs: corrupt copy, trying the next one", "err", verr)
	}
}

// open finds and opens the object, skipping the mountpaths in skip and the
// copies that fail their size check (the first such failure is returned
// when no copy is good); the caller holds its stripe read lock.
func (s *Store) open(bck cluster.Bucket, name, uname string, skip []string) (*Object, error) {
	first := s.mps.Select(uname)
	if first == nil {
		return nil, errNoMountpaths()
	}
	gen := s.meta.generation()
	var bad error
	for mp := range s.order(first) {
		if slices.Contains(skip, mp.Path) {
			continue
		}
		path := objectPath(mp, bck, name)
		f, err := openFile(path, unix.O_RDONLY, 0)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			if s.ioFault(mp, err) {
				continue // mp failed and is disabled now: a copy elsewhere may serve
			}
			return nil, fmt.Errorf("fs: open: %w", err)
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("fs: open: %w", err)
			}
			continue // a directory: the prefix of other objects, not an object
		}
		obj := &Object{f: f, path: path, bufs: &s.bufs, pending: -1, Attrs: ObjectAttrs{Bucket: bck, Name: name, Mountpath: mp.Path}}
		if !s.meta.get(path, fi, &obj.Attrs) {
			raw, merr := readMetaFile(f, sidecarPath(mp, bck, name))
			if err := attrsFromMeta(raw, merr, fi, &obj.Attrs); err != nil {
				f.Close()
				return nil, fmt.Errorf("fs: object %s/%s on %s: %w", bck, name, mp.Path, err)
			}
			if merr == nil && obj.Attrs.Size == fi.Size() {
				s.meta.add(path, fi, &obj.Attrs, gen)
			}
		}
		if obj.Attrs.Size != fi.Size() {
			f.Close()
			if bad == nil {
				bad = cluster.Errorf(cluster.ErrCorrupt, "object %s/%s on %s: metadata says %d bytes, file has %d",
					bck, name, mp.Path, obj.Attrs.Size, fi.Size())
			}
			continue // a mirrored object's next copy may be good
		}
		return obj, nil
	}
	if bad != nil {
		return nil, bad
	}
	return nil, s.notFound(bck, name)
}

// validate hashes the whole object with ReadAt and compares the checksum,
// of whatever type it was stored with. An object stored without a checksum
// value (type checksum.None, or a file without metadata) has only its size,
// which open has already compared with the file's.
func (s *Store) validate(ctx context.Context, obj *Object) error {
	a := &obj.Attrs
	h, err := validateHash(a.Checksum)
	if err != nil {
		return cluster.Errorf(cluster.ErrCorrupt, "object %s/%s on %s: stored checksum %s: %v", a.Bucket, a.Name, a.Mountpath, a.Checksum, err)
	}
	if h == nil {
		return nil
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := obj.f.ReadAt(*bp, off)
		h.Write((*bp)[:n])
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("fs: validate: %w", err)
		}
	}
	if got := checksum.Value(h); !checksum.Equal(got, a.Checksum.Value) || off != a.Size {
		return cluster.Errorf(cluster.ErrCorrupt, "object %s/%s on %s is corrupt: content has %s %s (%d bytes), metadata says %s (%d bytes)",
			a.Bucket, a.Name, a.Mountpath, a.Checksum.Type, got, off, a.Checksum.Value, a.Size)
	}
	return nil
}

// Head returns the attributes of object name of bck without opening it.
// Errors are those of Open (without validation).
func (s *Store) Head(ctx context.Context, bck cluster.Bucket, name string) (attrs ObjectAttrs, err error) {
	_, span := s.start(ctx, "fs.Head", bck, name)
	defer func() {
		if err == nil {
			setAttrs(span, &attrs)
		}
		endSpan(span, err)
	}()
	if err := checkNames(bck, name); err != nil {
		return ObjectAttrs{}, err
	}
	uname := bck.Uname(name)
	lk := s.stripe(uname)
	lk.RLock()
	defer lk.RUnlock()
	first := s.mps.Select(uname)
	if first == nil {
		return ObjectAttrs{}, errNoMountpaths()
	}
	for mp := range s.order(first) {
		a, err := s.head(mp, bck, name)
		if isNotExist(err) {
			continue
		}
		return a, err
	}
	return ObjectAttrs{}, s.notFound(bck, name)
}

// head reads the attributes of name on mp; the caller holds the stripe lock.
// A missing object or a directory is os.ErrNotExist.
func (s *Store) head(mp *Mountpath, bck cluster.Bucket, name string) (ObjectAttrs, error) {
	path := objectPath(mp, bck, name)
	gen := s.meta.generation()
	fi, err := os.Lstat(path)
	if err != nil {
		return ObjectAttrs{}, err
	}
	if !fi.Mode().IsRegular() {
		return ObjectAttrs{}, os.ErrNotExist
	}
	a := ObjectAttrs{Bucket: bck, Name: name, Mountpath: mp.Path}
	if s.meta.get(path, fi, &a) {
		return a, nil
	}
	raw, merr := readMetaPath(path, sidecarPath(mp, bck, name))
	if isNotExist(merr) {
		return ObjectAttrs{}, os.ErrNotExist // deleted meanwhile (List holds no lock)
	}
	if err := attrsFromMeta(raw, merr, fi, &a); err != nil {
		return ObjectAttrs{}, fmt.Errorf("fs: object %s/%s on %s: %w", bck, name, mp.Path, err)
	}
	if merr == nil {
		s.meta.add(path, fi, &a, gen)
	}
	return a, nil
}

// Delete removes object name of bck from every mountpath that has it. A
// missing bucket or object is an error wrapping cluster.ErrNotFound.
func (s *Store) Delete(ctx context.Context, bck cluster.Bucket, name string) (err error) {
	_, span := s.start(ctx, "fs.Delete", bck, name)
	defer func() { endSpan(span, err) }()
	if err := checkNames(bck, name); err != nil {
		return err
	}
	uname := bck.Uname(name)
	first := s.mps.Select(uname)
	if first == nil {
		return errNoMountpaths()
	}
	lk := s.stripe(uname)
	lk.Lock()
	defer lk.Unlock()
	found := false
	for mp := range s.order(first) {
		ok, err := s.remove(mp, bck, name)
		if err != nil {
			return err
		}
		if ok {
			found = true
			if err := s.syncDir(filepath.Dir(objectPath(mp, bck, name))); err != nil && !isNotExist(err) {
				return err
			}
		}
	}
	if !found {
		return s.notFound(bck, name)
	}
	return nil
}

// remove unlinks name and its sidecar on mp and removes the directories that
// this left empty. It reports whether there was an object.
func (s *Store) remove(mp *Mountpath, bck cluster.Bucket, name string) (bool, error) {
	path := objectPath(mp, bck, name)
	err := syscall.Unlink(path)
	s.meta.drop(path)
	switch {
	case isNotExist(err), errors.Is(err, syscall.EISDIR):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("fs: delete %s/%s: %w", bck, name, err)
	}
	sc := sidecarPath(mp, bck, name)
	if err := syscall.Unlink(sc); err == nil {
		removeEmptyDirs(filepath.Dir(sc), bucketDir(mp, bck)+"/"+sidecarDirName)
	}
	removeEmptyDirs(filepath.Dir(path), objectsDir(mp, bck))
	return true, nil
}

// removeEmptyDirs removes dir and its parents below root while they are
// empty, so that a deleted "a/b" does not block a later object "a".
func removeEmptyDirs(dir, root string) {
	for len(dir) > len(root) && strings.HasPrefix(dir, root+"/") {
		if syscall.Rmdir(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// order yields first and then the other mountpaths.
func (s *Store) order(first *Mountpath) func(yield func(*Mountpath) bool) {
	return func(yield func(*Mountpath) bool) {
		if !yield(first) {
			return
		}
		for _, mp := range s.mps.List() {
			if mp.Path != first.Path && !yield(mp) {
				return
			}
		}
	}
}

// notFound says whether the bucket or the object is missing.
func (s *Store) notFound(bck cluster.Bucket, name string) error {
	if !s.BucketExists(bck) {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
	}
	return cluster.Errorf(cluster.ErrNotFound, "object %s/%s", bck, name)
}

func isNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
