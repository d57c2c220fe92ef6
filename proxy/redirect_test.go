package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
)

// newRedirectProxy returns a proxy (not running) with bucket "bench" and
// two targets in its map, tracing disabled.
func newRedirectProxy(tb testing.TB) *Proxy {
	tb.Helper()
	p, err := New(Config{ID: "p1", PublicAddr: "127.0.0.1:1", TransportAddr: "127.0.0.1:2", DataDir: tb.TempDir(),
		Tracing: tracing.Disabled(), PushTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.client.Close() })
	m := p.smap.Load().Clone()
	for _, id := range []string{"t1", "t2"} {
		m.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:908"+id[1:], "127.0.0.1:909"+id[1:])
	}
	m.Version++
	p.smap.Store(m)
	bmd := p.bmd.Load().Clone()
	bmd.Buckets["bench"] = cluster.DefaultBucketProps(cluster.AISBucketID(1), time.Now())
	bmd.Version++
	p.bmd.Store(bmd)
	return p
}

// TestRedirectLocation: the Location of a redirect names the owner, keeps
// the escaped path and the client's query, and carries exactly one pid (this
// proxy) and one fresh utm, also when the client sent its own.
func TestRedirectLocation(t *testing.T) {
	p := newRedirectProxy(t)
	h := p.router()
	for _, tc := range []struct{ target, wantQuery string }{
		{"/v1/objects/bench/dir/obj-1?provider=ais", "provider=ais"},
		{"/v1/objects/bench/a%20b%3Fc", ""},
		{"/v1/objects/bench/o?provider=ais&pid=p9&utm=zzz&x=%2B1", "provider=ais&x=%2B1"},
		{"/v1/objects/bench/o?x=1&x=2", "x=1&x=2"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusTemporaryRedirect {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			loc, err := url.Parse(w.Header().Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			rt, _ := url.Parse(tc.target)
			owner, _ := p.smap.Load().Owner(cluster.NewBucket("bench").Uname(strings.TrimPrefix(rt.Path, "/v1/objects/bench/")))
			if owner == nil || loc.Scheme+"://"+loc.Host != owner.URL() || loc.EscapedPath() != rt.EscapedPath() {
				t.Errorf("Location %s: want %s%s", loc, owner.URL(), rt.EscapedPath())
			}
			q := loc.Query()
			if got := q[wire.QparamProxyID]; len(got) != 1 || got[0] != "p1" {
				t.Errorf("pid = %q, want [p1]", got)
			}
			utm := q[wire.QparamUnixTime]
			ns, err := strconv.ParseInt(strings.Join(utm, ""), 36, 64)
			if len(utm) != 1 || err != nil || time.Since(time.Unix(0, ns)).Abs() > time.Minute {
				t.Errorf("utm = %q: not one fresh time", utm)
			}
			q.Del(wire.QparamProxyID)
			q.Del(wire.QparamUnixTime)
			want, _ := url.ParseQuery(tc.wantQuery)
			if q.Encode() != want.Encode() {
				t.Errorf("query %q, want the client's %q", q.Encode(), want.Encode())
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the header, reused
// between requests (what net/http's response costs is not measured).
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// BenchmarkRedirect measures the proxy's answer to an object GET and PUT
// (a 307 to the owner), for the redirect handler behind the Mux alone and
// behind the whole middleware stack the proxy serves with (tracing
// disabled, metrics on; "traced": tracing at ratio 0.01), as aisloader
// sends them.
func BenchmarkRedirect(b *testing.B) {
	p := newRedirectProxy(b)
	cfg := tracing.DefaultConfig()
	cfg.Enabled, cfg.SamplerProbability = true, 0.01
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleProxy, SpanProcessor: tracetest.NewSpanRecorder()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	pt := newRedirectProxy(b)
	pt.cfg.Tracing = tp
	stacks := []struct {
		name string
		h    http.Handler
	}{
		{"mux", p.router()},
		{"stack", p.cfg.Tracing.Handler(p.cfg.Metrics.Middleware(server.LimitConcurrency(p.router(), p.cfg.MaxConcurrent, p.cfg.ID, 1)), spanName,
			tracing.WithQuiet(server.Quiet))},
		// Tracing at ratio 0.01: nearly every request sampled out, its
		// redirect still signed.
		{"traced", tp.Handler(pt.cfg.Metrics.Middleware(server.LimitConcurrency(pt.router(), pt.cfg.MaxConcurrent, pt.cfg.ID, 1)), spanName,
			tracing.WithQuiet(server.Quiet))},
	}
	for _, st := range stacks {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			b.Run(st.name+"/"+method, func(b *testing.B) {
				b.ReportAllocs()
				r := httptest.NewRequest(method, "http://127.0.0.1:8080/v1/objects/bench/dir/obj-000123?provider=ais", nil)
				r.RemoteAddr = "127.0.0.1:50000"
				body := &rewindBody{}
				if method == http.MethodPut {
					r.Body, r.ContentLength = body, 4<<10
				}
				w := &discardWriter{h: http.Header{}}
				for b.Loop() {
					clear(w.h)
					body.Reset(putBody)
					st.h.ServeHTTP(w, r)
					if w.status != http.StatusTemporaryRedirect {
						b.Fatalf("status %d", w.status)
					}
				}
			})
		}
	}
}

// rewindBody is a request body that a benchmark reuses.
type rewindBody struct{ strings.Reader }

func (*rewindBody) Close() error { return nil }

// putBody is the 4 KiB body of a benchmark PUT (the proxy does not read it).
var putBody = strings.Repeat("x", 4<<10)

// TestRedirectLocationTraced: with tracing, the Location carries exactly
// one traceparent (the proxy's span's, not one the client put in its query)
// and its signature, next to the client's query.
func TestRedirectLocationTraced(t *testing.T) {
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleProxy, SpanProcessor: tracetest.NewSpanRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	p := newRedirectProxy(t)
	p.cfg.Tracing = tp
	h := tp.Handler(p.router(), spanName)
	forged := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, query := range []string{"provider=ais", "provider=ais&traceparent=" + forged} {
		r := httptest.NewRequest(http.MethodGet, "/v1/objects/bench/o?"+query, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		loc, err := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusTemporaryRedirect || err != nil {
			t.Fatalf("%s: %d %v", query, w.Code, err)
		}
		q := loc.Query()
		if tps := q[tracing.QueryTraceParent]; len(tps) != 1 || tps[0] == forged || len(q[tracing.QueryTraceSig]) != 1 {
			t.Errorf("%s: traceparent %q, tracesig %q; want one of each, the proxy's", query, tps, q[tracing.QueryTraceSig])
		}
		if q.Get(wire.QparamProvider) != "ais" || q.Get(wire.QparamProxyID) != "p1" {
			t.Errorf("%s: Location query %q", query, loc.RawQuery)
		}
	}
}
