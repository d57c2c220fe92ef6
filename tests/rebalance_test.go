package tests

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// headLocal asks one target whether it holds an object on its own disks.
func headLocal(t *testing.T, ctx context.Context, base string, bck cluster.Bucket, name string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, base+api.ObjectPath(bck.Name, name)+"?"+wire.QparamProvider+"="+bck.Provider, nil)
	req.Header.Set("Ais-Local-Only", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("HEAD on %s: %v", base, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRebalance adds a target to a cluster holding objects: every object
// stays readable through the proxy at once, the objects the new target now
// owns move to it over the transport, and in the end every object lives on
// exactly its HRW owner and is listed once.
func TestRebalance(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "rebalance")
	const n = 80
	want := map[string][]byte{}
	for i := range n {
		name := fmt.Sprintf("dir/obj-%03d", i)
		want[name] = randomBytes(1 + i*3000)
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(want[name]), api.PutOptions{Size: int64(len(want[name]))}); err != nil {
			t.Fatal(err)
		}
	}

	joined := startExtraTarget(t, cl)
	smap := waitTargets(t, ctx, cl, 3)
	// Delete one object the new target owns, moved yet or not: the move
	// must not bring it back.
	var deleted string
	for name := range want {
		if owner, _ := smap.Owner(bck.Uname(name)); owner != nil && owner.ID == joined {
			deleted = name
			break
		}
	}
	if err := c.DeleteObject(ctx, bck, deleted); err != nil {
		t.Fatalf("DELETE %s right after the join: %v", deleted, err)
	}
	delete(want, deleted)
	for name, data := range want {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("GET %s right after the join: %v (%d bytes)", name, err, buf.Len())
		}
		if _, err := c.HeadObject(ctx, bck, name); err != nil {
			t.Fatalf("HEAD %s right after the join: %v", name, err)
		}
	}

	onNew := 1 // the deleted one
	deadline := time.Now().Add(60 * time.Second)
	for name := range want {
		owner, err := smap.Owner(bck.Uname(name))
		if err != nil {
			t.Fatal(err)
		}
		if owner.ID == joined {
			onNew++
		}
		for _, tn := range smap.TargetList() {
			wantCode := map[bool]int{true: 200, false: 404}[tn.ID == owner.ID]
			for headLocal(t, ctx, tn.URL(), bck, name) != wantCode {
				if time.Now().After(deadline) {
					t.Fatalf("%s: target %s still answers %d locally, want %d (owner %s)", name, tn.ID, headLocal(t, ctx, tn.URL(), bck, name), wantCode, owner.ID)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	if onNew == 0 {
		t.Fatal("the new target owns none of the objects: the test proves nothing")
	}
	t.Logf("%d of %d objects moved to the new target %s", onNew, n, joined)

	entries, err := c.ListObjects(ctx, bck, api.ListOptions{})
	if err != nil || len(entries) != n-1 {
		t.Fatalf("list after the rebalance: %d entries, %v; want %d", len(entries), err, n-1)
	}
	for _, tn := range smap.TargetList() {
		if code := headLocal(t, ctx, tn.URL(), bck, deleted); code != 404 {
			t.Errorf("the deleted %s is back on %s (%d)", deleted, tn.ID, code)
		}
	}
	for name, data := range want {
		var buf bytes.Buffer
		attrs, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{})
		if err != nil || !bytes.Equal(buf.Bytes(), data) || attrs.Checksum.Value != xxh(data) {
			t.Fatalf("GET %s after the rebalance: %v", name, err)
		}
	}
}
