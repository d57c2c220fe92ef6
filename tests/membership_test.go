package tests

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestProxyRestart checks that the cluster map and buckets survive a proxy
// restart and that targets rejoin on their own.
func TestProxyRestart(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "survivor")
	if _, err := c.PutObject(ctx, bck, "o", strings.NewReader("still here"), api.PutOptions{Size: 10}); err != nil {
		t.Fatal(err)
	}
	cl.RestartProxy()
	if err := cl.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadBucket(ctx, bck); err != nil {
		t.Fatalf("bucket after a proxy restart: %v", err)
	}
	var buf bytes.Buffer
	if _, err := c.GetObject(ctx, bck, "o", &buf, api.GetOptions{}); err != nil || buf.String() != "still here" {
		t.Fatalf("object after a proxy restart: %q %v", buf.String(), err)
	}
	smap, err := c.ClusterMap(ctx)
	if err != nil || len(smap.Targets) != 2 || len(smap.ActiveTargets()) != 2 {
		t.Fatalf("map after a proxy restart: %v %v", smap, err)
	}
	// A bucket created after the restart reaches every target.
	bck2 := createBucket(t, ctx, c, "after")
	if _, err := c.PutObject(ctx, bck2, "x", strings.NewReader("x"), api.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestTargetDown kills a target: the proxy flags it down within seconds,
// its objects answer 503 at once, the others are served, and after it
// returns everything reads back.
func TestTargetDown(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "downs")
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := cl.Targets()[1]
	names := map[string]bool{} // name -> on the victim
	for i := range 40 {
		name := fmt.Sprintf("obj-%d", i)
		if _, err := c.PutObject(ctx, bck, name, strings.NewReader(name), api.PutOptions{Size: int64(len(name))}); err != nil {
			t.Fatal(err)
		}
		owner, _ := smap.Owner(bck.Uname(name))
		names[name] = owner.ID == victim.ID
	}

	cl.StopNode(victim, syscall.SIGKILL)
	killed := time.Now()
	for {
		m, err := c.ClusterMap(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Targets[victim.ID].Down() {
			break
		}
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("the proxy did not flag the killed target down within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("killed target flagged down after %v", time.Since(killed).Round(time.Millisecond))

	for name, onVictim := range names {
		start := time.Now()
		var buf bytes.Buffer
		_, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{})
		if onVictim {
			var he *wire.HTTPError
			if !errors.Is(err, cluster.ErrUnavailable) || !errors.As(err, &he) || he.Status != 503 || !strings.Contains(he.Message, victim.ID) {
				t.Errorf("GET %s on the dead target: %v, want 503 naming %s", name, err, victim.ID)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("GET %s on the dead target took %v", name, d)
			}
		} else if err != nil || buf.String() != name {
			t.Errorf("GET %s on a live target: %q %v", name, buf.String(), err)
		}
	}

	cl.StartTarget(1)
	if err := cl.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := c.ClusterMap(ctx)
		if err == nil && !m.Targets[victim.ID].Down() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restarted target is still flagged down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name := range names {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || buf.String() != name {
			t.Errorf("GET %s after the target returned: %q %v", name, buf.String(), err)
		}
	}
}
