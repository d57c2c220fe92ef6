package fs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// trashEntries returns the entries of every mountpath's trash.
func trashEntries(tb testing.TB, s *Store) []string {
	tb.Helper()
	var out []string
	for _, mp := range s.Mountpaths().List() {
		entries, err := os.ReadDir(trashDir(mp))
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range entries {
			out = append(out, filepath.Join(trashDir(mp), e.Name()))
		}
	}
	return out
}

// waitTrashEmpty polls until the trash of s is empty, failing tb after 20s.
func waitTrashEmpty(tb testing.TB, s *Store) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(trashEntries(tb, s)) > 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("trash not emptied: %v", trashEntries(tb, s))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runEmptier runs EmptyTrash on s until the test ends.
func runEmptier(tb testing.TB, s *Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.EmptyTrash(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
}

func TestDestroyBucketGoesToTrash(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		ctx := context.Background()
		bck := newBucket(t, s, "doomed")
		for i := range 50 {
			put(t, s, bck, "d/"+strconv.Itoa(i%5)+"/"+strconv.Itoa(i), []byte("x"))
		}
		if err := s.DestroyBucket(ctx, bck); err != nil {
			t.Fatal(err)
		}
		// Nothing empties the trash yet: the bucket is gone, its files wait.
		if got := trashEntries(t, s); len(got) != 2 {
			t.Fatalf("trash = %v, want one entry per mountpath", got)
		}
		if s.BucketExists(bck) {
			t.Fatal("bucket still exists")
		}
		if got, err := s.Buckets(ctx); err != nil || len(got) != 0 {
			t.Fatalf("Buckets = %v, %v: the trash is listed", got, err)
		}
		// The same name again: a new, empty bucket, untouched by the removal.
		newBucket(t, s, "doomed")
		put(t, s, bck, "fresh", []byte("new"))
		runEmptier(t, s)
		waitTrashEmpty(t, s)
		if got, _ := get(t, s, bck, "fresh"); string(got) != "new" {
			t.Fatalf("re-created bucket's object = %q", got)
		}
		entries, _, err := s.List(ctx, bck, ListOptions{})
		if err != nil || len(entries) != 1 {
			t.Fatalf("re-created bucket lists %v, %v", entries, err)
		}
	})
}

func TestTrashSurvivesRestart(t *testing.T) {
	s := newStore(t, 2)
	ctx := context.Background()
	bck := newBucket(t, s, "doomed")
	for i := range 30 {
		put(t, s, bck, "o"+strconv.Itoa(i), []byte("x"))
	}
	if err := s.DestroyBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	// A restart: a new Store on the same mountpaths keeps the trash (the
	// work directories are emptied at once, the trash is not) and its
	// emptier removes it.
	s2, err := NewStore(Config{Mountpaths: s.Mountpaths(), Fsync: FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	if got := trashEntries(t, s2); len(got) != 2 {
		t.Fatalf("trash after restart = %v", got)
	}
	runEmptier(t, s2)
	waitTrashEmpty(t, s2)
}

func TestRemoveAllPacedIsPaced(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "b")
	for i := range 10 {
		sub := filepath.Join(root, "d"+strconv.Itoa(i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 10 files, 3 directories and the root: 14 unlinks, 4 per tick; the
	// test hands out the ticks, so the removal must stop and wait for each.
	tick := make(chan time.Time)
	p := &pacer{per: 4, tick: tick}
	done := make(chan int)
	go func() {
		n, err := removeAllPaced(context.Background(), root, p)
		if err != nil {
			t.Error(err)
		}
		done <- n
	}()
	ticks := 0
	for {
		select {
		case n := <-done:
			if n != 14 {
				t.Fatalf("removed %d, want 14", n)
			}
			if ticks != 14/4 {
				t.Fatalf("%d ticks for 14 unlinks at 4 a tick, want %d", ticks, 14/4)
			}
			if _, err := os.Stat(root); !os.IsNotExist(err) {
				t.Fatalf("root still there: %v", err)
			}
			return
		case tick <- time.Time{}:
			ticks++
		}
	}
}

func TestPacerSlowsWhileBusy(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(map[bool]string{false: "idle", true: "busy"}[busy], func(t *testing.T) {
			tick := make(chan time.Time)
			p := &pacer{per: 2, tick: tick, busy: func() bool { return busy }}
			done := make(chan error)
			go func() {
				p.wait(context.Background()) // free
				done <- p.wait(context.Background())
			}()
			want := 1
			if busy {
				want = busyTicks
			}
			for ticks := 0; ; {
				select {
				case err := <-done:
					if err != nil || ticks != want {
						t.Fatalf("the second unlink waited %d ticks (%v), want %d", ticks, err, want)
					}
					return
				case tick <- time.Time{}:
					ticks++
				}
			}
		})
	}
}

func TestRemoveAllPacedStopsWithContext(t *testing.T) {
	root := filepath.Join(t.TempDir(), "b")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := os.WriteFile(filepath.Join(root, strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &pacer{per: 2, tick: make(chan time.Time)} // never ticks
	n, err := removeAllPaced(ctx, root, p)
	if err == nil || n != 1 {
		t.Fatalf("removeAllPaced with a cancelled context: %d, %v; want 1 removed and an error", n, err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("root removed: %v", err)
	}
}

// BenchmarkDestroyBucket measures DestroyBucket under FsyncAlways (the
// renames into the trash and the fsyncs of their directories) of a bucket
// of n objects. The bucket is filled, untimed, through a second Store with
// FsyncNever on the same mountpaths (one Store at a time uses them); the
// trash is emptied by nobody here.
func BenchmarkDestroyBucket(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run("objects="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			fill := newStore(b, 2)
			s, err := NewStore(Config{Mountpaths: fill.Mountpaths(), Fsync: FsyncAlways})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				bck := newBucket(b, fill, "b"+strconv.Itoa(i))
				for j := range n {
					if _, err := fill.Put(ctx, bck, "d"+strconv.Itoa(j%50)+"/o"+strconv.Itoa(j), bytes.NewReader(nil), PutOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := s.DestroyBucket(ctx, bck); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
