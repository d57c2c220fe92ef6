package fs

import (
	"errors"
	"math/rand/v2"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openFile opens path like os.OpenFile, but without offering the file to
// the runtime's poller: for a disk file os.OpenFile sets O_NONBLOCK, tries
// epoll_ctl (which refuses regular files and directories) and clears
// O_NONBLOCK again, four fcntls and an epoll_ctl per open that a disk file
// never uses. Here an open is one openat and one fcntl (os.NewFile's
// check). Errors are *os.PathError, as from os.OpenFile.
func openFile(path string, flag int, perm uint32) (*os.File, error) {
	for {
		fd, err := unix.Open(path, flag|unix.O_CLOEXEC, perm)
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		if !errors.Is(err, unix.EINTR) {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
	}
}

// createWorkFile creates a new file dir/<prefix><16 hex digits>, as
// os.CreateTemp does but through openFile, with a name from the runtime's
// per-thread generator (no system call).
func createWorkFile(dir, prefix string) (*os.File, error) {
	for range 10000 {
		f, err := openFile(dir+"/"+prefix+strconv.FormatUint(rand.Uint64(), 16), unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &os.PathError{Op: "createtemp", Path: dir + "/" + prefix + "*", Err: os.ErrExist}
}
