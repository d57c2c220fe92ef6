package target_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/cluster"
	"miniais/internal/nodetest"
	"miniais/transport"
)

// pushBMD sends bmd to tg as its proxy does (the test stands in for it).
func pushBMD(t *testing.T, tg *testTarget, bmd *cluster.BMD) error {
	t.Helper()
	c := transport.NewClient(transport.Config{NodeID: nodetest.ProxyID, Secret: tg.Config.Secret})
	defer c.Close()
	body, err := bmd.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Call(context.Background(), tg.Config.TransportAddr, &transport.Header{Kind: transport.KindBMDPush}, body)
	return err
}

// bucketDirNames returns the bucket directories on tg's mountpaths.
func bucketDirNames(t *testing.T, tg *testTarget) []string {
	t.Helper()
	var out []string
	for _, mp := range tg.mps {
		ents, err := os.ReadDir(filepath.Join(mp, "@"+cluster.ProviderAIS))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() && !slices.Contains(out, e.Name()) {
				out = append(out, e.Name())
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestApplyBMDCatchesUp gives a target a bucket metadata version many
// versions newer than its own, as when it returns after being down: a
// bucket destroyed meanwhile goes, one created appears, one destroyed and
// created again (another bucket ID) loses its old content, and a bucket
// only its disks had goes too.
func TestApplyBMDCatchesUp(t *testing.T) {
	tg := startTarget(t, []string{"kept", "recreated", "gone"})
	for _, b := range []string{"kept", "recreated"} {
		if resp, body := request(t, "PUT", tg.url+"/v1/objects/"+b+"/obj"+redirectQuery, strings.NewReader("old"), nil); resp.StatusCode != 200 {
			t.Fatalf("PUT %s/obj = %d %s", b, resp.StatusCode, body)
		}
	}
	stray := filepath.Join(tg.mps[0], "@"+cluster.ProviderAIS, "stray")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}

	cur := tg.nc.Proxy().BMD()
	next := cur.Clone()
	next.Version = cur.Version + 10
	delete(next.Buckets, "gone")
	next.Buckets["recreated"].BID = cluster.AISBucketID(next.Version)
	next.Buckets["fresh"] = cluster.DefaultBucketProps(cluster.AISBucketID(next.Version), time.Now())
	if err := pushBMD(t, tg, next); err != nil {
		t.Fatal(err)
	}
	if got, want := bucketDirNames(t, tg), []string{"fresh", "kept", "recreated"}; !slices.Equal(got, want) {
		t.Errorf("bucket directories %v, want %v", got, want)
	}
	if resp, body := request(t, "GET", tg.url+"/v1/objects/kept/obj", nil, nil); resp.StatusCode != 200 || string(body) != "old" {
		t.Errorf("GET kept/obj (same bucket ID) = %d %q", resp.StatusCode, body)
	}
	if resp, _ := request(t, "GET", tg.url+"/v1/objects/recreated/obj", nil, nil); resp.StatusCode != 404 {
		t.Errorf("GET recreated/obj (the bucket was destroyed and created again) = %d, want 404", resp.StatusCode)
	}

	// An older version changes nothing.
	old := cur.Clone()
	if err := pushBMD(t, tg, old); err != nil {
		t.Fatal(err)
	}
	if got := bucketDirNames(t, tg); !slices.Contains(got, "fresh") || slices.Contains(got, "gone") {
		t.Errorf("an older version was applied: %v", got)
	}
}
