package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/OneOfOne/xxhash"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
)

// testTargets is the number of targets of the clusters these tests run.
const testTargets = 2

// newClient starts a real in-process cluster and returns a client of its
// proxy.
func newClient(tb testing.TB) (*api.Client, *nodetest.Cluster) {
	tb.Helper()
	nc := nodetest.Start(tb, nodetest.Options{Targets: testTargets})
	return api.NewClient(nc.URL()), nc
}

// xxhash2 is the checksum of data as miniais spells it.
func xxhash2(data []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(data)) }

// consumingProxy stands in front of a real cluster's proxy and reads the
// body of every object PUT before passing the request on without it, like
// a proxy that ignores "Expect: 100-continue": the real proxy's redirect
// then reaches the client after its body was sent. (The real proxy never
// reads a PUT's body: this is the fault it cannot be made to produce.)
type consumingProxy struct {
	url      string
	putBytes atomic.Int64 // body bytes of PUTs it read
}

func newConsumingProxy(tb testing.TB, nc *nodetest.Cluster) *consumingProxy {
	tb.Helper()
	real, err := url.Parse(nc.URL())
	if err != nil {
		tb.Fatal(err)
	}
	cp := &consumingProxy{}
	rp := httputil.NewSingleHostReverseProxy(real)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, wire.PathObjects+"/") {
			n, _ := io.Copy(io.Discard, r.Body)
			cp.putBytes.Add(n)
			r.Body, r.ContentLength = http.NoBody, 0
			r.Header.Del("Expect")
		}
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	cp.url = srv.URL
	return cp
}

func mustCreate(tb testing.TB, c *api.Client, name string) cluster.Bucket {
	tb.Helper()
	bck := cluster.NewBucket(name)
	if err := c.CreateBucket(context.Background(), bck); err != nil {
		tb.Fatalf("create %s: %v", bck, err)
	}
	return bck
}

// pipeReader hides every interface but Read, like stdin.
type pipeReader struct{ r io.Reader }

func (p pipeReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// TestPutGetRoundTrip also proves that Expect: 100-continue keeps a PUT's
// body away from the proxy: the read-once cases fail if any byte of it was
// sent before the redirect.
func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, nc := newClient(t)
	bck := mustCreate(t, c, "b1")
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	tests := []struct {
		name string
		obj  string
		body func() io.Reader
		size int64
		data []byte
	}{
		{"bytes reader", "plain", func() io.Reader { return bytes.NewReader(big) }, -1, big},
		{"strings reader known size", "dir/sub/obj.txt", func() io.Reader { return strings.NewReader("hello") }, 5, []byte("hello")},
		{"non-seekable chunked", "stdin obj", func() io.Reader { return pipeReader{bytes.NewReader(big)} }, -1, big},
		{"non-seekable known size", "sized", func() io.Reader { return pipeReader{strings.NewReader("abc")} }, 3, []byte("abc")},
		{"nil body", "empty", func() io.Reader { return nil }, 0, []byte{}},
		{"empty reader", "empty2", func() io.Reader { return strings.NewReader("") }, 0, []byte{}},
		// The zero PutOptions never cut a reader's content (it once stored
		// 0 bytes of a bytes.Reader).
		{"bytes reader, zero Size", "zero-size", func() io.Reader { return bytes.NewReader(big) }, 0, big},
		{"non-seekable, zero Size", "zero-size-pipe", func() io.Reader { return pipeReader{strings.NewReader("abc")} }, 0, []byte("abc")},
		{"escaping", "a b/50%/q?x=1#frag/ünïcødé/+;=@", func() io.Reader { return strings.NewReader("weird") }, -1, []byte("weird")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := c.PutObject(ctx, bck, tt.obj, tt.body(), api.PutOptions{Size: tt.size})
			if err != nil {
				t.Fatalf("put: %v", err)
			}
			if a.Size != int64(len(tt.data)) || a.Checksum.Value != xxhash2(tt.data) || a.Version != "1" {
				t.Errorf("put attrs = %+v", a)
			}
			stored, ok := nc.Object(bck.Name, tt.obj)
			if !ok || !bytes.Equal(stored, tt.data) {
				t.Fatalf("stored %d bytes (present %v), want %d", len(stored), ok, len(tt.data))
			}
			var buf bytes.Buffer
			ga, err := c.GetObject(ctx, bck, tt.obj, &buf, api.GetOptions{})
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), tt.data) || ga.Size != int64(len(tt.data)) {
				t.Errorf("get returned %d bytes, size %d; want %d", buf.Len(), ga.Size, len(tt.data))
			}
			ha, err := c.HeadObject(ctx, bck, tt.obj)
			if err != nil {
				t.Fatalf("head: %v", err)
			}
			if ha.Name != tt.obj || ha.Size != int64(len(tt.data)) || !ha.Present || ha.Location == "" ||
				ha.Copies != 1 || len(ha.Paths) != 1 || !strings.Contains(ha.Location, ha.Paths[0]) {
				t.Errorf("head attrs = %+v", ha)
			}
		})
	}
}

func TestPutAfterProxyConsumedBody(t *testing.T) {
	ctx := context.Background()
	_, nc := newClient(t)
	cp := newConsumingProxy(t, nc)
	c := api.NewClient(cp.url)
	bck := mustCreate(t, c, "b")
	// A re-sendable body survives a proxy that read it.
	if _, err := c.PutObject(ctx, bck, "ok", strings.NewReader("resend me"), api.PutOptions{Size: -1}); err != nil {
		t.Fatalf("re-sendable put: %v", err)
	}
	if got, _ := nc.Object("b", "ok"); string(got) != "resend me" {
		t.Errorf("stored %q", got)
	}
	if cp.putBytes.Load() == 0 {
		t.Fatal("the proxy read no body bytes: the test exercises nothing")
	}
	// A read-once body must fail rather than store a truncated object.
	_, err := c.PutObject(ctx, bck, "bad", pipeReader{strings.NewReader("only once")}, api.PutOptions{Size: -1})
	if err == nil || !strings.Contains(err.Error(), "cannot re-send") {
		t.Fatalf("read-once put after consumed body: err = %v", err)
	}
	if _, ok := nc.Object("b", "bad"); ok {
		t.Error("a truncated object was stored")
	}
}

func TestPutChecksum(t *testing.T) {
	ctx := context.Background()
	c, _ := newClient(t)
	bck := mustCreate(t, c, "b")
	tests := []struct {
		name    string
		cksum   string
		wantErr error
	}{
		{"match", xxhash2([]byte("data")), nil},
		{"mismatch", "0000000000000000", cluster.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutObject(ctx, bck, "o", strings.NewReader("data"), api.PutOptions{Size: -1, Checksum: cluster.Checksum{Value: tt.cksum}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(err, cluster.ErrBadRequest) {
				t.Errorf("err = %v, want also ErrBadRequest (400)", err)
			}
		})
	}
}

func TestGetRange(t *testing.T) {
	ctx := context.Background()
	c, _ := newClient(t)
	bck := mustCreate(t, c, "b")
	if _, err := c.PutObject(ctx, bck, "o", strings.NewReader("0123456789"), api.PutOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off, n int64
		want   string
	}{{0, 0, "0123456789"}, {3, 0, "3456789"}, {2, 3, "234"}, {0, 1, "0"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var buf bytes.Buffer
			a, err := c.GetObject(ctx, bck, "o", &buf, api.GetOptions{Offset: tt.off, Length: tt.n})
			if err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want || a.Size != 10 {
				t.Errorf("got %q size %d, want %q size 10", buf.String(), a.Size, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	c, nc := newClient(t)
	bck := mustCreate(t, c, "b")
	missing := cluster.NewBucket("nope")
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"create existing", func() error { return c.CreateBucket(ctx, bck) }, cluster.ErrExists},
		{"destroy missing", func() error { return c.DestroyBucket(ctx, missing) }, cluster.ErrNotFound},
		{"head missing bucket", func() error { _, err := c.HeadBucket(ctx, missing); return err }, cluster.ErrNotFound},
		{"get missing object", func() error { _, err := c.GetObject(ctx, bck, "x", io.Discard, api.GetOptions{}); return err }, cluster.ErrNotFound},
		{"head missing object", func() error { _, err := c.HeadObject(ctx, bck, "x"); return err }, cluster.ErrNotFound},
		{"delete missing object", func() error { return c.DeleteObject(ctx, bck, "x") }, cluster.ErrNotFound},
		{"put into missing bucket", func() error {
			_, err := c.PutObject(ctx, missing, "x", strings.NewReader("x"), api.PutOptions{Size: -1})
			return err
		}, cluster.ErrNotFound},
		{"bad object name", func() error { _, err := c.HeadObject(ctx, bck, "../x"); return err }, cluster.ErrBadName},
		{"bad bucket name", func() error { return c.CreateBucket(ctx, cluster.NewBucket("a/b")) }, cluster.ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("HTTPError fields", func(t *testing.T) {
		// The proxy redirects; the owner answers 404 and names itself.
		owner, err := nc.Proxy().Smap().Owner(bck.Uname("x"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetObject(ctx, bck, "x", io.Discard, api.GetOptions{})
		var he *wire.HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusNotFound || he.Node != owner.ID || he.Method != http.MethodGet {
			t.Fatalf("err = %#v, want a 404 from %s", err, owner.ID)
		}
	})
	t.Run("HEAD message names the object", func(t *testing.T) {
		_, err := c.HeadObject(ctx, bck, "x")
		if !errors.Is(err, cluster.ErrNotFound) || !strings.Contains(err.Error(), "ais://b/x") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	c := api.NewClient(addr)
	err = c.Health(context.Background())
	var ce *api.ConnError
	if !errors.As(err, &ce) || !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("err = %v, want *ConnError", err)
	}
	if !strings.Contains(err.Error(), "cannot reach the cluster at "+addr) {
		t.Errorf("message %q does not name the endpoint", err)
	}
}

func TestBucketsAndListing(t *testing.T) {
	ctx := context.Background()
	c, _ := newClient(t)
	b1, b2 := mustCreate(t, c, "zeta"), mustCreate(t, c, "alpha")
	bl, err := c.ListBuckets(ctx)
	if err != nil || len(bl) != 2 || bl[0] != cluster.NewBucket("alpha") || bl[1] != b1 {
		t.Fatalf("ListBuckets = %v, %v", bl, err)
	}
	props, err := c.HeadBucket(ctx, b2)
	if err != nil || props.Checksum.Type != cluster.ChecksumXXHash2 {
		t.Fatalf("HeadBucket = %+v, %v", props, err)
	}
	names := []string{"a/1", "a/2", "a/3", "b/1", "c"}
	for _, n := range names {
		if _, err := c.PutObject(ctx, b1, n, strings.NewReader(n), api.PutOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		opts api.ListOptions
		want []string
	}{
		{"all json", api.ListOptions{}, names},
		{"all msgpack paged", api.ListOptions{PageSize: 2, Msgpack: true}, names},
		{"prefix paged", api.ListOptions{Prefix: "a/", PageSize: 1}, names[:3]},
		{"prefix none", api.ListOptions{Prefix: "zz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ents, err := c.ListObjects(ctx, b1, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range ents {
				got = append(got, e.Name)
				if e.Size != int64(len(e.Name)) || e.Checksum == "" {
					t.Errorf("entry %+v", e)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	page, err := c.ListObjectsPage(ctx, b1, api.ListOptions{PageSize: 2})
	if err != nil || len(page.Entries) != 2 || page.ContinuationToken == "" {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	if err := c.DestroyBucket(ctx, b1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadBucket(ctx, b1); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("after destroy: %v", err)
	}
	m, err := c.ClusterMap(ctx)
	if err != nil || len(m.Targets) != testTargets || m.Primary == nil || m.Primary.ID != nodetest.ProxyID {
		t.Fatalf("ClusterMap = %+v, %v", m, err)
	}
}

func TestTracingInjectsHeaders(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Traceparent"))
	}))
	t.Cleanup(srv.Close)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := api.NewClient(srv.URL, api.WithTracing(tp, propagation.TraceContext{}))
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	if len(got) != 1 || got[0] == "" || len(spans) != 1 {
		t.Fatalf("traceparent %q, %d spans", got, len(spans))
	}
	if spans[0].Name() != "GET /v1/health" || !strings.Contains(got[0], spans[0].SpanContext().TraceID().String()) {
		t.Errorf("span %q, traceparent %q", spans[0].Name(), got[0])
	}
}
