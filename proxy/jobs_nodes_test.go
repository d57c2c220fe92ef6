package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
	"miniais/proxy"
	"miniais/target"
	"miniais/tracing"
)

// startTraced starts the in-process cluster of opts with every node's
// spans going to the recorder it returns, through the one provider it
// returns.
func startTraced(t *testing.T, opts nodetest.Options) (*nodetest.Cluster, *tracing.Provider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleProxy, NodeID: "all", SpanProcessor: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	opts.Proxy = func(pc *proxy.Config) { pc.Tracing = tp }
	opts.Target = func(_ int, tc *target.Config) { tc.Tracing = tp }
	return nodetest.Start(t, opts), tp, rec
}

// TestJobsOnRealTargets runs every job kind on three in-process targets
// (so that -race watches the engine): copies with and without a prefix
// and as a dry run, deletes by template and by list, a rename, a manual
// rebalance; and checks the spans of a copy: one job span on the proxy,
// one share span per target under it, batch spans with counters, no span
// per object.
func TestJobsOnRealTargets(t *testing.T) {
	nc, tp, rec := startTraced(t, nodetest.Options{Targets: 3})
	ctx := context.Background()
	c := api.NewClient(nc.URL())
	src := cluster.NewBucket("src")
	if err := c.CreateBucket(ctx, src); err != nil {
		t.Fatal(err)
	}
	var names []string
	data := func(name string) []byte { return bytes.Repeat([]byte(name), 1+len(name)%7) }
	for i := range 600 {
		name := fmt.Sprintf("d%d/obj-%04d", i%3, i)
		names = append(names, name)
		if _, err := c.PutObject(ctx, src, name, bytes.NewReader(data(name)), api.PutOptions{Size: int64(len(data(name)))}); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(names)
	wait := func(id string) *wire.JobStatus {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		st, err := c.WaitJob(wctx, id, api.WaitOptions{Poll: 20 * time.Millisecond, MaxPoll: 50 * time.Millisecond})
		if err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
		return st
	}
	list := func(bck cluster.Bucket) []string {
		t.Helper()
		entries, err := c.ListObjects(ctx, bck, api.ListOptions{})
		if err != nil {
			t.Fatalf("list %s: %v", bck, err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name)
			var buf bytes.Buffer
			if _, err := c.GetObject(ctx, bck, e.Name, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), data(e.Name)) {
				t.Errorf("%s/%s: %q, %v", bck, e.Name, buf.String(), err)
			}
		}
		return out
	}
	with := func(prefix string, from []string) []string {
		var out []string
		for _, n := range from {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out
	}

	// Copy with a prefix, then all of it.
	id, err := c.CopyBucket(ctx, src, cluster.NewBucket("dst1"), api.CopyBucketOptions{Prefix: "d1/"})
	if err != nil {
		t.Fatal(err)
	}
	wait(id)
	if got := list(cluster.NewBucket("dst1")); !slices.Equal(got, with("d1/", names)) {
		t.Errorf("copy with prefix d1/: %d objects, want %d", len(got), len(with("d1/", names)))
	}
	copyID, err := c.CopyBucket(ctx, src, cluster.NewBucket("dst2"), api.CopyBucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wait(copyID)
	snaps, err := c.QueryJobs(ctx, api.JobQuery{ID: copyID})
	if err != nil {
		t.Fatal(err)
	}
	if tot := api.JobTotals(snaps, copyID); tot.LocObjs != 600 || tot.OutObjs != tot.InObjs || tot.OutObjs == 0 || len(snaps) != 3 {
		t.Errorf("copy totals %+v on %d targets", tot, len(snaps))
	}
	if got := list(cluster.NewBucket("dst2")); !slices.Equal(got, names) {
		t.Errorf("copy: %d objects, want %d", len(got), len(names))
	}
	// A dry run counts and writes nothing.
	id, err = c.CopyBucket(ctx, src, cluster.NewBucket("dry"), api.CopyBucketOptions{DryRun: true, Prefix: "d2/"})
	if err != nil {
		t.Fatal(err)
	}
	wait(id)
	snaps, _ = c.QueryJobs(ctx, api.JobQuery{ID: id})
	if tot := api.JobTotals(snaps, id); tot.LocObjs != int64(len(with("d2/", names))) || tot.OutObjs != 0 {
		t.Errorf("dry run totals %+v", tot)
	}
	if _, err := c.HeadBucket(ctx, cluster.NewBucket("dry")); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("a dry run created its destination: %v", err)
	}

	// Deletes: a template with a step, then a list.
	dst2 := cluster.NewBucket("dst2")
	id, err = c.DeleteObjects(ctx, dst2, api.ObjectSelection{Template: "d0/obj-{0000..0599..6}"})
	if err != nil {
		t.Fatal(err)
	}
	wait(id)
	var left []string
	for _, n := range names {
		var i int
		fmt.Sscanf(n[len("d0/obj-"):], "%d", &i)
		if !strings.HasPrefix(n, "d0/") || i%6 != 0 {
			left = append(left, n)
		}
	}
	id, err = c.DeleteObjects(ctx, dst2, api.ObjectSelection{Names: []string{left[0], left[1], "nosuch"}})
	if err != nil {
		t.Fatal(err)
	}
	wait(id)
	left = left[2:]
	if got := list(dst2); !slices.Equal(got, left) {
		t.Errorf("after the deletes: %d objects, want %d", len(got), len(left))
	}

	// Rename.
	id, err = c.MoveBucket(ctx, dst2, cluster.NewBucket("dst3"))
	if err != nil {
		t.Fatal(err)
	}
	wait(id)
	if _, err := c.HeadBucket(ctx, dst2); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("the renamed bucket survived: %v", err)
	}
	if got := list(cluster.NewBucket("dst3")); !slices.Equal(got, left) {
		t.Errorf("after the rename: %d objects, want %d", len(got), len(left))
	}

	// A rebalance started by hand.
	rid, err := c.StartJob(ctx, wire.KindRebalance)
	if err != nil {
		t.Fatal(err)
	}
	if st := wait(rid); st.Kind != wire.KindRebalance || st.UUID != rid {
		t.Errorf("rebalance status %+v", st)
	}

	// The spans of the full copy: one trace, no span per object.
	tp.ForceFlush(ctx)
	var jobSpan sdktrace.ReadOnlySpan
	var inTrace []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "job copy-bck" && attr(s, "ais.job_id") == copyID {
			jobSpan = s
		}
	}
	if jobSpan == nil {
		t.Fatal("no job span of the copy")
	}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() == jobSpan.SpanContext().TraceID() {
			inTrace = append(inTrace, s)
		}
	}
	byName := map[string]int{}
	objects := 0
	for _, s := range inTrace {
		byName[s.Name()]++
		if s.Name() == "job.batch" {
			var n int
			fmt.Sscan(attr(s, "ais.objects"), &n)
			objects += n
		}
	}
	if byName["job.share copy-bck"] != 3 || byName["job.batch"] < 3 || objects != 600 || byName["job copy-bck"] != 1 {
		t.Errorf("spans of the copy: %v, %d objects in batches", byName, objects)
	}
	for _, name := range []string{"transport.send job-object", "transport.recv job-object", "fs.Put", "fs.Get", "fs.List"} {
		if byName[name] > 0 {
			t.Errorf("%d %q spans in the job's trace", byName[name], name)
		}
	}
	if attr(jobSpan, "ais.job_state") != "finished" || jobSpan.Parent().SpanID() == [8]byte{} {
		t.Errorf("job span: state %q, parent %v", attr(jobSpan, "ais.job_state"), jobSpan.Parent())
	}
}

// attr returns the value of attribute key of s as a string.
func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if kv.Key == attribute.Key(key) {
			return kv.Value.Emit()
		}
	}
	return ""
}
