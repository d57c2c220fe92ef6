package loader_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/bench/loader"
	"miniais/bench/refserver"
	"miniais/cluster"
)

// TestRunAgainstReference runs the load generator against the reference
// server: every operation succeeds, the counts add up, and Cleanup removes
// what the run wrote.
func TestRunAgainstReference(t *testing.T) {
	srv, err := refserver.New(refserver.Config{Dirs: []string{t.TempDir(), t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := api.NewClient(hs.URL)
	bck := cluster.NewBucket("b")
	tests := []struct {
		name    string
		pctPut  int
		order   string
		verify  bool
		cleanup bool
	}{
		{"puts only", 100, "random", false, false},
		{"mixed, sequential gets", 30, "seq", false, false},
		{"mixed, cleanup", 50, "random", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var prog loader.Progress
			rep, err := loader.Run(context.Background(), loader.Config{
				Client: c, Bucket: bck, MaxOps: 200, Workers: 4, PctPut: tt.pctPut,
				MinSize: 1, MaxSize: 8 << 10, Seed: 7, GetOrder: tt.order, Cleanup: tt.cleanup,
				Interval: time.Millisecond, Out: &out, Progress: &prog,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Put.Errors+rep.Get.Errors != 0 {
				t.Fatalf("errors: %s", rep)
			}
			if n := rep.Put.Ops + rep.Get.Ops; n != 200 {
				t.Errorf("%d operations, want 200", n)
			}
			if ops, bytes := prog.Load(); ops != rep.Put.Ops+rep.Get.Ops || bytes != rep.Put.Bytes+rep.Get.Bytes {
				t.Errorf("progress %d ops, %d bytes; report %d ops, %d bytes", ops, bytes, rep.Put.Ops+rep.Get.Ops, rep.Put.Bytes+rep.Get.Bytes)
			}
			if tt.pctPut == 100 && rep.Get.Ops != 0 {
				t.Errorf("%d GETs with pctput 100", rep.Get.Ops)
			}
			if tt.pctPut < 100 && rep.Get.Ops == 0 {
				t.Error("no GETs")
			}
			if rep.Put.Latency.P99 < rep.Put.Latency.P50 || rep.Put.Latency.Max < rep.Put.Latency.P99 {
				t.Errorf("latency quantiles out of order: %+v", rep.Put.Latency)
			}
			if tt.cleanup != (len(rep.Written) == 0) {
				t.Errorf("cleanup %v, but %d objects reported written", tt.cleanup, len(rep.Written))
			}
			if tt.cleanup {
				return
			}
			for _, name := range rep.Written[:5] {
				if _, err := c.HeadObject(context.Background(), bck, name); err != nil {
					t.Errorf("written object %s: %v", name, err)
				}
			}
			if !strings.Contains(out.String(), "ops/s") && rep.Put.Elapsed > 5*time.Millisecond {
				t.Errorf("no interval report in %q", out.String())
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	c := api.NewClient("http://127.0.0.1:1")
	tests := []struct {
		name string
		cfg  loader.Config
	}{
		{"no client", loader.Config{Bucket: cluster.NewBucket("b"), MaxOps: 1}},
		{"bad pctput", loader.Config{Client: c, Bucket: cluster.NewBucket("b"), MaxOps: 1, PctPut: 101}},
		{"bad sizes", loader.Config{Client: c, Bucket: cluster.NewBucket("b"), MaxOps: 1, MinSize: 2, MaxSize: 1}},
		{"no bound", loader.Config{Client: c, Bucket: cluster.NewBucket("b")}},
		{"bad order", loader.Config{Client: c, Bucket: cluster.NewBucket("b"), MaxOps: 1, GetOrder: "up"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loader.Run(context.Background(), tt.cfg); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
