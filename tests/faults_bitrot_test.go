package tests

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestBitRot flips one byte of a stored object on disk. Once the bucket's
// properties turn on checksum validation (PATCH set-bprops), a GET answers an
// error and never the corrupt bytes, through the proxy and straight from the
// target, whole or ranged; HEAD still works; the target logs the event with
// the request's trace ID; other objects are served; a new PUT heals it.
func TestBitRot(t *testing.T) {
	ctx := testContext(t)
	// Tracing on, towards a collector that is not there: spans are dropped,
	// but every request has a trace ID for the logs.
	cl := harness.StartCluster(t, harness.Options{
		Targets: 1, Mountpaths: 2,
		TracingEndpoint: harness.FreeAddr(t),
		Env:             []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"},
	})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "rot")
	target := cl.Targets()[0]

	data := content("victim", 256<<10)
	if _, err := c.PutObject(ctx, bck, "victim", bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	healthy := content("healthy", 1000)
	if _, err := c.PutObject(ctx, bck, "healthy", bytes.NewReader(healthy), api.PutOptions{Size: int64(len(healthy))}); err != nil {
		t.Fatal(err)
	}
	path := findObjectFile(t, target.Mountpaths, bck.Name, "victim")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(len(data) / 3)
	if _, err := f.WriteAt([]byte{data[off] ^ 0x5a}, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	corrupt := bytes.Clone(data)
	corrupt[off] ^= 0x5a

	// Validation is off by default (it costs a full read per GET): turn it on.
	props, err := c.HeadBucket(ctx, bck)
	if err != nil {
		t.Fatal(err)
	}
	if props.Checksum.ValidateWarmGet {
		t.Fatalf("validate_warm_get is on by default")
	}
	if err := c.SetBucketProps(ctx, bck, map[string]any{"checksum": map[string]any{"validate_warm_get": true}}); err != nil {
		t.Fatalf("set-bprops: %v", err)
	}
	props, err = c.HeadBucket(ctx, bck)
	if err != nil || !props.Checksum.ValidateWarmGet || props.Checksum.Type != cluster.ChecksumXXHash2 || !props.Versioning.Enabled {
		t.Fatalf("props after set-bprops: %+v %v", props, err)
	}

	tp, traceID := traceparent()
	tc := api.NewClient(cl.ProxyURL(), api.WithHeader("traceparent", tp))
	for _, opts := range []api.GetOptions{{}, {Offset: off - 10, Length: 20}} {
		var buf bytes.Buffer
		_, err := tc.GetObject(ctx, bck, "victim", &buf, opts)
		var he *wire.HTTPError
		if !errors.As(err, &he) || he.Status < 400 || !errors.Is(err, cluster.ErrChecksum) {
			t.Errorf("GET %+v of the rotten object: %v, want a checksum error", opts, err)
		}
		if buf.Len() != 0 {
			t.Errorf("GET %+v of the rotten object wrote %d bytes", opts, buf.Len())
		}
	}
	// Straight from the target: an error status, and not one byte of the object.
	direct := rawRequest(t, target.PublicAddr, "GET /v1/objects/rot/victim HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10*time.Second)
	if direct.Status < 400 || strings.Contains(direct.Body, string(corrupt[off-8:off+8])) || len(direct.Body) > 4096 {
		t.Errorf("direct GET of the rotten object: %d, %d bytes", direct.Status, len(direct.Body))
	}
	t.Logf("GET of the rotten object: %d %s", direct.Status, strings.TrimSpace(direct.Body))

	// HEAD works and reports the stored (good) checksum.
	h, err := c.HeadObject(ctx, bck, "victim")
	if err != nil || h.Size != int64(len(data)) || h.Checksum.Value != xxh(data) {
		t.Errorf("HEAD of the rotten object: %+v %v", h, err)
	}
	// Other objects are served, validated.
	var buf bytes.Buffer
	if _, err := c.GetObject(ctx, bck, "healthy", &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), healthy) {
		t.Errorf("GET of a healthy object: %v", err)
	}
	// The target logged it with the trace ID of the request.
	if !waitUntil(5*time.Second, func() bool {
		for line := range strings.SplitSeq(cl.Logs(target), "\n") {
			if strings.Contains(line, "checksum") && strings.Contains(line, "victim") && strings.Contains(line, "trace_id="+traceID) {
				t.Logf("logged: %s", line)
				return true
			}
		}
		return false
	}) {
		t.Errorf("the target did not log the bad checksum with trace_id=%s", traceID)
	}
	// The props are persisted: they survive a proxy restart.
	cl.RestartProxy()
	if props, err := c.HeadBucket(ctx, bck); err != nil || !props.Checksum.ValidateWarmGet {
		t.Errorf("props after a proxy restart: %+v %v", props, err)
	}
	// A new PUT replaces the rotten copy.
	if _, err := c.PutObject(ctx, bck, "victim", bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := c.GetObject(ctx, bck, "victim", &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("GET after re-PUT: %v", err)
	}
}
