package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/internal/proc"
	"miniais/tracing/jaegerquery"
)

// JaegerVersion is the Jaeger all-in-one release the playground builds.
const JaegerVersion = "1.48.0"

// Jaeger is a Jaeger all-in-one with in-memory storage started for one test: a container
// when a Docker engine answers, else a process. Every port is on 127.0.0.1 and picked free,
// and it keeps its ports across Stop and Start. Methods are safe for concurrent use.
type Jaeger struct {
	t      testing.TB
	docker bool
	image  string // docker mode
	name   string // container name
	bin    string // process mode
	why    string // process mode: why not docker
	logDir string
	ports  jaegerPorts
	client *http.Client
	// queryURL is set for a Jaeger the harness only queries (Compose.Jaeger).
	queryURL string

	mu    sync.Mutex
	child *proc.Process // process mode, while running
}

type jaegerPorts struct {
	otlpGRPC, otlpHTTP, query, queryGRPC, admin int
	collectorGRPC, collectorHTTP, sampling      int
	compact, binary, zipkinCompact              int // UDP
}

// StartJaeger starts a Jaeger for the test and stops it in t.Cleanup. When neither a
// container nor a process can be had, the test is skipped, or failed under CI (Unavailable).
func StartJaeger(t testing.TB) *Jaeger {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	j := &Jaeger{t: t, client: &http.Client{Timeout: 10 * time.Second}}
	j.pickPorts()
	mode := os.Getenv(EnvJaegerMode)
	dockerOK, why := DockerAvailable(ctx)
	switch {
	case mode == "process":
		if InCI() {
			t.Fatalf("harness: %s=process is not allowed under CI=true", EnvJaegerMode)
		}
		why = EnvJaegerMode + "=process"
	case mode == "docker" && !dockerOK:
		Unavailable(t, "%s=docker but %s", EnvJaegerMode, why)
	case !dockerOK && InCI():
		t.Fatalf("harness: CI=true requires a Docker engine for Jaeger: %s", why)
	}
	j.docker = dockerOK && mode != "process"
	j.why = why
	if j.docker {
		j.image = os.Getenv(EnvJaegerImage)
		if j.image == "" {
			out, err := run(ctx, nil, filepath.Join(RepoRoot(t), "playground", "jaeger.sh"), "image")
			if err != nil {
				Unavailable(t, "no Jaeger image: %v", err)
			}
			j.image = lastLine(out)
		}
		j.name = fmt.Sprintf("miniais-test-jaeger-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	} else {
		j.bin = jaegerBinary(t, ctx)
		j.logDir = t.TempDir()
	}
	t.Cleanup(j.remove)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = j.start(ctx); err == nil || !isPortClash(err) {
			break
		}
		t.Logf("harness: jaeger port clash, picking new ports: %v", err)
		j.remove()
		j.pickPorts()
	}
	if err != nil {
		j.dumpLog()
		Unavailable(t, "cannot start Jaeger: %v", err)
	}
	t.Logf("jaeger: %s, OTLP gRPC %s, query %s", j.Mode(), j.OTLPEndpoint(), j.QueryURL())
	return j
}

// pickPorts chooses free host ports for every listener.
func (j *Jaeger) pickPorts() {
	tcp, udp := FreePorts(j.t, 8), FreeUDPPorts(j.t, 3)
	j.ports = jaegerPorts{
		otlpGRPC: tcp[0], otlpHTTP: tcp[1], query: tcp[2], queryGRPC: tcp[3],
		admin: tcp[4], collectorGRPC: tcp[5], collectorHTTP: tcp[6], sampling: tcp[7],
		compact: udp[0], binary: udp[1], zipkinCompact: udp[2],
	}
}

// jaegerBinary finds the Jaeger binary, building it with playground/jaeger.sh install when
// it is missing.
func jaegerBinary(t testing.TB, ctx context.Context) string {
	t.Helper()
	if b := os.Getenv(EnvJaegerBin); b != "" {
		if _, err := os.Stat(b); err != nil {
			Unavailable(t, "%s=%s: %v", EnvJaegerBin, b, err)
		}
		return b
	}
	home, _ := os.UserHomeDir()
	b := filepath.Join(home, ".cache", "miniais", "jaeger-v"+JaegerVersion, "all-in-one")
	if _, err := os.Stat(b); err == nil {
		return b
	}
	t.Logf("harness: building Jaeger with playground/jaeger.sh install (about a minute)")
	if _, err := run(ctx, nil, filepath.Join(RepoRoot(t), "playground", "jaeger.sh"), "install"); err != nil {
		Unavailable(t, "no Jaeger binary: %v", err)
	}
	return b
}

// isPortClash reports whether err says a port was taken between picking and binding.
func isPortClash(err error) bool {
	s := err.Error()
	return strings.Contains(s, "port is already allocated") || strings.Contains(s, "address already in use")
}

// Mode describes how Jaeger runs: "docker container NAME (image IMAGE)" or "process pid N".
func (j *Jaeger) Mode() string {
	if j.docker {
		return fmt.Sprintf("docker container %s (image %s)", j.name, j.image)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.child == nil {
		return "process (stopped)"
	}
	return fmt.Sprintf("process pid %d (no docker engine: %s; %s)", j.child.PID(), j.why, j.bin)
}

// Docker reports whether Jaeger runs in a container.
func (j *Jaeger) Docker() bool { return j.docker }

// OTLPEndpoint returns the OTLP/gRPC collector address, "127.0.0.1:PORT" (the form
// AIS_TRACING_ENDPOINT takes).
func (j *Jaeger) OTLPEndpoint() string { return fmt.Sprintf("127.0.0.1:%d", j.ports.otlpGRPC) }

// OTLPHTTPEndpoint returns the OTLP/HTTP collector address, "127.0.0.1:PORT".
func (j *Jaeger) OTLPHTTPEndpoint() string { return fmt.Sprintf("127.0.0.1:%d", j.ports.otlpHTTP) }

// QueryURL returns the base URL of the query API and UI, "http://127.0.0.1:PORT".
func (j *Jaeger) QueryURL() string {
	if j.queryURL != "" {
		return j.queryURL
	}
	return fmt.Sprintf("http://127.0.0.1:%d", j.ports.query)
}

func (j *Jaeger) adminURL() string { return fmt.Sprintf("http://127.0.0.1:%d/", j.ports.admin) }

// start starts the container or process and waits until the admin port answers 200.
func (j *Jaeger) start(ctx context.Context) error {
	if j.docker {
		p := j.ports
		pub := func(host, container int, proto string) string {
			return fmt.Sprintf("127.0.0.1:%d:%d/%s", host, container, proto)
		}
		args := []string{"run", "-d", "--name", j.name, "--label", "miniais.test=jaeger",
			"-e", "SPAN_STORAGE_TYPE=memory", "-e", "COLLECTOR_OTLP_ENABLED=true",
			"-p", pub(p.otlpGRPC, 4317, "tcp"), "-p", pub(p.otlpHTTP, 4318, "tcp"),
			"-p", pub(p.query, 16686, "tcp"), "-p", pub(p.queryGRPC, 16685, "tcp"),
			"-p", pub(p.admin, 14269, "tcp"), "-p", pub(p.collectorGRPC, 14250, "tcp"),
			"-p", pub(p.collectorHTTP, 14268, "tcp"), "-p", pub(p.sampling, 5778, "tcp"),
			"-p", pub(p.compact, 6831, "udp"), "-p", pub(p.binary, 6832, "udp"),
			"-p", pub(p.zipkinCompact, 5775, "udp"),
			j.image}
		if _, err := run(ctx, nil, "docker", args...); err != nil {
			return err
		}
	} else {
		p := j.ports
		hp := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
		args := []string{
			"--collector.otlp.enabled=true",
			"--collector.otlp.grpc.host-port=" + hp(p.otlpGRPC),
			"--collector.otlp.http.host-port=" + hp(p.otlpHTTP),
			"--query.http-server.host-port=" + hp(p.query),
			"--query.grpc-server.host-port=" + hp(p.queryGRPC),
			"--admin.http.host-port=" + hp(p.admin),
			"--collector.grpc-server.host-port=" + hp(p.collectorGRPC),
			"--collector.http-server.host-port=" + hp(p.collectorHTTP),
			"--http-server.host-port=" + hp(p.sampling),
			"--processor.jaeger-compact.server-host-port=" + hp(p.compact),
			"--processor.jaeger-binary.server-host-port=" + hp(p.binary),
			"--processor.zipkin-compact.server-host-port=" + hp(p.zipkinCompact),
		}
		env := append(os.Environ(), "SPAN_STORAGE_TYPE=memory")
		child, err := proc.Start(proc.Spec{Name: "jaeger", Bin: j.bin, Args: args, Env: env, LogPath: filepath.Join(j.logDir, "jaeger.log")})
		if err != nil {
			return err
		}
		j.mu.Lock()
		j.child = child
		j.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return waitFor(ctx, 50*time.Millisecond, func() (bool, error) {
		if !j.docker {
			j.mu.Lock()
			child := j.child
			j.mu.Unlock()
			if child.Exited() {
				return false, stopWaiting{fmt.Errorf("jaeger exited: %v: %s", child.ExitErr(),
					tailFile(filepath.Join(j.logDir, "jaeger.log"), 5))}
			}
		}
		resp, err := j.client.Get(j.adminURL())
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// Stop kills Jaeger at once (SIGKILL), to simulate a dead collector. Its traces are lost.
func (j *Jaeger) Stop() {
	j.t.Helper()
	if j.queryURL != "" {
		j.t.Fatalf("harness: this Jaeger is only queried here; stop its container instead")
	}
	if err := j.kill(); err != nil {
		j.t.Fatalf("harness: stop jaeger: %v", err)
	}
}

// kill removes the container, or kills the process and waits for its exit.
func (j *Jaeger) kill() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if j.docker {
		_, err := run(ctx, nil, "docker", "rm", "-f", j.name)
		return err
	}
	j.mu.Lock()
	child := j.child
	j.child = nil
	j.mu.Unlock()
	if child != nil {
		child.Kill(ctx)
	}
	return nil
}

// Start starts Jaeger again after Stop, on the same ports, and waits until it is ready.
func (j *Jaeger) Start() {
	j.t.Helper()
	if j.queryURL != "" {
		j.t.Fatalf("harness: this Jaeger is only queried here; start its container instead")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := j.start(ctx); err != nil {
		j.dumpLog()
		j.t.Fatalf("harness: restart jaeger: %v", err)
	}
}

// remove stops Jaeger for good (t.Cleanup).
func (j *Jaeger) remove() {
	if j.t.Failed() {
		j.dumpLog()
	}
	_ = j.kill()
}

// dumpLog prints the end of Jaeger's log.
func (j *Jaeger) dumpLog() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if j.docker {
		out, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "40", j.name).CombinedOutput()
		j.t.Logf("jaeger container %s log (last 40 lines):\n%s", j.name, out)
		return
	}
	if j.logDir != "" {
		j.t.Logf("jaeger log (end):\n%s", tailFile(filepath.Join(j.logDir, "jaeger.log"), 40))
	}
}

// query returns the client of Jaeger's query API.
func (j *Jaeger) query() *jaegerquery.Client { return jaegerquery.New(j.QueryURL(), j.client) }

// Trace returns the trace with the given (hex) ID, or an error wrapping ErrTraceNotFound.
func (j *Jaeger) Trace(ctx context.Context, id string) (*Trace, error) {
	return j.query().Trace(ctx, id)
}

// WaitTrace polls until the trace holds at least minSpans spans and returns it; when ctx
// ends first, it returns what it last saw (possibly nil) with the error.
func (j *Jaeger) WaitTrace(ctx context.Context, id string, minSpans int) (*Trace, error) {
	var last *Trace
	err := waitFor(ctx, 100*time.Millisecond, func() (bool, error) {
		tr, err := j.Trace(ctx, id)
		if err != nil {
			return false, err
		}
		last = tr
		if len(tr.Spans) < minSpans {
			return false, fmt.Errorf("trace %s has %d spans, want at least %d", id, len(tr.Spans), minSpans)
		}
		return true, nil
	})
	if err != nil {
		return last, fmt.Errorf("harness: wait for trace %s: %w", id, err)
	}
	return last, nil
}

// Services returns the service names Jaeger has seen.
func (j *Jaeger) Services(ctx context.Context) ([]string, error) { return j.query().Services(ctx) }

// Traces returns up to limit recent traces (last hour) that hold spans of service.
func (j *Jaeger) Traces(ctx context.Context, service string, limit int) ([]Trace, error) {
	return j.query().Traces(ctx, service, limit, time.Hour)
}
