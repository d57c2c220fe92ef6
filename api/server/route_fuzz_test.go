package server

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"miniais/api/wire"
)

// FuzzParseRoute feeds request-targets, as a client may send them, through
// url.ParseRequestURI (what net/http's server does) and ParseRoute. Whatever
// it accepts must name a valid bucket and an object name that stays inside
// the bucket's directory when joined to it.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{
		"/v1/objects/b/o", "/v1/objects/b/dir/sub/leaf.bin?provider=ais", "/v1/buckets/b", "/v1/buckets",
		"/v1/health", "/v1/daemon?what=smap", "/v1/objects/b/%2e%2e/%2e%2e/etc/passwd",
		"/v1/objects/b/../x", "/v1/objects/b//abs", "/v1/objects/b/a%00b", "/v1/objects/b/%ff%fe",
		"/v1/objects/%2e%2e/o", "/v1/objects/a%2fb/o", "/v1/buckets/..", "/v1/objects/b/o?provider=gcp",
		"/v1/objects/b/with%20space/%E6%97%A5", "/v1/objects/b/a/./b", "/v1/objects/b/dir/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		rt, err := ParseRoute(&http.Request{Method: http.MethodGet, URL: u})
		if err != nil {
			if wire.StatusOf(err) < 400 || wire.StatusOf(err) >= 500 {
				t.Fatalf("ParseRoute(%q) error %v maps to %d", target, err, wire.StatusOf(err))
			}
			return
		}
		switch rt.Resource {
		case wire.ResHealth, wire.ResDaemon:
			return
		case wire.ResBuckets, wire.ResObjects:
		default:
			t.Fatalf("ParseRoute(%q) accepted resource %q", target, rt.Resource)
		}
		if rt.Bucket.Name == "" {
			if rt.Resource == wire.ResObjects {
				t.Fatalf("ParseRoute(%q): object route without a bucket", target)
			}
			return
		}
		if err := rt.Bucket.Validate(); err != nil {
			t.Fatalf("ParseRoute(%q) accepted bucket %q: %v", target, rt.Bucket.Name, err)
		}
		if strings.ContainsAny(rt.Bucket.Name, "/\x00") || rt.Bucket.Name == ".." {
			t.Fatalf("ParseRoute(%q) accepted bucket %q", target, rt.Bucket.Name)
		}
		if rt.Resource == wire.ResBuckets {
			if rt.Object != "" {
				t.Fatalf("ParseRoute(%q): bucket route with object %q", target, rt.Object)
			}
			return
		}
		obj := rt.Object
		if obj == "" || !utf8.ValidString(obj) || strings.IndexByte(obj, 0) >= 0 || strings.HasPrefix(obj, "/") {
			t.Fatalf("ParseRoute(%q) accepted object name %q", target, obj)
		}
		const dir = "/mp/@ais/bucket/%ob"
		joined := filepath.Join(dir, obj)
		if !strings.HasPrefix(joined, dir+"/") || filepath.Clean(dir+"/"+obj) != dir+"/"+obj {
			t.Fatalf("ParseRoute(%q): object name %q leaves or aliases its directory: %s", target, obj, joined)
		}
	})
}
