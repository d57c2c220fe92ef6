package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/cluster"
	"miniais/tracing"
	"miniais/transport"
)

// newServed returns a target's metrics and a handler chain as a node has
// it: tracing, metrics, a ServeMux with object routes and /metrics.
// bind gives n a cluster map whose primary is proxy p1, state flags 6 and
// a bucket metadata with the buckets named.
func bind(n *Node, buckets ...string) {
	smap := cluster.NewMap("uuid", &cluster.Node{ID: "p1", Role: cluster.RoleProxy})
	bmd := cluster.NewBMD("uuid")
	for _, b := range buckets {
		bmd.Buckets[b] = cluster.DefaultBucketProps(1, time.Now())
	}
	n.Bind(View{
		Smap:  func() *cluster.Map { return smap },
		BMD:   func() *cluster.BMD { return bmd },
		Flags: func(*cluster.Map, string) uint64 { return 6 },
	})
}

func newServed(t testing.TB) (*Node, http.Handler, *tracing.Provider) {
	t.Helper()
	cfg := tracing.DefaultConfig()
	cfg.Enabled = tracing.Compiled // -tags notracing: no spans, no exemplars
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleTarget, SpanProcessor: tracetest.NewSpanRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	n := New(Config{Role: cluster.RoleTarget, NodeID: "t1"})
	bind(n, "b")
	n.RegisterTracing(tp)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/objects/{bucket}/{object...}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("object") == "missing" {
			w.Header().Set(tracing.ErrorKindHeader, "not-found")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("PUT /v1/objects/{bucket}/{object...}", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	})
	mux.Handle("GET /metrics", n.Handler())
	return n, tp.Handler(n.Middleware(mux), nil), tp
}

func do(t testing.TB, h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// The counters, by AIStore's names and ours; the tracker agrees with them;
// a stranger's bucket name makes no series; exemplars name the trace.
func TestRequestMetrics(t *testing.T) {
	n, h, _ := newServed(t)
	do(t, h, "PUT", "/v1/objects/b/o", "12345678")
	do(t, h, "GET", "/v1/objects/b/o", "")
	do(t, h, "GET", "/v1/objects/b/o", "")
	do(t, h, "GET", "/v1/objects/b/missing", "")
	do(t, h, "GET", "/v1/objects/nosuchbucket-from-a-stranger/o", "")
	n.ObserveMessage(transport.In, transport.KindObjectPut, 100, 0, nil)

	text := do(t, h, "GET", "/metrics", "").Body.String()
	for _, want := range []string{
		`ais_target_get_count{bucket="ais://b",node_id="t1"} 2`,
		`ais_target_get_count{bucket="",node_id="t1"} 1`,
		`ais_target_get_bytes{bucket="ais://b",node_id="t1"} 10`,
		`ais_target_put_count{bucket="ais://b",node_id="t1",xkind=""} 1`,
		`ais_target_put_bytes{bucket="ais://b",node_id="t1",xkind=""} 8`,
		`ais_target_err_get_count{bucket="ais://b",node_id="t1"} 1`,
		`ais_target_errors_total{kind="not-found",node_id="t1"} 1`,
		`ais_target_http_requests_total{node_id="t1",route="GET /v1/objects/{bucket}/{object...}",status="2xx"} 3`,
		`ais_target_http_requests_total{node_id="t1",route="GET /v1/objects/{bucket}/{object...}",status="4xx"} 1`,
		`ais_target_http_received_bytes_total{node_id="t1",route="PUT /v1/objects/{bucket}/{object...}"} 8`,
		`ais_target_stream_in_count{node_id="t1"} 1`,
		`ais_target_transport_messages_total{direction="in",kind="object-put",node_id="t1",outcome="ok"} 1`,
		`ais_target_state_flags{node_id="t1"} 6`,
		`ais_node_primary_info{node_id="t1",primary_id="p1"} 1`,
		`ais_target_tracing_spans_queued{node_id="t1"} 0`,
		`ais_target_uptime{node_id="t1"}`,
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "nosuchbucket") {
		t.Error("a bucket outside the metadata made a series")
	}
	tr := n.Tracker()
	if tr["get.n"] != 3 || tr["get.size"] != 15 || tr["put.n"] != 1 || tr["put.size"] != 8 || tr["err.get.n"] != 1 ||
		tr["stream.in.n"] != 1 || tr["get.bps"] != 15 || tr["get.ns.total"] <= 0 || tr["get.ns"] != tr["get.ns.total"]/3 {
		t.Errorf("tracker %v", tr)
	}
	kinds := n.Kinds()
	for name, kind := range map[string]string{"get.n": KindCounter, "put.size": KindSize, "get.ns.total": KindTotal,
		"get.ns": KindLatency, "put.bps": KindBW, "up.ns.time": KindSpecial, "err.put.cksum.n": KindCounter} {
		if kinds[name] != kind {
			t.Errorf("kind of %s %q, want %q", name, kinds[name], kind)
		}
	}

	// OpenMetrics, asked for: exemplars with the trace ID.
	om := do(t, h, "GET", "/metrics", "", "Accept", "application/openmetrics-text; version=1.0.0").Body.String()
	if tracing.Compiled && !strings.Contains(om, `# {trace_id="`) {
		t.Errorf("no exemplar in the OpenMetrics reply:\n%s", grep(om, "duration_seconds_bucket"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// BenchmarkMiddleware is the cost per request of the metrics middleware
// around a trivial handler routed by a ServeMux.
func BenchmarkMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/objects/{bucket}/{object...}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	n := New(Config{Role: cluster.RoleTarget, NodeID: "t1"})
	bind(n, "b")
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", mux}, {"metrics", n.Middleware(mux)}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/objects/b/o", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}

// TestOff: a node with metrics off counts nothing (its middleware is the
// handler itself) yet still serves /metrics.
func TestOff(t *testing.T) {
	n := New(Config{Role: cluster.RoleTarget, NodeID: "t1", Off: true})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/objects/{bucket}/{object...}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.Handle("GET /metrics", n.Handler())
	h := n.Middleware(mux)
	if h != http.Handler(mux) {
		t.Fatalf("Middleware with metrics off wraps the handler")
	}
	do(t, h, "GET", "/v1/objects/b/o", "")
	n.ObserveMessage(transport.Out, transport.KindPing, 10, 0, nil)
	w := do(t, h, "GET", "/metrics", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), "ais_target_http_requests_total{") || strings.Contains(w.Body.String(), `kind="ping"`) {
		t.Fatalf("metrics off counted: %d\n%s", w.Code, w.Body.String())
	}
}
