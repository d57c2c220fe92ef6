package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"miniais/cluster"
)

// # Mirroring
//
// A bucket with n copies (Config.Copies, from its mirror properties) keeps
// each object on the first n mountpaths of the object's HRW ranking among
// the available ones ([Mountpaths.SelectN]; fewer when fewer are
// available), the Select one first: the same file, with the same metadata,
// at the same relative path on each. Every write path makes all of them:
// Put and a Writer's Commit copy the received work file to a work file on
// each other mountpath before they take the name's lock (replicate), then
// give all the same version and metadata and rename them into place under
// the lock, and fsync each before returning. A name conflict on any of them
// (see the layout) fails the write before anything is renamed.
//
// Reads look on the first mountpath and then on the others (order), so a
// mountpath that is gone, disabled or failing costs nothing but a miss; a
// copy that fails its size check, or its checksum with validation on, is
// skipped for the next one (a corrupt object is reported only when no copy
// is good). Delete removes every copy.
//
// Resilver (and so the make-n-copies job, Resilver of one bucket) puts
// every object on exactly its n HRW mountpaths: it copies the newest
// version (the highest version number among the copies found) to those
// that lack it or hold an older one and removes the copies elsewhere. A
// mountpath lost to a disk failure therefore loses no object of a bucket
// with two copies or more, and the next resilver brings each object back
// to n copies on the mountpaths left.

// replica is one more copy of an object being written: its work file on
// mp, and the directory it was renamed into (set by commit).
type replica struct {
	mp     *Mountpath
	f      *os.File
	parent string
}

// copiesOf returns how many copies the objects of bck have (at least 1).
func (s *Store) copiesOf(bck cluster.Bucket) int {
	if s.copies == nil {
		return 1
	}
	return max(s.copies(bck), 1)
}

// replicate brings reps, the work files of the copies of object uname (of
// bck) other than the one received at src on primary, to the bucket's
// number of copies (at most one per available mountpath): it makes the
// missing ones, each a copy of src's first size bytes on the next
// mountpath of the object's ranking with its writeback started, and drops
// the extra ones. Put and a Writer's Commit call it before they take the
// name's lock, and commit calls it again under the lock, so that a change
// of the number of copies meanwhile is never missed (a make-n-copies pass
// that went by reads it under the lock too). A mountpath that fails while
// its copy is made is disabled (ioFault) and the ranking taken again. The
// caller owns the replicas returned, on error too (dropReplicas).
func (s *Store) replicate(ctx context.Context, bck cluster.Bucket, uname string, primary *Mountpath, src *os.File, size int64, reps []replica) ([]replica, error) {
	n := min(s.copiesOf(bck), max(len(s.mps.Available()), 1))
	for len(reps) > max(n-1, 0) { // fewer copies now
		s.dropWork(reps[len(reps)-1].f)
		reps = reps[:len(reps)-1]
	}
	if len(reps) >= n-1 {
		return reps, nil
	}
	made := len(reps)
	for attempt := 0; attempt <= len(s.mps.List()); attempt++ {
		retry := false
		for _, mp := range s.mps.SelectN(uname, n+1, nil) {
			if len(reps) == n-1 {
				break
			}
			if mp.Path == primary.Path || hasReplica(reps, mp) {
				continue
			}
			f, err := s.createTemp(mp, putPrefix)
			if err == nil {
				if err = s.copyData(ctx, f, src, size); err != nil {
					s.dropWork(f)
				}
			}
			if err != nil {
				if s.ioFault(mp, err) {
					retry = true // mp is disabled now: rank again
					break
				}
				return reps, err
			}
			reps = append(reps, replica{mp: mp, f: f})
		}
		if !retry {
			break
		}
	}
	for _, r := range reps[made:] {
		s.startWriteback(r.f)
	}
	return reps, nil
}

func hasReplica(reps []replica, mp *Mountpath) bool {
	for _, r := range reps {
		if r.mp.Path == mp.Path {
			return true
		}
	}
	return false
}

// copyData copies the first size bytes of src (read with ReadAt, so src's
// offset does not move) to dst through a pooled buffer.
func (s *Store) copyData(ctx context.Context, dst, src *os.File, size int64) error {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := int(min(int64(len(buf)), size-off))
		n, err := src.ReadAt(buf[:m], off)
		if n < m {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("fs: copy: read %s: %w", src.Name(), err)
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return fmt.Errorf("fs: copy: write: %w", err)
		}
		off += int64(n)
	}
	return nil
}

// dropWork closes and removes a work file that was not committed (one that
// was is gone from the work directory: its removal is a no-op).
func (s *Store) dropWork(f *os.File) {
	f.Close()
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("fs: remove work file", "file", f.Name(), "err", err)
	}
}

// dropReplicas closes the replicas' work files and removes those that were
// not renamed into place.
func (s *Store) dropReplicas(reps []replica) {
	for _, r := range reps {
		s.dropWork(r.f)
	}
}

// syncReplicas makes the renamed replicas durable, like syncCommitted.
func (s *Store) syncReplicas(reps []replica) error {
	for _, r := range reps {
		if err := s.syncCommitted(r.mp, r.f, r.parent); err != nil {
			return err
		}
	}
	return nil
}

// checkConflict tells whether renaming a file to dst (below root) would hit
// a name conflict: dst a non-empty directory, or one of its parents below
// root a file. commit checks every copy's destination with it before it
// renames any, so a conflict on one mountpath changes none.
func checkConflict(dst, root string) error {
	if fi, err := os.Lstat(dst); err == nil {
		if fi.IsDir() {
			if entries, err := os.ReadDir(dst); err != nil || len(entries) > 0 {
				return errConflict(dst, root)
			}
		}
		return nil
	}
	for dir := filepath.Dir(dst); len(dir) > len(root); dir = filepath.Dir(dir) {
		fi, err := os.Lstat(dir)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil, errors.Is(err, syscall.ENOTDIR):
			return errConflict(dst, root)
		}
	}
	return nil
}

// copyState is what place found of one object on one readable mountpath.
type copyState struct {
	mp      *Mountpath
	attrs   ObjectAttrs
	version uint64
}

// place puts object name of bck, found on mp by a walk, on exactly its
// HRW mountpaths (copiesOf of them): it copies the newest version there
// where it is missing or older, keeping its metadata, and removes the
// copies elsewhere. It returns the bytes it copied, or -1 when nothing
// needed a copy (removing misplaced or stale copies aside). It works under
// the name's write lock: readers of that name wait (those that had opened
// a file read on from it).
func (s *Store) place(mp *Mountpath, bck cluster.Bucket, name string) (int64, error) {
	if checkNames(bck, name) != nil {
		return -1, nil // not one of ours (a stray file)
	}
	uname := bck.Uname(name)
	if s.copiesOf(bck) == 1 {
		if hrw := s.mps.Select(uname); hrw != nil && hrw.Path == mp.Path {
			// In place, without a lock or a stat: a copy elsewhere (even a
			// newer one) is placed when the walk gets to it. (A number of
			// copies changed meanwhile is read again by the pass that the
			// change starts.)
			return -1, nil
		}
	}
	s.bckMu.RLock()
	defer s.bckMu.RUnlock()
	lk := s.stripe(uname)
	lk.Lock()
	defer lk.Unlock()
	// The number of copies and the ranking are read under the lock, like
	// commit's: a write that straddles a change is placed by one or the
	// other.
	var buf [8]*Mountpath
	want := s.mps.SelectN(uname, s.copiesOf(bck), buf[:0])
	if len(want) == 0 {
		return -1, nil
	}

	var found []copyState
	var newest *copyState
	for _, o := range s.mps.List() {
		a, err := s.head(o, bck, name)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			if o.Path == mp.Path {
				return 0, err
			}
			continue // a broken copy elsewhere is skipped (and replaced when it is a wanted one)
		}
		v, _ := strconv.ParseUint(a.Version, 10, 64)
		found = append(found, copyState{mp: o, attrs: a, version: v})
	}
	for i := range found {
		c := &found[i]
		if newest == nil || c.version > newest.version || (c.version == newest.version && isWanted(want, c.mp) && !isWanted(want, newest.mp)) {
			newest = c
		}
	}
	if newest == nil {
		return -1, nil // deleted meanwhile
	}
	copied := int64(-1)
	for _, dst := range want {
		if c := findCopy(found, dst); c != nil && c.version >= newest.version {
			continue
		}
		size, err := s.copyObject(newest, dst, bck, name)
		if err != nil {
			return 0, err
		}
		copied = max(copied, 0) + size
	}
	for _, c := range found {
		if !isWanted(want, c.mp) {
			if _, err := s.remove(c.mp, bck, name); err != nil {
				return 0, err
			}
		}
	}
	return copied, nil
}

func isWanted(want []*Mountpath, mp *Mountpath) bool {
	for _, w := range want {
		if w.Path == mp.Path {
			return true
		}
	}
	return false
}

func findCopy(found []copyState, mp *Mountpath) *copyState {
	for i := range found {
		if found[i].mp.Path == mp.Path {
			return &found[i]
		}
	}
	return nil
}

// copyObject copies the object of src to dst, keeping its metadata, made
// durable before it returns (always: a copy that replaces another, or the
// only one left, must not be lost to a crash). The caller holds the name's
// write lock.
func (s *Store) copyObject(src *copyState, dst *Mountpath, bck cluster.Bucket, name string) (int64, error) {
	if !isDir(objectsDir(dst, bck)) {
		if err := os.MkdirAll(objectsDir(dst, bck), 0o755); err != nil {
			return 0, fmt.Errorf("fs: resilver: %w", err)
		}
	}
	in, err := os.Open(objectPath(src.mp, bck, name))
	if err != nil {
		return 0, fmt.Errorf("fs: resilver: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, fmt.Errorf("fs: resilver: %w", err)
	}
	a := src.attrs
	if fi.Size() != a.Size {
		return 0, cluster.Errorf(cluster.ErrCorrupt, "resilver %s/%s on %s: metadata says %d bytes, file has %d", bck, name, src.mp.Path, a.Size, fi.Size())
	}
	tmp, err := s.createTemp(dst, putPrefix)
	if err != nil {
		return 0, err
	}
	defer s.dropWork(tmp)
	if err := s.copyData(context.Background(), tmp, in, a.Size); err != nil {
		return 0, fmt.Errorf("fs: resilver %s/%s: %w", bck, name, err)
	}
	meta := encodeMeta(make([]byte, 0, 128), &a)
	sidecar, err := s.setMeta(tmp, meta)
	if err != nil {
		return 0, fmt.Errorf("resilver %s/%s: %w", bck, name, err)
	}
	if err := s.syncFile(tmp); err != nil {
		return 0, err
	}
	path := objectPath(dst, bck, name)
	err = s.renameInto(tmp.Name(), path, objectsDir(dst, bck))
	s.meta.drop(path)
	if err != nil {
		return 0, fmt.Errorf("fs: resilver %s/%s: %w", bck, name, err)
	}
	if sidecar {
		if err := s.writeSidecar(dst, bck, name, meta); err != nil {
			return 0, err
		}
	}
	if err := s.syncDir(filepath.Dir(path)); err != nil {
		return 0, err
	}
	return a.Size, nil
}

// Copies returns the mountpaths that hold a copy of object name of bck, in
// the order reads try them (its HRW mountpath first); an object that is
// not there is an error wrapping cluster.ErrNotFound. It looks on every
// readable mountpath, which costs a stat each.
func (s *Store) Copies(ctx context.Context, bck cluster.Bucket, name string) ([]string, error) {
	if err := checkNames(bck, name); err != nil {
		return nil, err
	}
	uname := bck.Uname(name)
	first := s.mps.Select(uname)
	if first == nil {
		return nil, errNoMountpaths()
	}
	lk := s.stripe(uname)
	lk.RLock()
	defer lk.RUnlock()
	var out []string
	for mp := range s.order(first) {
		if fileExists(objectPath(mp, bck, name)) {
			out = append(out, mp.Path)
		}
	}
	if len(out) == 0 {
		return nil, s.notFound(bck, name)
	}
	return out, nil
}
