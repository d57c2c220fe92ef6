package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
	"miniais/transport"
)

// jobTarget is a transport server that plays a target's side of jobs
// (start, status, stop) and of bucket transactions, and records what it
// gets: the proxy's job state machine is tested against it (a real target
// cannot be made to hold a share forever, or to forget one on demand). The
// whole flow on real targets is in jobs_nodes_test.go.
type jobTarget struct {
	node   *cluster.Node
	client *transport.Client

	mu       sync.Mutex
	got      []string // "job-start prepare KIND", "job-start run ID", "job-stop ID", "txn-commit"
	shares   map[string]*wire.JobSnap
	forget   bool  // status answers [] (as after a restart)
	startErr error // the prepare's answer
	bmd      *cluster.BMD
}

func startJobTarget(t *testing.T, p *testProxy, id string) *jobTarget {
	t.Helper()
	jt := &jobTarget{node: cluster.NewNode(id, cluster.RoleTarget, freeAddr(t), freeAddr(t)), shares: map[string]*wire.JobSnap{}}
	cfg := transport.Config{NodeID: id}
	srv := transport.NewServer(cfg)
	record := func(s string) { jt.mu.Lock(); jt.got = append(jt.got, s); jt.mu.Unlock() }
	ok := func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		io.Copy(io.Discard, m.Body)
		return nil, nil
	}
	srv.Handle(transport.KindMapPush, ok)
	srv.Handle(transport.KindTxnPrepare, ok)
	srv.Handle(transport.KindTxnAbort, ok)
	srv.Handle(transport.KindTxnCommit, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		bmd := &cluster.BMD{}
		if _, err := bmd.UnmarshalMsg(b); err != nil {
			return nil, err
		}
		jt.mu.Lock()
		jt.bmd = bmd
		jt.mu.Unlock()
		record("txn-commit")
		return nil, nil
	})
	srv.Handle(transport.KindJobStart, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		if string(m.Header.Opaque) == jobRun {
			record("job-start run " + string(b))
			return nil, nil
		}
		spec, err := job.DecodeSpec(b)
		if err != nil {
			return nil, err
		}
		jt.mu.Lock()
		defer jt.mu.Unlock()
		if jt.startErr != nil {
			return nil, jt.startErr
		}
		jt.got = append(jt.got, "job-start "+string(m.Header.Opaque)+" "+spec.Kind)
		d := spec.Desc()
		s := &wire.JobSnap{ID: spec.ID, Kind: spec.Kind, StartTime: time.Now().UTC(),
			SrcBck: wire.BucketEntry{Name: d.Src.Name, Provider: "ais"}, DstBck: wire.BucketEntry{Name: d.Dst.Name, Provider: "ais"}}
		jt.shares[spec.ID] = s
		return nil, nil
	})
	srv.Handle(transport.KindJobStatus, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		var q wire.JobQuery
		json.Unmarshal(b, &q)
		jt.mu.Lock()
		defer jt.mu.Unlock()
		out := []wire.JobSnap{}
		for id, s := range jt.shares {
			if !jt.forget && (q.ID == "" || q.ID == id) && (q.Kind == "" || q.Kind == s.Kind) {
				out = append(out, *s)
			}
		}
		return json.Marshal(out)
	})
	srv.Handle(transport.KindJobStop, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		var q wire.JobQuery
		json.Unmarshal(b, &q)
		record("job-stop " + q.ID)
		jt.mu.Lock()
		defer jt.mu.Unlock()
		if jt.shares[q.ID] == nil {
			return []byte("0"), nil
		}
		return []byte("1"), nil
	})
	ln, err := net.Listen("tcp", jt.node.TransportAddr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, ln)
	jt.client = transport.NewClient(cfg)
	t.Cleanup(func() { cancel(); srv.Close(); jt.client.Close() })
	body, _ := jt.node.MarshalMsg(nil)
	if _, _, err := jt.client.Call(context.Background(), p.cfg.TransportAddr, &transport.Header{Kind: transport.KindJoin}, body); err != nil {
		t.Fatalf("join: %v", err)
	}
	return jt
}

// received returns what jt got.
func (jt *jobTarget) received() []string {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	return append([]string(nil), jt.got...)
}

func (jt *jobTarget) has(s string) bool {
	for _, g := range jt.received() {
		if g == s {
			return true
		}
	}
	return false
}

// finish ends jt's share of id; report sends the end to the proxy (else the
// proxy learns it by polling).
func (jt *jobTarget) finish(t *testing.T, p *testProxy, id string, report bool, errText string) {
	t.Helper()
	jt.mu.Lock()
	s := jt.shares[id]
	s.EndTime, s.Err = time.Now().UTC(), errText
	s.Stats.LocObjs = 10
	snap := *s
	jt.mu.Unlock()
	if report {
		b, _ := json.Marshal(snap)
		if _, _, err := jt.client.Call(context.Background(), p.cfg.TransportAddr, &transport.Header{Kind: transport.KindJobDone}, b); err != nil {
			t.Fatalf("job-done: %v", err)
		}
	}
}

// jobCluster is a running proxy with two jobTargets and a bucket "src".
func jobCluster(t *testing.T) (*testProxy, []*jobTarget) {
	t.Helper()
	p := startProxy(t, t.TempDir(), nil, time.Minute)
	jts := []*jobTarget{startJobTarget(t, p, "t1"), startJobTarget(t, p, "t2")}
	if resp, b := do(t, "POST", p.url+"/v1/buckets/src", `{"action":"create-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	return p, jts
}

func status(t *testing.T, p *testProxy, id string) (int, wire.JobStatus) {
	t.Helper()
	resp, b := do(t, "GET", p.url+"/v1/cluster?what=status", `{"id":"`+id+`"}`)
	var st wire.JobStatus
	json.Unmarshal([]byte(b), &st)
	return resp.StatusCode, st
}

func startMove(t *testing.T, p *testProxy) string {
	t.Helper()
	resp, id := do(t, "POST", p.url+"/v1/buckets/src?bck_to=ais%2F%40%23%2Fdst%2F", `{"action":"move-bck","value":null}`)
	if resp.StatusCode != 200 || !job.ValidID(id) || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("move-bck: %d %q (%s)", resp.StatusCode, id, resp.Header.Get("Content-Type"))
	}
	return id
}

// TestJobMoveLifecycle renames a bucket on fake targets: the destination
// is created, every target prepares then runs its share; while shares run,
// the source takes no writes and no conflicting job (409); the job ends
// only when every share has (one reports, one is polled), and then the
// source is destroyed.
func TestJobMoveLifecycle(t *testing.T) {
	p, jts := jobCluster(t)
	id := startMove(t, p)
	for _, jt := range jts {
		// The source's commit, the destination's, the two rounds.
		if got := jt.received(); len(got) != 4 || got[1] != "txn-commit" || got[2] != "job-start prepare move-bck" || got[3] != "job-start run "+id {
			t.Errorf("%s got %q, want the destination's commit, then prepare, then run", jt.node.ID, got)
		}
	}
	if p.BMD().Get(cluster.NewBucket("dst")) == nil {
		t.Fatal("the destination was not created")
	}
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/v1/objects/src/o", "data"},
		{"DELETE", "/v1/objects/src/o", ""},
		{"DELETE", "/v1/buckets/src", `{"action":"destroy-bck"}`},
		{"POST", "/v1/buckets/src?bck_to=ais%2F%40%23%2Fother%2F", `{"action":"copy-bck","value":{}}`},
		{"POST", "/v1/buckets/dst?bck_to=ais%2F%40%23%2Fother%2F", `{"action":"move-bck"}`},
		{"DELETE", "/v1/buckets/dst", `{"action":"delete-listrange","value":{"template":"x","objnames":null}}`},
	} {
		resp, b := do(t, tc.method, p.url+tc.path, tc.body)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(b, `"tcode":"ErrBusy"`) {
			t.Errorf("%s %s while the rename runs: %d %s, want 409 ErrBusy", tc.method, tc.path, resp.StatusCode, b)
		}
	}
	if code, st := status(t, p, id); code != 200 || st.EndTime != 0 || st.Aborted || st.Kind != wire.KindMoveBck {
		t.Fatalf("status while running: %d %+v", code, st)
	}
	jts[0].finish(t, p, id, true, "")
	// One share ended: the job still runs, and its shares show as running.
	resp, b := do(t, "GET", p.url+"/v1/cluster?what=qryxstats", `{"id":"`+id+`","show_active":true}`)
	var snaps wire.JobSnaps
	if json.Unmarshal([]byte(b), &snaps); resp.StatusCode != 200 || len(snaps["t1"]) != 1 || len(snaps["t2"]) != 1 || !snaps["t1"][0].Running() {
		t.Errorf("qryxstats with one share ended: %d %s", resp.StatusCode, b)
	}
	if p.BMD().Get(cluster.NewBucket("src")) == nil {
		t.Fatal("the source is gone before every share ended")
	}
	jts[1].finish(t, p, id, false, "") // the proxy polls for it
	waitFor(t, func() bool { _, st := status(t, p, id); return st.EndTime != 0 })
	if _, st := status(t, p, id); st.Aborted || st.Err != "" {
		t.Errorf("status at the end: %+v", st)
	}
	if p.BMD().Get(cluster.NewBucket("src")) != nil || p.BMD().Get(cluster.NewBucket("dst")) == nil {
		t.Errorf("after the rename: src %v, dst %v", p.BMD().Get(cluster.NewBucket("src")), p.BMD().Get(cluster.NewBucket("dst")))
	}
	if resp, b := do(t, "PUT", p.url+"/v1/objects/dst/o", "data"); resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("PUT to the renamed bucket: %d %s", resp.StatusCode, b)
	}
}

// TestJobMoveKeepsSourceOnErrors: a share that finished with failed
// objects aborts the rename, and the source stays.
func TestJobMoveKeepsSourceOnErrors(t *testing.T) {
	p, jts := jobCluster(t)
	id := startMove(t, p)
	jts[0].finish(t, p, id, true, "3 object(s) failed")
	jts[1].finish(t, p, id, true, "")
	waitFor(t, func() bool { _, st := status(t, p, id); return st.EndTime != 0 })
	if _, st := status(t, p, id); !st.Aborted || !strings.Contains(st.Err, "3 object(s) failed") || !strings.Contains(st.Err, "kept") {
		t.Errorf("status: %+v, want aborted, naming the failures and the kept source", st)
	}
	if p.BMD().Get(cluster.NewBucket("src")) == nil {
		t.Error("the source was destroyed although objects failed to copy")
	}
}

// TestJobLostShare: a target that answers without the job (it restarted)
// aborts the job with that reason, and the other targets are told to stop.
func TestJobLostShare(t *testing.T) {
	p, jts := jobCluster(t)
	resp, id := do(t, "POST", p.url+"/v1/buckets/src?bck_to=ais%2F%40%23%2Fcopy%2F", `{"action":"copy-bck","value":{"prefix":"p/","dry_run":false}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("copy-bck: %d %s", resp.StatusCode, id)
	}
	jts[1].mu.Lock()
	jts[1].forget = true
	jts[1].mu.Unlock()
	waitFor(t, func() bool { _, st := status(t, p, id); return st.EndTime != 0 })
	_, st := status(t, p, id)
	if !st.Aborted || !strings.Contains(st.Err, "t2 restarted") {
		t.Errorf("status %+v, want aborted because t2 lost its share", st)
	}
	waitFor(t, func() bool { return jts[0].has("job-stop " + id) })
	// The qryxstats of the other target shows the job aborted too.
	_, b := do(t, "GET", p.url+"/v1/cluster?what=qryxstats", `{"id":"`+id+`"}`)
	var snaps wire.JobSnaps
	if json.Unmarshal([]byte(b), &snaps); len(snaps["t1"]) != 1 || !snaps["t1"][0].Aborted || snaps["t1"][0].EndTime.IsZero() {
		t.Errorf("qryxstats after the abort: %s", b)
	}
}

// TestJobStopAndStartFailure: "stop" aborts the job at once and the shares
// are told; a start that a target refuses fails the request with the
// target's error kind and stops the others' shares.
func TestJobStopAndStartFailure(t *testing.T) {
	p, jts := jobCluster(t)
	resp, id := do(t, "DELETE", p.url+"/v1/buckets/src", `{"action":"delete-listrange","value":{"template":"","objnames":["a","b"]}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("delete-listrange: %d %s", resp.StatusCode, id)
	}
	if resp, b := do(t, "PUT", p.url+"/v1/cluster", `{"action":"stop","value":{"ID":"`+id+`","Kind":"delete-listrange"}}`); resp.StatusCode != 200 || b != "" {
		t.Fatalf("stop: %d %q", resp.StatusCode, b)
	}
	if _, st := status(t, p, id); !st.Aborted || !strings.Contains(st.Err, "stopped by the user") || st.EndTime == 0 {
		t.Errorf("status after the stop: %+v", st)
	}
	for _, jt := range jts {
		waitFor(t, func() bool { return jt.has("job-stop " + id) })
	}
	if resp, b := do(t, "PUT", p.url+"/v1/cluster", `{"action":"stop","value":{"ID":"J5y5lVxO0"}}`); resp.StatusCode != 404 {
		t.Errorf("stop of an unknown job: %d %s", resp.StatusCode, b)
	}

	jts[1].mu.Lock()
	jts[1].startErr = cluster.Errorf(cluster.ErrBusy, "t2 is busy")
	jts[1].mu.Unlock()
	before := len(jts[0].received())
	resp, b := do(t, "POST", p.url+"/v1/buckets/src?bck_to=ais%2F%40%23%2Fcopy2%2F", `{"action":"copy-bck"}`)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(b, "t2 is busy") {
		t.Fatalf("copy-bck refused by a target: %d %s, want 409", resp.StatusCode, b)
	}
	after := jts[0].received()[before:]
	if len(after) != 3 || after[0] != "txn-commit" || after[1] != "job-start prepare copy-bck" || !strings.HasPrefix(after[2], "job-stop ") {
		t.Errorf("t1 got %q: want the destination created, its share prepared, then stopped (never run)", after)
	}
}

// TestJobQueries: the shapes of status_all and of kind-only queries, and
// the lists of the downloader and dsort.
func TestJobQueries(t *testing.T) {
	p, jts := jobCluster(t)
	resp, id := do(t, "DELETE", p.url+"/v1/buckets/src", `{"action":"delete-listrange","value":{"template":"x{1..3}","objnames":null}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("delete-listrange: %d %s", resp.StatusCode, id)
	}
	tests := []struct {
		what, body string
		status     int
		want       string // in the body
	}{
		{"status", `{"kind":"delete-listrange"}`, 200, `"uuid":"` + id + `"`},
		{"status", `{"kind":"copy-bck"}`, 404, ""},
		{"status_all", `{"kind":"delete-listrange","show_active":true}`, 200, `"uuid":"` + id + `","err":"","end_time":0`},
		{"status_all", `{"kind":"copy-bck"}`, 200, `[]`},
		{"qryxstats", `{"kind":"delete-objects","show_active":true}`, 200, `"kind":"delete-listrange"`},
		{"qryxstats", `{"kind":"ec-encode","show_active":true}`, 200, `{"t1":[],"t2":[]}`},
		{"qryxstats", `{"buckets":[{"name":"src"}]}`, 501, ""},
	}
	for _, tc := range tests {
		t.Run(tc.what+tc.body, func(t *testing.T) {
			resp, b := do(t, "GET", p.url+"/v1/cluster?what="+tc.what, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(b, tc.want) {
				t.Errorf("%d %s, want %d with %s", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
	for _, jt := range jts {
		jt.finish(t, p, id, true, "")
	}
	waitFor(t, func() bool { _, st := status(t, p, id); return st.EndTime != 0 })
	if resp, b := do(t, "GET", p.url+"/v1/cluster?what=status", `{"kind":"delete-listrange"}`); resp.StatusCode != 404 {
		t.Errorf("kind-only status with nothing running: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/v1/download", "/v1/sort?only_active=true&regex="} {
		if resp, b := do(t, "GET", p.url+path, `{"id":"","regex":"","only_active_tasks":true}`); resp.StatusCode != 200 || b != "[]" {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
}

// TestOverlayForgottenRename: the shares of a rename ended, but the proxy
// restarted before it destroyed the source: the rename shows aborted (the
// source is kept); one whose source is gone shows finished.
func TestOverlayForgottenRename(t *testing.T) {
	p := startProxy(t, t.TempDir(), nil, time.Minute)
	bmd := p.BMD().Clone()
	bmd.Buckets["src"] = cluster.DefaultBucketProps(cluster.AISBucketID(1), time.Now())
	p.bmd.Store(bmd)
	snap := func(src string) wire.JobSnap {
		return wire.JobSnap{ID: "MoveJob12", Kind: wire.KindMoveBck, EndTime: time.Now().UTC(), SrcBck: wire.BucketEntry{Name: src, Provider: "ais"}}
	}
	snaps := wire.JobSnaps{"t1": {snap("src")}, "t2": {snap("gone")}}
	p.overlay(snaps)
	if s := snaps["t1"][0]; !s.Aborted || !strings.Contains(s.AbortErr, "source src is kept") {
		t.Errorf("a forgotten rename whose source exists: %+v", s)
	}
	if s := snaps["t2"][0]; s.Aborted {
		t.Errorf("a rename whose source is gone: %+v", s)
	}
}
