package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/tests/harness"
)

// Service names with the default prefix.
const (
	svcCLI    = "aistore-cli"
	svcProxy  = "aistore-proxy"
	svcTarget = "aistore-target"
)

var traceIDLine = regexp.MustCompile(`(?m)^Trace ID: ([0-9a-f]{32})$`)

// tracedCLI runs bin/ais with --trace and returns the one trace ID it
// printed.
func tracedCLI(t *testing.T, cl *harness.Cluster, j *harness.Jaeger, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := cl.CLI(ctx, append(args, "--trace")...)
	cmd.Env = append(cmd.Env, "AIS_JAEGER_URL="+j.QueryURL())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ais %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.String())
	}
	ids := traceIDLine.FindAllStringSubmatch(stderr.String(), -1)
	if len(ids) != 1 {
		t.Fatalf("ais %s printed %d trace IDs, want 1:\n%s", strings.Join(args, " "), len(ids), stderr.String())
	}
	return ids[0][1]
}

// waitTrace polls Jaeger until check accepts the trace (spans of several
// services arrive at different times) and fails the test with the last
// complaint and the trace when it never does.
func waitTrace(t *testing.T, j *harness.Jaeger, id string, check func(*harness.Trace) error) *harness.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		tr      *harness.Trace
		lastErr error
	)
	for {
		var err error
		if tr, err = j.Trace(ctx, id); err == nil {
			if lastErr = check(tr); lastErr == nil {
				return tr
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			dump := "(none)"
			if tr != nil {
				dump = tr.Dump()
			}
			t.Fatalf("trace %s never became complete: %v\n%s", id, lastErr, dump)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// one returns the only span of service named op, or an error.
func one(tr *harness.Trace, service, op string) (*harness.Span, error) {
	var out []*harness.Span
	for _, s := range tr.Find(op) {
		if tr.ServiceOf(s) == service {
			out = append(out, s)
		}
	}
	if len(out) != 1 {
		return nil, fmt.Errorf("%d %s spans of %s, want 1", len(out), op, service)
	}
	return out[0], nil
}

// hasAncestor tells whether anc is an ancestor of s.
func hasAncestor(tr *harness.Trace, s, anc *harness.Span) bool {
	return slices.ContainsFunc(tr.Ancestors(s), func(a *harness.Span) bool { return a.SpanID == anc.SpanID })
}

// dataPathTrace checks the trace of an object command: CLI root -> the CLI's
// hop spans -> proxy server span and target server span (a child of the
// CLI's second hop, linked to the proxy's) -> fs span, with the attributes,
// and no orphans.
func dataPathTrace(tr *harness.Trace, cliOp, method, fsOp, bucket, object string, size int64, targetIDs []string) error {
	if o := tr.Orphans(); len(o) > 0 {
		return fmt.Errorf("%d orphan spans, first %s", len(o), o[0].OperationName)
	}
	roots := tr.Roots()
	if len(roots) != 1 || roots[0].OperationName != cliOp || tr.ServiceOf(roots[0]) != svcCLI {
		return fmt.Errorf("roots %d, want the one CLI span %q", len(roots), cliOp)
	}
	op := method + " /v1/objects/{bucket}/{object...}"
	px, err := one(tr, svcProxy, op)
	if err != nil {
		return err
	}
	tg, err := one(tr, svcTarget, op)
	if err != nil {
		return err
	}
	fsSpan, err := one(tr, svcTarget, fsOp)
	if err != nil {
		return err
	}
	switch {
	case !hasAncestor(tr, px, roots[0]):
		return fmt.Errorf("the proxy span is not under the CLI span")
	case tr.Parent(tg) == nil || tr.ServiceOf(tr.Parent(tg)) != svcCLI || tr.Parent(tg).TagString("span.kind") != "client":
		// The client's own span of the redirected hop; the proxy's span,
		// which covers the redirect only, is linked (it would end first).
		return fmt.Errorf("the target span's parent is %v, not the CLI's span of that hop", tr.Parent(tg))
	case !slices.ContainsFunc(tg.References, func(r harness.Reference) bool { return r.RefType == "FOLLOWS_FROM" && r.SpanID == px.SpanID }):
		return fmt.Errorf("the target span does not link to the proxy span")
	case !hasAncestor(tr, fsSpan, tg):
		return fmt.Errorf("%s is not under the target span", fsOp)
	}
	for _, s := range []*harness.Span{roots[0], px, tg, fsSpan} {
		if got := s.TagString("ais.bucket"); !strings.HasSuffix(got, bucket) {
			return fmt.Errorf("%s %s: ais.bucket %q, want %s", tr.ServiceOf(s), s.OperationName, got, bucket)
		}
		if got := s.TagString("ais.object"); got != object {
			return fmt.Errorf("%s %s: ais.object %q, want %q", tr.ServiceOf(s), s.OperationName, got, object)
		}
	}
	if got := fsSpan.TagString("ais.size"); got != fmt.Sprint(size) {
		return fmt.Errorf("%s: ais.size %q, want %d", fsOp, got, size)
	}
	if fsSpan.TagString("ais.mountpath") == "" {
		return fmt.Errorf("%s has no ais.mountpath", fsOp)
	}
	if id := tg.TagString("ais.node_id"); !slices.Contains(targetIDs, id) {
		return fmt.Errorf("target span ais.node_id %q is not a target (%v)", id, targetIDs)
	}
	return nil
}

// TestTracesEndToEnd runs ais bucket create, put and get against a cluster
// with tracing on and reads each trace back from a real Jaeger.
func TestTracesEndToEnd(t *testing.T) {
	j := harness.StartJaeger(t)
	t.Logf("jaeger: %s", j.Mode())
	cl := harness.StartCluster(t, harness.Options{Targets: 3, TracingEndpoint: j.OTLPEndpoint(), Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"}})
	var targetIDs []string
	for _, tn := range cl.Targets() {
		targetIDs = append(targetIDs, tn.ID)
	}

	// Bucket create: one trace with a transport send and receive span for
	// every target, in both phases.
	id := tracedCLI(t, cl, j, "bucket", "create", "ais://traced")
	waitTrace(t, j, id, func(tr *harness.Trace) error {
		if o := tr.Orphans(); len(o) > 0 {
			return fmt.Errorf("%d orphan spans, first %s", len(o), o[0].OperationName)
		}
		if roots := tr.Roots(); len(roots) != 1 || roots[0].OperationName != "ais bucket create" {
			return fmt.Errorf("want one root span \"ais bucket create\", got %d roots", len(roots))
		}
		if _, err := one(tr, svcProxy, "POST /v1/buckets/{bucket}"); err != nil {
			return err
		}
		for _, phase := range []string{"txn-prepare", "txn-commit"} {
			sends, recvs := tr.Find("transport.send "+phase), tr.Find("transport.recv "+phase)
			if len(sends) != len(targetIDs) || len(recvs) != len(targetIDs) {
				return fmt.Errorf("%s: %d sends and %d receives, want %d each", phase, len(sends), len(recvs), len(targetIDs))
			}
			var got []string
			for _, r := range recvs {
				p := tr.Parent(r)
				if tr.ServiceOf(r) != svcTarget || p == nil || !strings.HasPrefix(p.OperationName, "transport.send ") || tr.ServiceOf(p) != svcProxy {
					return fmt.Errorf("%s receive span is not a target child of a proxy send span", phase)
				}
				got = append(got, r.TagString("ais.node_id"))
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(targetIDs))
			if !slices.Equal(got, want) {
				return fmt.Errorf("%s received by %v, want every target %v", phase, got, want)
			}
		}
		return nil
	})

	// Put: CLI -> proxy -> target -> fs.Put.
	const size = 1 << 20
	src := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(src, randomBytes(size), 0o644); err != nil {
		t.Fatal(err)
	}
	putID := tracedCLI(t, cl, j, "put", src, "ais://traced/dir/obj.bin")
	waitTrace(t, j, putID, func(tr *harness.Trace) error {
		return dataPathTrace(tr, "ais put", "PUT", "fs.Put", "traced", "dir/obj.bin", size, targetIDs)
	})

	// Get: CLI -> proxy -> target -> fs.Get.
	out := filepath.Join(t.TempDir(), "out.bin")
	getID := tracedCLI(t, cl, j, "get", "ais://traced/dir/obj.bin", out)
	waitTrace(t, j, getID, func(tr *harness.Trace) error {
		return dataPathTrace(tr, "ais get", "GET", "fs.Get", "traced", "dir/obj.bin", size, targetIDs)
	})
	if ids := map[string]bool{id: true, putID: true, getID: true}; len(ids) != 3 {
		t.Fatalf("commands share trace IDs: %s %s %s", id, putID, getID)
	}

	// One trace per command: no other trace holds a node span of this object.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	traces, err := j.Traces(ctx, svcTarget, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range traces {
		if tr.TraceID == putID || tr.TraceID == getID {
			continue
		}
		for i := range tr.Spans {
			if tr.Spans[i].TagString("ais.object") == "dir/obj.bin" {
				t.Errorf("trace %s also holds %s of the object", tr.TraceID, tr.Spans[i].OperationName)
			}
		}
	}

	// The waterfall of a live trace.
	show := cl.CLI(ctx, "trace", "show", putID)
	show.Env = append(show.Env, "AIS_JAEGER_URL="+j.QueryURL())
	wf, err := show.CombinedOutput()
	if err != nil {
		t.Fatalf("ais trace show: %v\n%s", err, wf)
	}
	for _, want := range []string{"ais put", "PUT /v1/objects/{bucket}/{object...}", "fs.Put", svcProxy, svcTarget} {
		if !strings.Contains(string(wf), want) {
			t.Errorf("waterfall lacks %q:\n%s", want, wf)
		}
	}
}
