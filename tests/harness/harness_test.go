package harness

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// emit exports a parent and a child span of service to endpoint and returns the trace ID.
func emit(t *testing.T, endpoint, service string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	defer func() { _ = tp.Shutdown(ctx) }()
	tracer := tp.Tracer("harness-test")
	ctx2, parent := tracer.Start(ctx, "parent", trace.WithSpanKind(trace.SpanKindClient))
	_, child := tracer.Start(ctx2, "child", trace.WithAttributes(attribute.String("ais.bucket", "b"), attribute.Int64("ais.size", 42)))
	child.End()
	parent.End()
	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	return parent.SpanContext().TraceID().String()
}

func TestJaeger(t *testing.T) {
	j := StartJaeger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if _, err := j.Trace(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrTraceNotFound) {
		t.Fatalf("unknown trace: got %v, want ErrTraceNotFound", err)
	}
	id := emit(t, j.OTLPEndpoint(), "harness-selftest")
	tr, err := j.WaitTrace(ctx, id, 2)
	if err != nil {
		t.Fatal(err)
	}
	child := tr.Find("child")
	parent := tr.Find("parent")
	if len(child) != 1 || len(parent) != 1 {
		t.Fatalf("want one parent and one child span:\n%s", tr.Dump())
	}
	if tr.Parent(child[0]) != parent[0] || len(tr.Orphans()) != 0 {
		t.Errorf("child is not linked to parent:\n%s", tr.Dump())
	}
	if got := tr.ServiceOf(child[0]); got != "harness-selftest" {
		t.Errorf("service = %q", got)
	}
	if got := child[0].TagString("ais.size"); got != "42" {
		t.Errorf("ais.size = %q", got)
	}
	if got := parent[0].TagString("span.kind"); got != "client" {
		t.Errorf("span.kind = %q", got)
	}
	svcs, err := j.Services(ctx)
	if err != nil || !strings.Contains(strings.Join(svcs, ","), "harness-selftest") {
		t.Errorf("services = %v, %v", svcs, err)
	}
	traces, err := j.Traces(ctx, "harness-selftest", 10)
	if err != nil || len(traces) != 1 {
		t.Errorf("traces of the service = %d, %v", len(traces), err)
	}

	// A dead collector, then a live one again on the same endpoint.
	j.Stop()
	if _, err := j.Services(ctx); err == nil {
		t.Fatal("query API answers after Stop")
	}
	j.Start()
	id2 := emit(t, j.OTLPEndpoint(), "harness-selftest")
	if _, err := j.WaitTrace(ctx, id2, 2); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestCluster(t *testing.T) {
	root := RepoRoot(t)
	for _, cmd := range []string{"aisnode", "ais"} {
		_, err := os.Stat(filepath.Join(os.Getenv(EnvBinDir), cmd))
		if m, _ := filepath.Glob(filepath.Join(root, "cmd", cmd, "*.go")); len(m) == 0 && (os.Getenv(EnvBinDir) == "" || err != nil) {
			t.Skipf("SKIP: cmd/%s does not exist yet", cmd)
		}
	}
	c := StartCluster(t, Options{Targets: 2, Mountpaths: 2})
	if len(c.Targets()) != 2 {
		t.Fatalf("targets = %d", len(c.Targets()))
	}
	for _, n := range c.Nodes() {
		if n.ID == "" || n.PID() == 0 {
			t.Errorf("%s: ID %q, pid %d", n.Name, n.ID, n.PID())
		}
	}
	for _, mp := range c.Targets()[0].Mountpaths {
		if _, err := os.Stat(mp); err != nil {
			t.Error(err)
		}
	}
	id := c.Targets()[1].ID
	c.KillTarget(1, syscall.SIGKILL)
	if c.Targets()[1].Running() {
		t.Fatal("target 1 still runs after SIGKILL")
	}
	c.StartTarget(1)
	if got := c.Targets()[1].ID; got != id {
		t.Errorf("target 1 came back as %q, was %q (node_id not persisted?)", got, id)
	}
	c.RestartProxy()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	smap, err := c.Smap(ctx)
	if err != nil || len(smap.Targets) != 2 {
		t.Fatalf("smap after proxy restart: %v, %v", smap, err)
	}
	if !strings.Contains(c.Logs(c.Proxy()), "start:") {
		t.Error("proxy log lacks the harness start line")
	}
	env := strings.Join(c.Env(), "\n")
	if !strings.Contains(env, "AIS_ENDPOINT="+c.ProxyURL()) {
		t.Error("Env lacks AIS_ENDPOINT")
	}
}

func TestCompose(t *testing.T) {
	root := RepoRoot(t)
	for _, cmd := range []string{"aisnode", "ais"} {
		if m, _ := filepath.Glob(filepath.Join(root, "cmd", cmd, "*.go")); len(m) == 0 && os.Getenv(EnvAisnodeImage) == "" {
			t.Skipf("SKIP: cmd/%s does not exist yet", cmd)
		}
	}
	c := StartCompose(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	smap, err := c.Smap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every target is reachable from the host under the name it advertises.
	for _, n := range smap.Targets {
		resp, err := c.HTTPClient().Get(n.URL() + "/v1/health")
		if err != nil {
			t.Fatalf("target %s via %s: %v", n.ID, n.URL(), err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("target %s health: %s", n.ID, resp.Status)
		}
	}
	// A PUT and a GET through the proxy follow its redirects to targets by their names.
	hc := c.HTTPClient()
	do := func(method, path, body string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, c.ProxyURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
		}
		return string(b)
	}
	do(http.MethodPost, "/v1/buckets/hb?provider=ais", `{"action":"create-bck"}`)
	do(http.MethodPut, "/v1/objects/hb/o1?provider=ais", "payload")
	if got := do(http.MethodGet, "/v1/objects/hb/o1?provider=ais", ""); got != "payload" {
		t.Errorf("GET = %q", got)
	}
	c.Stop("target2")
	if err := c.WaitReady(ctx, 2*time.Second); err == nil {
		t.Log("note: the proxy still lists target2 as active right after its container stopped")
	}
	c.Start("target2")
	if _, err := c.Jaeger().Services(ctx); err != nil {
		t.Errorf("compose jaeger: %v", err)
	}
}
