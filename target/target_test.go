// The tests of the target's HTTP API, run on a real in-process cluster (a
// proxy and one target, internal/nodetest): package target_test, since
// nodetest imports target.
package target_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api/wire"
	"miniais/internal/nodetest"
	"miniais/target"
)

// testTarget is the target of a one-target cluster.
type testTarget struct {
	*nodetest.Target
	nc  *nodetest.Cluster
	url string
	mps []string
}

// startTarget starts a cluster of a proxy and one target ("t1"), adjusted
// by cfgs, creates buckets through the proxy and returns the target.
func startTarget(t testing.TB, buckets []string, cfgs ...func(*target.Config)) *testTarget {
	t.Helper()
	nc := nodetest.Start(t, nodetest.Options{Targets: 1, Target: func(_ int, c *target.Config) {
		for _, f := range cfgs {
			f(c)
		}
	}})
	for _, b := range buckets {
		if resp, body := request(t, "POST", nc.URL()+"/v1/buckets/"+b, strings.NewReader(`{"action":"create-bck"}`), nil); resp.StatusCode != 200 {
			t.Fatalf("create %s = %d %s", b, resp.StatusCode, body)
		}
	}
	tg := nc.Target(0)
	return &testTarget{Target: tg, nc: nc, url: tg.URL, mps: tg.Config.Mountpaths}
}

func request(t testing.TB, method, url string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// redirectQuery is what the proxy's redirect adds (fresh for a test run:
// a target refuses redirects older than redirectTTL).
var redirectQuery = "?provider=ais&pid=p1&utm=" + strconv.FormatInt(time.Now().UnixNano(), 36)

func xxh(b []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(b)) }

func TestObjectRoundTrip(t *testing.T) {
	tg := startTarget(t, []string{"b1"})
	for _, size := range []int{0, 1, 4 << 10, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := make([]byte, size)
			rand.Read(data)
			obj := tg.url + "/v1/objects/b1/dir/obj%20" + fmt.Sprint(size)
			resp, body := request(t, "PUT", obj+redirectQuery, bytes.NewReader(data), nil)
			if resp.StatusCode != 200 {
				t.Fatalf("PUT = %d %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get(wire.HdrChecksumValue); got != xxh(data) || resp.Header.Get(wire.HdrChecksumType) != "xxhash2" {
				t.Fatalf("PUT checksum %q, want %q", got, xxh(data))
			}
			resp, body = request(t, "GET", obj, nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get(wire.HdrChecksumValue) != xxh(data) {
				t.Fatalf("GET = %d, %d bytes, equal %v", resp.StatusCode, len(body), bytes.Equal(body, data))
			}
			resp, _ = request(t, "HEAD", obj, nil, nil)
			if resp.StatusCode != 200 || resp.ContentLength != int64(size) || resp.Header.Get(wire.HdrPresent) != "true" ||
				resp.Header.Get(wire.HdrName) != "dir/obj "+fmt.Sprint(size) || resp.Header.Get(wire.HdrVersion) != "1" ||
				!strings.HasPrefix(resp.Header.Get(wire.HdrLocation), "t[t1]:mp[") {
				t.Fatalf("HEAD = %d %v", resp.StatusCode, resp.Header)
			}
		})
	}
}

func TestRangeGet(t *testing.T) {
	tg := startTarget(t, []string{"b1"})
	data := []byte("0123456789abcdef")
	request(t, "PUT", tg.url+"/v1/objects/b1/r"+redirectQuery, bytes.NewReader(data), nil)
	resp, body := request(t, "GET", tg.url+"/v1/objects/b1/r", nil, map[string]string{"Range": "bytes=4-9"})
	if resp.StatusCode != 206 || string(body) != "456789" {
		t.Fatalf("range GET = %d %q", resp.StatusCode, body)
	}
}

func TestRefusals(t *testing.T) {
	tg := startTarget(t, []string{"b1"})
	good := "hello"
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		hdr    map[string]string
		status int
	}{
		{"put without redirect", "PUT", "/v1/objects/b1/o?provider=ais", good, nil, 400},
		{"delete without redirect", "DELETE", "/v1/objects/b1/o", "", nil, 400},
		{"missing bucket", "PUT", "/v1/objects/nope/o" + redirectQuery, good, nil, 404},
		{"missing object", "GET", "/v1/objects/b1/nothing", "", nil, 404},
		{"checksum mismatch", "PUT", "/v1/objects/b1/cks" + redirectQuery, good, map[string]string{wire.HdrChecksumType: "xxhash2", wire.HdrChecksumValue: "0000000000000000"}, 400},
		{"dotdot", "GET", "/v1/objects/b1/%2e%2e/etc/passwd", "", nil, 400},
		{"wrong method", "PATCH", "/v1/objects/b1/o", "", nil, 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := request(t, tc.method, tg.url+tc.path, strings.NewReader(tc.body), tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.status)
			}
		})
	}
	// The refused checksum left nothing behind.
	if resp, _ := request(t, "HEAD", tg.url+"/v1/objects/b1/cks", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("an object refused for its checksum is visible: HEAD = %d", resp.StatusCode)
	}
	// A correct client checksum is accepted.
	hdr := map[string]string{wire.HdrChecksumType: "xxhash2", wire.HdrChecksumValue: xxh([]byte(good))}
	if resp, body := request(t, "PUT", tg.url+"/v1/objects/b1/cks"+redirectQuery, strings.NewReader(good), hdr); resp.StatusCode != 200 {
		t.Fatalf("PUT with a matching checksum = %d %s", resp.StatusCode, body)
	}
}

// TestTruncatedBodyStoresNothing sends a PUT that declares 1000 bytes and
// sends 16, then ends the request: by closing the connection, or by
// closing only its write side (the target can still answer). It waits until
// the target has served the request to its end (its server span ended) and
// checks that it refused it (400, and in the half-closed case the answer
// on the connection), before checking that nothing was stored.
func TestTruncatedBodyStoresNothing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		halfClosed bool
	}{{"closed", false}, {"half-closed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tg := startTarget(t, []string{"b1"}, func(c *target.Config) { c.Tracing = tracedProvider(t, rec) })
			conn, err := net.Dial("tcp", strings.TrimPrefix(tg.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "PUT /v1/objects/b1/trunc%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a few bytes", redirectQuery)
			// The handler is reading the body: the request is in flight.
			nodetest.WaitFor(t, "the PUT in flight", func() bool { return stats(t, tg.url).InFlight == 1 })
			if tc.halfClosed {
				if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
				conn.SetReadDeadline(time.Now().Add(nodetest.Timeout))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("no answer to the truncated PUT: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "truncated body: 16 of the declared 1000 bytes") {
					t.Fatalf("truncated PUT answered %s %s, want 400 naming the truncation", resp.Status, body)
				}
			} else {
				conn.Close()
			}
			status := putStatus(t, rec)
			if status != http.StatusBadRequest {
				t.Fatalf("the target answered the truncated PUT with %d, want 400", status)
			}
			if n := stats(t, tg.url).InFlight; n != 0 {
				t.Fatalf("%d requests in flight after the PUT ended", n)
			}
			if resp, _ := request(t, "HEAD", tg.url+"/v1/objects/b1/trunc", nil, nil); resp.StatusCode != 404 {
				t.Fatalf("a truncated PUT is visible: HEAD = %d", resp.StatusCode)
			}
			for _, mp := range tg.mps {
				filepath.Walk(mp, func(path string, info os.FileInfo, err error) error {
					if m, _ := filepath.Match(filepath.Join(mp, "@ais", "*", "bid"), path); m {
						return nil // the bucket's ID, from its creation
					}
					if err == nil && !info.IsDir() {
						t.Errorf("file left behind by a truncated PUT: %s", path)
					}
					return nil
				})
			}
		})
	}
}

// putStatus waits until rec holds the ended server span of an object PUT
// and returns the status it answered.
func putStatus(t *testing.T, rec *tracetest.SpanRecorder) int64 {
	t.Helper()
	status := int64(-1)
	nodetest.WaitFor(t, "the PUT's server span to end", func() bool {
		for _, s := range rec.Ended() {
			if s.Name() != "PUT /v1/objects/{bucket}/{object...}" {
				continue
			}
			for _, kv := range s.Attributes() {
				if kv.Key == "http.response.status_code" {
					status = kv.Value.AsInt64()
				}
			}
			return true
		}
		return false
	})
	return status
}

// stats returns the target's counters.
func stats(t testing.TB, url string) wire.NodeStats {
	t.Helper()
	resp, body := request(t, "GET", url+"/v1/daemon?what=stats", nil, nil)
	var st wire.NodeStats
	if err := json.Unmarshal(body, &st); resp.StatusCode != 200 || err != nil {
		t.Fatalf("stats = %d %s (%v)", resp.StatusCode, body, err)
	}
	return st
}

func TestMaxObjectSize(t *testing.T) {
	tg := startTarget(t, []string{"b1"}, func(c *target.Config) { c.MaxObjectSize = 10 })
	if resp, body := request(t, "PUT", tg.url+"/v1/objects/b1/big"+redirectQuery, strings.NewReader(strings.Repeat("x", 11)), nil); resp.StatusCode != 413 {
		t.Fatalf("PUT over the limit = %d %s, want 413", resp.StatusCode, body)
	}
}

func TestListAndDelete(t *testing.T) {
	tg := startTarget(t, []string{"b1"})
	for _, n := range []string{"c", "a/1", "b", "a/2"} {
		request(t, "PUT", tg.url+"/v1/objects/b1/"+n+redirectQuery, strings.NewReader(n), nil)
	}
	list := func(msg string) []string {
		resp, body := request(t, "GET", tg.url+"/v1/buckets/b1", strings.NewReader(msg), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list = %d %s", resp.StatusCode, body)
		}
		var res wire.LsoResult
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range res.Entries {
			names = append(names, e.Name)
		}
		return names
	}
	if got := strings.Join(list(`{"action":"list","value":{}}`), ","); got != "a/1,a/2,b,c" {
		t.Fatalf("list = %s", got)
	}
	if got := strings.Join(list(`{"action":"list","value":{"prefix":"a/"}}`), ","); got != "a/1,a/2" {
		t.Fatalf("list prefix a/ = %s", got)
	}
	if resp, _ := request(t, "DELETE", tg.url+"/v1/objects/b1/b"+redirectQuery, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}
	if resp, _ := request(t, "DELETE", tg.url+"/v1/objects/b1/b"+redirectQuery, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("second DELETE = %d", resp.StatusCode)
	}
	if got := strings.Join(list(""), ","); got != "a/1,a/2,c" {
		t.Fatalf("list after delete = %s", got)
	}
}
