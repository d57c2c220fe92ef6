package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"miniais/api"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestJaegerDown kills the trace collector during a client load: requests
// keep succeeding at a similar rate, node memory stays bounded, the nodes
// count the spans they drop (GET /v1/daemon?what=stats), and once Jaeger is
// back new traces arrive again.
func TestJaegerDown(t *testing.T) {
	ctx := testContext(t)
	j := harness.StartJaeger(t)
	cl := harness.StartCluster(t, harness.Options{
		Targets: 2, LogLevel: "info",
		TracingEndpoint: j.OTLPEndpoint(),
		Env:             []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"},
	})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "traced")

	// Tracing works to begin with.
	checkTraceArrives(t, ctx, j, cl, bck, "before", 30*time.Second)

	run := func(name string, d time.Duration) float64 {
		ok, failed := smallLoad(t, ctx, c, bck, name, 4, d)
		rate := float64(ok) / d.Seconds()
		t.Logf("%s: %d PUT+GET pairs in %v (%.0f/s), %d failed", name, ok, d, rate, failed)
		if failed > 0 {
			t.Errorf("%s: %d requests failed", name, failed)
		}
		return rate
	}
	run("warm-up", time.Second)
	rateUp := run("jaeger up", 5*time.Second)
	rss0 := map[string]int64{}
	for _, n := range cl.Nodes() {
		rss0[n.Name] = rssBytes(t, n.PID())
	}
	dropped0 := droppedSpans(t, ctx, cl)

	j.Stop()
	rateDown := run("jaeger down", 15*time.Second)
	if rateDown < rateUp/2 {
		t.Errorf("with the collector dead the rate fell from %.0f/s to %.0f/s", rateUp, rateDown)
	}
	for _, n := range cl.Nodes() {
		rss := rssBytes(t, n.PID())
		t.Logf("%s RSS %d MiB -> %d MiB", n.Name, rss0[n.Name]>>20, rss>>20)
		if rss-rss0[n.Name] > 64<<20 {
			t.Errorf("%s grew by %d MiB with the collector dead", n.Name, (rss-rss0[n.Name])>>20)
		}
	}
	var dropped uint64
	if !waitUntil(20*time.Second, func() bool { dropped = droppedSpans(t, ctx, cl); return dropped > dropped0 }) {
		t.Errorf("no dropped spans counted with the collector dead (%d before, %d after)", dropped0, dropped)
	}
	t.Logf("spans dropped while the collector was dead: %d", dropped-dropped0)

	j.Start()
	start := time.Now()
	checkTraceArrives(t, ctx, j, cl, bck, "after", 90*time.Second)
	t.Logf("a new trace arrived %v after Jaeger returned", time.Since(start).Round(100*time.Millisecond))
}

// smallLoad runs workers PUT+GET pairs of 4 KiB objects for d and returns
// how many pairs succeeded and how many requests failed.
func smallLoad(t testing.TB, ctx context.Context, c *api.Client, bck cluster.Bucket, prefix string, workers int, d time.Duration) (ok, failed int64) {
	var nOK, nFailed atomic.Int64
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; lctx.Err() == nil; i++ {
				name := fmt.Sprintf("%s/%d-%d", prefix, w, i)
				data := content(name, 4096)
				_, err := c.PutObject(lctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: 4096})
				var buf bytes.Buffer
				if err == nil {
					_, err = c.GetObject(lctx, bck, name, &buf, api.GetOptions{})
				}
				switch {
				case lctx.Err() != nil:
				case err != nil || !bytes.Equal(buf.Bytes(), data):
					if nFailed.Add(1) <= 3 {
						t.Logf("load %s: %v", name, err)
					}
				default:
					nOK.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return nOK.Load(), nFailed.Load()
}

// droppedSpans sums spans_dropped over every node.
func droppedSpans(t testing.TB, ctx context.Context, cl *harness.Cluster) uint64 {
	t.Helper()
	var sum uint64
	for _, n := range cl.Nodes() {
		st, err := nodeStats(ctx, n.PublicURL)
		if err != nil {
			t.Fatalf("stats of %s: %v", n.Name, err)
		}
		if !st.TracingEnabled {
			t.Fatalf("%s: tracing is off", n.Name)
		}
		sum += st.SpansDropped
	}
	return sum
}

// checkTraceArrives sends a traced PUT every second until Jaeger holds one
// of those traces with spans of the proxy and a target, or d passes.
func checkTraceArrives(t *testing.T, ctx context.Context, j *harness.Jaeger, cl *harness.Cluster, bck cluster.Bucket, name string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var ids []string
	for i := 0; time.Now().Before(deadline); i++ {
		tp, id := traceparent()
		ids = append(ids, id)
		tc := api.NewClient(cl.ProxyURL(), api.WithHeader("traceparent", tp))
		obj := fmt.Sprintf("%s/traced-%d", name, i)
		if _, err := tc.PutObject(ctx, bck, obj, bytes.NewReader([]byte(obj)), api.PutOptions{Size: int64(len(obj))}); err != nil {
			t.Fatalf("traced PUT: %v", err)
		}
		time.Sleep(time.Second)
		for _, id := range ids {
			if tr, err := j.Trace(ctx, id); err == nil && tr != nil && len(tr.Spans) >= 2 {
				return
			}
		}
	}
	t.Fatalf("%s: none of %d traced requests reached Jaeger within %v", name, len(ids), d)
}

// TestCollectorBlackhole points the nodes at a "collector" that accepts
// connections and never answers (a hung Jaeger): requests keep succeeding
// without waiting for it, memory stays bounded, and the spans that cannot be
// exported are counted as dropped.
func TestCollectorBlackhole(t *testing.T) {
	ctx := testContext(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, nc) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, nc := range held {
			nc.Close()
		}
		mu.Unlock()
	}()
	cl := harness.StartCluster(t, harness.Options{
		Targets: 2, LogLevel: "info",
		TracingEndpoint: ln.Addr().String(),
		Env:             []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"},
	})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "blackhole")
	smallLoad(t, ctx, c, bck, "warm-up", 4, time.Second)
	rss0 := map[string]int64{}
	for _, n := range cl.Nodes() {
		rss0[n.Name] = rssBytes(t, n.PID())
	}
	const d = 12 * time.Second // longer than one export timeout (10 s)
	ok, failed := smallLoad(t, ctx, c, bck, "load", 4, d)
	t.Logf("hung collector: %d PUT+GET pairs in %v (%.0f/s), %d failed", ok, d, float64(ok)/d.Seconds(), failed)
	if failed > 0 || ok < 100 {
		t.Errorf("with a hung collector: %d pairs served, %d failed", ok, failed)
	}
	for _, n := range cl.Nodes() {
		rss := rssBytes(t, n.PID())
		t.Logf("%s RSS %d MiB -> %d MiB", n.Name, rss0[n.Name]>>20, rss>>20)
		if rss-rss0[n.Name] > 64<<20 {
			t.Errorf("%s grew by %d MiB with a hung collector", n.Name, (rss-rss0[n.Name])>>20)
		}
	}
	var dropped uint64
	if !waitUntil(20*time.Second, func() bool { dropped = droppedSpans(t, ctx, cl); return dropped > 0 }) {
		t.Errorf("no dropped spans counted with a hung collector")
	}
	t.Logf("spans dropped: %d", dropped)
}
