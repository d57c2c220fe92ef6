package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestComposeTargetCutOff cuts a target's container off the compose
// cluster's network (docker network disconnect: the process keeps running
// with what it had) and reconnects it: meanwhile listings are flagged
// incomplete and bucket create and destroy go on; back, the target is
// brought up to date before it serves again (no destroyed bucket comes
// back, no created one is missing, a bucket destroyed and created again
// holds only its new content).
func TestComposeTargetCutOff(t *testing.T) {
	ctx := testContext(t)
	cc := harness.StartCompose(t)
	c := api.NewClient(cc.ProxyURL(), api.WithHTTPClient(cc.HTTPClient()))
	b1 := createBucket(t, ctx, c, "cut-b1")
	b3 := createBucket(t, ctx, c, "cut-b3")
	owners1 := putNamed(t, ctx, c, b1, "o", "", 30)
	putNamed(t, ctx, c, b3, "old", ":old", 30)
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := findTarget(t, smap, "target2")
	if len(namesNotOn(owners1, victim)) == len(owners1) {
		t.Fatalf("no object of %s on %s: the test would not test", b1, victim)
	}

	cc.Disconnect("target2")
	cut := time.Now()
	waitDown(t, ctx, c, victim, true)
	t.Logf("cut-off target flagged down after %v", time.Since(cut).Round(time.Millisecond))

	want := namesNotOn(owners1, victim)
	got, missing := listAllPages(t, ctx, c, b1, 7)
	if !slices.Equal(got, want) || !slices.Equal(missing, []string{victim}) {
		t.Errorf("listing with %s cut off: %v (incomplete %v), want %v (incomplete [%s])", victim, got, missing, want, victim)
	}
	if hdr, _ := listHeader(t, ctx, cc.ProxyURL(), b1); hdr != victim {
		t.Errorf("%s: %q, want %s", wire.HdrIncomplete, hdr, victim)
	}
	sum, err := c.BucketSummary(ctx, b1, api.SummaryOptions{PollInterval: 100 * time.Millisecond})
	if err != nil || len(sum) != 1 || !slices.Equal(sum[0].Incomplete, []string{victim}) || sum[0].ObjCount.Present != uint64(len(want)) {
		t.Errorf("summary with %s cut off: %+v %v", victim, sum, err)
	}

	b2 := createBucket(t, ctx, c, "cut-b2")
	if err := c.DestroyBucket(ctx, b1); err != nil {
		t.Fatalf("destroy %s with a target cut off: %v", b1, err)
	}
	if err := c.DestroyBucket(ctx, b3); err != nil {
		t.Fatal(err)
	}
	createBucket(t, ctx, c, b3.Name)
	newNames := namesNotOn(putNamed(t, ctx, c, b3, "new", ":new", 20), victim)

	cc.Connect("target2")
	waitDown(t, ctx, c, victim, false)
	if err := cc.WaitReady(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	// It never left the map, so it is its keepalive that brings it back,
	// after the proxy pushed it the bucket metadata it missed.
	if !strings.Contains(cc.Logs(), "pushing the bucket metadata before it returns to the map") {
		t.Error("the proxy did not hold the reconnected target down while it pushed the bucket metadata")
	}

	proxyBMD, err := c.BucketMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	targetBMD := reverseBMD(t, ctx, cc.HTTPClient(), cc.ProxyURL(), victim)
	if targetBMD.Version != proxyBMD.Version || targetBMD.Buckets[b1.Name] != nil {
		t.Errorf("reconnected target's bucket metadata v%d (proxy's v%d), buckets %v", targetBMD.Version, proxyBMD.Version, keys(targetBMD.Buckets))
	}
	for _, name := range []string{b2.Name, b3.Name} {
		if tp, pp := targetBMD.Buckets[name], proxyBMD.Buckets[name]; tp == nil || pp == nil || tp.BID != pp.BID {
			t.Errorf("bucket %s: the reconnected target has %+v, the proxy %+v", name, tp, pp)
		}
	}
	if _, err := c.ListObjectsPage(ctx, b1, api.ListOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("list the destroyed %s: %v, want not found", b1, err)
	}
	got, missing = listAllPages(t, ctx, c, b3, 7)
	if len(missing) > 0 || !slices.Equal(got, newNames) {
		t.Errorf("%s after the reconnect: %v (incomplete %v), want only the new objects %v", b3, got, missing, newNames)
	}
	owners2 := putNamed(t, ctx, c, b2, "b2", "", 30)
	if len(namesNotOn(owners2, victim)) == len(owners2) {
		t.Errorf("the reconnected target owns none of %s's objects: the test would not test", b2)
	}
	for name := range owners2 {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, b2, name, &buf, api.GetOptions{}); err != nil || buf.String() != name {
			t.Errorf("GET %s/%s after the reconnect: %q %v", b2, name, buf.String(), err)
		}
	}
}

// reverseBMD asks the proxy for node id's bucket metadata
// (/v1/reverse/daemon?what=bmd, Ais-Node-Id).
func reverseBMD(t testing.TB, ctx context.Context, hc *http.Client, proxyURL, id string) *cluster.BMD {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, proxyURL+"/v1/reverse/daemon?what=bmd", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(wire.HdrNodeID, id)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bucket metadata of %s: %s", id, resp.Status)
	}
	var bmd cluster.BMD
	if err := json.NewDecoder(resp.Body).Decode(&bmd); err != nil {
		t.Fatal(err)
	}
	return &bmd
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
