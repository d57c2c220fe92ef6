package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api"
	"miniais/cluster"
)

// "ais show performance" against a real cluster under load: one row per
// node, the targets' GET rate and latency non-zero, worked out from the
// same counters as /metrics.
func TestShowPerformance(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := api.NewClient(h.nc.URL())
	bck := cluster.NewBucket("perf")
	if err := c.CreateBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	h.nc.WaitBMD()
	if _, err := c.PutObject(ctx, bck, "o", bytes.NewReader(make([]byte, 4096)), api.PutOptions{Size: 4096}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var buf bytes.Buffer
			if _, err := c.GetObject(ctx, bck, "o", &buf, api.GetOptions{}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	r := h.must("show", "performance", "--refresh", "500ms")
	close(stop)
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1+1+harnessTargets || !strings.HasPrefix(lines[0], "NODE") {
		t.Fatalf("want a header and one row per node:\n%s", r.stdout)
	}
	var busy bool
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 11 {
			t.Fatalf("row %q has %d fields", l, len(f))
		}
		if f[1] == cluster.RoleTarget && f[2] != "0.0" {
			if _, err := time.ParseDuration(f[4]); err != nil {
				t.Errorf("GET latency %q of a busy target: %v", f[4], err)
			}
			busy = true
		}
	}
	if !busy {
		t.Fatalf("no target served GETs:\n%s", r.stdout)
	}
	if r := h.run("show", "performance", "nosuchnode"); r.code == ExitOK {
		t.Fatal("an unknown node was accepted")
	}
}
