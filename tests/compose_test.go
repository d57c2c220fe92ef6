package tests

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestComposeCluster runs the compose cluster (proxy, three targets and
// Jaeger as containers on their own network): put and get through it, stop
// one target's container and see its objects answer 503 while the others
// are served, start it again and read everything back.
func TestComposeCluster(t *testing.T) {
	ctx := testContext(t)
	cc := harness.StartCompose(t)
	c := api.NewClient(cc.ProxyURL(), api.WithHTTPClient(cc.HTTPClient()))
	bck := createBucket(t, ctx, c, "composed")
	data := map[string][]byte{}
	for i := range 30 {
		name := fmt.Sprintf("obj/%02d", i)
		data[name] = randomBytes(1 + i*4096)
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(data[name]), api.PutOptions{Size: int64(len(data[name]))}); err != nil {
			t.Fatalf("PUT %s: %v", name, err)
		}
	}
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := smap.Node(findTarget(t, smap, "target2"))

	cc.Stop("target2")
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := c.ClusterMap(ctx)
		if err == nil && m.Targets[victim.ID].Down() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not flag the stopped container's target %s down", victim.ID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var on503, served int
	for name, want := range data {
		var buf bytes.Buffer
		_, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{})
		owner, _ := smap.Owner(bck.Uname(name))
		if owner.ID == victim.ID {
			var he *wire.HTTPError
			if !errors.As(err, &he) || he.Status != 503 {
				t.Errorf("GET %s on the stopped target: %v, want 503", name, err)
			}
			on503++
		} else if err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("GET %s on a running target: %v", name, err)
		} else {
			served++
		}
	}
	t.Logf("with target2 stopped: %d objects answered 503, %d served", on503, served)
	if on503 == 0 {
		t.Fatal("no object lives on the stopped target: the test proves nothing")
	}

	cc.Start("target2")
	for name, want := range data {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("GET %s after target2 returned: %v", name, err)
		}
	}
}

// findTarget returns the ID of the target whose public URL names host.
func findTarget(t *testing.T, smap *cluster.Map, host string) string {
	t.Helper()
	for id, n := range smap.Targets {
		if strings.Contains(n.URL(), "://"+host+":") {
			return id
		}
	}
	t.Fatalf("no target advertises host %s", host)
	return ""
}
