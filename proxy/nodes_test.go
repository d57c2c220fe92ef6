// The tests of the proxy with real targets, run in-process by
// internal/nodetest: package proxy_test, since nodetest imports proxy. The
// in-package tests (package proxy) keep fake targets for the faults a real
// target cannot be made to produce.
package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
	"miniais/proxy"
	"miniais/tracing"
)

// send sends method url with body and returns the response (its body
// read and closed) and the body; redirects are not followed.
func send(t testing.TB, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// targetMap returns the cluster map target tg holds.
func targetMap(t testing.TB, tg *nodetest.Target) *cluster.Map {
	t.Helper()
	_, body := send(t, "GET", tg.URL+"/v1/daemon?what=smap", "")
	var m cluster.Map
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("map of %s: %v: %s", tg.ID(), err, body)
	}
	return &m
}

func TestJoinHealthAndMap(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{}) // the proxy alone
	if resp, _ := send(t, "GET", c.URL()+"/v1/health", ""); resp.StatusCode != 503 {
		t.Fatalf("health with no targets = %d, want 503", resp.StatusCode)
	}
	a := c.AddTarget()
	c.AddTarget()
	if resp, _ := send(t, "GET", c.URL()+"/v1/health", ""); resp.StatusCode != 200 {
		t.Fatalf("health = %d, want 200", resp.StatusCode)
	}
	_, body := send(t, "GET", c.URL()+"/v1/daemon?what=smap", "")
	var smap cluster.Map
	if err := json.Unmarshal([]byte(body), &smap); err != nil {
		t.Fatal(err)
	}
	if len(smap.Targets) != 2 || smap.Version != 2 || smap.Primary.ID != "p1" {
		t.Fatalf("smap = %s", body)
	}
	// Target a learned about b's join through a push.
	if v := targetMap(t, a).Version; v != 2 {
		t.Fatalf("the first target holds map v%d, want 2", v)
	}
	// Joining again with the same node changes nothing.
	c.StopTarget(a.Index)
	c.StartTarget(a.Index)
	if v := c.Proxy().Smap().Version; v != 2 {
		t.Fatalf("re-join bumped the map to version %d", v)
	}
}

// TestBucketTransaction creates and destroys a bucket on two real targets
// (TestBucketTransactionAbort has the prepare that fails).
func TestBucketTransaction(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{Targets: 2})
	u := c.URL()
	if resp, body := send(t, "POST", u+"/v1/buckets/b1", `{"action":"create-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("create = %d %s", resp.StatusCode, body)
	}
	// The commit reached every target before the proxy answered.
	for _, tg := range c.Targets() {
		if resp, _ := send(t, "HEAD", tg.URL+"/v1/buckets/b1", ""); resp.StatusCode != 200 {
			t.Errorf("target %s does not have b1 after the commit: HEAD = %d", tg.ID(), resp.StatusCode)
		}
	}
	resp, _ := send(t, "HEAD", u+"/v1/buckets/b1?provider=ais", "")
	var props cluster.BucketProps
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Header.Get(wire.HdrBucketProps)), &props) != nil || props.Checksum.Type != "xxhash2" {
		t.Fatalf("HEAD bucket = %d, props %q", resp.StatusCode, resp.Header.Get(wire.HdrBucketProps))
	}
	if resp, body := send(t, "POST", u+"/v1/buckets/b1", `{"action":"create-bck"}`); resp.StatusCode != 409 {
		t.Fatalf("second create = %d %s, want 409", resp.StatusCode, body)
	}
	if _, body := send(t, "GET", u+"/v1/buckets?presence=2", ""); !strings.Contains(body, `"name":"b1"`) {
		t.Fatalf("list buckets = %s", body)
	}
	if resp, body := send(t, "DELETE", u+"/v1/buckets/b1", `{"action":"destroy-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("destroy = %d %s", resp.StatusCode, body)
	}
	for _, tg := range c.Targets() {
		if resp, _ := send(t, "HEAD", tg.URL+"/v1/buckets/b1", ""); resp.StatusCode != 404 {
			t.Errorf("target %s still has b1 after the destroy: HEAD = %d", tg.ID(), resp.StatusCode)
		}
	}
	if resp, _ := send(t, "DELETE", u+"/v1/buckets/b1", `{"action":"destroy-bck"}`); resp.StatusCode != 404 {
		t.Fatalf("destroy of a missing bucket = %d", resp.StatusCode)
	}
}

func TestBadRequests(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{Targets: 1})
	send(t, "POST", c.URL()+"/v1/buckets/b1", `{"action":"create-bck"}`)
	tests := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v1/buckets/b1", `{"action":"nope"}`, 400},
		{"POST", "/v1/buckets/b1", `{not json`, 400},
		{"POST", "/v1/buckets/bad%20name", `{"action":"create-bck"}`, 400},
		{"POST", "/v1/buckets/b1?provider=s3", `{"action":"create-bck"}`, 501},
		{"PATCH", "/v1/buckets/b1", ``, 400},
		{"GET", "/v1/objects/b1/a/../b", ``, 400},
		{"GET", "/v1/objects/b1/%2e%2e/x", ``, 400},
		{"GET", "/v1/objects/b1//abs", ``, 400},
		{"GET", "/v1/objects/b1/" + strings.Repeat("x", 1025), ``, 400},
		{"GET", "/v1/objects/nosuch/o", ``, 404},
		{"POST", "/v1/objects/b1/o", ``, 400},
		{"GET", "/v1/nothing", ``, 404},
		{"GET", "/v1/daemon?what=nope", ``, 501},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := send(t, tc.method, c.URL()+tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var he wire.HTTPError
			if err := json.Unmarshal([]byte(body), &he); err != nil || he.Status != tc.status || he.Message == "" || he.Node != "p1" {
				t.Fatalf("error body %q (%v)", body, err)
			}
		})
	}
}

func TestRedirectCarriesTraceContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleProxy, NodeID: "p1", Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	c := nodetest.Start(t, nodetest.Options{Targets: 2, Proxy: func(pc *proxy.Config) { pc.Tracing = tp }})
	send(t, "POST", c.URL()+"/v1/buckets/b1", `{"action":"create-bck"}`)

	for _, name := range []string{"o1", "dir/o 2", "ü/日本"} {
		path := "/v1/objects/b1/" + (&url.URL{Path: name}).EscapedPath() + "?provider=ais"
		resp, body := send(t, "PUT", c.URL()+path, "data")
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("PUT = %d %s, want 307", resp.StatusCode, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := c.Proxy().Smap().Owner(cluster.NewBucket("b1").Uname(name))
		if got := loc.Scheme + "://" + loc.Host; got != owner.URL() {
			t.Errorf("%s redirected to %s, want the HRW owner %s", name, got, owner.URL())
		}
		q := loc.Query()
		if loc.Path != "/v1/objects/b1/"+name || q.Get("provider") != "ais" || q.Get("pid") != "p1" || q.Get("utm") == "" {
			t.Errorf("Location %s lacks the path, provider, pid or utm", loc)
		}
		tctx := tracing.ExtractQuery(context.Background(), tp.Propagator(), q)
		if !oteltrace.SpanContextFromContext(tctx).IsValid() {
			t.Errorf("Location %s carries no trace context", loc)
		}
		// The owner takes the redirect.
		if resp, body := send(t, "PUT", loc.String(), "data"); resp.StatusCode != 200 {
			t.Errorf("PUT at the Location = %d %s", resp.StatusCode, body)
		}
	}
	tp.ForceFlush(context.Background()) // Shutdown would reset the in-memory exporter
	defer tp.Shutdown(context.Background())
	var puts int
	for _, s := range exp.GetSpans() {
		if s.Name == "PUT /v1/objects/{bucket}/{object...}" {
			puts++
		}
	}
	if puts != 3 {
		t.Fatalf("%d PUT server spans recorded, want 3", puts)
	}
}

func TestRestartKeepsState(t *testing.T) {
	c := nodetest.Start(t, nodetest.Options{Targets: 1})
	send(t, "POST", c.URL()+"/v1/buckets/b1", `{"action":"create-bck"}`)
	smapV, bmdV := c.Proxy().Smap().Version, c.Proxy().BMD().Version
	c.StopProxy()

	p2 := c.StartProxy()
	if p2.Smap().Version != smapV || p2.Smap().Targets["t1"] == nil || p2.BMD().Version != bmdV || p2.BMD().Get(cluster.NewBucket("b1")) == nil {
		t.Fatalf("after a restart: smap v%d (want %d), bmd v%d (want %d)", p2.Smap().Version, smapV, p2.BMD().Version, bmdV)
	}
}
