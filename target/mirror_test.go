package target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/internal/nodetest"
)

// TestMirrorHeadAndFault: a bucket with two copies on a target of three
// mountpaths. HEAD answers Ais-Mirror-Copies and Ais-Mirror-Paths (the
// mountpaths whose directories hold the file), a listing with the copies
// property counts them; a mountpath directory removed under the target is
// disabled by the health loop, which starts a resilver (fs's OnFault) that
// brings every object back to two copies on the two mountpaths left.
func TestMirrorHeadAndFault(t *testing.T) {
	nc := nodetest.Start(t, nodetest.Options{Targets: 1, Mountpaths: 3})
	u := nc.URL()
	tg := nc.Target(0)
	if resp, body := request(t, "POST", u+"/v1/buckets/m", strings.NewReader(`{"action":"create-bck"}`), nil); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	resp, body := request(t, "PATCH", u+"/v1/buckets/m", strings.NewReader(`{"action":"set-bprops","value":{"mirror":{"copies":2}}}`), nil)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("set mirror.copies=2: %d %q, want a job ID", resp.StatusCode, body)
	}
	c := api.NewClient(u)
	ctx := context.Background()
	if st, err := c.WaitJob(ctx, string(body), api.WaitOptions{Poll: 10 * time.Millisecond}); err != nil || st.Kind != wire.KindMakeNCopies {
		t.Fatalf("make-n-copies %s: %+v, %v", body, st, err)
	}
	const n = 40
	for i := range n {
		if resp, body := request(t, "PUT", u+"/v1/objects/m/o"+fmt.Sprint(i), strings.NewReader(fmt.Sprint(i)), nil); resp.StatusCode != 200 {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
	}
	filesOf := func(name string) []string {
		var on []string
		for _, mp := range tg.Config.Mountpaths {
			if _, err := os.Stat(filepath.Join(mp, "@ais", "m", "%ob", name)); err == nil {
				on = append(on, mp)
			}
		}
		return on
	}
	resp, _ = request(t, "HEAD", tg.URL+"/v1/objects/m/o3", nil, nil)
	paths := strings.Split(resp.Header.Get(wire.HdrMirrorPaths), ",")
	slices.Sort(paths)
	if resp.StatusCode != 200 || resp.Header.Get(wire.HdrMirrorCopies) != "2" || !slices.Equal(paths, filesOf("o3")) {
		t.Fatalf("HEAD: %d copies %q paths %q; the files are on %q", resp.StatusCode, resp.Header.Get(wire.HdrMirrorCopies),
			resp.Header.Get(wire.HdrMirrorPaths), filesOf("o3"))
	}
	copies := func() map[int]int {
		t.Helper()
		resp, body := request(t, "GET", u+"/v1/buckets/m", strings.NewReader(`{"action":"list","value":{"props":"name,copies"}}`), nil)
		var res wire.LsoResult
		if resp.StatusCode != 200 || json.Unmarshal(body, &res) != nil || len(res.Entries) != n {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		count := map[int]int{}
		for _, e := range res.Entries {
			count[int(e.Copies)]++
		}
		return count
	}
	if c := copies(); c[2] != n {
		t.Fatalf("listed copies %v, want %d objects with 2", c, n)
	}

	gone := tg.Config.Mountpaths[0]
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, "a resilver after the fault", func() bool {
		snaps, err := c.QueryJobs(ctx, api.JobQuery{Kind: wire.KindResilver})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps[tg.ID()] {
			if strings.Contains(s.CtlMsg, "mountpath fault "+gone) && !s.Running() && !s.Aborted {
				return true
			}
		}
		return false
	})
	if c := copies(); c[2] != n {
		t.Fatalf("after the resilver: copies %v, want %d objects with 2", c, n)
	}
	// The failed mountpath shows as AIStore's disk fault, in node_status and /metrics.
	ns, err := c.NodeStatus(ctx, tg.ID())
	if err != nil || ns.Cluster.Flags&wire.StateDiskFault == 0 || ns.Tracker[wire.TrackerFlags]&int64(wire.StateDiskFault) == 0 {
		t.Fatalf("node_status after the fault: %v, flags %d, tracker %v", err, ns.Cluster.Flags, ns.Tracker)
	}
	for i := range n {
		name := "o" + strconv.Itoa(i)
		if on := filesOf(name); len(on) != 2 || slices.Contains(on, gone) {
			t.Fatalf("%s is on %q after the resilver", name, on)
		}
		if resp, body := request(t, "GET", u+"/v1/objects/m/"+name, nil, nil); resp.StatusCode != 200 || string(body) != strconv.Itoa(i) {
			t.Fatalf("GET %s: %d %q", name, resp.StatusCode, body)
		}
	}
}
