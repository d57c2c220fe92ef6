package fs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"miniais/cluster"
)

// Mountpath is one local directory that stores objects, normally the root of
// one disk. Its fields never change after creation.
type Mountpath struct {
	// Path is the cleaned absolute path of the directory.
	Path string
	// Digest is cluster.Digest(Path), the mountpath's HRW identity.
	Digest uint64

	real string // Path with symlinks resolved, for the distinct/nested checks
	// dev and ino identify the directory attached, so that the health check
	// (Store.checkMountpath) tells a directory removed or renamed away and
	// made again from the one attached.
	dev, ino uint64
}

// Mountpaths is the set of mountpaths of one target. It is safe for
// concurrent use: Select and List read an immutable snapshot without locking,
// while Add, Remove and the state changes publish a new snapshot.
//
// A mountpath is in one of three states: available (in placement: Select
// may pick it, and it is read), leaving (read, so its objects stay visible,
// but out of placement, while a resilver moves them off before it is
// detached or disabled: AIStore's "waiting_dd") and disabled (neither).
type Mountpaths struct {
	mu   sync.Mutex // serializes Add, Remove and the state changes
	snap atomic.Pointer[mpSnapshot]
}

// mpSnapshot is an immutable view. list holds the readable mountpaths
// (available and leaving), place the available ones, digests parallel to
// place; each is sorted by Path. leaving says what each leaving mountpath
// becomes once its objects have moved off.
type mpSnapshot struct {
	list     []*Mountpath
	place    []*Mountpath
	digests  []uint64
	leaving  map[string]LeaveTo
	disabled []*Mountpath
}

// LeaveTo is what a leaving mountpath becomes once a resilver has moved its
// objects off.
type LeaveTo int

// The ends of a leaving mountpath.
const (
	LeaveDetach LeaveTo = iota + 1
	LeaveDisable
)

// NewMountpaths validates paths and returns the set. Each path must exist, be
// a directory and be writable; no two may be the same directory and none may
// be nested inside another. At least one path is required.
func NewMountpaths(paths []string) (*Mountpaths, error) {
	if len(paths) == 0 {
		return nil, errors.New("fs: no mountpaths")
	}
	m := &Mountpaths{}
	m.snap.Store(newSnapshot(nil))
	for _, p := range paths {
		if err := m.Add(p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Add validates path like NewMountpaths does and adds it. Objects already
// stored elsewhere stay readable (see the package doc on placement).
func (m *Mountpaths) Add(path string) error {
	mp, err := newMountpath(path)
	if err != nil {
		return err
	}
	return m.add(mp)
}

// add adds the validated mp.
func (m *Mountpaths) add(mp *Mountpath) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	if err := old.check(mp); err != nil {
		return err
	}
	m.snap.Store(old.with(mp, available, 0))
	return nil
}

// check refuses mp when it is, or is nested with, a mountpath of s (in any
// state).
func (s *mpSnapshot) check(mp *Mountpath) error {
	for _, o := range slices.Concat(s.list, s.disabled) {
		switch {
		case o.real == mp.real:
			return fmt.Errorf("fs: mountpath %q: same directory as %q: %w", mp.Path, o.Path, cluster.ErrExists)
		case nested(o.real, mp.real), nested(mp.real, o.real):
			return fmt.Errorf("fs: mountpath %q: nested with %q: %w", mp.Path, o.Path, cluster.ErrBadRequest)
		}
	}
	return nil
}

// Remove removes the mountpath at path (cleaned and made absolute first). Its
// objects are not moved and become invisible. Removing the last mountpath is
// allowed; a Store without mountpaths fails with cluster.ErrUnavailable.
func (m *Mountpaths) Remove(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("fs: mountpath %q: %w", path, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	mp, _ := old.find(abs)
	if mp == nil {
		return fmt.Errorf("fs: mountpath %q: %w", abs, cluster.ErrNotFound)
	}
	m.snap.Store(old.with(mp, gone, 0))
	return nil
}

// The states of a mountpath in a snapshot (gone: not in it).
type mpState int

const (
	gone mpState = iota
	available
	leaving
	disabled
)

// find returns the mountpath at path and its state (nil, gone if none).
func (s *mpSnapshot) find(path string) (*Mountpath, mpState) {
	for _, mp := range s.list {
		if mp.Path == path {
			if _, ok := s.leaving[path]; ok {
				return mp, leaving
			}
			return mp, available
		}
	}
	for _, mp := range s.disabled {
		if mp.Path == path {
			return mp, disabled
		}
	}
	return nil, gone
}

// with returns a copy of s with mp in state st (to: the end of a leaving one).
func (s *mpSnapshot) with(mp *Mountpath, st mpState, to LeaveTo) *mpSnapshot {
	var avail, dis []*Mountpath
	lv := map[string]LeaveTo{}
	for _, o := range s.list {
		if o.Path == mp.Path {
			continue
		}
		if t, ok := s.leaving[o.Path]; ok {
			lv[o.Path] = t
		}
		avail = append(avail, o)
	}
	for _, o := range s.disabled {
		if o.Path != mp.Path {
			dis = append(dis, o)
		}
	}
	switch st {
	case available:
		avail = append(avail, mp)
	case leaving:
		avail = append(avail, mp)
		lv[mp.Path] = to
	case disabled:
		dis = append(dis, mp)
	}
	return newSnapshotLeaving(avail, lv, dis)
}

// state changes mountpath path (cleaned and made absolute first) to st
// with the function ok, which sees its current state and the number of
// available mountpaths and may refuse. It returns the mountpath.
func (m *Mountpaths) state(path string, st mpState, to LeaveTo, ok func(mp *Mountpath, cur mpState, avail int) error) (*Mountpath, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("fs: mountpath %q: %w", path, cluster.ErrBadRequest)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	mp, cur := old.find(abs)
	if mp == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "mountpath %s", abs)
	}
	if err := ok(mp, cur, len(old.place)); err != nil {
		if err == errNoChange {
			return mp, nil
		}
		return nil, err
	}
	m.snap.Store(old.with(mp, st, to))
	return mp, nil
}

// errNoChange, from the check of Mountpaths.state, leaves the state as it is.
var errNoChange = errors.New("no change")

// List returns the readable mountpaths (available and leaving) sorted by
// Path. The slice is shared: the caller must not modify it. It stays valid
// (as a snapshot) after Add, Remove and state changes.
func (m *Mountpaths) List() []*Mountpath { return m.snap.Load().list }

// Available returns the mountpaths in placement, sorted by Path (shared,
// like List's).
func (m *Mountpaths) Available() []*Mountpath { return m.snap.Load().place }

// Leaving returns the mountpaths being emptied before they are detached
// or disabled, sorted by Path.
func (m *Mountpaths) Leaving() []*Mountpath {
	s := m.snap.Load()
	var out []*Mountpath
	for _, mp := range s.list {
		if _, ok := s.leaving[mp.Path]; ok {
			out = append(out, mp)
		}
	}
	return out
}

// Disabled returns the disabled mountpaths, sorted by Path (shared).
func (m *Mountpaths) Disabled() []*Mountpath { return m.snap.Load().disabled }

// Select returns the mountpath that HRW assigns to the unique name uname
// (cluster.Bucket.Uname), or nil when there are no mountpaths. It does not
// allocate.
func (m *Mountpaths) Select(uname string) *Mountpath {
	s := m.snap.Load()
	i := cluster.HRW(cluster.Digest(uname), s.digests)
	if i < 0 {
		return nil
	}
	return s.place[i]
}

// SelectN appends to dst the first min(n, available) mountpaths of the HRW
// ranking of uname among the available ones, the Select one first, and
// returns the result: where the n copies of a mirrored object live. It does
// not allocate when dst has room and n is at most 8.
func (m *Mountpaths) SelectN(uname string, n int, dst []*Mountpath) []*Mountpath {
	s := m.snap.Load()
	var idx [8]int
	for _, i := range cluster.HRWTop(cluster.Digest(uname), s.digests, n, idx[:0]) {
		dst = append(dst, s.place[i])
	}
	return dst
}

// Len returns the number of readable mountpaths.
func (m *Mountpaths) Len() int { return len(m.snap.Load().list) }

// newSnapshot makes a snapshot of the available mountpaths list.
func newSnapshot(list []*Mountpath) *mpSnapshot {
	return newSnapshotLeaving(slices.Clone(list), nil, nil)
}

// newSnapshotLeaving makes a snapshot of the readable mountpaths list (of
// which those in leaving are out of placement) and the disabled dis; it
// sorts both and may reorder them.
func newSnapshotLeaving(list []*Mountpath, leaving map[string]LeaveTo, dis []*Mountpath) *mpSnapshot {
	byPath := func(a, b *Mountpath) int { return strings.Compare(a.Path, b.Path) }
	slices.SortFunc(list, byPath)
	slices.SortFunc(dis, byPath)
	s := &mpSnapshot{list: list, leaving: leaving, disabled: dis}
	for _, mp := range list {
		if _, ok := leaving[mp.Path]; !ok {
			s.place = append(s.place, mp)
			s.digests = append(s.digests, mp.Digest)
		}
	}
	return s
}

// newMountpath checks that path is an existing, writable directory.
func newMountpath(path string) (*Mountpath, error) {
	if path == "" {
		return nil, fmt.Errorf("fs: empty mountpath: %w", cluster.ErrBadRequest)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("fs: mountpath %q: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("fs: mountpath %q: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("fs: mountpath %q is not a directory: %w", abs, cluster.ErrBadRequest)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("fs: mountpath %q: %w", abs, err)
	}
	probe, err := os.CreateTemp(abs, ".ais-probe-*")
	if err != nil {
		return nil, fmt.Errorf("fs: mountpath %q is not writable: %w", abs, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, fmt.Errorf("fs: mountpath %q: %w", abs, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(abs, &st); err != nil {
		return nil, fmt.Errorf("fs: mountpath %q: %w", abs, err)
	}
	return &Mountpath{Path: abs, Digest: cluster.Digest(abs), real: real, dev: uint64(st.Dev), ino: st.Ino}, nil
}

// nested reports whether dir lies strictly inside parent.
func nested(parent, dir string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../")
}
