//go:build !notracing

package tracing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
)

// A stranger's request at ratio 1 starts a trace of its own, linked to
// the context it sent; a trusted client's joins it.
func TestStrangerStartsOwnTrace(t *testing.T) {
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, trusted := range []bool{false, true} {
		t.Run(fmt.Sprint("trusted=", trusted), func(t *testing.T) {
			var nets []string
			if trusted {
				nets = []string{"192.0.2.1"}
			}
			p, rec := newTrusting(t, cluster.RoleProxy, 1, "", nets...)
			h := p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("traceparent", parent)
			h.ServeHTTP(httptest.NewRecorder(), req)
			s := onlySpan(t, rec)
			joined := s.SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736"
			if joined != trusted {
				t.Fatalf("joined the client's trace: %v, want %v", joined, trusted)
			}
			if !trusted && (len(s.Links()) != 1 || s.Links()[0].SpanContext.SpanID().String() != "00f067aa0ba902b7") {
				t.Fatalf("links %v: want one to the client's span", s.Links())
			}
		})
	}
}

// A trusted client's forced traces are rate-limited.
func TestTrustedRateLimit(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	cfg := DefaultConfig()
	cfg.Enabled, cfg.SamplerProbability = true, 0
	cfg.TrustedClients, cfg.TrustedRate = []string{"192.0.2.0/24"}, 3
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleProxy, SpanProcessor: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	h := p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
	for range 20 {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(ForceSampleHeader, "true")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	// A burst of one second's worth, plus what refills while the loop
	// runs (far less than a token).
	if n := len(rec.Ended()); n != 3 {
		t.Fatalf("%d forced requests recorded, want 3 (the rate limit)", n)
	}
}

// A node's request to another carries a signed context: the receiver
// follows it even from an untrusted address at ratio 0; the same context
// unsigned, or signed with another secret, is not followed.
func TestMemberSignature(t *testing.T) {
	sender, sendRec := newTrusting(t, cluster.RoleTarget, 1, "s3cret")
	for _, tc := range []struct {
		secret string
		want   int
	}{{"s3cret", 1}, {"other", 0}} {
		recv, recvRec := newTrusting(t, cluster.RoleTarget, 0, tc.secret)
		srv := httptest.NewServer(recv.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil))
		hc := &http.Client{Transport: sender.Transport(nil)}
		ctx, root := sender.Tracer("t").Start(context.Background(), "rebalance")
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/objects/b/o", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		root.End()
		srv.Close()
		if n := len(recvRec.Ended()); n != tc.want {
			t.Errorf("secret %q: %d spans recorded, want %d", tc.secret, n, tc.want)
		}
	}
	if len(sendRec.Ended()) == 0 {
		t.Fatal("the sender recorded nothing")
	}
	// Unsigned: a plain client with the same traceparent.
	recv, recvRec := newTrusting(t, cluster.RoleTarget, 0, "s3cret")
	h := recv.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
	req := httptest.NewRequest("GET", "/v1/objects/b/o", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := len(recvRec.Ended()); n != 0 {
		t.Fatalf("%d spans recorded for an unsigned context, want 0", n)
	}
}

// Quiet requests get no span unless their parent is sampled.
func TestQuietRequests(t *testing.T) {
	p, rec := newTrusting(t, cluster.RoleProxy, 1, "", "192.0.2.1")
	var sawSpan bool
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawSpan = trace.SpanFromContext(r.Context()).IsRecording()
	}), nil, WithQuiet(func(r *http.Request) bool { return r.URL.Path == "/v1/health" }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/health", nil))
	if n := len(rec.Ended()); n != 0 || sawSpan {
		t.Fatalf("%d spans for a health check at ratio 1, want 0", n)
	}
	req := httptest.NewRequest("GET", "/v1/health", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := len(rec.Ended()); n != 1 || !sawSpan {
		t.Fatalf("%d spans for a health check in a sampled operation, want 1", n)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/buckets", nil))
	if n := len(rec.Ended()); n != 2 {
		t.Fatalf("%d spans after an operation, want 2", n)
	}
}

// WithoutRoot drops roots, also forced ones, and keeps children of a
// sampled parent.
func TestWithoutRoot(t *testing.T) {
	p, rec := newRecorded(t, cluster.RoleTarget, 1)
	_, s := p.Tracer("x").Start(WithoutRoot(WithForceSample(context.Background())), "keepalive")
	s.End()
	ctx, op := p.Tracer("x").Start(context.Background(), "op")
	_, s = p.Tracer("x").Start(WithoutRoot(ctx), "ping")
	s.End()
	op.End()
	if n := len(rec.Ended()); n != 2 {
		t.Fatalf("%d spans, want op and its ping", n)
	}
}

// A 60 KB User-Agent is cut to the limit; attributes beyond the count limit
// are dropped.
func TestAttributeLimits(t *testing.T) {
	p, rec := newRecorded(t, cluster.RoleProxy, 1)
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		for i := range 200 {
			span.SetAttributes(attribute.Int(fmt.Sprint("x.", i), i))
		}
	}), nil)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("User-Agent", strings.Repeat("u", 60<<10))
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := onlySpan(t, rec)
	if ua := attrs(s)["user_agent.original"].AsString(); len(ua) != DefaultAttributeValueLimit {
		t.Fatalf("user agent of %d characters kept, want %d", len(ua), DefaultAttributeValueLimit)
	}
	if n := len(s.Attributes()); n != DefaultAttributeCountLimit || s.DroppedAttributes() == 0 {
		t.Fatalf("%d attributes kept (%d dropped), want %d", n, s.DroppedAttributes(), DefaultAttributeCountLimit)
	}
}

// sizeExporter records the estimated size of every export request.
type sizeExporter struct {
	mu    sync.Mutex
	sizes []int
	spans int
}

func (e *sizeExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	n := requestOverhead
	for _, s := range spans {
		n += spanSize(s)
	}
	e.mu.Lock()
	e.sizes = append(e.sizes, n)
	e.spans += len(spans)
	e.mu.Unlock()
	return nil
}

func (e *sizeExporter) Shutdown(context.Context) error { return nil }

// A batch whose spans are large goes out in several requests, each under
// the byte limit, and no span is lost.
func TestBatchBytes(t *testing.T) {
	exp := &sizeExporter{}
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.BatchBytes = 64 << 10
	cfg.AttributeValueLimit = 8 << 10
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget, Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("v", 8<<10)
	for range 100 {
		_, s := p.Tracer("x").Start(context.Background(), "big", trace.WithAttributes(attribute.String("a", big), attribute.String("b", big)))
		s.End()
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exp.spans != 100 || len(exp.sizes) < 2 {
		t.Fatalf("%d spans in %d requests, want 100 in several", exp.spans, len(exp.sizes))
	}
	for _, n := range exp.sizes {
		if n > cfg.BatchBytes {
			t.Fatalf("an export request of %d bytes, over the limit of %d", n, cfg.BatchBytes)
		}
	}
	if p.Dropped() != 0 || p.Exported() != 100 {
		t.Fatalf("exported %d, dropped %d", p.Exported(), p.Dropped())
	}
}

// Client spans (Provider.Transport): error.type is the kind the node
// names; an expected status is not an error.
func TestClientErrorKindAndExpected(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(ErrorKindHeader, "not-found")
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	p, rec := newRecorded(t, cluster.RoleTarget, 1)
	hc := &http.Client{Transport: p.Transport(nil)}
	for _, expect := range []bool{false, true} {
		rec.Reset()
		ctx := context.Background()
		if expect {
			ctx = ExpectStatus(ctx, http.StatusNotFound)
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/objects/b/o", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s := onlySpan(t, rec)
		if got := attrs(s)["error.type"].AsString(); got != "not-found" {
			t.Errorf("expect=%v: error.type %q, want the kind", expect, got)
		}
		if failed := s.Status().Code == codes.Error; failed == expect {
			t.Errorf("expect=%v: status %v", expect, s.Status())
		}
		if s.Name() != "GET /v1/objects" {
			t.Errorf("client span %q", s.Name())
		}
	}
}

// Server spans: error.type is the kind; 4xx and 501 are not errors, other
// 5xx are; network.peer.address and server.port are set.
func TestServerErrorType(t *testing.T) {
	tests := []struct {
		status int
		kind   string
		failed bool
	}{
		{404, "not-found", false},
		{409, "exists", false},
		{501, "not-implemented", false},
		{503, "unavailable", true},
		{500, "", true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			p, rec := newRecorded(t, cluster.RoleTarget, 1)
			h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.kind != "" {
					w.Header().Set(ErrorKindHeader, tc.kind)
				}
				w.WriteHeader(tc.status)
			}), nil)
			req := httptest.NewRequest("GET", "http://127.0.0.1:8081/v1/objects/b/o", nil)
			h.ServeHTTP(httptest.NewRecorder(), req)
			s := onlySpan(t, rec)
			a := attrs(s)
			want := tc.kind
			if want == "" {
				want = fmt.Sprint(tc.status)
			}
			if a["error.type"].AsString() != want || (s.Status().Code == codes.Error) != tc.failed {
				t.Fatalf("error.type %q status %v, want %q failed=%v", a["error.type"].AsString(), s.Status(), want, tc.failed)
			}
			if a["network.peer.address"].AsString() != "192.0.2.1" || a["server.port"].AsInt64() != 8081 || a["url.path"].AsString() != "/v1/objects/b/o" {
				t.Fatalf("attributes %v", a)
			}
		})
	}
}

// Logs say whether their trace is recorded.
func TestLogSampled(t *testing.T) {
	p, _ := newRecorded(t, cluster.RoleTarget, 0)
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil)))
	ctx, s := p.Tracer("x").Start(context.Background(), "unsampled")
	log.InfoContext(ctx, "a")
	s.End()
	ctx, s = p.Tracer("x").Start(WithForceSample(context.Background()), "sampled")
	log.InfoContext(ctx, "b")
	s.End()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "trace_sampled=false") || !strings.Contains(lines[1], "trace_sampled=true") {
		t.Fatalf("logs:\n%s", buf.String())
	}
}

// newTail returns a provider at ratio 0 with the tail rule, and the
// recorder of what it exports.
func newTail(tb testing.TB, latency time.Duration, maxSpans int) (*Provider, *tracetest.SpanRecorder) {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	cfg := DefaultConfig()
	cfg.Enabled, cfg.SamplerProbability = true, 0
	cfg.Tail = TailConfig{Latency: Duration(latency), MaxSpans: maxSpans}
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget, SpanProcessor: rec})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, rec
}

// The tail rule keeps every span of a failed or slow request at ratio 0,
// marked, and nothing of a fast successful one.
func TestTailRule(t *testing.T) {
	tests := []struct {
		name   string
		status int
		sleep  time.Duration
		want   string // ais.tail of the kept spans; "" for none kept
	}{
		{"fast success", 200, 0, ""},
		{"failure", 404, 0, "error"},
		{"server error", 500, 0, "error"},
		{"slow", 200, 30 * time.Millisecond, "slow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rec := newTail(t, 20*time.Millisecond, 0)
			h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, child := p.Tracer("fs").Start(r.Context(), "fs.Get")
				time.Sleep(tc.sleep)
				child.End()
				w.WriteHeader(tc.status)
			}), nil)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/objects/b/o", nil))
			ended := rec.Ended()
			if tc.want == "" {
				if len(ended) != 0 {
					t.Fatalf("%d spans kept of a fast successful request", len(ended))
				}
				return
			}
			if len(ended) != 2 {
				t.Fatalf("%d spans kept, want the server span and its child", len(ended))
			}
			for _, s := range ended {
				if got := attrs(s)[TailAttribute].AsString(); got != tc.want || !s.SpanContext().IsSampled() {
					t.Fatalf("%s: %s=%q sampled=%v, want %q", s.Name(), TailAttribute, got, s.SpanContext().IsSampled(), tc.want)
				}
			}
			if p.TailKept() != 2 {
				t.Fatalf("TailKept %d", p.TailKept())
			}
		})
	}
}

// The tail rule's memory bound holds: a request with more spans than the
// bound holds at most the bound, counts the rest, and holds nothing once
// it ends.
func TestTailBound(t *testing.T) {
	p, rec := newTail(t, time.Hour, 50)
	ctx, root := p.Tracer("x").Start(context.Background(), "request")
	for range 500 {
		_, s := p.Tracer("x").Start(ctx, "child")
		s.End()
	}
	if n := p.TailHeld(); n != 50 {
		t.Fatalf("%d spans held, want the bound 50", n)
	}
	if p.TailOverflow() != 450 {
		t.Fatalf("overflow %d, want 450", p.TailOverflow())
	}
	root.SetStatus(codes.Error, "failed")
	root.End()
	if n := p.TailHeld(); n != 0 {
		t.Fatalf("%d spans held after the request ended", n)
	}
	if n := len(rec.Ended()); n != 51 {
		t.Fatalf("%d spans kept, want the 50 held and the root", n)
	}
}

// The bound holds under concurrent load: many requests at once never hold
// more than the bound, and hold nothing once they have ended.
func TestTailBoundUnderLoad(t *testing.T) {
	const bound = 100
	p, _ := newTail(t, time.Hour, bound)
	var wg sync.WaitGroup
	var maxHeld int
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for range 20 {
				ctx, root := p.Tracer("x").Start(context.Background(), "request")
				for range 50 {
					_, s := p.Tracer("x").Start(ctx, "child")
					s.End()
					mu.Lock()
					maxHeld = max(maxHeld, p.TailHeld())
					mu.Unlock()
				}
				root.End()
			}
		})
	}
	wg.Wait()
	if maxHeld > bound || p.TailHeld() != 0 {
		t.Fatalf("held at most %d (bound %d), %d at the end", maxHeld, bound, p.TailHeld())
	}
	if p.TailOverflow() == 0 {
		t.Fatal("the load never reached the bound: the test proves nothing")
	}
}

// Two nodes that join the same derived trace make one trace of roots; with
// the trigger unsampled, the ratio decides on the trace ID alike on both.
func TestJoinTrace(t *testing.T) {
	id := TraceIDOf("rebalance", "uuid", "g7")
	if id != TraceIDOf("rebalance", "uuid", "g7") || id == TraceIDOf("rebalance", "uuid", "g8") {
		t.Fatal("TraceIDOf is not a function of its parts")
	}
	var spans []sdktrace.ReadOnlySpan
	for _, node := range []string{"t1", "t2"} {
		p, rec := newRecorded(t, node, 1)
		ctx := JoinTrace(context.Background(), id, false)
		for range 2 {
			_, s := p.Tracer("x").Start(ctx, "job.batch")
			s.End()
		}
		spans = append(spans, rec.Ended()...)
	}
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	for _, s := range spans {
		if s.SpanContext().TraceID() != id || s.Parent().IsValid() {
			t.Fatalf("span in trace %v with parent %v, want a root of %v", s.SpanContext().TraceID(), s.Parent(), id)
		}
	}
	// At ratio 0 an unsampled trigger samples nothing; a sampled one does.
	p, rec := newRecorded(t, "t3", 0)
	_, s := p.Tracer("x").Start(JoinTrace(context.Background(), id, false), "job.batch")
	s.End()
	_, s = p.Tracer("x").Start(JoinTrace(context.Background(), id, true), "job.batch")
	s.End()
	if n := len(rec.Ended()); n != 1 {
		t.Fatalf("%d spans at ratio 0, want the sampled trigger's only", n)
	}
}
