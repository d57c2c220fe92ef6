package target

import (
	"bytes"
	"context"
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
	"sync"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
	"miniais/transport"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fakeProxy is a transport server that admits targets and hands them a
// cluster map and bucket metadata, as a proxy does.
type fakeProxy struct {
	node   *cluster.Node
	client *transport.Client
	mu     sync.Mutex
	smap   *cluster.Map
	bmd    *cluster.BMD
	joined chan string
}

func startFakeProxy(t testing.TB, buckets ...string) *fakeProxy {
	t.Helper()
	fp := &fakeProxy{node: cluster.NewNode("p1", cluster.RoleProxy, freeAddr(t), freeAddr(t)), joined: make(chan string, 10)}
	fp.smap = cluster.NewMap("u", fp.node)
	fp.bmd = cluster.NewBMD("u")
	for _, b := range buckets {
		fp.bmd.Buckets[b] = cluster.DefaultBucketProps(1, time.Now())
	}
	fp.bmd.Version = 1
	cfg := transport.Config{NodeID: "p1"}
	srv := transport.NewServer(cfg)
	srv.Handle(transport.KindJoin, func(_ context.Context, m *transport.Message, reply *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		n := &cluster.Node{}
		if _, err := n.UnmarshalMsg(b); err != nil {
			return nil, err
		}
		fp.mu.Lock()
		defer fp.mu.Unlock()
		next := fp.smap.Clone()
		next.Targets[n.ID] = n
		next.Version++
		fp.smap = next
		reply.Opaque, _ = fp.bmd.MarshalMsg(nil)
		fp.joined <- n.ID
		return next.MarshalMsg(nil)
	})
	srv.Handle(transport.KindKeepalive, func(context.Context, *transport.Message, *transport.Header) ([]byte, error) { return nil, nil })
	ln, err := net.Listen("tcp", fp.node.TransportAddr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, ln)
	fp.client = transport.NewClient(cfg)
	t.Cleanup(func() { cancel(); srv.Close(); fp.client.Close() })
	return fp
}

type testTarget struct {
	*Target
	url string
	mps []string
}

func startTarget(t testing.TB, fp *fakeProxy, cfgs ...func(*Config)) *testTarget {
	t.Helper()
	dir := t.TempDir()
	mps := []string{filepath.Join(dir, "mp1"), filepath.Join(dir, "mp2")}
	for _, mp := range mps {
		os.Mkdir(mp, 0o755)
	}
	cfg := Config{
		ID: "t1", PublicAddr: freeAddr(t), TransportAddr: freeAddr(t), ProxyAddr: fp.node.TransportAddr(),
		DataDir: filepath.Join(dir, "data"), Mountpaths: mps, Fsync: "never", Tracing: tracing.Disabled(),
		KeepaliveInterval: 100 * time.Millisecond,
	}
	for _, f := range cfgs {
		f(&cfg)
	}
	tg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tg.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("target Run: %v", err)
		}
	})
	select {
	case <-fp.joined:
	case <-time.After(10 * time.Second):
		t.Fatal("the target did not join")
	}
	deadline := time.Now().Add(5 * time.Second)
	for tg.bmd.Load().Version == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return &testTarget{Target: tg, url: "http://" + cfg.PublicAddr, mps: mps}
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
	tg := startTarget(t, startFakeProxy(t, "b1"))
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
	tg := startTarget(t, startFakeProxy(t, "b1"))
	data := []byte("0123456789abcdef")
	request(t, "PUT", tg.url+"/v1/objects/b1/r"+redirectQuery, bytes.NewReader(data), nil)
	resp, body := request(t, "GET", tg.url+"/v1/objects/b1/r", nil, map[string]string{"Range": "bytes=4-9"})
	if resp.StatusCode != 206 || string(body) != "456789" {
		t.Fatalf("range GET = %d %q", resp.StatusCode, body)
	}
}

func TestRefusals(t *testing.T) {
	tg := startTarget(t, startFakeProxy(t, "b1"))
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

func TestTruncatedBodyStoresNothing(t *testing.T) {
	tg := startTarget(t, startFakeProxy(t, "b1"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(tg.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v1/objects/b1/trunc%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a few bytes", redirectQuery)
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	time.Sleep(200 * time.Millisecond)
	if resp, _ := request(t, "HEAD", tg.url+"/v1/objects/b1/trunc", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("a truncated PUT is visible: HEAD = %d", resp.StatusCode)
	}
	for _, mp := range tg.mps {
		filepath.Walk(mp, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				t.Errorf("file left behind by a truncated PUT: %s", path)
			}
			return nil
		})
	}
}

func TestMaxObjectSize(t *testing.T) {
	tg := startTarget(t, startFakeProxy(t, "b1"), func(c *Config) { c.MaxObjectSize = 10 })
	if resp, body := request(t, "PUT", tg.url+"/v1/objects/b1/big"+redirectQuery, strings.NewReader(strings.Repeat("x", 11)), nil); resp.StatusCode != 413 {
		t.Fatalf("PUT over the limit = %d %s, want 413", resp.StatusCode, body)
	}
}

func TestListAndDelete(t *testing.T) {
	tg := startTarget(t, startFakeProxy(t, "b1"))
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
