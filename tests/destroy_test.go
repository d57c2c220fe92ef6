package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/tests/harness"
)

// trashFiles counts the entries of a target's trash directories (the
// destroyed buckets still being removed), without descending into them.
func trashFiles(t *testing.T, n *harness.Node) int {
	t.Helper()
	total := 0
	for _, mp := range n.Mountpaths {
		entries, err := os.ReadDir(filepath.Join(mp, ".trash"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		total += len(entries)
	}
	return total
}

// TestDestroyLargeBucket destroys a bucket of 100,000 small objects on a
// real three-target cluster while GETs and PUTs run on another bucket: the
// destroy returns once the bucket is renamed into the trash (its time is
// logged: the figure of issue 17, not asserted), every request on the
// other bucket succeeds, a bucket of the same name created at once is
// empty and usable, a target killed mid-removal finishes it after its
// restart, and in the end every trash is empty.
func TestDestroyLargeBucket(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 objects")
	}
	ctx := testContext(t)
	// A low unlink rate, so that the removal is still running when a
	// target is killed (about 33,000 files per target at 4,000 a second).
	cl := harness.StartCluster(t, harness.Options{Targets: 3, LogLevel: "info", TargetArgs: []string{"-trash_rate=4000"}})
	c := api.NewClient(cl.ProxyURL())
	doomed := createBucket(t, ctx, c, "doomed")
	live := createBucket(t, ctx, c, "live")

	const objects, workers = 100_000, 64
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var putErr atomic.Pointer[error]
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < objects && putErr.Load() == nil; i = next.Add(1) - 1 {
				body := []byte(fmt.Sprintf("object %d", i))
				name := fmt.Sprintf("d%02d/o%06d", i%97, i)
				if _, err := c.PutObject(ctx, doomed, name, bytes.NewReader(body), api.PutOptions{Size: int64(len(body))}); err != nil {
					putErr.Store(&err)
				}
			}
		})
	}
	wg.Wait()
	if p := putErr.Load(); p != nil {
		t.Fatalf("filling %s: %v", doomed, *p)
	}
	t.Logf("wrote %d objects in %v (%d workers)", objects, time.Since(start).Round(time.Millisecond), workers)

	const liveObjects = 200
	for i := range liveObjects {
		body := []byte(fmt.Sprintf("live %d", i))
		if _, err := c.PutObject(ctx, live, fmt.Sprintf("l%03d", i), bytes.NewReader(body), api.PutOptions{Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
	}

	// The load on the other bucket: GETs of the objects written above and
	// PUTs of new ones, from 8 workers, until stopped.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var gets, puts atomic.Int64
	var loadErrs sync.Map // error text -> count
	var ops []loadOp
	var opsMu sync.Mutex
	var load sync.WaitGroup
	for w := range 8 {
		load.Go(func() {
			var mine []loadOp
			defer func() { opsMu.Lock(); ops = append(ops, mine...); opsMu.Unlock() }()
			for i := 0; loadCtx.Err() == nil; i++ {
				began := time.Now()
				var err error
				if i%2 == 0 {
					name := fmt.Sprintf("l%03d", (w*31+i)%liveObjects)
					var buf bytes.Buffer
					if _, err = c.GetObject(loadCtx, live, name, &buf, api.GetOptions{}); err == nil {
						if want := fmt.Sprintf("live %d", (w*31+i)%liveObjects); buf.String() != want {
							err = fmt.Errorf("GET %s = %q, want %q", name, buf.String(), want)
						}
						gets.Add(1)
					}
				} else {
					body := []byte("new")
					_, err = c.PutObject(loadCtx, live, fmt.Sprintf("n%d-%d", w, i), bytes.NewReader(body), api.PutOptions{Size: 3})
					if err == nil {
						puts.Add(1)
					}
				}
				if err != nil && loadCtx.Err() == nil {
					v, _ := loadErrs.LoadOrStore(err.Error(), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
				mine = append(mine, loadOp{began, time.Since(began)})
			}
		})
	}

	const window = 2 * time.Second
	time.Sleep(window) // a baseline of the load before the destroy (a figure, not a condition)
	began := time.Now()
	if err := c.DestroyBucket(ctx, doomed); err != nil {
		t.Fatalf("destroy %s: %v", doomed, err)
	}
	took := time.Since(began)
	t.Logf("FIGURE destroy of a bucket of %d objects: %v", objects, took.Round(time.Microsecond))

	// Right away: the name is free, and a new bucket of it is empty.
	if _, err := c.HeadBucket(ctx, doomed); err == nil {
		t.Fatalf("%s still exists after its destroy", doomed)
	}
	again := createBucket(t, ctx, c, "doomed")
	if _, err := c.PutObject(ctx, again, "fresh", bytes.NewReader([]byte("fresh")), api.PutOptions{Size: 5}); err != nil {
		t.Fatal(err)
	}
	if entries, err := c.ListObjects(ctx, again, api.ListOptions{}); err != nil || len(entries) != 1 || entries[0].Name != "fresh" {
		t.Fatalf("the re-created %s lists %d entries (%v), want only \"fresh\"", again, len(entries), err)
	}

	// The removal runs in the background, at its rate.
	pending := 0
	for _, n := range cl.Targets() {
		pending += trashFiles(t, n)
	}
	if pending == 0 {
		t.Fatal("the trash was empty right after the destroy: it was not removed in the background")
	}
	removing := time.Now()
	time.Sleep(window) // serve during the removal (figures below)
	stopLoad()
	load.Wait()
	loadErrs.Range(func(k, v any) bool {
		t.Errorf("load on %s failed %d times: %s", live, v.(*atomic.Int64).Load(), k)
		return true
	})
	t.Logf("FIGURE serving on %s (8 workers, half GETs, half PUTs; %d GETs and %d PUTs in all, none failed): "+
		"the %v before the destroy: %s; from the destroy to the re-created bucket listed (%v): %s; the next %v (removal running): %s",
		live, gets.Load(), puts.Load(), window, windowStats(ops, began.Add(-window), began),
		removing.Sub(began).Round(time.Millisecond), windowStats(ops, began, removing), window, windowStats(ops, removing, removing.Add(window)))

	// A target killed mid-removal resumes it when it starts again.
	victim := cl.Targets()[0]
	cl.KillTarget(0, syscall.SIGKILL)
	if trashFiles(t, victim) == 0 {
		t.Fatalf("%s emptied its trash before it was killed: raise the objects or lower -trash_rate", victim.Name)
	}
	cl.StartTarget(0)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left := 0
		for _, n := range cl.Targets() {
			left += trashFiles(t, n)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d trash entries left after 2 minutes", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("every trash emptied %v after the destroy", time.Since(began).Round(time.Millisecond))

	// The re-created bucket and the other bucket were never touched.
	var buf bytes.Buffer
	if _, err := c.GetObject(ctx, again, "fresh", &buf, api.GetOptions{}); err != nil || buf.String() != "fresh" {
		t.Fatalf("GET %s/fresh after the removal: %q, %v", again, buf.String(), err)
	}
	if entries, err := c.ListObjects(ctx, live, api.ListOptions{}); err != nil || len(entries) < liveObjects {
		t.Fatalf("%s lists %d entries (%v), want at least %d", live, len(entries), err, liveObjects)
	}
}

// loadOp is one request of the load: when it started and how long it took.
type loadOp struct {
	at  time.Time
	lat time.Duration
}

// windowStats summarizes the requests that started in [from, to).
func windowStats(ops []loadOp, from, to time.Time) string {
	var lats []time.Duration
	for _, op := range ops {
		if !op.at.Before(from) && op.at.Before(to) {
			lats = append(lats, op.lat)
		}
	}
	if len(lats) == 0 {
		return "no requests"
	}
	slices.Sort(lats)
	pct := func(q float64) time.Duration { return lats[int(q*float64(len(lats)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d requests (%.0f/s), p50 %v p99 %v max %v", len(lats), float64(len(lats))/to.Sub(from).Seconds(), pct(0.5), pct(0.99), pct(1))
}
