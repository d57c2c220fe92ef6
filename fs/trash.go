package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The trash: DestroyBucket renames a bucket's directory into
// <mp>/.trash/<bucket>-<random> on each mountpath and returns; EmptyTrash,
// a background loop of the target, removes what the trash holds at a
// bounded rate of unlinks, and resumes after a restart (NewStore leaves the
// trash alone). The trash is outside <mp>/@ais, so no listing, bucket list,
// count or summary sees it, and a bucket created again under the same name
// is a new, empty directory that the removal never touches.

// trashDirName is the trash directory of a mountpath.
const trashDirName = ".trash"

// DefaultTrashRate is the default bound on the unlinks per second that
// EmptyTrash makes on a target (all mountpaths together).
const DefaultTrashRate = 10000

// trashTick is the period of the trash pacer: EmptyTrash unlinks at most
// rate*trashTick files per tick.
const trashTick = 10 * time.Millisecond

// busyTicks is how many ticks the pacer waits for each tick's unlinks
// while the node serves foreground requests: a quarter of the rate.
const busyTicks = 4

// trashRetry is how long EmptyTrash waits to retry after a failed removal.
const trashRetry = time.Minute

// trashDir returns <mp>/.trash.
func trashDir(mp *Mountpath) string { return filepath.Join(mp.Path, trashDirName) }

// trash is the Store's state of the trash.
type trash struct {
	rate int           // unlinks per second
	busy func() bool   // Config.Busy
	wake chan struct{} // poked (never blocking) when something is thrown away
}

func newTrash(rate int, busy func() bool) trash {
	if rate <= 0 {
		rate = DefaultTrashRate
	}
	return trash{rate: rate, busy: busy, wake: make(chan struct{}, 1)}
}

// poke wakes EmptyTrash.
func (tr *trash) poke() {
	select {
	case tr.wake <- struct{}{}:
	default:
	}
}

// EmptyTrash removes the destroyed buckets of every mountpath's trash, at
// most Config.TrashRate unlinks per second (a quarter of it while
// Config.Busy reports foreground requests), until ctx is done: at once
// (what a previous run left), then whenever DestroyBucket throws a bucket
// away. A removal that fails is logged and retried a minute later. It is
// meant to run in one goroutine per Store; it makes no spans (background
// work).
func (s *Store) EmptyTrash(ctx context.Context) {
	pace := time.NewTicker(trashTick)
	defer pace.Stop()
	p := &pacer{per: max(1, s.trash.rate*int(trashTick)/int(time.Second)), tick: pace.C, busy: s.trash.busy}
	for {
		var retry <-chan time.Time
		if !s.emptyTrashOnce(ctx, p) {
			retry = time.After(trashRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.trash.wake:
		case <-retry:
		}
	}
}

// emptyTrashOnce removes every entry of every trash directory; false if
// some could not be removed (ctx done, or an I/O error).
func (s *Store) emptyTrashOnce(ctx context.Context, p *pacer) bool {
	ok := true
	for _, mp := range s.mps.List() {
		entries, err := os.ReadDir(trashDir(mp))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				s.log.Warn("fs: read the trash", "mountpath", mp.Path, "err", err)
				ok = false
			}
			continue
		}
		for _, e := range entries {
			start := time.Now()
			path := filepath.Join(trashDir(mp), e.Name())
			n, err := removeAllPaced(ctx, path, p)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("fs: empty the trash", "dir", path, "removed", n, "err", err)
				}
				ok = false
				continue
			}
			s.log.Info("fs: destroyed bucket removed", "dir", path, "files", n, "took", time.Since(start).Round(time.Millisecond))
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return ok
}

// pacer bounds the unlinks: per of them per tick, or per busyTicks ticks
// while busy reports true.
type pacer struct {
	per  int
	n    int
	tick <-chan time.Time
	busy func() bool // nil: never busy
}

// wait counts one unlink, waiting for the next tick (busyTicks ticks while
// busy) when this tick's are used up.
func (p *pacer) wait(ctx context.Context) error {
	if p.n++; p.n < p.per {
		return nil
	}
	p.n = 0
	ticks := 1
	if p.busy != nil && p.busy() {
		ticks = busyTicks
	}
	for range ticks {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.tick:
		}
	}
	return nil
}

// readDirBatch is how many entries removeAllPaced reads at a time.
const readDirBatch = 256

// removeAllPaced removes path and everything below it, one paced unlink
// at a time, and returns how many files and directories it removed. Only
// entries already read are removed, so that reading on in the same
// directory sees every other entry (POSIX readdir).
func removeAllPaced(ctx context.Context, path string, p *pacer) (int, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	if fi.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		for {
			entries, rerr := f.ReadDir(readDirBatch)
			for _, e := range entries {
				m, err := removeAllPaced(ctx, filepath.Join(path, e.Name()), p)
				n += m
				if err != nil {
					f.Close()
					return n, err
				}
			}
			if errors.Is(rerr, io.EOF) {
				break
			}
			if rerr != nil {
				f.Close()
				return n, rerr
			}
		}
		f.Close()
	}
	if err := p.wait(ctx); err != nil {
		return n, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return n, err
	}
	return n + 1, nil
}
