package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
	"miniais/job"
)

// TestMirrorOnRealTargets runs make-n-copies on two in-process targets of
// three mountpaths: set-bprops mirror.copies=2 answers a job ID, the job
// copies every object once, the listing and HEAD show two copies, and the
// job is one trace (the proxy's job span, one share span per target under
// it); make-n-copies runs even when the number does not change, a newer
// change supersedes a running job and wins, a reset goes back to one copy,
// a change that leaves the copies starts nothing, a bucket created with
// mirror properties has them (checked alike), and with a target down a
// change of the copies is refused before anything changes.
func TestMirrorOnRealTargets(t *testing.T) {
	nc, tp, rec := startTraced(t, nodetest.Options{Targets: 2, Mountpaths: 3})
	ctx := context.Background()
	c := api.NewClient(nc.URL())
	bck := cluster.NewBucket("m")
	if err := c.CreateBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	const n = 100
	var bytesTotal int64
	for i := range n {
		name := fmt.Sprintf("o-%03d", i)
		data := bytes.Repeat([]byte{byte(i)}, 100+i)
		bytesTotal += int64(len(data))
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(id string) (*wire.JobStatus, wire.JobStats) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		st, err := c.WaitJob(wctx, id, api.WaitOptions{Poll: 20 * time.Millisecond, MaxPoll: 50 * time.Millisecond})
		if err != nil && !errors.Is(err, api.ErrJobAborted) {
			t.Fatalf("job %s: %v", id, err)
		}
		snaps, err := c.QueryJobs(ctx, api.JobQuery{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return st, api.JobTotals(snaps, id)
	}
	copiesAre := func(want int) {
		t.Helper()
		entries, err := c.ListObjects(ctx, bck, api.ListOptions{Props: "name,copies"})
		if err != nil || len(entries) != n {
			t.Fatalf("list: %d entries, %v", len(entries), err)
		}
		for _, e := range entries {
			if int(e.Copies) != want {
				t.Fatalf("%s has %d copies, want %d", e.Name, e.Copies, want)
			}
		}
	}

	id, err := c.UpdateBucketProps(ctx, bck, map[string]any{"mirror": map[string]any{"copies": 2}})
	if err != nil || !api.ValidJobID(id) {
		t.Fatalf("set mirror.copies=2: %q, %v", id, err)
	}
	if st, tot := wait(id); st.Kind != wire.KindMakeNCopies || st.Aborted || st.Err != "" || tot.LocObjs != n || tot.LocBytes != bytesTotal {
		t.Fatalf("make-n-copies: %+v, totals %+v; want %d objects, %d bytes", st, tot, n, bytesTotal)
	}
	copiesAre(2)
	a, err := c.HeadObject(ctx, bck, "o-007")
	if err != nil || a.Copies != 2 || len(a.Paths) != 2 || a.Paths[0] == a.Paths[1] {
		t.Fatalf("HEAD: %+v, %v", a, err)
	}
	owner, err := nc.Proxy().Smap().Owner(bck.Uname("o-007"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Paths {
		if !slices.Contains(nc.TargetByID(owner.ID).Config.Mountpaths, p) {
			t.Errorf("HEAD names %s, not a mountpath of the owner %s", p, owner.ID)
		}
	}

	// One trace: the job span, a share span per target under it.
	tp.ForceFlush(ctx)
	var jobSpan sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "job "+wire.KindMakeNCopies && attr(s, "ais.job_id") == id {
			jobSpan = s
		}
	}
	if jobSpan == nil {
		t.Fatal("no job span")
	}
	byID := map[[8]byte]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	// under reports whether the job span is an ancestor of s (through the
	// transport's spans of the start message).
	under := func(s sdktrace.ReadOnlySpan) bool {
		for p := byID[s.Parent().SpanID()]; p != nil; p = byID[p.Parent().SpanID()] {
			if p.SpanContext().SpanID() == jobSpan.SpanContext().SpanID() {
				return true
			}
		}
		return false
	}
	shares := map[string]bool{}
	for _, s := range rec.Ended() {
		if strings.HasPrefix(s.Name(), "fs.") && under(s) {
			t.Errorf("a %q span in the job's trace (the work on objects is untraced)", s.Name())
		}
		if s.Name() == "job.share "+wire.KindMakeNCopies && attr(s, "ais.job_id") == id {
			if !under(s) {
				t.Errorf("share span of %s is not under the job span", attr(s, "ais.node_id"))
			}
			shares[attr(s, "ais.node_id")] = true
		}
	}
	if len(shares) != 2 || attr(jobSpan, "ais.job_state") != "finished" || attr(jobSpan, "ais.loc_objs") != fmt.Sprint(n) {
		t.Errorf("share spans on %v; job span state %q, loc_objs %q", shares, attr(jobSpan, "ais.job_state"), attr(jobSpan, "ais.loc_objs"))
	}

	// make-n-copies with the same number: a job that finds nothing to do.
	id, err = c.MakeNCopies(ctx, bck, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st, tot := wait(id); st.Aborted || tot.LocObjs != 0 {
		t.Errorf("make-n-copies 2 on 2 copies: %+v, totals %+v", st, tot)
	}
	// A newer change supersedes a running job; the last one wins.
	first, err := c.MakeNCopies(ctx, bck, 3)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.MakeNCopies(ctx, bck, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := wait(first); st.Aborted && !strings.Contains(st.Err, job.ErrSuperseded.Error()) {
		t.Errorf("the first job: %+v, want finished or superseded", st)
	}
	if st, _ := wait(second); st.Aborted || st.Err != "" {
		t.Fatalf("the second job: %+v", st)
	}
	copiesAre(2)

	// Changes that leave the copies start nothing.
	if id, err := c.UpdateBucketProps(ctx, bck, map[string]any{"checksum": map[string]any{"validate_warm_get": true}}); err != nil || id != "" {
		t.Errorf("a change of the checksum: %q, %v; want no job", id, err)
	}
	if id, err := c.UpdateBucketProps(ctx, bck, map[string]any{"mirror": map[string]any{"enabled": true}}); err != nil || id != "" {
		t.Errorf("mirror.enabled=true on 2 copies: %q, %v; want no job", id, err)
	}
	// A reset goes back to one copy.
	id, err = c.ResetBucketProps(ctx, bck)
	if err != nil || id == "" {
		t.Fatalf("reset: %q, %v", id, err)
	}
	if st, _ := wait(id); st.Aborted || st.Err != "" {
		t.Fatalf("reset's job: %+v", st)
	}
	copiesAre(1)

	// A bucket created with mirror properties (ais bucket create --props).
	if resp, body := send(t, "POST", nc.URL()+"/v1/buckets/m2", `{"action":"create-bck","value":{"mirror":{"copies":4}}}`); resp.StatusCode != 400 ||
		!strings.Contains(body, "3 available mountpaths") {
		t.Errorf("create with 4 copies on 3 mountpaths: %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body := send(t, "POST", nc.URL()+"/v1/buckets/m2", `{"action":"create-bck","value":{"mirror":{"enabled":true,"copies":1}}}`); resp.StatusCode != 400 {
		t.Errorf("create with enabled and 1 copy: %d %s, want 400", resp.StatusCode, body)
	}
	if _, err := c.HeadBucket(ctx, cluster.NewBucket("m2")); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("a refused create made the bucket: %v", err)
	}
	if resp, body := send(t, "POST", nc.URL()+"/v1/buckets/m2", `{"action":"create-bck","value":{"mirror":{"copies":3}}}`); resp.StatusCode != 200 {
		t.Fatalf("create with 3 copies: %d %s", resp.StatusCode, body)
	}
	m2 := cluster.NewBucket("m2")
	if _, err := c.PutObject(ctx, m2, "x", strings.NewReader("x"), api.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	if a, err := c.HeadObject(ctx, m2, "x"); err != nil || a.Copies != 3 {
		t.Errorf("HEAD in a bucket created with 3 copies: %+v, %v", a, err)
	}

	// A target down: the change is refused and nothing changes.
	nc.StopTarget(1)
	nodetest.WaitFor(t, "the stopped target flagged down", func() bool { return nc.Proxy().Smap().Targets[nc.Target(1).ID()].Down() })
	v := nc.Proxy().BMD().Version
	if _, err := c.UpdateBucketProps(ctx, bck, map[string]any{"mirror": map[string]any{"copies": 2}}); !errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("set mirror.copies=2 with a target down: %v, want 503", err)
	}
	if p := nc.Proxy().BMD(); p.Version != v || p.Get(bck).Copies() != 1 {
		t.Errorf("a refused change made bucket metadata v%d (was v%d), %d copies", p.Version, v, p.Get(bck).Copies())
	}
}
