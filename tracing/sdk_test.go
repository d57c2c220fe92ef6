//go:build !notracing

package tracing

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// newRecorded returns an enabled provider of role whose spans go to the
// returned recorder; nothing is exported.
func newRecorded(tb testing.TB, role string, prob float64) (*Provider, *tracetest.SpanRecorder) {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.SamplerProbability = Probability(prob)
	cfg.Attributes = map[string]string{"deployment.environment": "test"}
	p, err := New(context.Background(), cfg, Options{Role: role, NodeID: role + "-1", Version: "v0.1", SpanProcessor: rec})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, rec
}

// attrs returns the attributes of s as a map.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value)
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	for _, kv := range s.Resource().Attributes() {
		m["resource."+kv.Key] = kv.Value
	}
	return m
}

// onlySpan returns the single ended span of rec.
func onlySpan(tb testing.TB, rec *tracetest.SpanRecorder) sdktrace.ReadOnlySpan {
	tb.Helper()
	ended := rec.Ended()
	if len(ended) != 1 {
		tb.Fatalf("%d spans ended, want 1", len(ended))
	}
	return ended[0]
}

func TestHandlerSpan(t *testing.T) {
	objectRoute := func(r *http.Request) string { return r.Method + " /v1/objects/{bucket}/{object...}" }
	tests := []struct {
		name       string
		method     string
		target     string
		handler    http.HandlerFunc
		spanName   func(*http.Request) string
		wantName   string
		wantStatus int64
		wantCode   codes.Code
	}{
		{name: "ok", method: "PUT", target: "/v1/objects/b/dir/o?provider=ais",
			handler:  func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") },
			spanName: objectRoute, wantName: "PUT /v1/objects/{bucket}/{object...}", wantStatus: 200, wantCode: codes.Unset},
		{name: "not found is no server error", method: "GET", target: "/v1/objects/b/o",
			handler:  func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) },
			spanName: objectRoute, wantName: "GET /v1/objects/{bucket}/{object...}", wantStatus: 404, wantCode: codes.Unset},
		{name: "server error", method: "DELETE", target: "/v1/objects/b/o",
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
			spanName: objectRoute, wantName: "DELETE /v1/objects/{bucket}/{object...}", wantStatus: 503, wantCode: codes.Error},
		{name: "nil name uses method", method: "HEAD", target: "/v1/health",
			handler:  func(w http.ResponseWriter, r *http.Request) {},
			wantName: "HEAD", wantStatus: 200, wantCode: codes.Unset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rec := newRecorded(t, cluster.RoleTarget, 1)
			var inner trace.SpanContext
			h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner = trace.SpanContextFromContext(r.Context())
				tt.handler(w, r)
			}), tt.spanName)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader("body"))
			req.Header.Set("User-Agent", "test-agent")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != int(tt.wantStatus) {
				t.Fatalf("status %d", w.Code)
			}
			s := onlySpan(t, rec)
			if s.Name() != tt.wantName || s.SpanKind() != trace.SpanKindServer {
				t.Fatalf("span %q kind %v", s.Name(), s.SpanKind())
			}
			if !s.SpanContext().Equal(inner) {
				t.Fatal("the handler's context is not the span's")
			}
			if s.Parent().IsValid() {
				t.Fatal("root span has a parent")
			}
			a := attrs(s)
			want := map[attribute.Key]attribute.Value{
				"http.request.method":             attribute.StringValue(tt.method),
				"http.response.status_code":       attribute.Int64Value(tt.wantStatus),
				"url.path":                        attribute.StringValue(req.URL.Path),
				"url.scheme":                      attribute.StringValue("http"),
				"user_agent.original":             attribute.StringValue("test-agent"),
				"resource.service.name":           attribute.StringValue("aistore-target"),
				"resource.ais.node_id":            attribute.StringValue("target-1"),
				"resource.ais.role":               attribute.StringValue("target"),
				"resource.service.version":        attribute.StringValue("v0.1"),
				"resource.deployment.environment": attribute.StringValue("test"),
				"resource.service.instance.id":    attribute.StringValue("target-1"),
			}
			for k, v := range want {
				if a[k] != v {
					t.Errorf("attribute %s = %v, want %v", k, a[k].Emit(), v.Emit())
				}
			}
			if _, ok := a["resource.host.name"]; !ok {
				t.Error("no host.name")
			}
			if s.Status().Code != tt.wantCode {
				t.Errorf("status %v, want %v", s.Status(), tt.wantCode)
			}
		})
	}
}

func TestHandlerRoute(t *testing.T) {
	p, rec := newRecorded(t, cluster.RoleProxy, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/buckets/{bucket}", func(w http.ResponseWriter, r *http.Request) {})
	p.Handler(mux, nil).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/buckets/b1", nil))
	if got := attrs(onlySpan(t, rec))["http.route"].AsString(); got != "/v1/buckets/{bucket}" {
		t.Fatalf("http.route %q", got)
	}
}

func TestHandlerPanic(t *testing.T) {
	p, rec := newRecorded(t, cluster.RoleProxy, 1)
	h := p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if s := onlySpan(t, rec); s.Status().Code != codes.Error {
		t.Fatalf("status %v", s.Status())
	}
}

// The ResponseWriter the handler sees keeps Flush and ReaderFrom.
func TestHandlerWriterInterfaces(t *testing.T) {
	p, _ := newRecorded(t, cluster.RoleTarget, 1)
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("no io.ReaderFrom")
		}
		if _, err := io.Copy(w, strings.NewReader("abc")); err != nil {
			t.Error(err)
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
	}), nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "abc" {
		t.Fatalf("body %q", b)
	}
}

// Client Transport -> server Handler: one trace, server span child of the
// client span, client span child of the caller's span.
func TestHTTPHop(t *testing.T) {
	cli, cliRec := newRecorded(t, RoleCLI, 1)
	srvP, srvRec := newRecorded(t, cluster.RoleProxy, 1)
	srv := httptest.NewServer(srvP.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "pong")
	}), func(r *http.Request) string { return r.Method + " /v1/health" }))
	defer srv.Close()

	client := &http.Client{Transport: cli.Transport(nil)}
	ctx, root := cli.Tracer("test").Start(context.Background(), "cli.health")
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(cliRec.Ended()) != 0 {
		t.Fatal("client span ended before the body was read")
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	root.End()
	if req.Header.Get("traceparent") != "" {
		t.Fatal("Transport modified the caller's request")
	}

	cs := cliRec.Ended()
	if len(cs) != 2 {
		t.Fatalf("%d client spans", len(cs))
	}
	clientSpan, rootSpan := cs[0], cs[1]
	ss := onlySpan(t, srvRec)
	if clientSpan.SpanKind() != trace.SpanKindClient || clientSpan.Name() != "GET /v1/health" {
		t.Fatalf("client span %q %v", clientSpan.Name(), clientSpan.SpanKind())
	}
	if clientSpan.Parent().SpanID() != rootSpan.SpanContext().SpanID() {
		t.Fatal("client span is not a child of the caller's span")
	}
	if ss.SpanContext().TraceID() != rootSpan.SpanContext().TraceID() ||
		ss.Parent().SpanID() != clientSpan.SpanContext().SpanID() || !ss.Parent().IsRemote() {
		t.Fatalf("server parent %v, want remote %v", ss.Parent(), clientSpan.SpanContext())
	}
	if ss.Name() != "GET /v1/health" {
		t.Fatalf("server span %q", ss.Name())
	}
	a := attrs(clientSpan)
	if a["http.response.status_code"].AsInt64() != 200 || a["resource.service.name"].AsString() != "aistore-cli" ||
		a["server.address"].AsString() != "127.0.0.1" {
		t.Fatalf("client attributes %v", a)
	}
}

func TestTransportError(t *testing.T) {
	cli, rec := newRecorded(t, RoleCLI, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := &http.Client{Transport: cli.Transport(nil)}
	if _, err := client.Get("http://" + addr + "/"); err == nil {
		t.Fatal("no error from a closed port")
	}
	if s := onlySpan(t, rec); s.Status().Code != codes.Error {
		t.Fatalf("status %v", s.Status())
	}
}

// newTrusting is newRecorded with a cluster secret and trusted clients.
func newTrusting(tb testing.TB, role string, prob float64, secret string, trusted ...string) (*Provider, *tracetest.SpanRecorder) {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.SamplerProbability = Probability(prob)
	cfg.TrustedClients = trusted
	p, err := New(context.Background(), cfg, Options{Role: role, NodeID: role + "-1", SpanProcessor: rec, Secret: []byte(secret)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, rec
}

// redirectPair starts a target server and a proxy server that redirects
// every request to it with the signed trace context, as the proxy does.
func redirectPair(t *testing.T, prxP, tgtP *Provider) (proxyURL string) {
	t.Helper()
	name := func(r *http.Request) string { return r.Method + " /v1/objects/{bucket}/{object...}" }
	target := httptest.NewServer(tgtP.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("provider") != "ais" {
			t.Error("query params lost")
		}
		time.Sleep(2 * time.Millisecond) // the target's work: longer than the redirect
	}), name))
	t.Cleanup(target.Close)
	proxy := httptest.NewServer(prxP.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("pid", "p1")
		prxP.InjectRedirect(r.Context(), r.Method, r.URL.EscapedPath(), q)
		http.Redirect(w, r, target.URL+r.URL.Path+"?"+q.Encode(), http.StatusTemporaryRedirect)
	}), name))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// linkedTo tells whether s links to sc.
func linkedTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.SpanID() == sc.SpanID() && l.SpanContext.TraceID() == sc.TraceID() {
			return true
		}
	}
	return false
}

// A plain client (curl -L): no client span. The target's span is a root
// in the proxy's trace, linked to the proxy's span, which it would
// otherwise outlive.
func TestRedirectQuery(t *testing.T) {
	prxP, prxRec := newTrusting(t, cluster.RoleProxy, 1, "s3cret")
	tgtP, tgtRec := newTrusting(t, cluster.RoleTarget, 1, "s3cret")
	resp, err := http.Get(redirectPair(t, prxP, tgtP) + "/v1/objects/b/o?provider=ais") // untraced client
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ps, ts := onlySpan(t, prxRec), onlySpan(t, tgtRec)
	if ps.Parent().IsValid() {
		t.Fatal("proxy span has a parent")
	}
	if ts.SpanContext().TraceID() != ps.SpanContext().TraceID() {
		t.Fatalf("target span in trace %v, want the proxy's %v", ts.SpanContext().TraceID(), ps.SpanContext().TraceID())
	}
	if ts.Parent().IsValid() || !linkedTo(ts, ps.SpanContext()) {
		t.Fatalf("target span parent %v links %v: want a root linked to the proxy span", ts.Parent(), ts.Links())
	}
	if !ts.EndTime().After(ps.EndTime()) {
		t.Fatal("test premise: the target span should end after the proxy's")
	}
	if a := attrs(ps); a["http.response.status_code"].AsInt64() != 307 || ps.Status().Code != codes.Unset {
		t.Fatalf("proxy span %v %v", a, ps.Status())
	}
}

// The proxy's sampling decision holds on the target: at ratio 0 on the
// proxy and 1 on the target, nothing is recorded; forged or unsigned query
// contexts are not followed.
func TestRedirectDecisionIsTheProxys(t *testing.T) {
	prxP, prxRec := newTrusting(t, cluster.RoleProxy, 0, "s3cret")
	tgtP, tgtRec := newTrusting(t, cluster.RoleTarget, 1, "s3cret")
	resp, err := http.Get(redirectPair(t, prxP, tgtP) + "/v1/objects/b/o?provider=ais")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, m := len(prxRec.Ended()), len(tgtRec.Ended()); n != 0 || m != 0 {
		t.Fatalf("%d proxy and %d target spans recorded, want none (the proxy sampled nothing)", n, m)
	}

	// A forged redirect query: sampled, signed with another secret. The
	// target at ratio 0 records nothing.
	tgt0, rec0 := newTrusting(t, cluster.RoleTarget, 0, "s3cret")
	h := tgt0.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
	other := signer{key: []byte("guess")}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, q := range []string{
		"traceparent=" + tp,
		"traceparent=" + tp + "&tracesig=" + other.sign(tp, "", "GET", "/v1/objects/b/o"),
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/objects/b/o?"+q, nil))
	}
	if n := len(rec0.Ended()); n != 0 {
		t.Fatalf("%d spans recorded for forged redirect contexts, want 0", n)
	}
}

// A traced client that follows the redirect sends its own span in the
// headers of the second hop: that span is the target span's parent, and
// the target span links to the proxy's. No span outlives its parent. A
// query of another trace loses to a trusted client's headers.
func TestRedirectQueryTracedClient(t *testing.T) {
	prxP, prxRec := newTrusting(t, cluster.RoleProxy, 1, "s3cret", "127.0.0.1")
	tgtP, tgtRec := newTrusting(t, cluster.RoleTarget, 1, "s3cret", "127.0.0.1")
	proxyURL := redirectPair(t, prxP, tgtP)
	cliP, cliRec := newRecorded(t, RoleCLI, 1)
	hc := &http.Client{Transport: ClientTransport(http.DefaultTransport, cliP.TracerProvider(), cliP.Propagator())}
	// The client's command span is the root, so both hops share its trace.
	ctx, root := cliP.Tracer("test").Start(context.Background(), "ais get")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proxyURL+"/v1/objects/b/o?provider=ais", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	root.End()
	ps, ts := onlySpan(t, prxRec), onlySpan(t, tgtRec)
	hops := cliRec.Ended()
	if len(hops) != 3 {
		t.Fatalf("%d client spans, want two hops and the root", len(hops))
	}
	first, second := hops[0], hops[1]
	if ps.Parent().SpanID() != first.SpanContext().SpanID() {
		t.Fatalf("proxy span parent %v: want the client's first hop", ps.Parent())
	}
	if ts.Parent().SpanID() != second.SpanContext().SpanID() || !linkedTo(ts, ps.SpanContext()) {
		t.Fatalf("target parent %v: want the client's second hop, linked to the proxy span", ts.Parent())
	}
	all := append(append(append([]sdktrace.ReadOnlySpan{}, hops...), ps), ts)
	for _, s := range all {
		for _, p := range all {
			if s.Parent().SpanID() == p.SpanContext().SpanID() && (s.EndTime().After(p.EndTime()) || s.StartTime().Before(p.StartTime())) {
				t.Errorf("%s outlives its parent %s", s.Name(), p.Name())
			}
		}
	}

	// A stale redirect URL of another trace: the trusted client's headers
	// win.
	tgtRec.Reset()
	req, _ = http.NewRequest(http.MethodGet, resp.Request.URL.String(), nil)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ts2 := onlySpan(t, tgtRec); ts2.SpanContext().TraceID() == ps.SpanContext().TraceID() {
		t.Fatal("a query of another trace overrode the request's own trace headers")
	}
}

// Across a transport header map.
func TestMapHop(t *testing.T) {
	a, aRec := newRecorded(t, cluster.RoleTarget, 1)
	b, bRec := newRecorded(t, cluster.RoleTarget, 1)
	ctx, send := a.Tracer("transport").Start(context.Background(), "transport.Send",
		trace.WithSpanKind(trace.SpanKindProducer))
	hdr := map[string]string{}
	InjectMap(ctx, a.Propagator(), hdr)
	send.End()

	rctx := ExtractMap(context.Background(), b.Propagator(), hdr)
	_, recv := b.Tracer("transport").Start(rctx, "transport.Receive", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("ais.msg_kind", "put")))
	recv.End()

	ss, rs := onlySpan(t, aRec), onlySpan(t, bRec)
	if rs.Parent().SpanID() != ss.SpanContext().SpanID() || rs.SpanContext().TraceID() != ss.SpanContext().TraceID() {
		t.Fatalf("receiver parent %v, want %v", rs.Parent(), ss.SpanContext())
	}
	if rs.SpanKind() != trace.SpanKindConsumer || attrs(rs)["ais.msg_kind"].AsString() != "put" {
		t.Fatal("receiver span kind or attribute")
	}
}

func TestForceSample(t *testing.T) {
	const unsampledParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	const sampledParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name    string
		header  map[string]string
		trusted bool // httptest's client, 192.0.2.1, is trusted
		want    bool
	}{
		{name: "ratio 0 without header", trusted: true, want: false},
		{name: "header true", header: map[string]string{ForceSampleHeader: "true"}, trusted: true, want: true},
		{name: "header 1", header: map[string]string{ForceSampleHeader: "1"}, trusted: true, want: true},
		{name: "header false", header: map[string]string{ForceSampleHeader: "false"}, trusted: true, want: false},
		{name: "unsampled parent", header: map[string]string{"traceparent": unsampledParent}, trusted: true, want: false},
		{name: "unsampled parent with header", header: map[string]string{
			"traceparent": unsampledParent, ForceSampleHeader: "true"}, trusted: true, want: true},
		{name: "sampled parent", header: map[string]string{"traceparent": sampledParent}, trusted: true, want: true},
		{name: "stranger: header true", header: map[string]string{ForceSampleHeader: "true"}, want: false},
		{name: "stranger: sampled parent", header: map[string]string{"traceparent": sampledParent}, want: false},
		{name: "stranger: both", header: map[string]string{"traceparent": sampledParent, ForceSampleHeader: "true"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trusted []string
			if tt.trusted {
				trusted = []string{"192.0.2.0/24"}
			}
			p, rec := newTrusting(t, cluster.RoleProxy, 0, "", trusted...)
			var childSampled bool
			h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, child := p.Tracer("x").Start(r.Context(), "child")
				childSampled = child.SpanContext().IsSampled()
				child.End()
			}), nil)
			req := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			want := 0
			if tt.want {
				want = 2
			}
			if n := len(rec.Ended()); n != want || childSampled != tt.want {
				t.Fatalf("%d spans recorded (child sampled %v), want %d", n, childSampled, want)
			}
		})
	}
	t.Run("WithForceSample", func(t *testing.T) {
		p, rec := newRecorded(t, RoleCLI, 0)
		_, s := p.Tracer("x").Start(context.Background(), "plain")
		s.End()
		_, s = p.Tracer("x").Start(WithForceSample(context.Background()), "forced")
		s.End()
		if s := onlySpan(t, rec); s.Name() != "forced" || !s.SpanContext().IsSampled() {
			t.Fatalf("recorded %q", s.Name())
		}
	})
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(good, []byte("Bearer s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string
		wantErr bool
	}{
		{name: "readable", file: good},
		{name: "missing", file: filepath.Join(dir, "missing"), wantErr: true},
		{name: "directory", file: dir, wantErr: true},
		{name: "empty", file: empty, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Enabled, cfg.ExporterEndpoint = true, "127.0.0.1:1" // never dialled here
			cfg.ExporterAuth = ExporterAuth{TokenHeader: "authorization", TokenFile: tt.file}
			p, err := New(context.Background(), cfg, Options{Role: cluster.RoleProxy, Logger: discardLogger()})
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrConfig) {
					t.Fatalf("New = %v, want an ErrConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = p.Shutdown(ctx)
		})
	}
}

func TestNewErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Enabled = true
	if _, err := New(context.Background(), cfg, Options{Role: cluster.RoleProxy}); !errors.Is(err, ErrConfig) {
		t.Fatalf("no endpoint: %v", err)
	}
	cfg.ExporterEndpoint = "localhost:4317"
	if _, err := New(context.Background(), cfg, Options{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("no role: %v", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// blockingExporter blocks every export until release is closed.
type blockingExporter struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
}

func (e *blockingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	<-e.release // deliberately ignores ctx: the worst collector client
	e.mu.Lock()
	e.got += len(spans)
	e.mu.Unlock()
	return nil
}

func (e *blockingExporter) Shutdown(context.Context) error { return nil }

// failingExporter refuses every batch.
type failingExporter struct{}

func (failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errors.New("collector says no")
}

func (failingExporter) Shutdown(context.Context) error { return nil }

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Ending spans never blocks on the exporter; every span is either exported
// or counted as dropped.
func TestDropCounting(t *testing.T) {
	const spans, queue, batch = 10_000, 100, 10
	blocked := &blockingExporter{release: make(chan struct{})}
	tests := []struct {
		name        string
		exp         sdktrace.SpanExporter
		release     func()
		minDropped  uint64
		maxExported uint64
	}{
		{name: "blocked", exp: blocked, release: func() { close(blocked.release) },
			minDropped: spans - queue - batch, maxExported: queue + batch},
		{name: "failing", exp: failingExporter{}, release: func() {}, minDropped: spans, maxExported: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			cfg := DefaultConfig()
			cfg.Enabled, cfg.QueueSize, cfg.BatchSize = true, queue, batch
			p, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget, Exporter: tt.exp,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			tr := p.Tracer("test")
			for range spans {
				_, s := tr.Start(context.Background(), "fs.Put")
				s.End()
			}
			if d := p.Dropped(); tt.name == "blocked" && d < tt.minDropped {
				t.Fatalf("dropped %d while blocked, want >= %d", d, tt.minDropped)
			}
			tt.release()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			d, e := p.Dropped(), p.Exported()
			if d+e != spans || d < tt.minDropped || e > tt.maxExported {
				t.Fatalf("dropped %d + exported %d, want %d with dropped >= %d", d, e, spans, tt.minDropped)
			}
			if bl, ok := tt.exp.(*blockingExporter); ok && uint64(bl.got) != e {
				t.Fatalf("exporter got %d, Exported() = %d", bl.got, e)
			}
			if !strings.Contains(logs.String(), "spans dropped") || !strings.Contains(logs.String(), "dropped_total=") {
				t.Fatalf("no drop report in the log: %q", logs.String())
			}
			// After Shutdown a span is dropped, and counted.
			_, s := tr.Start(context.Background(), "late")
			s.End()
			if p.Dropped()+p.Exported() > spans+1 {
				t.Fatal("late span counted twice")
			}
		})
	}
}

// A collector that is down: New does not block, spans are counted as
// dropped, Shutdown honours its deadline.
func TestCollectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := DefaultConfig()
	cfg.Enabled, cfg.ExporterEndpoint = true, addr
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleProxy, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, s := p.Tracer("x").Start(context.Background(), "op")
		s.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_ = p.Shutdown(ctx) // deadline or refused: either way nothing is exported
	deadline := time.Now().Add(5 * time.Second)
	for p.Dropped() != 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Dropped() != 5 || p.Exported() != 0 {
		t.Fatalf("dropped %d exported %d, want 5 and 0", p.Dropped(), p.Exported())
	}
}

// enabledBenchProvider is an enabled provider, sampling 1.0, exporting into
// memory.
func enabledBenchProvider(tb testing.TB) *Provider {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Enabled = true
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget, Exporter: tracetest.NewInMemoryExporter(),
		Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// New builds an exporter for every endpoint form without dialling it.
func TestNewEndpointForms(t *testing.T) {
	for _, ep := range []string{"localhost:4317", "http://collector.invalid:4317", "https://collector.invalid:4317", "collector.invalid"} {
		t.Run(ep, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Enabled, cfg.ExporterEndpoint, cfg.SkipVerify = true, ep, true
			start := time.Now()
			p, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("New blocked for %v", d)
			}
			if !p.Enabled() {
				t.Fatal("not enabled")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown with nothing queued: %v", err)
			}
		})
	}
}

// benchProvider is an enabled provider at ratio, with or without the tail
// rule (threshold 1 s), exporting into memory.
func benchProvider(tb testing.TB, ratio float64, tail bool) *Provider {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.SamplerProbability = Probability(ratio)
	if tail {
		cfg.Tail.Latency = Duration(time.Second)
	}
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget, Exporter: tracetest.NewInMemoryExporter(),
		Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}
