package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// A target that is down: listings and summaries answer from the others,
// flagged incomplete; bucket create and destroy go on without it; when it
// returns it is brought up to date before it serves (no destroyed bucket
// comes back, no created one is missing, a bucket destroyed and created
// again holds only its new content); and an operator can remove a dead
// target from the map.

// putNamed PUTs count objects prefix-N into bck (content: the name and
// tag) and returns, by name, the ID of the target that owns each.
func putNamed(t testing.TB, ctx context.Context, c *api.Client, bck cluster.Bucket, prefix, tag string, count int) map[string]string {
	t.Helper()
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for i := range count {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		owner, err := smap.Owner(bck.Uname(name))
		if owner == nil {
			t.Fatalf("owner of %s: %v", name, err)
		}
		owners[name] = owner.ID
		if err != nil { // the owner is down: the PUT must be refused naming it
			_, perr := c.PutObject(ctx, bck, name, strings.NewReader(name+tag), api.PutOptions{})
			if !errors.Is(perr, cluster.ErrUnavailable) || !strings.Contains(perr.Error(), owner.ID) {
				t.Fatalf("PUT %s owned by the down %s: %v, want 503 naming it", name, owner.ID, perr)
			}
			continue
		}
		if _, err := c.PutObject(ctx, bck, name, strings.NewReader(name+tag), api.PutOptions{}); err != nil {
			t.Fatalf("PUT %s: %v", name, err)
		}
	}
	return owners
}

// namesNotOn returns the sorted names of owners whose owner is not id.
func namesNotOn(owners map[string]string, id string) []string {
	var out []string
	for name, o := range owners {
		if o != id {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// waitDown waits until the proxy flags target id down (or up, with down
// false) in its map.
func waitDown(t testing.TB, ctx context.Context, c *api.Client, id string, down bool) {
	t.Helper()
	if !waitUntil(30*time.Second, func() bool {
		m, err := c.ClusterMap(ctx)
		return err == nil && m.Targets[id] != nil && m.Targets[id].Down() == down
	}) {
		t.Fatalf("target %s not flagged down=%v within 30s", id, down)
	}
}

// listAllPages lists bck page by page (pageSize entries) following the
// continuation tokens, and returns the names in order and the union of the
// pages' Incomplete fields.
func listAllPages(t testing.TB, ctx context.Context, c *api.Client, bck cluster.Bucket, pageSize int64) (names, incomplete []string) {
	t.Helper()
	opts := api.ListOptions{PageSize: pageSize, Msgpack: true}
	for range 1000 {
		page, err := c.ListObjectsPage(ctx, bck, opts)
		if err != nil {
			t.Fatalf("list %s (token %q): %v", bck, opts.Token, err)
		}
		if int64(len(page.Entries)) > pageSize {
			t.Fatalf("a page of %d entries, asked for %d", len(page.Entries), pageSize)
		}
		if len(page.Incomplete) > 0 && page.Flags&wire.LsoIncomplete == 0 {
			t.Errorf("page names missing targets %v but has flags %d", page.Incomplete, page.Flags)
		}
		for _, e := range page.Entries {
			names = append(names, e.Name)
		}
		for _, id := range page.Incomplete {
			if !slices.Contains(incomplete, id) {
				incomplete = append(incomplete, id)
			}
		}
		if page.ContinuationToken == "" {
			return names, incomplete
		}
		opts.Token, opts.UUID = page.ContinuationToken, page.UUID
	}
	t.Fatal("listing did not end")
	return nil, nil
}

// listHeader GETs one listing page of bck with the JSON action body and
// returns the reply's Ais-Incomplete header and decoded page.
func listHeader(t testing.TB, ctx context.Context, proxyURL string, bck cluster.Bucket) (string, *wire.LsoResult) {
	t.Helper()
	val, _ := json.Marshal(wire.ListObjsMsg{Props: "name"})
	body, _ := json.Marshal(wire.ActionMsg{Action: wire.ActList, Value: val})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, proxyURL+"/v1/buckets/"+bck.Name+"?provider=ais", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page wire.LsoResult
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list %s: %s", bck, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get(wire.HdrIncomplete), &page
}

// runCLI runs bin/ais with args and returns its standard output and error
// apart; a failure fails the test.
func runCLI(t testing.TB, ctx context.Context, cl *harness.Cluster, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := cl.CLI(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ais %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// bucketDirs returns the names of the bucket directories on mountpaths.
func bucketDirs(t testing.TB, mountpaths []string) []string {
	t.Helper()
	var out []string
	for _, mp := range mountpaths {
		ents, err := os.ReadDir(filepath.Join(mp, "@"+cluster.ProviderAIS))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
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

// TestDownTargetListingAndBuckets SIGKILLs a target and checks what the
// cluster does without it and when it returns.
func TestDownTargetListingAndBuckets(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3})
	c := api.NewClient(cl.ProxyURL())
	b1 := createBucket(t, ctx, c, "down-b1")
	b3 := createBucket(t, ctx, c, "down-b3")
	owners1 := putNamed(t, ctx, c, b1, "o", "", 40)
	putNamed(t, ctx, c, b3, "old", ":old", 40)
	victim := cl.Targets()[1]
	if len(namesNotOn(owners1, victim.ID)) == len(owners1) {
		t.Fatalf("no object of %s on %s: the test would not test", b1, victim.ID)
	}

	cl.StopNode(victim, syscall.SIGKILL)
	waitDown(t, ctx, c, victim.ID, true)

	// Listing: the live targets' objects, paged, flagged incomplete.
	want := namesNotOn(owners1, victim.ID)
	for _, size := range []int64{7, 1000} {
		got, missing := listAllPages(t, ctx, c, b1, size)
		if !slices.Equal(got, want) {
			t.Errorf("page size %d: listed %d names %v, want the %d on live targets %v", size, len(got), got, len(want), want)
		}
		if !slices.Equal(missing, []string{victim.ID}) {
			t.Errorf("page size %d: incomplete %v, want [%s]", size, missing, victim.ID)
		}
	}
	if hdr, page := listHeader(t, ctx, cl.ProxyURL(), b1); hdr != victim.ID || !slices.Equal(page.Incomplete, []string{victim.ID}) {
		t.Errorf("JSON listing: %s %q, incomplete %v; want %s", wire.HdrIncomplete, hdr, page.Incomplete, victim.ID)
	}
	stdout, stderr := runCLI(t, ctx, cl, "ls", "ais://"+b1.Name, "--name-only")
	if !strings.Contains(stderr, "incomplete") || !strings.Contains(stderr, victim.ID) {
		t.Errorf("ais ls: no warning naming %s on stderr: %q", victim.ID, stderr)
	}
	if strings.Contains(stdout, "incomplete") || !strings.Contains(stdout, fmt.Sprintf("Total: %d object(s)", len(want))) {
		t.Errorf("ais ls stdout: %q", stdout)
	}

	// Summary: the live targets' part, flagged.
	sum, err := c.BucketSummary(ctx, b1, api.SummaryOptions{PollInterval: 50 * time.Millisecond})
	if err != nil || len(sum) != 1 {
		t.Fatalf("summary: %v %v", sum, err)
	}
	if sum[0].ObjCount.Present != uint64(len(want)) || !slices.Equal(sum[0].Incomplete, []string{victim.ID}) {
		t.Errorf("summary: %d objects, incomplete %v; want %d, [%s]", sum[0].ObjCount.Present, sum[0].Incomplete, len(want), victim.ID)
	}
	if _, stderr := runCLI(t, ctx, cl, "storage", "summary", "ais://"+b1.Name); !strings.Contains(stderr, victim.ID) {
		t.Errorf("ais storage summary: no warning naming %s on stderr: %q", victim.ID, stderr)
	}

	// The down target's objects answer 503 naming it.
	for name, owner := range owners1 {
		if owner != victim.ID {
			continue
		}
		_, err := c.GetObject(ctx, b1, name, &bytes.Buffer{}, api.GetOptions{})
		var he *wire.HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || !strings.Contains(he.Message, victim.ID) {
			t.Errorf("GET %s on the down target: %v, want 503 naming %s", name, err, victim.ID)
		}
	}

	// Bucket changes without it: create B2 (and change its properties),
	// destroy B1, destroy and create B3 again with new content.
	b2 := createBucket(t, ctx, c, "down-b2")
	if err := c.SetBucketProps(ctx, b2, map[string]any{"versioning": map[string]any{"enabled": false}}); err != nil {
		t.Fatalf("set-bprops on %s with a target down: %v", b2, err)
	}
	if err := c.DestroyBucket(ctx, b1); err != nil {
		t.Fatalf("destroy %s with a target down: %v", b1, err)
	}
	if err := c.DestroyBucket(ctx, b3); err != nil {
		t.Fatal(err)
	}
	createBucket(t, ctx, c, b3.Name)
	owners3 := putNamed(t, ctx, c, b3, "new", ":new", 30)
	newNames := namesNotOn(owners3, victim.ID)

	// Back: brought up to date before it returns to the map.
	cl.StartTarget(1)
	waitDown(t, ctx, c, victim.ID, false)

	proxyBMD, err := c.BucketMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	targetBMD, err := api.NewClient(victim.PublicURL).BucketMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if targetBMD.Version != proxyBMD.Version {
		t.Errorf("returned target's bucket metadata v%d, the proxy's v%d", targetBMD.Version, proxyBMD.Version)
	}
	for _, name := range []string{b2.Name, b3.Name} {
		tp, pp := targetBMD.Buckets[name], proxyBMD.Buckets[name]
		if tp == nil || pp == nil || tp.BID != pp.BID || *tp != *pp {
			t.Errorf("bucket %s: the returned target has %+v, the proxy %+v", name, tp, pp)
		}
	}
	if tp := targetBMD.Buckets[b2.Name]; tp != nil && tp.Versioning.Enabled {
		t.Errorf("the returned target missed the property change of %s", b2)
	}
	if targetBMD.Buckets[b1.Name] != nil {
		t.Errorf("the returned target still has %s in its bucket metadata", b1)
	}
	if dirs := bucketDirs(t, victim.Mountpaths); !slices.Equal(dirs, []string{b2.Name, b3.Name}) {
		t.Errorf("bucket directories on the returned target: %v, want [%s %s]", dirs, b2.Name, b3.Name)
	}
	bcks, err := c.ListBuckets(ctx)
	if err != nil || len(bcks) != 2 {
		t.Errorf("buckets after the return: %v %v", bcks, err)
	}
	if _, err := c.ListObjectsPage(ctx, b1, api.ListOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("list the destroyed %s: %v, want not found", b1, err)
	}

	// Listings are complete again; B3 holds only its new content.
	got, missing := listAllPages(t, ctx, c, b3, 7)
	if len(missing) > 0 || !slices.Equal(got, newNames) {
		t.Errorf("%s after the return: %v (incomplete %v), want only the new objects %v", b3, got, missing, newNames)
	}
	for _, name := range newNames {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, b3, name, &buf, api.GetOptions{}); err != nil || buf.String() != name+":new" {
			t.Errorf("GET %s/%s: %q %v", b3, name, buf.String(), err)
		}
	}
	if _, err := c.GetObject(ctx, b3, "old-000", &bytes.Buffer{}, api.GetOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("GET an object of the destroyed %s: %v, want not found", b3, err)
	}
	// B2 exists on every target, the returned one included.
	owners2 := putNamed(t, ctx, c, b2, "b2", "", 30)
	if got, missing := listAllPages(t, ctx, c, b2, 1000); len(missing) > 0 || len(got) != len(owners2) {
		t.Errorf("%s: listed %d of %d (incomplete %v)", b2, len(got), len(owners2), missing)
	}
	if len(namesNotOn(owners2, victim.ID)) == len(owners2) {
		t.Errorf("the returned target owns none of %s's objects: the test would not test", b2)
	}
	if _, stderr := runCLI(t, ctx, cl, "ls", "ais://"+b3.Name); stderr != "" {
		t.Errorf("ais ls of a complete listing wrote to stderr: %q", stderr)
	}
}

// TestRemoveDownTarget removes dead targets from the map: refused before
// the configured time unless forced; then the others rebalance and the
// listing is complete without them (their objects are lost).
func TestRemoveDownTarget(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "removal")
	owners := putNamed(t, ctx, c, bck, "o", "", 60)

	first, second := cl.Targets()[1], cl.Targets()[2]
	cl.StopNode(first, syscall.SIGKILL)
	waitDown(t, ctx, c, first.ID, true)

	// Too early (the default timeout.remove_down_after is minutes).
	_, err := c.NodeAction(ctx, wire.ActDecommissionNode, first.ID, api.NodeOptions{})
	if !errors.Is(err, cluster.ErrBadRequest) || !strings.Contains(err.Error(), cluster.KeyTimeoutRemoveDownAfter) {
		t.Fatalf("early removal: %v, want 400 naming %s", err, cluster.KeyTimeoutRemoveDownAfter)
	}
	if m, _ := c.ClusterMap(ctx); m == nil || m.Targets[first.ID] == nil {
		t.Fatal("a refused removal changed the map")
	}
	// Options that need the target to act are refused.
	if _, err := c.NodeAction(ctx, wire.ActDecommissionNode, first.ID, api.NodeOptions{Force: true, RmUserData: true}); !errors.Is(err, cluster.ErrNotImplemented) {
		t.Errorf("rm_user_data for a down target: %v, want 501", err)
	}

	// Forced (with our CLI): removed now; the others rebalance.
	out, _ := runCLI(t, ctx, cl, "cluster", "add-remove-nodes", "decommission", first.ID, "--force")
	var rebID string
	if _, err := fmt.Sscanf(out, "Started rebalance %q", &rebID); err != nil || rebID == "" {
		t.Fatalf("forced removal: %q (%v)", out, err)
	}
	checkRemoved(t, ctx, c, bck, rebID, first.ID, owners)

	// By the configured time: the second dead target goes without force
	// once it has been down for timeout.remove_down_after.
	if err := c.SetClusterConfig(ctx, map[string]string{cluster.KeyTimeoutRemoveDownAfter: "2s"}, api.SetConfigOptions{}); err != nil {
		t.Fatal(err)
	}
	owners = putNamed(t, ctx, c, bck, "p", "", 40) // placed over the two left
	cl.StopNode(second, syscall.SIGKILL)
	waitDown(t, ctx, c, second.ID, true)
	if !waitUntil(30*time.Second, func() bool {
		rebID, err = c.NodeAction(ctx, wire.ActDecommissionNode, second.ID, api.NodeOptions{})
		if err != nil && !errors.Is(err, cluster.ErrBadRequest) {
			t.Fatalf("removal: %v", err)
		}
		return err == nil
	}) {
		t.Fatalf("removal after timeout.remove_down_after=2s still refused: %v", err)
	}
	checkRemoved(t, ctx, c, bck, rebID, second.ID, owners)
	// The last target is never removed.
	last := cl.Targets()[0]
	if _, err := c.NodeAction(ctx, wire.ActDecommissionNode, last.ID, api.NodeOptions{Force: true}); err == nil {
		t.Fatal("the last target was removed")
	}
}

// checkRemoved checks that target id left the map, that rebalance rebID
// finishes, and that bck then lists complete: every object of owners
// except those on id (lost, now 404).
func checkRemoved(t *testing.T, ctx context.Context, c *api.Client, bck cluster.Bucket, rebID, id string, owners map[string]string) {
	t.Helper()
	m, err := c.ClusterMap(ctx)
	if err != nil || m.Targets[id] != nil {
		t.Fatalf("after the removal the map still has %s (%v)", id, err)
	}
	if want := fmt.Sprintf("g%d", m.Version); rebID != want {
		t.Errorf("removal answered rebalance %q, want %q (the new map version)", rebID, want)
	}
	if st, err := c.WaitJob(ctx, rebID, api.WaitOptions{Poll: 200 * time.Millisecond}); err != nil {
		t.Fatalf("rebalance %s: %+v %v", rebID, st, err)
	}
	got, missing := listAllPages(t, ctx, c, bck, 1000)
	var want []string
	for _, name := range namesNotOn(owners, id) {
		if strings.HasPrefix(name, "o-") || strings.HasPrefix(name, "p-") {
			want = append(want, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("listing after the removal is incomplete: %v", missing)
	}
	for _, name := range want {
		if !slices.Contains(got, name) {
			t.Errorf("%s is missing after the removal of %s", name, id)
		}
	}
	for name, owner := range owners {
		if owner != id {
			continue
		}
		if slices.Contains(got, name) {
			t.Errorf("%s, held only by the removed %s, is listed", name, id)
		}
		if _, err := c.GetObject(ctx, bck, name, &bytes.Buffer{}, api.GetOptions{}); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("GET %s, held only by the removed %s: %v, want not found (lost)", name, id, err)
		}
	}
}

// TestLostBucketMetadata: a target whose persisted bucket metadata is lost
// (bmd.msgp deleted) while it is down, and whose bucket is destroyed and
// created again meanwhile, tells the old bucket on its disks from the new
// one by the bucket ID the disks record: the old objects are destroyed, not
// served as the new bucket's.
func TestLostBucketMetadata(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "lost-bmd")
	owners := putNamed(t, ctx, c, bck, "old", ":old", 40)
	victim := cl.Targets()[1]
	if len(namesNotOn(owners, victim.ID)) == len(owners) {
		t.Fatalf("no object on %s: the test would not test", victim.ID)
	}
	cl.StopNode(victim, syscall.SIGKILL)
	waitDown(t, ctx, c, victim.ID, true)
	if err := c.DestroyBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	createBucket(t, ctx, c, bck.Name)
	newNames := namesNotOn(putNamed(t, ctx, c, bck, "new", ":new", 20), victim.ID)
	if err := os.Remove(filepath.Join(victim.DataDir, "bmd.msgp")); err != nil {
		t.Fatal(err)
	}

	cl.StartTarget(1)
	waitDown(t, ctx, c, victim.ID, false)
	got, missing := listAllPages(t, ctx, c, bck, 1000)
	if !slices.Equal(got, newNames) || len(missing) != 0 {
		t.Errorf("%s after the return: %v (incomplete %v), want only the new objects %v", bck, got, missing, newNames)
	}
	for name, owner := range owners {
		if owner != victim.ID {
			continue
		}
		if _, err := c.GetObject(ctx, bck, name, &bytes.Buffer{}, api.GetOptions{}); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("GET %s of the destroyed bucket from the returned target: %v, want not found", name, err)
		}
	}
	if n := objectFiles(t, victim.Mountpaths); n != 0 {
		t.Errorf("%d object files of the old bucket left on %s", n, victim.ID)
	}
}
