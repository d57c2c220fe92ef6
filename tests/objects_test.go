package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

func xxh(b []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(b)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func createBucket(t testing.TB, ctx context.Context, c *api.Client, name string) cluster.Bucket {
	t.Helper()
	bck := cluster.NewBucket(name)
	if err := c.CreateBucket(ctx, bck); err != nil {
		t.Fatalf("create %s: %v", bck, err)
	}
	return bck
}

// TestObjects runs PUT, GET, HEAD, list and DELETE of objects of every size
// and kind of name through the proxy of a 3-target cluster.
func TestObjects(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "objects")

	sizes := []int{0, 1, 4 << 10, 1 << 20, 64 << 20}
	names := []string{"plain", "dir/sub/leaf.bin", "with space", "ü日本/файл", "percent%20sign?and#hash"}
	want := map[string][]byte{}
	for i, size := range sizes {
		for _, base := range names {
			if size == 64<<20 && base != "plain" {
				continue // one 64 MiB object is enough
			}
			name := fmt.Sprintf("%s-%d", base, i)
			data := randomBytes(size)
			want[name] = data
			attrs, err := c.PutObject(ctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: int64(size)})
			if err != nil {
				t.Fatalf("PUT %s (%d B): %v", name, size, err)
			}
			if attrs.Checksum.Type != cluster.ChecksumXXHash2 || attrs.Checksum.Value != xxh(data) {
				t.Fatalf("PUT %s: checksum %v, want xxhash2:%s", name, attrs.Checksum, xxh(data))
			}
		}
	}
	for name, data := range want {
		var buf bytes.Buffer
		attrs, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{})
		if err != nil {
			t.Fatalf("GET %s: %v", name, err)
		}
		if !bytes.Equal(buf.Bytes(), data) || attrs.Checksum.Value != xxh(data) || attrs.Size != int64(len(data)) {
			t.Fatalf("GET %s: %d bytes (want %d), equal %v, checksum %s", name, buf.Len(), len(data), bytes.Equal(buf.Bytes(), data), attrs.Checksum.Value)
		}
		h, err := c.HeadObject(ctx, bck, name)
		if err != nil || h.Size != int64(len(data)) || !h.Present || h.Version != "1" || !strings.HasPrefix(h.Location, "t[") {
			t.Fatalf("HEAD %s: %+v %v", name, h, err)
		}
	}
	// A range read.
	var part bytes.Buffer
	if _, err := c.GetObject(ctx, bck, "plain-3", &part, api.GetOptions{Offset: 1000, Length: 24}); err != nil || !bytes.Equal(part.Bytes(), want["plain-3"][1000:1024]) {
		t.Fatalf("range GET: %v, %d bytes", err, part.Len())
	}
	// Overwrite bumps the version.
	if _, err := c.PutObject(ctx, bck, "plain-1", strings.NewReader("new"), api.PutOptions{Size: 3}); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.HeadObject(ctx, bck, "plain-1"); h.Version != "2" || h.Size != 3 {
		t.Fatalf("after overwrite: %+v", h)
	}
	want["plain-1"] = []byte("new")

	// The listing covers every target, sorted, in JSON and in msgpack.
	for _, msgpack := range []bool{false, true} {
		entries, err := c.ListObjects(ctx, bck, api.ListOptions{Msgpack: msgpack, PageSize: 7})
		if err != nil {
			t.Fatalf("list (msgpack %v): %v", msgpack, err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name)
			if e.Size != int64(len(want[e.Name])) {
				t.Errorf("list: %s size %d, want %d", e.Name, e.Size, len(want[e.Name]))
			}
		}
		if len(got) != len(want) || !sortedStrings(got) {
			t.Fatalf("list (msgpack %v) = %d names %v, want %d sorted", msgpack, len(got), got, len(want))
		}
	}
	entries, err := c.ListObjects(ctx, bck, api.ListOptions{Prefix: "dir/"})
	if err != nil || len(entries) != 4 {
		t.Fatalf("list prefix dir/: %d entries, %v", len(entries), err)
	}

	for name := range want {
		if err := c.DeleteObject(ctx, bck, name); err != nil {
			t.Fatalf("DELETE %s: %v", name, err)
		}
	}
	if _, err := c.HeadObject(ctx, bck, "plain-0"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("HEAD after DELETE: %v, want not found", err)
	}
	if entries, err := c.ListObjects(ctx, bck, api.ListOptions{}); err != nil || len(entries) != 0 {
		t.Fatalf("list after deleting everything: %d entries, %v", len(entries), err)
	}
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

// TestPlacement checks that every object's file exists on exactly the target
// and mountpath that HRW names, and nowhere else.
func TestPlacement(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, Mountpaths: 3})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "placement")
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perTarget := map[string]int{}
	for i := range 60 {
		name := fmt.Sprintf("p/%d", i)
		if _, err := c.PutObject(ctx, bck, name, strings.NewReader(name), api.PutOptions{Size: int64(len(name))}); err != nil {
			t.Fatal(err)
		}
		owner, err := smap.Owner(bck.Uname(name))
		if err != nil {
			t.Fatal(err)
		}
		perTarget[owner.ID]++
		for _, tn := range cl.Targets() {
			digests := make([]uint64, len(tn.Mountpaths))
			for j, mp := range tn.Mountpaths {
				abs, _ := filepath.Abs(mp)
				digests[j] = cluster.Digest(filepath.Clean(abs))
			}
			wantMp := cluster.HRW(cluster.Digest(bck.Uname(name)), digests)
			for j, mp := range tn.Mountpaths {
				_, err := os.Stat(filepath.Join(mp, "@ais", bck.Name, "%ob", name))
				expected := tn.ID == owner.ID && j == wantMp
				if exists := err == nil; exists != expected {
					t.Errorf("%s on %s mountpath %d: exists=%v, want %v", name, tn.ID, j, exists, expected)
				}
			}
		}
	}
	if len(perTarget) != 3 {
		t.Errorf("60 objects landed on %d targets: %v", len(perTarget), perTarget)
	}
}

// TestErrors checks the statuses and error bodies of the API's refusals.
func TestErrors(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "errs")

	if err := c.CreateBucket(ctx, bck); !errors.Is(err, cluster.ErrExists) {
		t.Errorf("second create: %v, want already exists", err)
	}
	if _, err := c.HeadBucket(ctx, cluster.NewBucket("nosuch")); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("HEAD missing bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, cluster.NewBucket("nosuch"), "o", strings.NewReader("x"), api.PutOptions{Size: 1}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("PUT into a missing bucket: %v", err)
	}
	if _, err := c.GetObject(ctx, bck, "nothing", &bytes.Buffer{}, api.GetOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("GET missing object: %v", err)
	}
	var he *wire.HTTPError
	_, err := c.PutObject(ctx, bck, "cks", strings.NewReader("data"), api.PutOptions{Size: 4, Checksum: cluster.Checksum{Type: "xxhash2", Value: "0123456789abcdef"}})
	if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(he.Message, "checksum") {
		t.Errorf("PUT with a wrong checksum: %v", err)
	}
	if _, err := c.HeadObject(ctx, bck, "cks"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("an object refused for its checksum exists: %v", err)
	}

	// Raw requests: bad names and a PUT sent straight to a target.
	raw := []struct {
		method, url string
		status      int
	}{
		{"GET", cl.ProxyURL() + "/v1/objects/errs/%2e%2e/%2e%2e/etc/passwd", 400},
		{"GET", cl.ProxyURL() + "/v1/objects/errs/a%00b", 400},
		{"POST", cl.ProxyURL() + "/v1/buckets/..", 400},
		{"PUT", cl.Targets()[0].PublicURL + "/v1/objects/errs/direct", 400},
		{"DELETE", cl.Targets()[0].PublicURL + "/v1/objects/errs/direct", 400},
	}
	for _, tc := range raw {
		req, _ := http.NewRequestWithContext(ctx, tc.method, tc.url, strings.NewReader("body"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.url, resp.StatusCode, tc.status)
		}
	}
}
