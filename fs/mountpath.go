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
}

// Mountpaths is the set of mountpaths of one target. It is safe for
// concurrent use: Select and List read an immutable snapshot without locking,
// while Add and Remove publish a new snapshot.
type Mountpaths struct {
	mu   sync.Mutex // serializes Add and Remove
	snap atomic.Pointer[mpSnapshot]
}

// mpSnapshot is an immutable view: list sorted by Path, digests parallel to it.
type mpSnapshot struct {
	list    []*Mountpath
	digests []uint64
}

// NewMountpaths validates paths and returns the set. Each path must exist, be
// a directory and be writable; no two may be the same directory and none may
// be nested inside another. At least one path is required.
func NewMountpaths(paths []string) (*Mountpaths, error) {
	if len(paths) == 0 {
		return nil, errors.New("fs: no mountpaths")
	}
	m := &Mountpaths{}
	m.snap.Store(&mpSnapshot{})
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
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	for _, o := range old.list {
		switch {
		case o.real == mp.real:
			return fmt.Errorf("fs: mountpath %q: same directory as %q: %w", mp.Path, o.Path, cluster.ErrExists)
		case nested(o.real, mp.real), nested(mp.real, o.real):
			return fmt.Errorf("fs: mountpath %q: nested with %q: %w", mp.Path, o.Path, cluster.ErrBadRequest)
		}
	}
	list := append(slices.Clone(old.list), mp)
	slices.SortFunc(list, func(a, b *Mountpath) int { return strings.Compare(a.Path, b.Path) })
	m.snap.Store(newSnapshot(list))
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
	i := slices.IndexFunc(old.list, func(mp *Mountpath) bool { return mp.Path == abs })
	if i < 0 {
		return fmt.Errorf("fs: mountpath %q: %w", abs, cluster.ErrNotFound)
	}
	m.snap.Store(newSnapshot(slices.Delete(slices.Clone(old.list), i, i+1)))
	return nil
}

// List returns the mountpaths sorted by Path. The slice is shared: the caller
// must not modify it. It stays valid (as a snapshot) after Add and Remove.
func (m *Mountpaths) List() []*Mountpath { return m.snap.Load().list }

// Select returns the mountpath that HRW assigns to the unique name uname
// (cluster.Bucket.Uname), or nil when there are no mountpaths. It does not
// allocate.
func (m *Mountpaths) Select(uname string) *Mountpath {
	s := m.snap.Load()
	i := cluster.HRW(cluster.Digest(uname), s.digests)
	if i < 0 {
		return nil
	}
	return s.list[i]
}

// Len returns the number of mountpaths.
func (m *Mountpaths) Len() int { return len(m.snap.Load().list) }

func newSnapshot(list []*Mountpath) *mpSnapshot {
	s := &mpSnapshot{list: list, digests: make([]uint64, len(list))}
	for i, mp := range list {
		s.digests[i] = mp.Digest
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
	return &Mountpath{Path: abs, Digest: cluster.Digest(abs), real: real}, nil
}

// nested reports whether dir lies strictly inside parent.
func nested(parent, dir string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../")
}
