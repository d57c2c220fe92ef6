package nodetest_test

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/cluster"
	"miniais/internal/nodetest"
)

func TestStartForms(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{Targets: 3})
	smap := c.Proxy().Smap()
	if len(smap.Targets) != 3 || smap.Primary.ID != nodetest.ProxyID {
		t.Fatalf("map %+v", smap)
	}
	for i, tg := range c.Targets() {
		if n := smap.Targets[tg.ID()]; n == nil || n.Down() || n.URL() != tg.URL || tg.Index != i {
			t.Errorf("target %s (index %d): in the map as %+v", tg.ID(), tg.Index, n)
		}
	}
	resp, err := http.Get(c.URL() + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health = %s", resp.Status)
	}
	if _, ok := c.Object("nope", "x"); ok {
		t.Fatal("an object of a missing bucket was found")
	}
}

func TestRestarts(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{Targets: 2})
	before := c.Proxy().Smap().Version
	c.StopTarget(1)
	if c.Target(1).Running() {
		t.Fatal("a stopped target runs")
	}
	if tg := c.StartTarget(1); !tg.Running() || tg.URL != c.Proxy().Smap().Targets["t2"].URL() {
		t.Fatalf("restarted target %s", tg.URL)
	}
	c.StopProxy()
	p := c.StartProxy()
	if p.Smap().Version < before || len(p.Smap().Targets) != 2 {
		t.Fatalf("restarted proxy: map v%d with %d targets", p.Smap().Version, len(p.Smap().Targets))
	}
	if tg := c.AddTarget(); tg.ID() != "t3" || len(c.Proxy().Smap().Targets) != 3 {
		t.Fatalf("added %s; map %v", tg.ID(), c.Proxy().Smap().Targets)
	}
}

// TestNoGoroutineLeftAfterServe runs a cluster through joins, bucket
// transactions, pushes, objects, a rebalance and a bucket destroy, stops
// every node, and requires that no goroutine running the nodes' code (or
// an HTTP connection of theirs) is left once the Serve calls returned.
func TestNoGoroutineLeftAfterServe(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{Targets: 2})
	ctx := context.Background()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	cl := api.NewClient(c.URL(), api.WithHTTPClient(hc))
	bck := cluster.NewBucket("leak")
	if err := cl.CreateBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := cl.PutObject(ctx, bck, "o"+strconv.Itoa(i), strings.NewReader("x"), api.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c.AddTarget() // a new map: pushes and a rebalance
	c.WaitBMD()
	if _, err := cl.ListObjects(ctx, bck, api.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cl.DestroyBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	for i := range c.Targets() {
		c.StopTarget(i)
	}
	c.StopProxy()
	hc.CloseIdleConnections()

	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		// A goroutine of ours can only be seen between its last statement
		// and its exit here, not after; the wait is for the runtime's
		// bookkeeping of exited goroutines.
		if left = nodeGoroutines(); len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines left after every Serve returned:\n\n%s", len(left), strings.Join(left, "\n\n"))
}

// nodeGoroutines returns the stacks of the goroutines that run miniais
// code (other than this test's) or hold an HTTP client connection.
func nodeGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "nodetest_test.") {
			continue // this test
		}
		if strings.Contains(g, "miniais/") || strings.Contains(g, "net/http.(*persistConn)") {
			out = append(out, g)
		}
	}
	return out
}
