package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/job"
	"miniais/tests/harness"
	"miniais/tracing"
	"miniais/tracing/jaegerquery"
)

// The observability tests: real processes, a real Jaeger and, where it is installed
// (always under CI), a real Prometheus. See tracing's package doc for the rules they check.

// traceIDs returns the IDs of the traces Jaeger holds for the cluster's services.
func traceIDs(t *testing.T, ctx context.Context, j *harness.Jaeger) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, svc := range []string{svcProxy, svcTarget} {
		trs, err := j.Traces(ctx, svc, 1000)
		if err != nil && !strings.Contains(err.Error(), "404") {
			t.Fatalf("jaeger: traces of %s: %v", svc, err)
		}
		for _, tr := range trs {
			ids[tr.TraceID] = true
		}
	}
	return ids
}

// outlivers names the spans of tr that start before or end after their parent
// (CHILD_OF; a FOLLOWS_FROM link is not a parent), with a microsecond of slack for
// Jaeger's rounding.
func outlivers(tr *harness.Trace) []string {
	var out []string
	for i := range tr.Spans {
		s := &tr.Spans[i]
		for _, ref := range s.References {
			if ref.RefType != "CHILD_OF" {
				continue
			}
			p := tr.Span(ref.SpanID)
			if p == nil {
				continue
			}
			if s.StartTime+1 < p.StartTime || s.StartTime+s.Duration > p.StartTime+p.Duration+1 {
				out = append(out, fmt.Sprintf("%s %s (%d+%dus) outlives %s %s (%d+%dus)", tr.ServiceOf(s), s.OperationName,
					s.StartTime, s.Duration, tr.ServiceOf(p), p.OperationName, p.StartTime, p.Duration))
			}
		}
	}
	return out
}

// curl runs curl with args and returns its output (headers with -i); it fails the test
// when curl fails.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		harness.Unavailable(t, "no curl")
	}
	out, err := exec.Command("curl", append([]string{"-sS"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// objectTrace waits for the one trace that holds a span op of object name and returns
// it once check accepts it; it fails the test when such spans are in more than one
// trace.
func objectTrace(t *testing.T, j *harness.Jaeger, name, op string, check func(*harness.Trace) error) *harness.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last error
	for {
		var found []string
		for _, svc := range []string{svcProxy, svcTarget} {
			trs, err := j.Traces(ctx, svc, 200)
			if err != nil {
				last = err
				continue
			}
			for _, tr := range trs {
				for i := range tr.Spans {
					if tr.Spans[i].TagString("ais.object") == name && tr.Spans[i].OperationName == op && !slices.Contains(found, tr.TraceID) {
						found = append(found, tr.TraceID)
					}
				}
			}
		}
		if len(found) == 1 {
			tr := waitTrace(t, j, found[0], check)
			return tr
		}
		if len(found) > 1 {
			last = fmt.Errorf("object %s is in %d traces: %v", name, len(found), found)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no single trace of %s: %v", name, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// TestIdleAndExemplars: an idle cluster, scraped by Prometheus, adds no traces to Jaeger
// in 15 s (keepalives, health checks and scrapes are not traced); then a latency exemplar
// read from Prometheus' API names a trace that Jaeger returns.
func TestIdleAndExemplars(t *testing.T) {
	j := harness.StartJaeger(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, TracingEndpoint: j.OTLPEndpoint(),
		Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"}, LogLevel: "info"})
	prom := harness.StartPrometheus(t, cl.ProxyURL())
	ctx := testContext(t)

	// The joins' traces arrive within a flush interval or two.
	time.Sleep(tracing.FlushInterval + time.Second)
	before := traceIDs(t, ctx, j)
	if len(before) == 0 {
		t.Fatal("Jaeger holds no trace of the targets' joins: the test would see nothing")
	}
	time.Sleep(15 * time.Second)
	after := traceIDs(t, ctx, j)
	var added []string
	for id := range after {
		if !before[id] {
			added = append(added, id)
		}
	}
	if len(added) > 0 {
		tr, _ := j.Trace(ctx, added[0])
		dump := ""
		if tr != nil {
			dump = tr.Dump()
		}
		t.Fatalf("an idle cluster added %d traces in 15 s (had %d); the first:\n%s", len(added), len(before), dump)
	}
	up, err := prom.Query(ctx, `up{job="miniais"}`)
	if err != nil || len(up) != 4 {
		t.Fatalf("prometheus scrapes %d nodes (%v), want 4: %v", len(up), err, up)
	}
	for _, s := range up {
		if s.Value != 1 {
			t.Fatalf("node %v is not up in Prometheus", s.Metric)
		}
	}

	// Exemplars: sampled GETs; the latency histogram's exemplar names their trace.
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "exemplars")
	start := time.Now()
	for i := range 5 {
		name := fmt.Sprintf("o%d", i)
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(randomBytes(1024)), api.PutOptions{Size: 1024}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetObject(ctx, bck, name, io.Discard, api.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var ex []harness.Exemplar
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ex, err = prom.Exemplars(ctx, `ais_target_http_request_duration_seconds_bucket{route="GET /v1/objects/{bucket}/{object...}"}`, start, time.Now())
		if err == nil && len(ex) > 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(ex) == 0 {
		t.Fatalf("no exemplar of the targets' GET latency in Prometheus (%v)", err)
	}
	id := ex[0].Labels["trace_id"]
	tr := waitTrace(t, j, id, func(tr *harness.Trace) error {
		if len(tr.Find("GET /v1/objects/{bucket}/{object...}")) == 0 {
			return errors.New("no GET span")
		}
		return nil
	})
	t.Logf("exemplar %v (%.6f s) names trace %s with %d spans", ex[0].Series["node_id"], ex[0].Value, id, len(tr.Spans))
	got, err := prom.Query(ctx, `sum(ais_target_get_count{bucket="ais://exemplars"})`)
	if err != nil || len(got) != 1 || got[0].Value < 5 {
		// The scrape after the last GET may not have happened yet.
		time.Sleep(2 * time.Second)
		if got, err = prom.Query(ctx, `sum(ais_target_get_count{bucket="ais://exemplars"})`); err != nil || len(got) != 1 || got[0].Value < 5 {
			t.Fatalf("ais_target_get_count in Prometheus: %v %v", got, err)
		}
	}
}

// TestCurlTracesAndRebalance: a plain curl -L PUT and GET (no client span) are one trace
// each, in which no span outlives its parent; a 60 KB User-Agent is cut to the limit; a
// failed request names its trace in a header and its JSON; a rebalance after a join is
// one trace, linked to the join, made of batches.
func TestCurlTracesAndRebalance(t *testing.T) {
	j := harness.StartJaeger(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, TracingEndpoint: j.OTLPEndpoint(),
		Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"}, LogLevel: "info"})
	ctx := testContext(t)
	c := api.NewClient(cl.ProxyURL())
	createBucket(t, ctx, c, "curl")
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, randomBytes(256<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	ua := strings.Repeat("u", 60<<10)
	url := cl.ProxyURL() + "/v1/objects/curl/by-curl?provider=ais"
	curl(t, "-L", "-f", "-T", src, "-A", ua, url)
	curl(t, "-L", "-f", "-o", filepath.Join(t.TempDir(), "out"), url)

	for _, op := range []string{"PUT", "GET"} {
		fsOp := map[string]string{"PUT": "fs.Put", "GET": "fs.Get"}[op]
		route := op + " /v1/objects/{bucket}/{object...}"
		tr := objectTraceOf(t, j, "by-curl", route, fsOp)
		if o := outlivers(tr); len(o) > 0 {
			t.Errorf("%s: spans outlive their parents:\n%s\n%s", op, strings.Join(o, "\n"), tr.Dump())
		}
		if op == "PUT" {
			for _, s := range tr.Find(route) {
				if n := len(s.TagString("user_agent.original")); n != tracing.DefaultAttributeValueLimit {
					t.Errorf("%s %s: user agent of %d characters, want it cut to %d", tr.ServiceOf(s), s.OperationName, n, tracing.DefaultAttributeValueLimit)
				}
			}
		}
	}

	// A failure names its trace.
	out := curl(t, "-i", "-L", cl.ProxyURL()+"/v1/objects/curl/missing?provider=ais")
	var hdrID string
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, tracing.TraceIDHeader) {
			hdrID = strings.TrimSpace(v)
		}
	}
	var he wire.HTTPError
	if i := strings.Index(out, "{"); i >= 0 {
		_ = json.Unmarshal([]byte(out[i:]), &he)
	}
	if hdrID == "" || he.TraceID != hdrID {
		t.Fatalf("failed GET: %s header %q, JSON trace_id %q:\n%s", tracing.TraceIDHeader, hdrID, he.TraceID, out)
	}
	waitTrace(t, j, hdrID, func(tr *harness.Trace) error {
		for i := range tr.Spans {
			if tr.Spans[i].TagString("error.type") == "not-found" {
				return nil
			}
		}
		return errors.New("no span with error.type not-found")
	})

	// A rebalance: the objects some of which the new target owns.
	bck := createBucket(t, ctx, c, "reb")
	for i := range 40 {
		if _, err := c.PutObject(ctx, bck, fmt.Sprintf("o%02d", i), bytes.NewReader(randomBytes(512)), api.PutOptions{Size: 512}); err != nil {
			t.Fatal(err)
		}
	}
	startTracedTarget(t, cl, "AIS_TRACING_ENDPOINT="+j.OTLPEndpoint(), "AIS_TRACING_SAMPLING_PROBABILITY=1")
	smap := waitTargets(t, ctx, cl, 3)
	rebID := tracing.TraceIDOf("rebalance", smap.UUID, job.RebalanceID(smap.Version)).String()
	tr := waitTrace(t, j, rebID, func(tr *harness.Trace) error {
		if n := len(tr.Find("job.share rebalance")); n < 2 {
			return fmt.Errorf("%d rebalance summaries, want one per old target", n)
		}
		if len(tr.Find("job.batch")) == 0 {
			return errors.New("no batch span")
		}
		return nil
	})
	if n := len(tr.Find("transport.send object-put")); n > 0 {
		t.Errorf("the rebalance trace has %d spans per object", n)
	}
	var joinTrace string
	for _, s := range tr.Find("job.share rebalance") {
		for _, ref := range s.References {
			if ref.RefType == "FOLLOWS_FROM" && ref.TraceID != rebID {
				joinTrace = ref.TraceID
			}
		}
	}
	if joinTrace == "" {
		t.Fatalf("the rebalance is not linked to the map change:\n%s", tr.Dump())
	}
	waitTrace(t, j, joinTrace, func(jt *harness.Trace) error {
		if len(jt.Find("transport.recv join")) == 0 && len(jt.Find("target.join")) == 0 {
			return errors.New("the linked trace is not the join's")
		}
		return nil
	})
	if o := outlivers(tr); len(o) > 0 {
		t.Errorf("rebalance spans outlive their parents:\n%s", strings.Join(o, "\n"))
	}
}

// objectTraceOf is objectTrace, complete: the proxy's span of route, the target's, and
// fsOp under the target's.
func objectTraceOf(t *testing.T, j *harness.Jaeger, name, route, fsOp string) *harness.Trace {
	t.Helper()
	return objectTrace(t, j, name, route, func(tr *harness.Trace) error {
		px, err := one(tr, svcProxy, route)
		if err != nil {
			return err
		}
		tg, err := one(tr, svcTarget, route)
		if err != nil {
			return err
		}
		fsSpan, err := one(tr, svcTarget, fsOp)
		if err != nil {
			return err
		}
		if !hasAncestor(tr, fsSpan, tg) {
			return fmt.Errorf("%s is not under the target's span", fsOp)
		}
		linked := slices.ContainsFunc(tg.References, func(r jaegerquery.Reference) bool {
			return r.RefType == "FOLLOWS_FROM" && r.SpanID == px.SpanID
		})
		if !linked {
			return errors.New("the target's span does not link to the proxy's")
		}
		return nil
	})
}

// startTracedTarget starts one more target for cl, with env added to its environment,
// and stops it when the test ends.
func startTracedTarget(t *testing.T, cl *harness.Cluster, env ...string) {
	t.Helper()
	dir := t.TempDir()
	mp := filepath.Join(dir, "mp1")
	if err := os.MkdirAll(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-role=target", "-id=extra-target", "-public_addr=" + harness.FreeAddr(t), "-transport_addr=" + harness.FreeAddr(t),
		"-proxy=" + cl.Proxy().TransportAddr, "-mountpaths=" + mp, "-data_dir=" + filepath.Join(dir, "data"), "-log_level=info"}
	if s := cl.Secret(); s != "" {
		sf := filepath.Join(dir, "secret")
		if err := os.WriteFile(sf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-secret_file="+sf)
	}
	logf, err := os.Create(filepath.Join(dir, "aisnode.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cl.BinDir(), "aisnode"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("extra target log:\n%s", b)
		}
	})
}

// TestStrangerAndTail: at ratio 0 with the tail rule on (latency 2 s) and no client
// trusted, a stranger's forced request, or one whose traceparent says sampled, records
// nothing; a failing GET is in Jaeger, marked by the tail rule, and a fast successful one
// is not.
func TestStrangerAndTail(t *testing.T) {
	j := harness.StartJaeger(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, TracingEndpoint: j.OTLPEndpoint(), LogLevel: "info",
		Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=0", "AIS_TRACING_TRUSTED_CLIENTS=none", "AIS_TRACING_TAIL_LATENCY=2s"}})
	ctx := testContext(t)
	c := api.NewClient(cl.ProxyURL())
	createBucket(t, ctx, c, "stranger")
	url := cl.ProxyURL() + "/v1/objects/stranger/o?provider=ais"
	const forgedTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	curl(t, "-L", "-f", "-X", "PUT", "--data-binary", "data", "-H", tracing.ForceSampleHeader+": true", url)
	curl(t, "-L", "-f", "-o", "/dev/null", "-H", tracing.ForceSampleHeader+": true", url)
	curl(t, "-L", "-f", "-o", "/dev/null", "-H", "traceparent: 00-"+forgedTrace+"-00f067aa0ba902b7-01", url)
	curl(t, "-L", "-f", "-o", "/dev/null", url) // fast and successful: not kept either

	// The failing GET: the reply names the trace that the tail rule keeps.
	out := curl(t, "-i", "-L", cl.ProxyURL()+"/v1/objects/stranger/missing?provider=ais")
	var he wire.HTTPError
	if i := strings.Index(out, "{"); i >= 0 {
		_ = json.Unmarshal([]byte(out[i:]), &he)
	}
	if he.TraceID == "" {
		t.Fatalf("a failed GET at ratio 0 with the tail rule names no trace:\n%s", out)
	}
	waitTrace(t, j, he.TraceID, func(tr *harness.Trace) error {
		for i := range tr.Spans {
			if tr.Spans[i].TagString(tracing.TailAttribute) == "error" && tr.Spans[i].TagString("error.type") == "not-found" {
				return nil
			}
		}
		return fmt.Errorf("no span marked %s=error", tracing.TailAttribute)
	})
	// Everything the nodes recorded has been exported by now (the failure's spans came
	// after the others); nothing of object o is in Jaeger, nor the forged trace.
	time.Sleep(tracing.FlushInterval + time.Second)
	if _, err := j.Trace(ctx, forgedTrace); !errors.Is(err, jaegerquery.ErrTraceNotFound) {
		t.Errorf("the stranger's sampled traceparent was recorded (%v)", err)
	}
	for id := range traceIDs(t, ctx, j) {
		tr, err := j.Trace(ctx, id)
		if err != nil {
			continue
		}
		for i := range tr.Spans {
			if tr.Spans[i].TagString("ais.object") == "o" {
				t.Errorf("trace %s holds %s of the stranger's object:\n%s", id, tr.Spans[i].OperationName, tr.Dump())
				break
			}
		}
	}
}
