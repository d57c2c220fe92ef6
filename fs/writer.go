package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"miniais/checksum"
	"miniais/cluster"
)

// WriterOptions qualify a Writer.
type WriterOptions struct {
	// ChecksumType is the type of the checksum the Writer keeps as it goes
	// and Commit stores (the bucket's type; "" means checksum.XXHash2), as
	// PutOptions.ChecksumType.
	ChecksumType string
	// MaxSize is the largest object accepted (0 = unlimited): a write that
	// goes past it fails with cluster.ErrTooLarge.
	MaxSize int64
}

// Writer writes a new version of one object in pieces (the appends of an
// append handle, the parts of a multipart upload, a rebuilt archive) into
// a work file <mp>/.work/put-<random> on the object's HRW mountpath, keeping
// its checksum as it goes. Nothing is visible until Commit, which renames
// the file into place exactly as Put does (readers see the previous
// version or the whole new one); Abort, or a failed Commit, removes it. A
// Writer that is neither committed nor aborted keeps its file (and a file
// descriptor) open: its owner must end it. A crash leaves the work file,
// which NewStore removes.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	s       *Store
	bck     cluster.Bucket
	name    string
	uname   string
	mp      *Mountpath
	f       *os.File
	size    int64
	maxSize int64
	hash    checksum.Hasher // of the stored type; None for a none bucket
	done    bool
}

// NewWriter starts a new version of object name of bck. The bucket must
// exist on the object's mountpath (else cluster.ErrNotFound); names are
// checked as for Put.
func (s *Store) NewWriter(ctx context.Context, bck cluster.Bucket, name string, opts WriterOptions) (*Writer, error) {
	if err := checkNames(bck, name); err != nil {
		return nil, err
	}
	w := &Writer{s: s, bck: bck, name: name, uname: bck.Uname(name), maxSize: opts.MaxSize}
	typ := opts.ChecksumType
	if typ == "" {
		typ = checksum.XXHash2
	}
	if err := w.hash.Reset(typ); err != nil {
		return nil, fmt.Errorf("fs: writer %s/%s: %w", bck, name, err)
	}
	w.mp = s.mps.Select(w.uname)
	if w.mp == nil {
		return nil, errNoMountpaths()
	}
	if s.bucketMountpath(bck, w.mp) == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
	}
	f, err := s.createTemp(w.mp, putPrefix)
	if err != nil {
		return nil, err
	}
	w.f = f
	return w, nil
}

// Size returns the bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// Bucket returns the bucket of the object the Writer writes.
func (w *Writer) Bucket() cluster.Bucket { return w.bck }

// Object returns the name of the object the Writer writes.
func (w *Writer) Object() string { return w.name }

// Checksum returns the checksum of what was written so far, of the stored
// type (type checksum.None with an empty value in a none bucket).
func (w *Writer) Checksum() cluster.Checksum {
	return cluster.Checksum{Type: w.hash.Type(), Value: w.hash.Value()}
}

// Write appends p. It fails with cluster.ErrTooLarge past MaxSize (having
// written nothing of p) and after Commit or Abort.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("fs: write to a finished Writer")
	}
	if w.maxSize > 0 && w.size+int64(len(p)) > w.maxSize {
		return 0, cluster.Errorf(cluster.ErrTooLarge, "object exceeds the limit of %d bytes", w.maxSize)
	}
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("fs: write: %w", err)
	}
	return n, nil
}

// Append copies r to the end of the object, all or nothing: size is the
// expected length (-1: unknown; a body shorter or longer than a known size
// fails as in Put), and expect, when it has a value, is the checksum of
// this piece in any of package checksum's types, verified as it streams
// (cluster.ErrChecksum on a mismatch). On any failure (ctx, reader, size,
// checksum, MaxSize) the object is cut back to what it was before, so the
// Writer can go on. It returns the piece's length.
func (w *Writer) Append(ctx context.Context, r io.Reader, size int64, expect cluster.Checksum) (int64, error) {
	if w.done {
		return 0, errors.New("fs: append to a finished Writer")
	}
	var verify checksum.Hasher
	if expect.Value != "" {
		if expect.Type == "" {
			expect.Type = checksum.XXHash2
		}
		if err := checksum.Check(expect.Type, expect.Value); err != nil {
			return 0, err
		}
		if err := verify.Reset(expect.Type); err != nil {
			return 0, err
		}
	}
	before := w.size
	n, err := w.copyFrom(ctx, r, size, &verify)
	if err == nil && expect.Value != "" {
		if got := verify.Value(); !checksum.Equal(got, expect.Value) {
			err = cluster.Errorf(cluster.ErrChecksum, "append to %s/%s: the piece has %s %s, expected %s", w.bck, w.name, expect.Type, got, expect.Value)
		}
	}
	if err != nil {
		if rerr := w.truncate(before); rerr != nil {
			w.Abort()
			return 0, fmt.Errorf("%w (and the work file could not be cut back: %v)", err, rerr)
		}
		return 0, err
	}
	return n, nil
}

// copyFrom writes r to the Writer through Store.copyBody, also feeding
// extra.
func (w *Writer) copyFrom(ctx context.Context, r io.Reader, size int64, extra *checksum.Hasher) (int64, error) {
	return w.s.copyBody(ctx, r, size, 0, func(b []byte) error {
		extra.Write(b)
		_, err := w.Write(b)
		return err
	})
}

// truncate cuts the work file back to size and recomputes the checksum of
// what remains (a failed piece is rare; this keeps the hash state simple).
func (w *Writer) truncate(size int64) error {
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	if _, err := w.f.Seek(size, io.SeekStart); err != nil {
		return err
	}
	w.size = size
	typ := w.hash.Type()
	w.hash.Reset(typ) // a type Reset accepted before
	_, err := w.hashFile(&w.hash)
	return err
}

// hashFile feeds the work file's content [0, size) to h.
func (w *Writer) hashFile(h io.Writer) (int64, error) {
	bp := w.s.bufs.Get().(*[]byte)
	defer w.s.bufs.Put(bp)
	return io.CopyBuffer(h, io.NewSectionReader(w.f, 0, w.size), *bp)
}

// CommitOptions qualify a Commit.
type CommitOptions struct {
	// Checksum is the client's checksum of the whole object, optional, in
	// any of package checksum's types: Commit compares it with the running
	// checksum (or, for a type that gives another digest, hashes the work
	// file once more) and fails with cluster.ErrChecksum, storing nothing,
	// on a mismatch. In a none bucket it is stored unchecked, as by Put.
	Checksum cluster.Checksum
	// SkipVerify drops Checksum instead of verifying it (AIStore's skip_vc).
	SkipVerify bool
	// Custom are key-value pairs stored with the object (copied).
	Custom map[string]string
	// Parts, when positive, records that the object was assembled from
	// that many multipart parts (ObjectAttrs.Parts).
	Parts int
	// IfAbsent fails with cluster.ErrExists, storing nothing, when the
	// object exists (as PutOptions.IfAbsent).
	IfAbsent bool
}

// Commit makes what was written the object's new version, atomically and
// durably (see the package doc), and returns its attributes. Whether it
// succeeds or fails, the Writer is finished: on failure nothing changed
// and the work file is gone.
func (w *Writer) Commit(ctx context.Context, opts CommitOptions) (attrs ObjectAttrs, err error) {
	ctx, span := w.s.start(ctx, "fs.Commit", w.bck, w.name)
	defer func() {
		if err == nil {
			setAttrs(span, &attrs)
		}
		endSpan(span, err)
	}()
	if w.done {
		return ObjectAttrs{}, errors.New("fs: commit of a finished Writer")
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	stored, err := w.storedChecksum(opts)
	if err != nil {
		return ObjectAttrs{}, err
	}
	attrs = ObjectAttrs{
		Bucket:    w.bck,
		Name:      w.name,
		Size:      w.size,
		Checksum:  stored,
		Atime:     time.Now(),
		Custom:    maps.Clone(opts.Custom),
		Mountpath: w.mp.Path,
		Parts:     opts.Parts,
	}
	w.s.startWriteback(w.f)
	reps, err := w.s.replicate(ctx, w.bck, w.uname, w.mp, w.f, w.size, nil)
	defer func() { w.s.dropReplicas(reps) }()
	if err != nil {
		return ObjectAttrs{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectAttrs{}, err
	}
	var parent string
	parent, reps, err = w.s.commit(ctx, w.mp, w.uname, w.f, reps, &attrs, opts.IfAbsent)
	if err != nil {
		return ObjectAttrs{}, err
	}
	w.done = true
	err = w.s.syncCommitted(w.mp, w.f, parent)
	if err == nil {
		err = w.s.syncReplicas(reps)
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("fs: close: %w", cerr)
	}
	if err != nil {
		return ObjectAttrs{}, err
	}
	return attrs, nil
}

// storedChecksum verifies opts.Checksum against the content and returns the
// checksum to store.
func (w *Writer) storedChecksum(opts CommitOptions) (cluster.Checksum, error) {
	expect := opts.Checksum
	if expect.Value == "" {
		if expect.Type != "" && !checksum.Valid(expect.Type) {
			_, err := checksum.New(expect.Type)
			return cluster.Checksum{}, err
		}
		expect = cluster.Checksum{}
	} else {
		if expect.Type == "" {
			expect.Type = checksum.XXHash2
		}
		if err := checksum.Check(expect.Type, expect.Value); err != nil {
			return cluster.Checksum{}, err
		}
	}
	typ := w.hash.Type()
	if typ == checksum.None {
		if !expect.Empty() {
			return expect, nil // none bucket: the client's checksum, unchecked
		}
		return cluster.Checksum{Type: checksum.None}, nil
	}
	stored := cluster.Checksum{Type: typ, Value: w.hash.Value()}
	if expect.Empty() || opts.SkipVerify {
		return stored, nil
	}
	got := stored.Value
	if !checksum.Same(expect.Type, typ) {
		var h checksum.Hasher
		if err := h.Reset(expect.Type); err != nil {
			return cluster.Checksum{}, err
		}
		if _, err := w.hashFile(&h); err != nil {
			return cluster.Checksum{}, fmt.Errorf("fs: rehash: %w", err)
		}
		got = h.Value()
	}
	if !checksum.Equal(got, expect.Value) {
		return cluster.Checksum{}, cluster.Errorf(cluster.ErrChecksum, "%s/%s: content has %s %s, expected %s", w.bck, w.name, expect.Type, got, expect.Value)
	}
	return stored, nil
}

// Abort removes the work file; nothing of it is ever visible. It is a no-op
// on a finished Writer.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		w.s.log.Warn("fs: remove work file", "file", w.f.Name(), "err", err)
	}
}

// Scratch creates an empty work file <mp>/.work/put-<random> on the
// mountpath of object name of bck, for a caller that must stage bytes
// before it can write them (an archive member sent without a length). The
// caller owns the file: it closes and removes it. A crash leaves it to
// NewStore.
func (s *Store) Scratch(bck cluster.Bucket, name string) (*os.File, error) {
	if err := checkNames(bck, name); err != nil {
		return nil, err
	}
	mp := s.mps.Select(bck.Uname(name))
	if mp == nil {
		return nil, errNoMountpaths()
	}
	return s.createTemp(mp, putPrefix)
}
