package tests

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/tests/harness"
)

// TestBadHTTPInput sends malformed and hostile requests, as raw bytes, to the
// proxy and straight to a target: names with "..", "%2e%2e", absolute paths,
// NUL, invalid UTF-8, over-long names; truncated bodies; oversized headers;
// wrong methods; unknown actions; malformed JSON. Each must answer a clear
// 4xx. Afterwards nothing was written outside the mountpaths, no object or
// bucket was created, no work file is left, and the nodes serve as before.
func TestBadHTTPInput(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 1, Mountpaths: 2, LogLevel: "info"})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "bad")
	target := cl.Targets()[0]
	marker := fmt.Sprintf("escape-%x", rand.Uint64()) // no file may ever get this name
	long := strings.Repeat("n", 5000)
	longSeg := strings.Repeat("s", 300)
	ok := "?" + redirectQuery(t, ctx, cl) // a target accepts PUT and DELETE only after a redirect

	type tc struct {
		name   string
		method string
		target string // the request-target, sent as is
		body   string
		want   int // 0: any 4xx
	}
	names := []tc{
		{"dotdot", "", "/v1/objects/bad/../../../../" + marker, "", 400},
		{"dotdot inside", "", "/v1/objects/bad/a/b/../../../" + marker, "", 400},
		{"encoded dotdot", "", "/v1/objects/bad/%2e%2e/%2e%2e/%2E%2E/" + marker, "", 400},
		{"encoded slash dotdot", "", "/v1/objects/bad/..%2f..%2f" + marker, "", 400},
		{"dot", "", "/v1/objects/bad/./" + marker, "", 400},
		{"absolute", "", "/v1/objects/bad//tmp/" + marker, "", 400},
		{"encoded absolute", "", "/v1/objects/bad/%2ftmp%2f" + marker, "", 400},
		{"NUL", "", "/v1/objects/bad/a%00" + marker, "", 400},
		{"invalid UTF-8", "", "/v1/objects/bad/%ff%fe" + marker, "", 400},
		{"overlong name", "", "/v1/objects/bad/" + long, "", 400},
		{"overlong segment", "", "/v1/objects/bad/a/" + longSeg, "", 400},
		{"trailing slash", "", "/v1/objects/bad/dir/", "", 400},
		{"no object", "", "/v1/objects/bad/", "", 400},
		{"bucket dotdot", "", "/v1/objects/../" + marker, "", 400},
		{"bucket encoded dotdot", "", "/v1/objects/%2e%2e/" + marker, "", 400},
		{"bucket slash", "", "/v1/objects/a%2fb/" + marker, "", 0}, // bucket "a", object "b/..."
		{"bucket NUL", "", "/v1/objects/a%00/" + marker, "", 400},
		{"bucket UTF-8", "", "/v1/objects/%ff/" + marker, "", 400},
		{"bucket overlong", "", "/v1/objects/" + strings.Repeat("b", 100) + "/o", "", 400},
		{"bucket provider", "", "/v1/objects/bad/o?provider=gcp", "", 501},
	}
	var cases []tc
	for _, n := range names {
		for _, m := range []string{"PUT", "GET", "HEAD", "DELETE"} {
			n := n
			n.method, n.body = m, ""
			if m == "PUT" {
				n.body = "payload"
			}
			cases = append(cases, n)
		}
	}
	cases = append(cases,
		tc{"bucket create dotdot", "POST", "/v1/buckets/..", `{"action":"create-bck"}`, 400},
		tc{"bucket create encoded", "POST", "/v1/buckets/%2e%2e", `{"action":"create-bck"}`, 400},
		tc{"bucket create slash", "POST", "/v1/buckets/a%2f..%2f" + marker, `{"action":"create-bck"}`, 400},
		tc{"bucket create NUL", "POST", "/v1/buckets/a%00b", `{"action":"create-bck"}`, 400},
		tc{"bucket create UTF-8", "POST", "/v1/buckets/%c3%28", `{"action":"create-bck"}`, 400},
		tc{"bucket create long", "POST", "/v1/buckets/" + strings.Repeat("b", 65), `{"action":"create-bck"}`, 400},
		tc{"bucket extra segment", "POST", "/v1/buckets/bad/x", `{"action":"create-bck"}`, 405},
		tc{"unknown action", "POST", "/v1/buckets/other", `{"action":"nope"}`, 400},
		tc{"no action", "POST", "/v1/buckets/other", ``, 400},
		tc{"wrong action for DELETE", "DELETE", "/v1/buckets/bad", `{"action":"create-bck"}`, 400},
		tc{"unknown action GET", "GET", "/v1/buckets/bad", `{"action":"nope"}`, 400},
		tc{"unknown action PATCH", "PATCH", "/v1/buckets/bad", `{"action":"nope","value":{}}`, 400},
		tc{"set-bprops no value", "PATCH", "/v1/buckets/bad", `{"action":"set-bprops"}`, 400},
		tc{"set-bprops unknown prop", "PATCH", "/v1/buckets/bad", `{"action":"set-bprops","value":{"nope":1}}`, 400},
		tc{"set-bprops bad type", "PATCH", "/v1/buckets/bad", `{"action":"set-bprops","value":{"checksum":{"validate_warm_get":"yes"}}}`, 400},
		tc{"set-bprops bid", "PATCH", "/v1/buckets/bad", `{"action":"set-bprops","value":{"bid":"1"}}`, 400},
		tc{"set-bprops unknown checksum", "PATCH", "/v1/buckets/bad", `{"action":"set-bprops","value":{"checksum":{"type":"cesmd5"}}}`, 400},
		tc{"set-bprops missing bucket", "PATCH", "/v1/buckets/nobucket", `{"action":"set-bprops","value":{}}`, 404},
		tc{"malformed JSON", "POST", "/v1/buckets/other", `{"action":`, 400},
		tc{"JSON not an object", "POST", "/v1/buckets/other", `["create-bck"]`, 400},
		tc{"malformed list value", "GET", "/v1/buckets/bad", `{"action":"list","value":{"pagesize":"x"}}`, 400},
		tc{"huge action", "POST", "/v1/buckets/other", `{"action":"create-bck","name":"` + strings.Repeat("x", 100<<10) + `"}`, 413},
		tc{"wrong method object POST", "POST", "/v1/objects/bad/o", "x", 400},
		tc{"wrong method object PATCH", "PATCH", "/v1/objects/bad/o", "x", 405},
		tc{"wrong method health", "PUT", "/v1/health", "x", 405},
		tc{"wrong method daemon", "DELETE", "/v1/daemon", "", 405},
		tc{"wrong method buckets", "PUT", "/v1/buckets", "", 405},
		tc{"wrong method TRACE", "TRACE", "/v1/buckets/bad", "", 405},
		tc{"unknown what", "GET", "/v1/daemon?what=nope", "", 501},
		tc{"unknown resource", "GET", "/v1/nope", "", 404},
		tc{"not v1", "GET", "/v2/objects/bad/o", "", 404},
		tc{"health extra", "GET", "/v1/health/x", "", 404},
	)

	for _, node := range []*harness.Node{cl.Proxy(), target} {
		for _, tc := range cases {
			path := tc.target
			if node == target && (tc.method == "PUT" || tc.method == "DELETE") && strings.HasPrefix(path, "/v1/objects/") {
				if strings.Contains(path, "?") {
					path += "&" + ok[1:]
				} else {
					path += ok
				}
			}
			name := fmt.Sprintf("%s/%s %s", node.Name, tc.method, tc.name)
			req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", tc.method, path, len(tc.body), tc.body)
			rep := rawRequest(t, node.PublicAddr, req, 10*time.Second)
			if rep.Status == 307 && node == cl.Proxy() {
				// The proxy checks what every node checks; the owning
				// target checks the rest (e.g. the length of a name's
				// segments, a file system limit). Follow, as a client would.
				u, err := url.Parse(rep.Header.Get("Location"))
				if err != nil || u.Host != target.PublicAddr {
					t.Errorf("%s: redirect to %q", name, rep.Header.Get("Location"))
					continue
				}
				req = fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", tc.method, u.RequestURI(), len(tc.body), tc.body)
				rep = rawRequest(t, u.Host, req, 10*time.Second)
				name += " (redirected)"
			}
			if node == target && strings.HasPrefix(tc.target, "/v1/buckets") && tc.method != "GET" && tc.method != "HEAD" {
				// Bucket changes go through the proxy; a target refuses them
				// with some 4xx.
				tc.want = 0
			}
			checkClear4xx(t, name, tc.method, rep, tc.want)
		}
	}

	// Truncated bodies: a Content-Length larger than what is sent, then the
	// client goes away. Through the proxy's redirect and straight to the target.
	for _, n := range []int{0, 1000, 300 << 10} {
		nc, err := net.Dial("tcp", target.PublicAddr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(nc, "PUT /v1/objects/bad/truncated-%d%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", n, ok, n+4096, strings.Repeat("t", n))
		nc.(*net.TCPConn).CloseWrite()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		rep := readReply(nc)
		nc.Close()
		if rep.Status != 0 && (rep.Status < 400 || rep.Status >= 500) {
			t.Errorf("truncated PUT of %d of %d bytes: %d %s", n, n+4096, rep.Status, rep.Body)
		}
		t.Logf("truncated PUT (%d of %d bytes): %d %v", n, n+4096, rep.Status, rep.Err)
	}
	// Oversized headers: one header line of 100 KiB, and many small ones.
	for _, hdr := range []string{
		"X-Big: " + strings.Repeat("h", 100<<10) + "\r\n",
		strings.Repeat("X-Many: 0123456789abcdef0123456789abcdef\r\n", 4000),
	} {
		for _, node := range []*harness.Node{cl.Proxy(), target} {
			rep := rawRequest(t, node.PublicAddr, "GET /v1/objects/bad/o HTTP/1.1\r\nHost: x\r\n"+hdr+"\r\n", 10*time.Second)
			if rep.Status != 431 {
				t.Errorf("%s: oversized headers: %d %v, want 431", node.Name, rep.Status, rep.Err)
			}
		}
	}
	// A malformed request line and a bogus protocol.
	for _, raw := range []string{"GARBAGE\r\n\r\n", "GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n", "\x00\x01\x02\x03\r\n\r\n"} {
		rep := rawRequest(t, target.PublicAddr, raw, 10*time.Second)
		if rep.Status != 0 && (rep.Status < 400 || rep.Status >= 500) && rep.Status != 505 {
			t.Errorf("malformed request %q: %d", raw, rep.Status)
		}
	}

	// Nothing was created: no new bucket, no object, no work file, and no
	// file anywhere under the cluster's directory or its parent by the
	// marker's name.
	bcks, err := c.ListBuckets(ctx)
	if err != nil || len(bcks) != 1 || bcks[0].Name != bck.Name {
		t.Errorf("buckets after the bad input: %v %v", bcks, err)
	}
	if entries, err := c.ListObjects(ctx, bck, api.ListOptions{}); err != nil || len(entries) != 0 {
		t.Errorf("objects after the bad input: %d %v", len(entries), err)
	}
	if !waitUntil(3*time.Second, func() bool { return len(workFiles(t, target.Mountpaths)) == 0 }) {
		t.Errorf("work files left: %v", workFiles(t, target.Mountpaths))
	}
	for _, rel := range storedFiles(t, target.Mountpaths) {
		t.Errorf("a file on a mountpath after the bad input: %s", rel)
	}
	for _, dir := range []string{cl.Dir(), filepath.Dir(cl.Dir())} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return filepath.SkipDir // another test's directory may vanish
			}
			if strings.Contains(d.Name(), marker) {
				t.Errorf("a file escaped: %s", path)
			}
			if d.IsDir() && dir != cl.Dir() && path != dir {
				return filepath.SkipDir // the parent: its own entries only
			}
			return nil
		})
	}
	// And the nodes still serve.
	if _, err := c.PutObject(ctx, bck, "fine", strings.NewReader("fine"), api.PutOptions{Size: 4}); err != nil {
		t.Errorf("PUT after the bad input: %v", err)
	}
}

// checkClear4xx fails unless rep is a 4xx (want, when not 0) that explains
// itself: a JSON error body with a message, except for HEAD (no body) and
// net/http's own refusals before routing.
func checkClear4xx(t *testing.T, name, method string, rep rawReply, want int) {
	t.Helper()
	if rep.Status == 0 {
		t.Errorf("%s: no reply: %v", name, rep.Err)
		return
	}
	if rep.Status < 400 || (rep.Status >= 500 && rep.Status != http.StatusNotImplemented) || (want != 0 && rep.Status != want) {
		t.Errorf("%s: %d %s, want %d", name, rep.Status, firstN(rep.Body, 200), want)
		return
	}
	if method == "HEAD" {
		rep.Body = rep.Header.Get(wire.HdrError) // a HEAD's error travels in a header
	}
	var he wire.HTTPError
	if err := json.Unmarshal([]byte(rep.Body), &he); err != nil || he.Message == "" || he.Status != rep.Status {
		t.Errorf("%s: %d with an unclear body %q", name, rep.Status, firstN(rep.Body, 200))
	}
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
