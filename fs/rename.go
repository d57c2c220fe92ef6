package fs

import (
	"context"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"miniais/cluster"
)

// Rename gives object from of bck the name to (in the same bucket) and
// returns the attributes of to. For readers, to appears whole before from
// disappears, so a reader always finds the object under one of the names,
// and once Rename returns only to is there:
//
//   - When from already lies on to's HRW mountpath (and metadata lives in
//     xattrs), one rename(2) does both at once: no reader ever sees both
//     names or neither. The object keeps its content, checksum, atime and
//     custom pairs; its version becomes one more than any earlier to's.
//   - Otherwise the content is copied into to as by Put (its checksum
//     verified on the way), and from is deleted afterwards, unless it was
//     rewritten meanwhile: a write to from that raced with the rename is a
//     new object and is kept.
//
// A missing from is cluster.ErrNotFound; from == to is cluster.ErrBadRequest;
// a name conflict of to ("a" and "a/b") is cluster.ErrExists.
func (s *Store) Rename(ctx context.Context, bck cluster.Bucket, from, to string) (attrs ObjectAttrs, err error) {
	ctx, span := s.start(ctx, "fs.Rename", bck, from)
	defer func() {
		if err == nil {
			setAttrs(span, &attrs)
		}
		endSpan(span, err)
	}()
	if err := checkNames(bck, from); err != nil {
		return ObjectAttrs{}, err
	}
	if err := checkNames(bck, to); err != nil {
		return ObjectAttrs{}, err
	}
	if from == to {
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrBadRequest, "rename %s/%s to itself", bck, from)
	}
	attrs, done, err := s.renameInPlace(bck, from, to)
	if done || err != nil {
		return attrs, err
	}
	return s.renameByCopy(ctx, bck, from, to)
}

// renameInPlace renames from to to with rename(2) when from lies on to's
// HRW mountpath; done is false when it cannot (then nothing changed).
func (s *Store) renameInPlace(bck cluster.Bucket, from, to string) (ObjectAttrs, bool, error) {
	if s.noXattr || s.copiesOf(bck) > 1 {
		return ObjectAttrs{}, false, nil // a mirrored object's copies are made by a Put
	}
	fromU, toU := bck.Uname(from), bck.Uname(to)
	mp := s.mps.Select(toU)
	if mp == nil {
		return ObjectAttrs{}, false, errNoMountpaths()
	}
	s.bckMu.RLock()
	defer s.bckMu.RUnlock()
	unlock := s.lockTwo(fromU, toU)
	defer unlock()

	// from must be where Head finds it: on mp, with its metadata in the
	// xattr.
	var a ObjectAttrs
	found := false
	for o := range s.order(s.mps.Select(fromU)) {
		h, err := s.head(o, bck, from)
		if isNotExist(err) {
			continue
		}
		if err != nil || o.Path != mp.Path {
			return ObjectAttrs{}, false, nil // renameByCopy reports the error, or copies across mountpaths
		}
		a, found = h, true
		break
	}
	src := objectPath(mp, bck, from)
	if !found || fileExists(sidecarPath(mp, bck, from)) {
		return ObjectAttrs{}, false, nil
	}
	was, err := readMetaPath(src, sidecarPath(mp, bck, from))
	if err != nil {
		return ObjectAttrs{}, false, nil
	}
	prev, _, others := s.previous(bck, to, mp, nil)
	a.Name, a.Version = to, cluster.FormatVersion(prev+1)
	meta := encodeMeta(make([]byte, 0, 128), &a)
	if err := unix.Setxattr(src, xattrName, meta, 0); err != nil {
		if xattrUnsupported(err) {
			return ObjectAttrs{}, false, nil
		}
		return ObjectAttrs{}, false, fmt.Errorf("fs: rename %s/%s: write metadata: %w", bck, from, err)
	}
	if err := s.syncPath(src); err != nil {
		return ObjectAttrs{}, true, err
	}
	dst := objectPath(mp, bck, to)
	err = s.renameInto(src, dst, objectsDir(mp, bck))
	s.meta.drop(src) // its metadata changed above, whether or not it moved
	s.meta.drop(dst)
	if err != nil {
		if rerr := unix.Setxattr(src, xattrName, was, 0); rerr != nil {
			s.log.Warn("fs: restore metadata after a failed rename", "object", from, "err", rerr)
		}
		return ObjectAttrs{}, true, fmt.Errorf("fs: rename %s/%s to %s: %w", bck, from, to, err)
	}
	for _, o := range others {
		if _, err := s.remove(o, bck, to); err != nil {
			s.log.Warn("fs: remove misplaced copy", "mountpath", o.Path, "object", to, "err", err)
		}
	}
	for _, o := range s.mps.List() { // copies of from elsewhere (misplaced) go too
		if o.Path != mp.Path {
			s.remove(o, bck, from)
		}
	}
	removeEmptyDirs(filepath.Dir(src), objectsDir(mp, bck))
	if err := s.syncDir(filepath.Dir(dst), filepath.Dir(src)); err != nil {
		return ObjectAttrs{}, true, err
	}
	return a, true, nil
}

// renameByCopy copies from into to and then deletes from if it did not
// change meanwhile.
func (s *Store) renameByCopy(ctx context.Context, bck cluster.Bucket, from, to string) (ObjectAttrs, error) {
	obj, err := s.Open(ctx, bck, from, GetOptions{})
	if err != nil {
		return ObjectAttrs{}, err
	}
	defer obj.Close()
	src := obj.Attrs
	attrs, err := s.Put(ctx, bck, to, obj, PutOptions{
		Size: src.Size, ChecksumType: src.Checksum.Type, Checksum: src.Checksum, Custom: src.Custom,
	})
	if err != nil {
		return ObjectAttrs{}, err
	}
	if err := s.DeleteIf(ctx, bck, from, src); err != nil {
		return attrs, err
	}
	return attrs, nil
}

// DeleteIf deletes object name of bck if it still is the version described
// by was (same version, size and checksum, as Head finds it); otherwise, or
// if it is gone, it does nothing and returns nil. The check and the delete
// happen under the name's lock. Movers use it: a copy rewritten after it
// was read is newer than what they moved, and stays.
func (s *Store) DeleteIf(ctx context.Context, bck cluster.Bucket, name string, was ObjectAttrs) (err error) {
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
	for mp := range s.order(first) {
		cur, err := s.head(mp, bck, name)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if cur.Version != was.Version || cur.Checksum != was.Checksum || cur.Size != was.Size {
			return nil
		}
		break
	}
	for mp := range s.order(first) {
		ok, err := s.remove(mp, bck, name)
		if err != nil {
			return err
		}
		if ok {
			if err := s.syncDir(filepath.Dir(objectPath(mp, bck, name))); err != nil && !isNotExist(err) {
				return err
			}
		}
	}
	return nil
}

// lockTwo write-locks the stripes of two names in a fixed order (once when
// they share one) and returns the unlock.
func (s *Store) lockTwo(a, b string) func() {
	la, lb := s.stripe(a), s.stripe(b)
	if la == lb {
		la.Lock()
		return la.Unlock
	}
	if cluster.Digest(a)%numStripes > cluster.Digest(b)%numStripes {
		la, lb = lb, la
	}
	la.Lock()
	lb.Lock()
	return func() { lb.Unlock(); la.Unlock() }
}

// syncPath makes the file at path durable, as syncFile.
func (s *Store) syncPath(path string) error {
	if !s.fsync {
		return nil
	}
	f, err := openFile(path, unix.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("fs: fsync: %w", err)
	}
	defer f.Close()
	return s.syncFile(f)
}
