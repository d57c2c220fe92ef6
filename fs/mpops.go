package fs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"miniais/cluster"
)

// # Mountpaths at run time
//
// Attach adds a mountpath to placement at once: objects HRW now assigns to
// it stay readable where they are (reads look on every readable mountpath)
// until Resilver moves them. Detach and Disable with a resilver first make
// the mountpath leaving (out of placement, still read); Resilver moves its
// objects to their HRW mountpaths and then FinishLeaving detaches or
// disables it. Without a resilver (AIStore's dntres=true) the change is
// immediate and the objects on the mountpath are invisible (a disabled
// one's come back when it is enabled). None of them removes the last
// mountpath in placement (cluster.ErrBadRequest).
//
// The set is not persisted: a restart uses the mountpaths of the command
// line (AIStore persists it in its volume metadata).

// Attach validates path like NewMountpaths (a writable directory, not the
// same as or nested with another mountpath: cluster.ErrBadRequest or
// cluster.ErrExists), makes its work directories and adds it to placement.
func (s *Store) Attach(path string) (*Mountpath, error) {
	mp, err := newMountpath(path)
	if err != nil {
		if !errors.Is(err, cluster.ErrBadRequest) {
			err = cluster.Errorf(cluster.ErrBadRequest, "%v", err) // missing, not writable
		}
		return nil, err
	}
	if err := s.mps.snap.Load().check(mp); err != nil {
		return nil, err
	}
	if err := s.initMountpath(mp); err != nil {
		return nil, err
	}
	s.bckMu.Lock()
	defer s.bckMu.Unlock()
	if err := s.syncBuckets(mp); err != nil {
		return nil, err
	}
	if err := s.mps.add(mp); err != nil {
		return nil, err
	}
	s.meta.clear()
	return mp, nil
}

// syncBuckets makes the buckets of mp those of the readable mountpaths
// other than mp: it creates the missing ones, with their bucket IDs (every
// bucket has its directory on every readable mountpath, so that no detach
// loses an empty one), and moves into mp's trash those the others lack
// (destroyed while mp was disabled) or have under another bucket ID
// (destroyed and created again meanwhile), unless no other mountpath is
// readable. The caller holds bckMu (write) and mp is not readable.
func (s *Store) syncBuckets(mp *Mountpath) error {
	want := map[string]uint64{} // name -> bucket ID (0: none recorded)
	others := 0
	for _, o := range s.mps.List() {
		if o.Path == mp.Path {
			continue
		}
		others++
		entries, err := os.ReadDir(filepath.Join(o.Path, providerDir))
		if err != nil {
			return fmt.Errorf("fs: mountpath %s: %w", o.Path, err)
		}
		for _, e := range entries {
			bck := cluster.NewBucket(e.Name())
			if !e.IsDir() || bck.Validate() != nil {
				continue
			}
			id, err := readBucketID(o, bck)
			if err != nil {
				return err
			}
			if want[e.Name()] == 0 {
				want[e.Name()] = id
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(mp.Path, providerDir))
	if err != nil && !isNotExist(err) {
		return fmt.Errorf("fs: mountpath %s: %w", mp.Path, err)
	}
	trashed := false
	for _, e := range entries {
		bck := cluster.NewBucket(e.Name())
		if !e.IsDir() || bck.Validate() != nil || others == 0 {
			continue
		}
		why := "destroyed while its mountpath was out"
		if id, ok := want[e.Name()]; ok {
			had, err := readBucketID(mp, bck)
			if err != nil {
				return err
			}
			if id == 0 || had == 0 || had == id {
				continue // the same bucket (or no telling: kept)
			}
			why = "destroyed and created again while its mountpath was out"
		}
		if err := os.MkdirAll(trashDir(mp), 0o755); err != nil {
			return fmt.Errorf("fs: %w", err)
		}
		if err := os.Rename(bucketDir(mp, bck), filepath.Join(trashDir(mp), bck.Name+"-"+randSuffix())); err != nil {
			return fmt.Errorf("fs: mountpath %s: trash bucket %s: %w", mp.Path, bck, err)
		}
		s.log.Info("fs: bucket "+why+", trashed", "mountpath", mp.Path, "bucket", bck.Name)
		trashed = true
	}
	for name, id := range want {
		if err := s.makeBucket(mp, cluster.NewBucket(name), id); err != nil {
			return fmt.Errorf("fs: mountpath %s: %w", mp.Path, err)
		}
	}
	if err := s.syncDir(filepath.Join(mp.Path, providerDir)); err != nil && !isNotExist(err) {
		return err
	}
	if trashed {
		s.trash.poke()
	}
	return nil
}

// Detach removes mountpath path at once (resilver false), or makes it
// leaving, to be removed by FinishLeaving (resilver true).
func (s *Store) Detach(path string, resilver bool) error {
	st, to := gone, LeaveTo(0)
	if resilver {
		st, to = leaving, LeaveDetach
	}
	_, err := s.mps.state(path, st, to, func(_ *Mountpath, cur mpState, avail int) error {
		return lastAvailable("detach", path, cur, avail)
	})
	s.meta.clear()
	if err == nil {
		s.faulted.Delete(path)
	}
	return err
}

// Disable disables mountpath path at once (resilver false), or makes it
// leaving, to be disabled by FinishLeaving (resilver true). Disabling a
// disabled mountpath does nothing.
func (s *Store) Disable(path string, resilver bool) error {
	st, to := disabled, LeaveTo(0)
	if resilver {
		st, to = leaving, LeaveDisable
	}
	_, err := s.mps.state(path, st, to, func(_ *Mountpath, cur mpState, avail int) error {
		if cur == disabled {
			return errNoChange
		}
		return lastAvailable("disable", path, cur, avail)
	})
	s.meta.clear()
	return err
}

// Enable puts mountpath path (disabled or leaving) back into placement; an
// available one stays as it is. A disabled one must pass the health check.
func (s *Store) Enable(path string) error {
	s.bckMu.Lock()
	defer s.bckMu.Unlock()
	_, err := s.mps.state(path, available, 0, func(mp *Mountpath, cur mpState, _ int) error {
		if cur == available {
			return errNoChange
		}
		if cur != disabled {
			return nil
		}
		if err := s.checkMountpath(mp); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "mountpath %s fails its health check: %v", mp.Path, err)
		}
		return s.syncBuckets(mp)
	})
	s.meta.clear()
	if err == nil {
		s.faulted.Delete(path)
	}
	return err
}

// lastAvailable refuses to take the last mountpath in placement out of it.
func lastAvailable(op, path string, cur mpState, avail int) error {
	if cur == available && avail <= 1 {
		return cluster.Errorf(cluster.ErrBadRequest, "cannot %s mountpath %s: it is the last one in use", op, path)
	}
	return nil
}

// FinishLeaving detaches or disables (as asked) every leaving mountpath
// that holds no object any more, and returns their paths.
func (s *Store) FinishLeaving() []string {
	var done []string
	snap := s.mps.snap.Load()
	for _, mp := range s.mps.Leaving() {
		if n, err := s.countObjects(mp); err != nil || n > 0 {
			continue
		}
		st := gone
		if snap.leaving[mp.Path] == LeaveDisable {
			st = disabled
		}
		if _, err := s.mps.state(mp.Path, st, 0, func(_ *Mountpath, cur mpState, _ int) error {
			if cur != leaving {
				return cluster.Errorf(cluster.ErrExists, "changed meanwhile")
			}
			return nil
		}); err == nil {
			done = append(done, mp.Path)
		}
	}
	s.meta.clear()
	return done
}

// countObjects counts the object files on mp.
func (s *Store) countObjects(mp *Mountpath) (int, error) {
	n := 0
	err := s.walkMountpath(context.Background(), mp, nil, func(cluster.Bucket, string, int64) error {
		n++
		return nil
	})
	return n, err
}

// walkMountpath calls fn with every object file on mp (bucket, name,
// size), of bucket only when it is not nil.
func (s *Store) walkMountpath(ctx context.Context, mp *Mountpath, bucket *cluster.Bucket, fn func(bck cluster.Bucket, name string, size int64) error) error {
	entries, err := os.ReadDir(filepath.Join(mp.Path, providerDir))
	if err != nil {
		return fmt.Errorf("fs: resilver: %w", err)
	}
	for _, e := range entries {
		bck := cluster.NewBucket(e.Name())
		if !e.IsDir() || bck.Validate() != nil || (bucket != nil && bucket.Name != bck.Name) {
			continue
		}
		root := objectsDir(mp, bck)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if isNotExist(err) {
					return nil // removed meanwhile (a Delete's empty directories)
				}
				return err
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				if isNotExist(err) {
					return nil
				}
				return err
			}
			return fn(bck, strings.TrimPrefix(path, root+"/"), fi.Size())
		})
		if err != nil {
			return fmt.Errorf("fs: resilver %s on %s: %w", bck, mp.Path, err)
		}
	}
	return nil
}

// Resilver puts every object (of bucket only, when it is not nil) on its
// HRW mountpaths: the one Select picks, and in a mirrored bucket the next
// ones too (see mirror.go), moving or copying the newest version there and
// removing the copies elsewhere, and calls moved with the bytes copied for
// each object that needed a copy. An object written meanwhile by Put is
// already in place; one changed between the walk and its placing is placed
// as it is then (that happens under its lock). It returns the first error
// of a placing (and goes on with the others) or of a walk.
func (s *Store) Resilver(ctx context.Context, bucket *cluster.Bucket, moved func(size int64)) error {
	var first error
	for _, mp := range s.mps.List() {
		if !s.readable(mp) {
			continue // disabled or detached meanwhile
		}
		err := s.walkMountpath(ctx, mp, bucket, func(bck cluster.Bucket, name string, _ int64) error {
			size, err := s.place(mp, bck, name)
			switch {
			case err != nil:
				if first == nil {
					first = err
				}
			case size >= 0:
				moved(size)
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !s.readable(mp) {
				continue // failed (and was disabled) or left while walked
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// readable tells whether mp is still one of the readable mountpaths.
func (s *Store) readable(mp *Mountpath) bool {
	_, st := s.mps.snap.Load().find(mp.Path)
	return st == available || st == leaving
}

// # Health
//
// A mountpath whose disk fails is disabled on its own (AIStore's FSHC): a
// read or a write on it that fails other than with a missing object runs
// checkMountpath, and so does CheckMountpaths (the target calls it
// periodically, which catches a mountpath directory removed or renamed
// away: reads of its objects then only miss). A full disk (ENOSPC) is not a
// failure: its objects still read, its writes fail with ENOSPC (the
// client sees the error) and deleting makes room; disabling it would hide
// every object on it.

// checkMountpath tells whether mp is healthy: its directory is the one
// attached (same device and inode) and a file can be created and removed
// in its work directory.
func (s *Store) checkMountpath(mp *Mountpath) error {
	var st syscall.Stat_t
	if err := syscall.Stat(mp.Path, &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if uint64(st.Dev) != mp.dev || st.Ino != mp.ino {
		return errors.New("not the directory attached (removed or replaced)")
	}
	f, err := createWorkFile(workDir(mp), ".fshc-")
	if errors.Is(err, syscall.ENOSPC) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create a file: %w", err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("remove a file: %w", err)
	}
	return nil
}

// ioFault runs the health check of mp after an I/O error other than a
// missing file and disables mp when the check fails; it reports whether it
// did.
func (s *Store) ioFault(mp *Mountpath, ioErr error) bool {
	if mp == nil || errors.Is(ioErr, syscall.ENOSPC) || errors.Is(ioErr, context.Canceled) || errors.Is(ioErr, context.DeadlineExceeded) {
		return false
	}
	err := s.checkMountpath(mp)
	if err == nil {
		return false
	}
	return s.faultDisable(mp, fmt.Errorf("%v (after: %v)", err, ioErr))
}

// faultDisable disables mp (even the last one: a failed disk serves
// nothing) and logs it.
func (s *Store) faultDisable(mp *Mountpath, why error) bool {
	if _, err := s.mps.state(mp.Path, disabled, 0, func(_ *Mountpath, cur mpState, _ int) error {
		if cur == disabled {
			return cluster.Errorf(cluster.ErrExists, "already disabled")
		}
		return nil
	}); err != nil {
		return false
	}
	s.meta.clear()
	s.faulted.Store(mp.Path, why.Error())
	s.log.Error("fs: mountpath failed its health check, disabled", "mountpath", mp.Path, "err", why)
	if s.onFault != nil {
		s.onFault(mp.Path)
	}
	return true
}

// Faulted returns the mountpaths that failed their health check and are
// still disabled, each with the failure (AIStore's disk fault).
// Enabling or detaching one clears it.
func (s *Store) Faulted() map[string]string {
	out := map[string]string{}
	for _, mp := range s.mps.Disabled() {
		if why, ok := s.faulted.Load(mp.Path); ok {
			out[mp.Path] = why.(string)
		}
	}
	return out
}

// CheckMountpaths runs the health check of every readable mountpath,
// disables those that fail, and returns their paths.
func (s *Store) CheckMountpaths() []string {
	var out []string
	for _, mp := range s.mps.List() {
		if err := s.checkMountpath(mp); err != nil && s.faultDisable(mp, err) {
			out = append(out, mp.Path)
		}
	}
	return out
}
