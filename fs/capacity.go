package fs

import "syscall"

// Usage is the space of the filesystem that holds a mountpath.
type Usage struct {
	// Total and Avail are bytes: the filesystem's size and what an
	// unprivileged writer may still use.
	Total, Avail uint64
	// FsID identifies the filesystem (two mountpaths on one filesystem have
	// the same).
	FsID [2]int32
}

// Usage returns the space of the filesystem that holds mp.
func (mp *Mountpath) Usage() (Usage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(mp.Path, &st); err != nil {
		return Usage{}, err
	}
	bs := uint64(st.Bsize)
	return Usage{Total: st.Blocks * bs, Avail: st.Bavail * bs, FsID: st.Fsid.X__val}, nil
}

// Capacity returns the total size of the filesystems that hold the store's
// mountpaths, each filesystem counted once; mountpaths whose filesystem
// cannot be read are left out.
func (s *Store) Capacity() uint64 {
	seen := map[[2]int32]bool{}
	var total uint64
	for _, mp := range s.mps.List() {
		u, err := mp.Usage()
		if err != nil || seen[u.FsID] {
			continue
		}
		seen[u.FsID] = true
		total += u.Total
	}
	return total
}
