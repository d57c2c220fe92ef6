package target_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
	"miniais/target"
	"miniais/tracing"
)

// objopsCluster starts a cluster of n targets (each adjusted by cfg) with
// the given buckets and returns it with a client of its proxy.
func objopsCluster(t *testing.T, n int, buckets []string, cfg func(*target.Config)) (*nodetest.Cluster, *api.Client) {
	t.Helper()
	nc := nodetest.Start(t, nodetest.Options{Targets: n, Target: func(_ int, c *target.Config) {
		if cfg != nil {
			cfg(c)
		}
	}})
	c := api.NewClient(nc.URL())
	for _, b := range buckets {
		if err := c.CreateBucket(context.Background(), cluster.NewBucket(b)); err != nil {
			t.Fatal(err)
		}
	}
	return nc, c
}

// nameOwnedBy returns a name with prefix that target id owns.
func nameOwnedBy(t *testing.T, c *api.Client, bck cluster.Bucket, id, prefix string) string {
	t.Helper()
	m, err := c.ClusterMap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10000 {
		name := fmt.Sprintf("%s-%d", prefix, i)
		if o, _ := m.Owner(bck.Uname(name)); o != nil && o.ID == id {
			return name
		}
	}
	t.Fatalf("no name owned by %s", id)
	return ""
}

func recordingProvider(t testing.TB, sp sdktrace.SpanProcessor) *tracing.Provider {
	t.Helper()
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleTarget, SpanProcessor: sp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

// TestCopyAcrossTargetsTraced copies an object to a name another target
// owns: the copy is byte-exact, the source untouched, and the request's
// trace holds the copy, the transport send and, on the other target, the
// receive with the fs write below it.
func TestCopyAcrossTargetsTraced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := recordingProvider(t, rec)
	_, c := objopsCluster(t, 2, []string{"b1", "b2"}, func(cfg *target.Config) { cfg.Tracing = tp })
	ctx := context.Background()
	b1, b2 := cluster.NewBucket("b1"), cluster.NewBucket("b2")
	src := nameOwnedBy(t, c, b1, "t1", "src")
	dst := nameOwnedBy(t, c, b2, "t2", "dst")
	data := bytes.Repeat([]byte("copy me across targets "), 50000)
	put, err := c.PutObject(ctx, b1, src, bytes.NewReader(data), api.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, b1, src, b2, dst); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	a, err := c.GetObject(ctx, b2, dst, &got, api.GetOptions{})
	if err != nil || !bytes.Equal(got.Bytes(), data) || a.Checksum != put.Checksum {
		t.Fatalf("copy: %d bytes, %v, %v; want %d bytes, %v", got.Len(), a, err, len(data), put.Checksum)
	}
	if h, err := c.HeadObject(ctx, b1, src); err != nil || h.Version != "1" || h.Checksum != put.Checksum {
		t.Fatalf("source after the copy: %+v %v", h, err)
	}

	spans := rec.Ended()
	find := func(name string, parent trace.SpanID) sdktrace.ReadOnlySpan {
		for _, s := range spans {
			if s.Name() == name && (!parent.IsValid() || s.Parent().SpanID() == parent) {
				return s
			}
		}
		var names []string
		for _, s := range spans {
			names = append(names, s.Name())
		}
		t.Fatalf("no span %q with parent %s among %q", name, parent, names)
		return nil
	}
	cp := find("target.copy", trace.SpanID{})
	attrs := map[string]string{}
	for _, kv := range cp.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["ais.bucket"] != "ais://b1" || attrs["ais.object"] != src || attrs["ais.dst_bucket"] != "ais://b2" ||
		attrs["ais.dst_object"] != dst || attrs["ais.dst_target"] != "t2" {
		t.Errorf("target.copy attributes %v", attrs)
	}
	send := find("transport.send object-put", cp.SpanContext().SpanID())
	recv := find("transport.recv object-put", send.SpanContext().SpanID())
	put2 := find("fs.Put", recv.SpanContext().SpanID())
	for _, s := range []sdktrace.ReadOnlySpan{send, recv, put2} {
		if s.SpanContext().TraceID() != cp.SpanContext().TraceID() {
			t.Errorf("span %s is in trace %s, the copy in %s", s.Name(), s.SpanContext().TraceID(), cp.SpanContext().TraceID())
		}
	}
}

// appendReq sends an append or flush straight to the target (as the
// proxy's redirect would) and returns the status, the handle and the body.
func appendReq(t *testing.T, base, obj, typ, handle, body string, hdr map[string]string) (int, string, string) {
	t.Helper()
	u := base + "/v1/objects/b1/" + obj + redirectQuery + "&append_type=" + typ + "&append_handle=" + handle
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	resp, b := request(t, "PUT", u, rd, hdr)
	return resp.StatusCode, resp.Header.Get(wire.HdrAppendHandle), string(b)
}

// TestAppendHandles walks AIStore's append protocol on one target and
// every way a handle can be wrong: each refusal is 400, names why, and
// reaches no other data.
func TestAppendHandles(t *testing.T) {
	tg := startTarget(t, []string{"b1"})
	st, h1, body := appendReq(t, tg.url, "obj", "append", "", "hello, ", nil)
	if st != 200 || h1 == "" {
		t.Fatalf("first append: %d %q %s", st, h1, body)
	}
	st, h2, body := appendReq(t, tg.url, "obj", "append", h1, "world", nil)
	if st != 200 || h2 == "" || h2 == h1 {
		t.Fatalf("second append: %d %q (first %q) %s", st, h2, h1, body)
	}
	if _, ok := tg.nc.Object("b1", "obj"); ok {
		t.Fatal("the object is visible before the flush")
	}
	id, _, _ := strings.Cut(h2, ".")
	forged := strings.Repeat("0", 32) + strings.TrimPrefix(h2, id)
	for _, tc := range []struct{ name, obj, handle, want string }{
		{"stale handle", "obj", h1, "stale"},
		{"forged id", "obj", forged, "no such pending append"},
		{"another object's handle", "other", h2, "another object"},
		{"another target's", "obj", strings.TrimSuffix(h2, "t1") + "t9", "belongs to target"},
		{"garbage", "obj", "not-a-handle", "malformed"},
		{"upper-case id", "obj", strings.ToUpper(id) + strings.TrimPrefix(h2, id), "malformed"},
		{"leading zero seq", "obj", id + ".02.t1", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := appendReq(t, tg.url, tc.obj, "append", tc.handle, "evil", nil)
			if st != http.StatusBadRequest || h != "" || !strings.Contains(body, tc.want) {
				t.Fatalf("append with %s: %d %q %s, want 400 naming %q", tc.name, st, h, body, tc.want)
			}
		})
	}
	// A flush whose checksum does not match: refused, nothing visible.
	bad := map[string]string{wire.HdrChecksumType: "xxhash2", wire.HdrChecksumValue: "0000000000000000"}
	if st, _, body := appendReq(t, tg.url, "obj", "flush", h2, "", bad); st != http.StatusBadRequest {
		t.Fatalf("flush with a wrong checksum: %d %s", st, body)
	}
	if _, ok := tg.nc.Object("b1", "obj"); ok {
		t.Fatal("a refused flush made the object visible")
	}
	if st, _, body := appendReq(t, tg.url, "obj", "flush", h2, "", nil); st != http.StatusBadRequest {
		t.Fatalf("flush of a dropped handle: %d %s", st, body)
	}
	// Again, with the right checksum.
	_, h1, _ = appendReq(t, tg.url, "obj", "append", "", "hello, ", nil)
	_, h2, _ = appendReq(t, tg.url, "obj", "append", h1, "world", nil)
	good := map[string]string{wire.HdrChecksumType: "xxhash", wire.HdrChecksumValue: xxh([]byte("hello, world"))}
	if st, _, body := appendReq(t, tg.url, "obj", "flush", h2, "", good); st != 200 {
		t.Fatalf("flush: %d %s", st, body)
	}
	if b, ok := tg.nc.Object("b1", "obj"); !ok || string(b) != "hello, world" {
		t.Fatalf("after the flush: %q", b)
	}
	// An empty handle on an existing object appends to its content.
	_, h1, _ = appendReq(t, tg.url, "obj", "append", "", "!", nil)
	appendReq(t, tg.url, "obj", "flush", h1, "", nil)
	if b, _ := tg.nc.Object("b1", "obj"); string(b) != "hello, world!" {
		t.Fatalf("append to an existing object: %q", b)
	}
	for _, q := range []string{"append_type=bogus&append_handle=", "append_handle=x", "append_type=flush&append_handle="} {
		resp, body := request(t, "PUT", tg.url+"/v1/objects/b1/obj"+redirectQuery+"&"+q, strings.NewReader("x"), nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT ?%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
	if b, _ := tg.nc.Object("b1", "obj"); string(b) != "hello, world!" {
		t.Fatalf("after the refusals: %q", b)
	}
	assertNoWorkFiles(t, tg.mps)
}

func assertNoWorkFiles(t *testing.T, mps []string) {
	t.Helper()
	if files := workFilesOf(t, mps); len(files) > 0 {
		t.Fatalf("work files left: %q", files)
	}
}

func workFilesOf(t *testing.T, mps []string) []string {
	t.Helper()
	var out []string
	for _, mp := range mps {
		ents, err := os.ReadDir(filepath.Join(mp, ".work"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range ents {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestUploadTimeout: an unflushed append and an abandoned multipart upload
// are dropped after the timeout, with their work files.
func TestUploadTimeout(t *testing.T) {
	tg := startTarget(t, []string{"b1"}, func(c *target.Config) { c.UploadTimeout = 300 * time.Millisecond })
	c := api.NewClient(tg.nc.URL())
	ctx := context.Background()
	bck := cluster.NewBucket("b1")
	h, err := c.AppendObject(ctx, bck, "app", "", strings.NewReader("pending"), api.PutOptions{Size: 7})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateMultipartUpload(ctx, bck, "mpu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, bck, "mpu", id, 1, strings.NewReader("part"), 4); err != nil {
		t.Fatal(err)
	}
	if len(workFilesOf(t, tg.mps)) != 2 {
		t.Fatalf("work files: %q, want the append's and the upload's", workFilesOf(t, tg.mps))
	}
	nodetest.WaitFor(t, "the janitor", func() bool { return len(workFilesOf(t, tg.mps)) == 0 })
	if _, err := c.FlushObject(ctx, bck, "app", h, cluster.Checksum{}); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("flush after the timeout: %v, want 400", err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, bck, "mpu", id, []int{1}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("complete after the timeout: %v, want 404", err)
	}
	for _, n := range []string{"app", "mpu"} {
		if _, ok := tg.nc.Object("b1", n); ok {
			t.Errorf("%s is visible", n)
		}
	}
}

// TestMultipartOnTarget uploads parts out of order and checks the
// assembled object, its listing flag and the uploads listing.
func TestMultipartOnTarget(t *testing.T) {
	nc, c := objopsCluster(t, 2, []string{"b1"}, nil)
	ctx := context.Background()
	bck := cluster.NewBucket("b1")
	id, err := c.CreateMultipartUpload(ctx, bck, "dir/big")
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{nil, bytes.Repeat([]byte("1"), 70<<10), []byte("two"), bytes.Repeat([]byte("3"), 1<<20)}
	for _, n := range []int{3, 1, 2} {
		etag, err := c.UploadPart(ctx, bck, "dir/big", id, n, bytes.NewReader(parts[n]), int64(len(parts[n])))
		if err != nil || etag != `"`+xxh(parts[n])+`"` {
			t.Fatalf("part %d: %q %v", n, etag, err)
		}
	}
	ups, err := c.ListMultipartUploads(ctx, bck)
	if err != nil || len(ups) != 1 || ups[0].ID != id || ups[0].Parts != 3 || ups[0].Object != "dir/big" {
		t.Fatalf("uploads: %+v %v", ups, err)
	}
	a, err := c.CompleteMultipartUpload(ctx, bck, "dir/big", id, []int{1, 2, 3})
	want := slices.Concat(parts[1], parts[2], parts[3])
	if err != nil || a.Checksum.Value != xxh(want) {
		t.Fatalf("complete: %+v %v, want checksum %s", a, err, xxh(want))
	}
	if b, ok := nc.Object("b1", "dir/big"); !ok || !bytes.Equal(b, want) {
		t.Fatalf("assembled %d bytes, want %d", len(b), len(want))
	}
	ents, err := c.ListObjects(ctx, bck, api.ListOptions{})
	if err != nil || len(ents) != 1 || ents[0].Flags&wire.EntryChunked == 0 {
		t.Fatalf("listing: %+v %v, want one entry with flag %d", ents, err, wire.EntryChunked)
	}
	if ups, _ := c.ListMultipartUploads(ctx, bck); len(ups) != 0 {
		t.Fatalf("uploads after completion: %+v", ups)
	}
}

// tarOf returns a TAR archive of name/content pairs.
func tarOf(t *testing.T, pairs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(pairs); i += 2 {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: pairs[i], Size: int64(len(pairs[i+1])), Mode: 0o644})
		io.WriteString(tw, pairs[i+1])
	}
	tw.Close()
	return buf.Bytes()
}

// TestArchiveListingPages lists a bucket with archives page by page with
// every page size: the pages join into the one sorted listing, archives'
// files included, with no name twice and none missing.
func TestArchiveListingPages(t *testing.T) {
	_, c := objopsCluster(t, 2, []string{"b1"}, func(cfg *target.Config) { cfg.Mountpaths = cfg.Mountpaths[:1] })
	ctx := context.Background()
	bck := cluster.NewBucket("b1")
	objs := map[string][]byte{
		"a.tar":     tarOf(t, "x", "1", "y/z", "22"),
		"a.tar.bak": []byte("a plain object that sorts between a.tar and a.tar/x"),
		"b":         []byte("b"),
		"c.tar":     tarOf(t, "only", "333"),
		"d.tar":     []byte("not an archive"),
	}
	for name, b := range objs {
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(b), api.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"a.tar", "a.tar.bak", "a.tar/x", "a.tar/y/z", "b", "c.tar", "c.tar/only", "d.tar"}
	for _, prefix := range []string{"", "a.tar", "a.tar/", "a.tar/y"} {
		var exp []string
		for _, w := range want {
			if strings.HasPrefix(w, prefix) {
				exp = append(exp, w)
			}
		}
		for size := int64(1); size <= int64(len(want))+1; size++ {
			ents, err := c.ListObjects(ctx, bck, api.ListOptions{Prefix: prefix, PageSize: size, Flags: wire.LsArchive, Props: "name,size"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range ents {
				got = append(got, e.Name)
				inArch := strings.Contains(e.Name, ".tar/")
				isArch := e.Name == "a.tar" || e.Name == "c.tar" // d.tar is not a TAR archive
				if inArch != (e.Flags&wire.EntryInArch != 0) || isArch != (e.Flags&wire.EntryIsArchive != 0) {
					t.Errorf("entry %s has flags %d", e.Name, e.Flags)
				}
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("prefix %q, page size %d: %q, want %q", prefix, size, got, exp)
			}
		}
	}
}
