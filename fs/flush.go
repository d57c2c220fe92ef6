package fs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Durability (group commit)
//
// A durable write is acknowledged only after an fsync that began after the
// write (data, metadata, rename) was done. Concurrent writers share the
// flushes of the filesystem rather than of a committer of ours: each calls
// fsync itself, and with a journal (ext4's jbd2) all fsyncs that arrive
// while a commit runs fold into the next commit; without one the block
// layer merges the cache flushes of concurrent fsyncs. Batching in user
// space was measured against this (fs benchmark BenchmarkPutDurableRatio,
// 16 workers, on this machine's ext4, which has no journal): one committer
// goroutine per mountpath doing the fsyncs of a batch in turn, or one
// syncfs(2) per batch, reached 0.23-0.79 (4 KiB) and 0.32-0.91 (1 MiB) of
// the no-fsync throughput, concurrent fsyncs by the writers 0.80-1.19 and
// 0.73-1.19: a single committer serializes what the kernel would have
// merged, and syncfs also flushes whatever else shares the filesystem.
// What is left to save is flushes per write: two per Put (the file before
// its rename, the directory after), one with an ordered journal
// (orderedData), where the file's fsync after the rename commits the
// rename too (syncCommitted).

// syncFile makes the content and metadata of f, a file on a mountpath,
// and then the entries of the directories dirs durable when the policy says
// so. The caller keeps f open. A directory that no longer exists (removed
// by a concurrent Delete) has nothing left to flush and is skipped.
func (s *Store) syncFile(f *os.File, dirs ...string) error {
	if !s.fsync {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fs: fsync: %w", err)
	}
	return s.syncDirs(dirs)
}

// syncCommitted makes an object that commit renamed into place on mp
// durable: its file f (data, metadata) and its directory parent. On an
// ordered ext4 mountpath the file's fsync is enough: the rename updated
// the file's ctime in the same journal transaction as the directory
// entry (and the directories it made, earlier ones), and fsync commits
// that transaction and all before it. A separate fsync of the directory
// would wait for one more commit whenever another Put renamed into it
// meanwhile, which under concurrent load is always.
//
// Elsewhere commit fsynced the file before the rename (its data and
// metadata are durable), so only the directory is left.
func (s *Store) syncCommitted(mp *Mountpath, f *os.File, parent string) error {
	if !s.fsync {
		return nil
	}
	if s.ordered(mp) {
		return s.syncFile(f)
	}
	return s.syncDir(parent)
}

// syncDir makes the entries of directory dir, and of the others in more,
// durable when the policy says so (skipping directories that are gone, as
// syncFile).
func (s *Store) syncDir(dir string, more ...string) error {
	if !s.fsync {
		return nil
	}
	if err := syncOneDir(dir); err != nil {
		return err
	}
	return s.syncDirs(more)
}

func (s *Store) syncDirs(dirs []string) error {
	for i, d := range dirs {
		if i > 0 && d == dirs[i-1] {
			continue
		}
		if err := syncOneDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncOneDir(dir string) error {
	d, err := openFile(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	if err != nil {
		return fmt.Errorf("fs: fsync dir: %w", err)
	}
	return nil
}

// startWriteback starts writing f's data to disk, without waiting, when
// the policy is to fsync. On an ordered filesystem this is what puts the
// data ahead of a later rename in the journal (orderedData); anywhere it
// leaves less for the fsync to do.
func (s *Store) startWriteback(f *os.File) {
	if s.fsync {
		unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE) // a hint: errors show in the fsync
	}
}

// ordered reports (once per mountpath, then cached) whether mp's
// filesystem is ordered (orderedData).
func (s *Store) ordered(mp *Mountpath) bool {
	if v, ok := s.orderedFS.Load(mp.Path); ok {
		return v.(bool)
	}
	v := orderedData(mp.Path)
	s.orderedFS.Store(mp.Path, v)
	return v
}

// orderedData reports whether the filesystem that holds dir journals
// metadata in order after the data it refers to, as ext4 with a journal
// does in its default data=ordered mode (and data=journal): blocks
// allocated by a writeback reach the disk before the journal transaction
// that holds them commits, so a rename made after the writeback started
// (startWriteback) is never durable without the data it names. A Put then
// needs one flush, after its rename, instead of one before and one after.
// The mode is read from /proc/fs/ext4/<device>/options, which names it
// only when there is a journal. Anything else (another filesystem, ext4
// without a journal, data=writeback, unreadable /proc files) is not
// ordered.
func orderedData(dir string) bool {
	m, ok := ReadMounts().Of(dir)
	if !ok || m.FSType != "ext4" || !strings.HasPrefix(m.Device, "/dev/") {
		return false
	}
	b, err := os.ReadFile("/proc/fs/ext4/" + filepath.Base(m.Device) + "/options")
	if err != nil {
		return false
	}
	for opt := range strings.FieldsFuncSeq(string(b), func(r rune) bool { return r == '\n' || r == ',' }) {
		if opt == "data=ordered" || opt == "data=journal" {
			return true
		}
	}
	return false
}
