package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/cluster"
	"miniais/tests/harness"
)

// A bucket copy under load and under a crash, and what it costs the
// foreground (the other job tests are in jobs_test.go).

// latency is what one foreground client saw: per-operation durations.
type latency struct {
	get, put []time.Duration
}

func (l *latency) add(get, put time.Duration) { l.get, l.put = append(l.get, get), append(l.put, put) }

// pct returns the p-th percentile of d.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (l *latency) String() string {
	return fmt.Sprintf("GET p50 %v p90 %v, PUT p50 %v p90 %v (%d samples)", pct(l.get, .5).Round(time.Microsecond),
		pct(l.get, .9).Round(time.Microsecond), pct(l.put, .5).Round(time.Microsecond), pct(l.put, .9).Round(time.Microsecond), len(l.get))
}

// foreground runs one client's sequential PUT-then-GET of 4 KiB objects in
// bck until stop returns true or n rounds are done; a failed request fails
// the test.
func foreground(t testing.TB, ctx context.Context, c *api.Client, bck cluster.Bucket, prefix string, n int, stop func() bool) *latency {
	t.Helper()
	l := &latency{}
	data := randomBytes(4 << 10)
	for i := 0; i < n && !stop(); i++ {
		name := fmt.Sprintf("%s/%04d", prefix, i)
		t0 := time.Now()
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
			t.Fatalf("foreground PUT %s: %v", name, err)
		}
		t1 := time.Now()
		if _, err := c.GetObject(ctx, bck, name, io.Discard, api.GetOptions{}); err != nil {
			t.Fatalf("foreground GET %s: %v", name, err)
		}
		l.add(time.Since(t1), t1.Sub(t0))
	}
	return l
}

// TestJobsCopyBucket copies a bucket of 2,000 objects: once on an idle
// cluster (throughput, against a client's GET+PUT loop over the same
// data), once while a foreground client measures its latency (which must
// stay near its idle latency), and once while PUTs run and a target is
// SIGKILLed in the middle: the job is aborted naming the target, the
// foreground keeps being served, no object in the destination is partial,
// and after the restart a second copy completes.
func TestJobsCopyBucket(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	src := createBucket(t, ctx, c, "cpsrc")
	const n = 2000
	var names []string
	var total int64
	for i := range n {
		name := fmt.Sprintf("d%02d/obj-%05d", i%10, i)
		names = append(names, name)
		total += int64(sizeOf(name))
	}
	sort.Strings(names)
	t0 := time.Now()
	putAll(t, ctx, c, src, names, 16)
	t.Logf("%d objects, %.1f MiB, stored in %v", n, float64(total)/(1<<20), time.Since(t0).Round(time.Millisecond))
	mib := float64(total) / (1 << 20)

	t.Run("throughput", func(t *testing.T) {
		dst := cluster.NewBucket("cpidle")
		id, err := c.CopyBucket(ctx, src, dst, api.CopyBucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st := waitJob(t, ctx, c, id, 2*time.Minute)
		if st.Aborted || st.Err != "" {
			t.Fatalf("copy %s: %+v", id, st)
		}
		snaps, _ := c.QueryJobs(ctx, api.JobQuery{ID: id})
		var start, end time.Time
		for _, l := range snaps {
			for _, s := range l {
				if start.IsZero() || s.StartTime.Before(start) {
					start = s.StartTime
				}
				if s.EndTime.After(end) {
					end = s.EndTime
				}
			}
		}
		took := end.Sub(start)
		checkCopy(t, ctx, c, dst, names, true)

		loop := createBucket(t, ctx, c, "cploop")
		t1 := time.Now()
		var buf bytes.Buffer
		for _, name := range names {
			buf.Reset()
			if _, err := c.GetObject(ctx, src, name, &buf, api.GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(ctx, loop, name, bytes.NewReader(buf.Bytes()), api.PutOptions{Size: int64(buf.Len())}); err != nil {
				t.Fatal(err)
			}
		}
		loopTook := time.Since(t1)
		t.Logf("copy-bck job: %d objects, %.1f MiB in %v = %.1f MiB/s (%.0f objects/s); client GET+PUT loop: %v = %.1f MiB/s (%.2fx)",
			n, mib, took.Round(time.Millisecond), mib/took.Seconds(), n/took.Seconds(), loopTook.Round(time.Millisecond),
			mib/loopTook.Seconds(), loopTook.Seconds()/took.Seconds())
	})

	t.Run("foreground latency", func(t *testing.T) {
		fg := createBucket(t, ctx, c, "cpfg")
		// Idle, busy, idle again: the two idle runs bracket the busy one,
		// so that drift in the machine's load counts against neither.
		foreground(t, ctx, c, fg, "warm", 50, func() bool { return false })
		idle := foreground(t, ctx, c, fg, "idle", 150, func() bool { return false })
		id, err := c.CopyBucket(ctx, src, cluster.NewBucket("cpbusy"), api.CopyBucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ended atomic.Bool
		go func() {
			for !ended.Load() && jobRunning(ctx, c, id) {
				time.Sleep(50 * time.Millisecond)
			}
			ended.Store(true)
		}()
		t0 := time.Now()
		busy := foreground(t, ctx, c, fg, "busy", 300, ended.Load)
		running := !ended.Load()
		if snaps, err := c.QueryJobs(ctx, api.JobQuery{ID: id}); err == nil {
			t.Logf("the copy did %d objects in the %v of foreground load", api.JobTotals(snaps, id).LocObjs, time.Since(t0).Round(time.Millisecond))
		}
		st := waitJob(t, ctx, c, id, 2*time.Minute)
		idle2 := foreground(t, ctx, c, fg, "idle2", 150, func() bool { return false })
		idle.get, idle.put = append(idle.get, idle2.get...), append(idle.put, idle2.put...)
		t.Logf("foreground idle: %v", idle)
		t.Logf("foreground during the copy (job still running at the end: %v): %v", running, busy)
		if st.Aborted {
			t.Fatalf("copy %s: %+v", id, st)
		}
		if len(busy.get) < 50 {
			t.Fatalf("the copy ended after %d foreground rounds: too few to compare", len(busy.get))
		}
		// The throttle's target is 20%; on a shared 2-core machine the
		// spread between two idle runs is of that order, so the test
		// fails only at twice that.
		for _, m := range []struct {
			op         string
			idle, busy time.Duration
		}{{"GET", pct(idle.get, .5), pct(busy.get, .5)}, {"PUT", pct(idle.put, .5), pct(busy.put, .5)}} {
			if ratio := float64(m.busy) / float64(m.idle); ratio > 1.4 {
				t.Errorf("foreground %s p50 %v during the copy, %.2fx the idle %v", m.op, m.busy, ratio, m.idle)
			}
		}
	})

	t.Run("target killed", func(t *testing.T) {
		dst := cluster.NewBucket("cpcrash")
		victim := cl.Targets()[1]
		var stop atomic.Bool
		var okAfterKill, failedAfterKill atomic.Int64
		var killed atomic.Bool
		var fgNames sync.Map
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					name := fmt.Sprintf("fg/%d-%05d", w, i)
					data := content(name, sizeOf(name))
					fgNames.Store(name, true)
					_, err := c.PutObject(ctx, src, name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))})
					if err == nil {
						_, err = c.GetObject(ctx, src, names[i%n], io.Discard, api.GetOptions{})
					}
					switch {
					case !killed.Load():
						if err != nil {
							t.Errorf("foreground before the kill: %v", err)
						}
					case err == nil:
						okAfterKill.Add(1)
					case errors.Is(err, cluster.ErrUnavailable) || isConnReset(err):
						failedAfterKill.Add(1)
					default:
						t.Errorf("foreground after the kill failed for another reason: %v", err)
					}
				}
			})
		}
		id, err := c.CopyBucket(ctx, src, dst, api.CopyBucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var copied int64
		if !waitUntil(time.Minute, func() bool {
			snaps, err := c.QueryJobs(ctx, api.JobQuery{ID: id})
			copied = api.JobTotals(snaps, id).LocObjs
			return err == nil && copied >= n/5
		}) {
			t.Fatalf("the copy did not get to %d objects: %d", n/5, copied)
		}
		if !jobRunning(ctx, c, id) {
			t.Fatalf("the copy ended before the kill (%d objects copied): too fast to test", copied)
		}
		killed.Store(true)
		killedAt := time.Now()
		cl.StopNode(victim, syscall.SIGKILL)
		t.Logf("killed %s (%s) after %d of %d objects were copied", victim.Name, victim.ID, copied, n)
		st := waitJob(t, ctx, c, id, time.Minute)
		t.Logf("job %s ended %v after the kill: aborted %v: %s", id, time.Since(killedAt).Round(time.Millisecond), st.Aborted, st.Err)
		if !st.Aborted || !strings.Contains(st.Err, victim.ID) {
			t.Errorf("job %s: %+v, want aborted naming %s", id, st, victim.ID)
		}
		// The foreground goes on with the other targets' objects.
		before := okAfterKill.Load()
		if !waitUntil(10*time.Second, func() bool { return okAfterKill.Load() > before+20 }) {
			t.Errorf("the foreground stalled after the kill: %d requests served, %d failed", okAfterKill.Load(), failedAfterKill.Load())
		}
		stop.Store(true)
		wg.Wait()
		t.Logf("foreground after the kill: %d rounds served, %d failed on the dead target", okAfterKill.Load(), failedAfterKill.Load())

		cl.StartTarget(1)
		if files := workFiles(t, victim.Mountpaths); len(files) != 0 {
			t.Errorf("work files survived the restart: %v", files)
		}
		all := slices.Clone(names)
		fgNames.Range(func(k, _ any) bool { all = append(all, k.(string)); return true })
		sort.Strings(all)
		have := checkCopy(t, ctx, c, dst, all, false)
		checkDisks(t, cl, dst.Name)
		t.Logf("after the aborted copy the destination holds %d whole objects", have)

		// A second copy, now that every target is back, completes.
		id2, err := c.CopyBucket(ctx, src, dst, api.CopyBucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st := waitJob(t, ctx, c, id2, 2*time.Minute); st.Aborted || st.Err != "" {
			t.Fatalf("second copy %s: %+v", id2, st)
		}
		checkCopy(t, ctx, c, dst, listNames(t, ctx, c, src), true)
		checkDisks(t, cl, dst.Name)
	})
}
