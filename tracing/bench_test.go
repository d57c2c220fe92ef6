package tracing

import (
	"net/http"
	"net/url"
	"testing"
)

// nopWriter is a ResponseWriter that allocates nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkHandler measures the per-request cost of Provider.Handler around a
// trivial handler: "compiled_out" (run with -tags notracing), "disabled",
// "enabled" (sampling 1.0 into an in-memory exporter), "ratio_0.01" and
// "ratio_0.01_tail" (the same ratio with the tail rule: every request is
// recorded, held and, fast and successful, forgotten); "bare" is the
// handler alone.
func BenchmarkHandler(b *testing.B) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	name := func(r *http.Request) string { return r.Method + " /v1/objects/{bucket}/{object...}" }
	states := []struct {
		name string
		p    *Provider
		skip bool
	}{
		{name: "bare"},
		{name: "compiled_out", p: Disabled(), skip: Compiled},
		{name: "disabled", p: Disabled(), skip: !Compiled},
		{name: "enabled", p: enabledBenchProvider(b), skip: !Compiled},
		{name: "ratio_0.01", p: benchProvider(b, 0.01, false), skip: !Compiled},
		{name: "ratio_0.01_tail", p: benchProvider(b, 0.01, true), skip: !Compiled},
	}
	for _, st := range states {
		if st.skip {
			continue
		}
		b.Run(st.name, func(b *testing.B) {
			h := http.Handler(inner)
			if st.p != nil {
				h = st.p.Handler(inner, name)
			}
			req := &http.Request{Method: "GET", URL: &url.URL{Path: "/v1/objects/b/o", RawQuery: "provider=ais"},
				Header: http.Header{}, Host: "127.0.0.1:8080", RemoteAddr: "127.0.0.1:5555"}
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
