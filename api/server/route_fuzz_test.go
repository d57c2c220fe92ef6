package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"miniais/api/wire"
)

// FuzzRouteOf feeds request-targets, as a client may send them, through
// url.ParseRequestURI (what net/http's server does), the Mux and RouteOf.
// Whatever it accepts must name a valid bucket and an object name that stays
// inside the bucket's directory when joined to it; whatever it refuses gets
// a 4xx (or 501) status, never a redirect that rewrites the name.
func FuzzRouteOf(f *testing.F) {
	for _, s := range []string{
		"/v1/objects/b/o", "/v1/objects/b/dir/sub/leaf.bin?provider=ais", "/v1/buckets/b", "/v1/buckets",
		"/v1/health", "/v1/daemon?what=smap", "/v1/objects/b/%2e%2e/%2e%2e/etc/passwd",
		"/v1/objects/b/../x", "/v1/objects/b//abs", "/v1/objects/b/a%00b", "/v1/objects/b/%ff%fe",
		"/v1/objects/%2e%2e/o", "/v1/objects/a%2fb/o", "/v1/buckets/..", "/v1/objects/b/o?provider=gcp",
		"/v1/objects/b/with%20space/%E6%97%A5", "/v1/objects/b/a/./b", "/v1/objects/b/dir/", "/v1/objects/b",
		"/v1/objects/b/o?object_to=ais/@%23/b/o2",
	} {
		f.Add(s)
	}
	var got *Route
	m := NewMux("n1")
	h := func(w http.ResponseWriter, r *http.Request) {
		rt, err := RouteOf(r)
		if err != nil {
			WriteError(w, r, "n1", err)
			return
		}
		got = &rt
	}
	m.HandleFunc("GET /v1/objects/{bucket}/{object...}", h)
	m.HandleFunc("GET /v1/buckets/{bucket}", h)
	m.HandleFunc("GET /v1/buckets", h)
	m.HandleFunc("GET /v1/health", h)
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		got = nil
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, RequestURI: target})
		if got == nil {
			if rec.Code < 400 || rec.Code >= 600 || (rec.Code >= 500 && rec.Code != http.StatusNotImplemented) {
				t.Fatalf("%q: status %d", target, rec.Code)
			}
			if rec.Header().Get("Content-Type") != wire.ContentJSON {
				t.Fatalf("%q: status %d without a JSON error", target, rec.Code)
			}
			return
		}
		rt := *got
		if rt.Bucket.Name == "" {
			return
		}
		if err := rt.Bucket.Validate(); err != nil {
			t.Fatalf("%q accepted bucket %q: %v", target, rt.Bucket.Name, err)
		}
		if strings.ContainsAny(rt.Bucket.Name, "/\x00") || rt.Bucket.Name == ".." {
			t.Fatalf("%q accepted bucket %q", target, rt.Bucket.Name)
		}
		if !strings.HasPrefix(u.Path, "/v1/objects/") {
			if rt.Object != "" {
				t.Fatalf("%q: bucket route with object %q", target, rt.Object)
			}
			return
		}
		obj := rt.Object
		if obj == "" || !utf8.ValidString(obj) || strings.IndexByte(obj, 0) >= 0 || strings.HasPrefix(obj, "/") {
			t.Fatalf("%q accepted object name %q", target, obj)
		}
		const dir = "/mp/@ais/bucket/%ob"
		joined := filepath.Join(dir, obj)
		if !strings.HasPrefix(joined, dir+"/") || filepath.Clean(dir+"/"+obj) != dir+"/"+obj {
			t.Fatalf("%q: object name %q leaves or aliases its directory: %s", target, obj, joined)
		}
	})
}
