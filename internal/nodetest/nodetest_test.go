package nodetest_test

import (
	"net"
	"net/http"
	"testing"

	"miniais/internal/nodetest"
	"miniais/proxy"
	"miniais/target"
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

// TestBindRaceRetried takes the first address each node is given: Start
// must retry on fresh ones.
func TestBindRaceRetried(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var proxyCalls, targetCalls int
	c := nodetest.Start(t, nodetest.Options{
		Targets: 1,
		Proxy: func(cfg *proxy.Config) {
			if proxyCalls++; proxyCalls == 1 {
				cfg.PublicAddr = taken.Addr().String()
			}
		},
		Target: func(_ int, cfg *target.Config) {
			if targetCalls++; targetCalls == 1 {
				cfg.TransportAddr = taken.Addr().String()
			}
		},
	})
	if proxyCalls != 2 || targetCalls != 2 {
		t.Fatalf("proxy configured %d times, target %d times; want 2 each", proxyCalls, targetCalls)
	}
	if c.Proxy().Config.PublicAddr == taken.Addr().String() || c.Target(0).Config.TransportAddr == taken.Addr().String() {
		t.Fatal("a node kept the taken address")
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
