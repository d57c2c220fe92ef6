//go:build !notracing

package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
)

// jaegerBinary returns the Jaeger all-in-one binary named by JAEGER_BIN, or
// the project's cached v1.48.0 build, or "" with the reason.
func jaegerBinary() (string, string) {
	if bin := os.Getenv("JAEGER_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Sprintf("JAEGER_BIN=%s: %v", bin, err)
		}
		return bin, ""
	}
	if dir, err := os.UserCacheDir(); err == nil {
		bin := filepath.Join(dir, "miniais", "jaeger-v1.48.0", "all-in-one")
		if _, err := os.Stat(bin); err == nil {
			return bin, ""
		}
	}
	return "", "no Jaeger: set JAEGER_BIN to a Jaeger all-in-one binary (see shared/jaeger.md)"
}

// freePort returns a port on 127.0.0.1 free for network ("tcp" or "udp")
// at the time of the call.
func freePort(tb testing.TB, network string) string {
	tb.Helper()
	var addr net.Addr
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr = c.LocalAddr()
		c.Close()
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr = ln.Addr()
		ln.Close()
	}
	return addr.String()
}

// lockedBuffer collects a child process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startJaeger runs Jaeger all-in-one with in-memory storage, every listener
// on 127.0.0.1, and returns its OTLP gRPC address and query base URL.
func startJaeger(tb testing.TB, bin string) (otlpAddr, queryURL string) {
	tb.Helper()
	otlpAddr = freePort(tb, "tcp")
	query := freePort(tb, "tcp")
	admin := freePort(tb, "tcp")
	args := []string{
		"--collector.otlp.enabled=true",
		"--collector.otlp.grpc.host-port=" + otlpAddr,
		"--collector.otlp.http.host-port=" + freePort(tb, "tcp"),
		"--query.http-server.host-port=" + query,
		"--query.grpc-server.host-port=" + freePort(tb, "tcp"),
		"--admin.http.host-port=" + admin,
		"--collector.grpc-server.host-port=" + freePort(tb, "tcp"),
		"--collector.http-server.host-port=" + freePort(tb, "tcp"),
		"--http-server.host-port=" + freePort(tb, "tcp"),
		"--processor.jaeger-compact.server-host-port=" + freePort(tb, "udp"),
		"--processor.jaeger-binary.server-host-port=" + freePort(tb, "udp"),
		"--processor.zipkin-compact.server-host-port=" + freePort(tb, "udp"),
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SPAN_STORAGE_TYPE=memory")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			tb.Logf("jaeger output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return otlpAddr, "http://" + query
			}
		}
		select {
		case err := <-exited:
			tb.Fatalf("jaeger exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("jaeger not ready after 15s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jaegerTrace is the part of GET /api/traces/{id} the test reads.
type jaegerTrace struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			ProcessID     string `json:"processID"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			Tags []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"tags"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

// TestJaegerExport exports over real OTLP gRPC into a real Jaeger and reads
// the trace back through the query API.
func TestJaegerExport(t *testing.T) {
	bin, why := jaegerBinary()
	if bin == "" {
		t.Skip(why)
	}
	otlpAddr, queryURL := startJaeger(t, bin)

	env := map[string]string{EnvEndpoint: otlpAddr, EnvServicePrefix: "miniais-test"}
	cfg, err := FromEnv(DefaultConfig(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(context.Background(), cfg, Options{Role: cluster.RoleProxy, NodeID: "p-jaeger", Version: "test",
		Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	tr := p.Tracer("jaeger-test")
	ctx, root := tr.Start(context.Background(), "PUT /v1/objects/{bucket}/{object...}",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attribute.String("ais.bucket", "b1")))
	_, child := tr.Start(ctx, "fs.Put", trace.WithAttributes(attribute.Int64("ais.size", 42)))
	child.End()
	root.End()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if p.Exported() != 2 || p.Dropped() != 0 {
		t.Fatalf("exported %d dropped %d, want 2 and 0", p.Exported(), p.Dropped())
	}

	traceID := root.SpanContext().TraceID().String()
	var got jaegerTrace
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = jaegerTrace{}
		resp, err := http.Get(queryURL + "/api/traces/" + traceID)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			err = json.NewDecoder(resp.Body).Decode(&got)
		}
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Data) == 1 && len(got.Data[0].Spans) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s not in Jaeger (last status %d)", traceID, resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}

	tj := got.Data[0]
	byName := map[string]int{}
	for i, s := range tj.Spans {
		byName[s.OperationName] = i
		if svc := tj.Processes[s.ProcessID].ServiceName; svc != "miniais-test-proxy" {
			t.Errorf("span %s service %q", s.OperationName, svc)
		}
	}
	ri, ok1 := byName["PUT /v1/objects/{bucket}/{object...}"]
	ci, ok2 := byName["fs.Put"]
	if !ok1 || !ok2 {
		t.Fatalf("operations %v", byName)
	}
	rs, cs := tj.Spans[ri], tj.Spans[ci]
	if len(rs.References) != 0 {
		t.Errorf("root has references %v", rs.References)
	}
	if len(cs.References) != 1 || cs.References[0].RefType != "CHILD_OF" || cs.References[0].SpanID != rs.SpanID {
		t.Errorf("child references %v, want CHILD_OF %s", cs.References, rs.SpanID)
	}
	tags := map[string]string{}
	for _, tg := range rs.Tags {
		tags[tg.Key] = fmt.Sprint(tg.Value)
	}
	if tags["ais.bucket"] != "b1" || tags["span.kind"] != "server" {
		t.Errorf("root tags %v", tags)
	}
	if rs.SpanID != root.SpanContext().SpanID().String() {
		t.Errorf("root span id %s, want %s", rs.SpanID, root.SpanContext().SpanID())
	}
}
