package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestMirror runs n-way mirroring (AIStore's mirror.copies) on real
// processes, 1 proxy and 2 targets of 3 mountpaths each:
//
//   - "ais bucket props set B mirror.copies=2" starts a make-n-copies job;
//     once it has finished every object is listed with 2 copies and its
//     file is on exactly 2 mountpath directories of its target, and HEAD
//     names them; objects PUT afterwards have 2 copies at once;
//   - a mountpath directory removed under a running target: every object
//     still reads back whole, the target disables the mountpath, and the
//     resilver that follows brings every object back to 2 copies on the
//     mountpaths left;
//   - mirror.copies=1 (through the api): the job removes the extra files;
//   - copies 0, 33, more than a target's available mountpaths, and
//     enabled with one copy are refused with 400, and change nothing.
func TestMirror(t *testing.T) {
	start := time.Now()
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, Mountpaths: 3, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "mirror")
	names := make([]string, 150)
	for i := range names {
		names[i] = fmt.Sprintf("d%d/obj-%03d", i%4, i)
	}
	putAll(t, ctx, c, bck, names, 4)

	// (a) Two copies, through the CLI.
	out := ok(t, cl, "bucket", "props", "set", "ais://mirror", "mirror.copies=2")
	m := regexp.MustCompile(`Started make-n-copies job (\S+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("bucket props set mirror.copies=2 names no job:\n%s", out)
	}
	waitMirror(t, ctx, c, m[1], len(names))
	checkMirror(t, ctx, c, cl, bck, names, 2, nil)
	a, err := c.HeadObject(ctx, bck, names[7])
	if err != nil || a.Copies != 2 || len(a.Paths) != 2 || !strings.Contains(a.Location, a.Paths[0]) {
		t.Fatalf("HEAD of a mirrored object: %+v, %v", a, err)
	}
	more := make([]string, 30)
	for i := range more {
		more[i] = fmt.Sprintf("after/obj-%02d", i)
	}
	putAll(t, ctx, c, bck, more, 4)
	names = append(names, more...)
	checkMirror(t, ctx, c, cl, bck, names, 2, nil) // no job ran since: the PUTs made both copies

	// (b) A mountpath directory removed under a running target.
	tgt := cl.Targets()[0]
	gone := tgt.Mountpaths[0]
	if countObjectFiles(t, gone) == 0 {
		t.Fatalf("no object on %s to lose", gone)
	}
	resilversBefore := finishedResilvers(t, ctx, c, tgt.ID)
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	readBack(t, ctx, c, bck, names) // before and while the target notices
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ml wire.MountpathList
		getJSON(t, ctx, cl.ProxyURL()+"/v1/reverse/daemon?what=mountpaths", map[string]string{wire.HdrNodeID: tgt.ID}, &ml)
		if slices.Contains(ml.Disabled, gone) && len(ml.Available) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("removed mountpath %s not disabled: %+v", gone, ml)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for deadline = time.Now().Add(time.Minute); finishedResilvers(t, ctx, c, tgt.ID) <= resilversBefore; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no resilver finished on %s after its mountpath failed", tgt.ID)
		}
	}
	readBack(t, ctx, c, bck, names)
	checkMirror(t, ctx, c, cl, bck, names, 2, []string{gone})
	if _, err := os.Stat(gone); err == nil {
		t.Fatalf("the removed mountpath directory was made again")
	}

	// (d) Refusals change nothing (the target left with 2 available
	// mountpaths makes 3 copies too many).
	before, err := c.HeadBucket(ctx, bck)
	if err != nil {
		t.Fatal(err)
	}
	jobsBefore := mirrorJobs(t, ctx, c)
	for _, tc := range []struct {
		name  string
		props any
		want  string
	}{
		{"copies 0", map[string]any{"mirror": map[string]any{"copies": 0}}, "must be 1 to 32"},
		{"copies 33", map[string]any{"mirror": map[string]any{"copies": 33}}, "must be 1 to 32"},
		{"more than the mountpaths", map[string]any{"mirror": map[string]any{"copies": 3}}, "target " + tgt.ID + " has 2 available mountpaths"},
		{"enabled with one copy", map[string]any{"mirror": map[string]any{"copies": 1, "enabled": true}}, "contradicts"},
		{"negative burst", map[string]any{"mirror": map[string]any{"burst_buffer": -1}}, "burst_buffer"},
	} {
		id, err := c.UpdateBucketProps(ctx, bck, tc.props)
		var he *wire.HTTPError
		if !errors.Is(err, cluster.ErrBadRequest) || !errors.As(err, &he) || he.Status != http.StatusBadRequest || !strings.Contains(err.Error(), tc.want) || id != "" {
			t.Errorf("%s: %q, %v; want 400 saying %q", tc.name, id, err, tc.want)
		}
	}
	if _, err := c.MakeNCopies(ctx, bck, 3); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("make-n-copies 3: %v, want 400", err)
	}
	r := runAIS(t, cl, nil, nil, "bucket", "props", "set", "ais://mirror", "mirror.copies=33")
	if r.code == 0 || !strings.Contains(r.stderr, "must be 1 to 32") {
		t.Errorf("ais bucket props set mirror.copies=33: %+v", r)
	}
	if after, err := c.HeadBucket(ctx, bck); err != nil || *after != *before {
		t.Errorf("refused changes changed the props:\nbefore %+v\nafter  %+v (%v)", before, after, err)
	}
	if n := mirrorJobs(t, ctx, c); n != jobsBefore {
		t.Errorf("refused changes started jobs: %d make-n-copies jobs, were %d", n, jobsBefore)
	}
	checkMirror(t, ctx, c, cl, bck, names, 2, []string{gone})

	// (c) Back to one copy: the extra files go.
	id, err := c.UpdateBucketProps(ctx, bck, map[string]any{"mirror": map[string]any{"copies": 1}})
	if err != nil || id == "" {
		t.Fatalf("mirror.copies=1: %q, %v", id, err)
	}
	waitMirror(t, ctx, c, id, 0)
	if p, err := c.HeadBucket(ctx, bck); err != nil || p.Mirror.Enabled || p.Mirror.Copies != 1 {
		t.Fatalf("props after mirror.copies=1: %+v, %v", p, err)
	}
	checkMirror(t, ctx, c, cl, bck, names, 1, []string{gone})
	readBack(t, ctx, c, bck, names)
	// A change that leaves the copies starts no job.
	if id, err := c.UpdateBucketProps(ctx, bck, map[string]any{"mirror": map[string]any{"enabled": false}}); err != nil || id != "" {
		t.Errorf("mirror.enabled=false on one copy: %q, %v; want no job", id, err)
	}
	t.Logf("TestMirror: %d objects, %v", len(names), time.Since(start).Round(time.Millisecond))
}

// waitMirror waits for make-n-copies job id to finish and checks that it
// copied objs objects (every target's share together).
func waitMirror(t *testing.T, ctx context.Context, c *api.Client, id string, objs int) {
	t.Helper()
	st := waitJob(t, ctx, c, id, time.Minute)
	if st.Aborted || st.Err != "" || st.Kind != wire.KindMakeNCopies {
		t.Fatalf("job %s: %+v", id, st)
	}
	snaps, err := c.QueryJobs(ctx, api.JobQuery{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if got := api.JobTotals(snaps, id).LocObjs; got != int64(objs) {
		t.Fatalf("job %s copied %d objects, want %d", id, got, objs)
	}
}

// checkMirror checks that every object of names is listed with copies
// copies and that exactly that many files of it are on its owner's
// mountpath directories (none on another target's, none on gone).
func checkMirror(t *testing.T, ctx context.Context, c *api.Client, cl *harness.Cluster, bck cluster.Bucket, names []string, copies int, gone []string) {
	t.Helper()
	entries, err := c.ListObjects(ctx, bck, api.ListOptions{Props: "name,size,copies,location"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(names) {
		t.Fatalf("%d objects listed, want %d", len(entries), len(names))
	}
	for _, e := range entries {
		if int(e.Copies) != copies {
			t.Fatalf("%s listed with %d copies, want %d", e.Name, e.Copies, copies)
		}
	}
	smap, err := cl.Smap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		owner, err := smap.Owner(bck.Uname(name))
		if err != nil {
			t.Fatal(err)
		}
		var on []string
		for _, tgt := range cl.Targets() {
			for _, mp := range tgt.Mountpaths {
				fi, err := os.Stat(filepath.Join(mp, "@ais", bck.Name, "%ob", name))
				if err != nil || !fi.Mode().IsRegular() {
					continue
				}
				if tgt.ID != owner.ID || slices.Contains(gone, mp) {
					t.Fatalf("%s has a file on %s of %s (its owner is %s)", name, mp, tgt.ID, owner.ID)
				}
				if fi.Size() != int64(sizeOf(name)) {
					t.Fatalf("%s on %s: %d bytes, want %d", name, mp, fi.Size(), sizeOf(name))
				}
				on = append(on, mp)
			}
		}
		if len(on) != copies {
			t.Fatalf("%s is on %d mountpaths %q, want %d", name, len(on), on, copies)
		}
	}
}

// readBack GETs every object of names and compares its content.
func readBack(t *testing.T, ctx context.Context, c *api.Client, bck cluster.Bucket, names []string) {
	t.Helper()
	for _, name := range names {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil {
			t.Fatalf("GET %s: %v", name, err)
		}
		if !bytes.Equal(buf.Bytes(), content(name, sizeOf(name))) {
			t.Fatalf("GET %s: wrong content (%d bytes)", name, buf.Len())
		}
	}
}

// finishedResilvers counts the resilver jobs that target id has finished.
func finishedResilvers(t *testing.T, ctx context.Context, c *api.Client, id string) int {
	t.Helper()
	snaps, err := c.QueryJobs(ctx, api.JobQuery{Kind: wire.KindResilver})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range snaps[id] {
		if !s.Running() && !s.Aborted && s.Err == "" {
			n++
		}
	}
	return n
}

// mirrorJobs counts the make-n-copies jobs the cluster knows.
func mirrorJobs(t *testing.T, ctx context.Context, c *api.Client) int {
	t.Helper()
	snaps, err := c.QueryJobs(ctx, api.JobQuery{Kind: wire.KindMakeNCopies})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, list := range snaps {
		for _, s := range list {
			ids[s.ID] = true
		}
	}
	return len(ids)
}

// surfaceMakeNCopies is TestSurface's example of make-n-copies, as "ais
// job start mirror --copies 2" sends it: the job runs, the bucket has 2
// copies, then (the same request with 1) one again.
func (e *surfaceEnv) surfaceMakeNCopies() (int, string) {
	for _, n := range []int{2, 1} {
		s, _, id := e.send("POST", e.bucket(""), nil, fmt.Sprintf(`{"action":"make-n-copies","value":%d}`, n))
		if s != http.StatusOK {
			return s, id
		}
		if s, b := e.surfaceWait(id); s != http.StatusOK {
			return s, b
		}
		if p, err := e.c.HeadBucket(e.ctx, e.bck); err != nil || p.Copies() != n {
			e.t.Errorf("after make-n-copies %d: %+v, %v", n, p, err)
		}
	}
	return http.StatusOK, ""
}
