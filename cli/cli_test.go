package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/OneOfOne/xxhash"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/internal/nodetest"
	"miniais/tracing/jaegerquery"
)

// result is the outcome of one in-process run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// harness runs the CLI in-process against a cluster: a real one started
// in the test binary (newHarness), or a recorder (commands_test.go).
type harness struct {
	tb    testing.TB
	nc    *nodetest.Cluster // nil against a recorder
	env   map[string]string
	stdin string
	sp    sdktrace.SpanProcessor
	// interactive makes stdin count as a terminal (confirmation prompts).
	interactive bool
}

// harnessTargets is the number of targets of the harness's cluster.
const harnessTargets = 2

// newHarness starts a real in-process cluster (one proxy, harnessTargets
// targets) for the CLI to talk to.
func newHarness(tb testing.TB) *harness {
	tb.Helper()
	nc := nodetest.Start(tb, nodetest.Options{Targets: harnessTargets})
	return &harness{tb: tb, nc: nc, env: map[string]string{EnvEndpoint: nc.URL()}}
}

// xxhash2 is the checksum of data as miniais spells it.
func xxhash2(data []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(data)) }

func (h *harness) run(args ...string) result {
	h.tb.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), append([]string{"ais"}, args...), Env{
		Stdin:          strings.NewReader(h.stdin),
		Stdout:         &out,
		Stderr:         &errOut,
		Getenv:         func(k string) string { return h.env[k] },
		SpanProcessor:  h.sp,
		WaterfallWidth: 80,
		IsInteractive:  func(io.Reader) bool { return h.interactive },
	})
	return result{code, out.String(), errOut.String()}
}

// must runs args and fails the test unless the exit code is 0.
func (h *harness) must(args ...string) result {
	h.tb.Helper()
	r := h.run(args...)
	if r.code != ExitOK {
		h.tb.Fatalf("ais %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestBucketCommands(t *testing.T) {
	h := newHarness(t)
	h.must("bucket", "create", "ais://b1", "b2")
	r := h.must("bucket", "ls")
	for _, want := range []string{"NAME", "ais://b1", "ais://b2", "Total: 2 bucket(s)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bucket ls lacks %q:\n%s", want, r.stdout)
		}
	}
	if r2 := h.must("ls"); r2.stdout != r.stdout {
		t.Errorf("'ais ls' = %q, want the bucket list %q", r2.stdout, r.stdout)
	}
	if r := h.run("bucket", "create", "ais://b1"); r.code != ExitError || !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("re-create: %+v", r)
	}
	h.must("bucket", "rm", "ais://b1")
	if r := h.run("bucket", "rm", "ais://b1"); r.code != ExitError || !strings.Contains(r.stderr, "not found") {
		t.Errorf("rm missing: %+v", r)
	}
}

func TestPutGetObject(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	h.must("bucket", "create", "ais://b")
	data := make([]byte, 100_000)
	_, _ = rand.Read(data)
	src := filepath.Join(dir, "src.bin")
	writeFile(t, src, data)

	tests := []struct {
		name   string
		args   []string
		stdin  string
		object string
		want   []byte
	}{
		{"file to object", []string{"put", src, "ais://b/dir/obj name.bin"}, "", "dir/obj name.bin", data},
		{"file to bucket uses base name", []string{"put", src, "ais://b"}, "", "src.bin", data},
		{"file to virtual dir", []string{"put", src, "ais://b/vdir/"}, "", "vdir/src.bin", data},
		{"stdin", []string{"put", "-", "ais://b/from-stdin"}, "hello stdin", "from-stdin", []byte("hello stdin")},
		{"flags after args", []string{"put", src, "ais://b/late-flag", "--trace=false"}, "", "late-flag", data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.stdin = tt.stdin
			r := h.must(tt.args...)
			if !strings.Contains(r.stdout, "ais://b/"+tt.object) {
				t.Errorf("stdout %q does not name the object", r.stdout)
			}
			got, ok := h.nc.Object("b", tt.object)
			if !ok || !bytes.Equal(got, tt.want) {
				t.Fatalf("stored %d bytes (present %v)", len(got), ok)
			}
			out := filepath.Join(t.TempDir(), "out")
			h.must("get", "ais://b/"+tt.object, out)
			if b, _ := os.ReadFile(out); !bytes.Equal(b, tt.want) {
				t.Errorf("get wrote %d bytes, want %d", len(b), len(tt.want))
			}
			r = h.must("get", "ais://b/"+tt.object, "-")
			if r.stdout != string(tt.want) {
				t.Errorf("get - wrote %d bytes to stdout", len(r.stdout))
			}
		})
	}
	h.stdin = ""

	t.Run("get refuses to overwrite without --yes", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "exists")
		writeFile(t, out, []byte("keep me"))
		r := h.run("get", "ais://b/src.bin", out)
		if r.code != ExitError || !strings.Contains(r.stderr, "--yes") {
			t.Fatalf("%+v", r)
		}
		if b, _ := os.ReadFile(out); string(b) != "keep me" {
			t.Fatal("file was overwritten")
		}
		h.must("get", "ais://b/src.bin", out, "--yes")
		if b, _ := os.ReadFile(out); !bytes.Equal(b, data) {
			t.Fatal("--yes did not overwrite")
		}
		if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
			t.Errorf("temporary files left: %v", ents)
		}
	})
	t.Run("get default name and directory", func(t *testing.T) {
		d := t.TempDir()
		t.Chdir(d)
		h.must("get", "ais://b/dir/obj name.bin")
		h.must("get", "ais://b/src.bin", ".")
		for _, n := range []string{"obj name.bin", "src.bin"} {
			if b, _ := os.ReadFile(filepath.Join(d, n)); !bytes.Equal(b, data) {
				t.Errorf("%s: %d bytes", n, len(b))
			}
		}
	})
	t.Run("range", func(t *testing.T) {
		r := h.must("get", "ais://b/from-stdin", "-", "--offset", "6", "--length", "3")
		if r.stdout != "std" {
			t.Errorf("range got %q", r.stdout)
		}
	})
	t.Run("get missing object leaves no file", func(t *testing.T) {
		d := t.TempDir()
		r := h.run("get", "ais://b/nope", filepath.Join(d, "x"))
		if r.code != ExitError || !strings.Contains(r.stderr, "not found") {
			t.Fatalf("%+v", r)
		}
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("left %v", ents)
		}
	})
	t.Run("object show and rm", func(t *testing.T) {
		r := h.must("object", "show", "ais://b/src.bin")
		for _, want := range []string{"PROPERTY", "ais://b/src.bin", "97.66 KiB (100000 bytes)", "xxhash2:" + xxhash2(data), "mirror.copies  1", "present        true"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("object show lacks %q:\n%s", want, r.stdout)
			}
		}
		h.must("object", "rm", "ais://b/src.bin")
		if _, ok := h.nc.Object("b", "src.bin"); ok {
			t.Error("object still there")
		}
		if r := h.run("object", "show", "ais://b/src.bin"); r.code != ExitError || !strings.Contains(r.stderr, "not found") {
			t.Errorf("show after rm: %+v", r)
		}
	})
}

func TestPutRecursiveAndList(t *testing.T) {
	h := newHarness(t)
	h.must("bucket", "create", "ais://b")
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "sub/b.txt", "sub/deeper/c.txt"} {
		writeFile(t, filepath.Join(dir, n), []byte(n))
	}
	if r := h.run("put", dir, "ais://b"); r.code != ExitUsage || !strings.Contains(r.stderr, "--recursive") {
		t.Fatalf("dir without --recursive: %+v", r)
	}
	r := h.must("put", dir, "ais://b/pre", "--recursive")
	if !strings.Contains(r.stdout, "Put 3 file(s)") {
		t.Errorf("stdout %q", r.stdout)
	}
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"all", []string{"ls", "ais://b"}, []string{"pre/a.txt", "pre/sub/b.txt", "pre/sub/deeper/c.txt", "Total: 3 object(s)"}, nil},
		{"prefix flag after the bucket", []string{"ls", "ais://b", "--prefix", "pre/sub/"}, []string{"pre/sub/b.txt", "pre/sub/deeper/c.txt", "Total: 2"}, []string{"a.txt"}},
		{"prefix in the URI, paged", []string{"ls", "--page-size", "1", "ais://b/pre/sub/deeper"}, []string{"c.txt", "Total: 1"}, []string{"b.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.must(tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(r.stdout, n) {
					t.Errorf("has %q:\n%s", n, r.stdout)
				}
			}
		})
	}
	if got, _ := h.nc.Object("b", "pre/sub/deeper/c.txt"); string(got) != "sub/deeper/c.txt" {
		t.Errorf("content %q", got)
	}
}

func TestShowCluster(t *testing.T) {
	h := newHarness(t)
	r := h.must("show", "cluster")
	smap := h.nc.Proxy().Smap()
	want := []string{fmt.Sprintf("map version %d", smap.Version), "ROLE", "proxy", nodetest.ProxyID, "online, primary",
		fmt.Sprintf("%d target(s)", harnessTargets)}
	for _, tg := range h.nc.Targets() {
		want = append(want, "target", tg.ID(), tg.URL)
	}
	for _, want := range want {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "mountpaths") {
		t.Errorf("mountpath status of healthy targets:\n%s", r.stdout)
	}
	// A disabled mountpath is shown on its target's row.
	tg := h.nc.Targets()[0]
	mp := tg.Config.Mountpaths[1]
	req, _ := http.NewRequest(http.MethodPost, tg.URL+"/v1/daemon/mountpaths?dntres=true", strings.NewReader(`{"action":"disable-mp","value":"`+mp+`"}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("disable-mp: %v %v", resp, err)
	}
	r = h.must("show", "cluster")
	if !strings.Contains(r.stdout, tg.ID()) || !strings.Contains(r.stdout, "mountpaths disabled: "+mp) {
		t.Errorf("disabled mountpath not shown:\n%s", r.stdout)
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no args shows help", nil, nil, ExitOK, ""},
		{"help", nil, []string{"put", "--help"}, ExitOK, ""},
		{"unknown command", nil, []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"unknown subcommand", nil, []string{"bucket", "frob"}, ExitUsage, `unknown command "frob"`},
		{"unknown flag", nil, []string{"ls", "--bogus"}, ExitUsage, "bogus"},
		{"missing argument", nil, []string{"get"}, ExitUsage, "expected at least 1"},
		{"too many arguments", nil, []string{"object", "show", "ais://b/o", "ais://b/p"}, ExitUsage, "at most 1"},
		{"other provider", nil, []string{"ls", "s3://b"}, ExitUsage, "unsupported provider"},
		{"empty bucket", nil, []string{"bucket", "create", "ais://"}, ExitUsage, "empty bucket name"},
		{"stdin needs a name", nil, []string{"put", "-", "ais://b"}, ExitUsage, "needs an object name"},
		{"get needs an object", nil, []string{"get", "ais://b"}, ExitUsage, "names no object"},
		{"missing file", nil, []string{"put", "/nonexistent/file", "ais://b/o"}, ExitError, "no such file"},
		{"unreachable via env", map[string]string{EnvEndpoint: dead}, []string{"bucket", "ls"}, ExitError, "cannot reach the cluster at " + dead},
		{"unreachable via flag", nil, []string{"--endpoint", dead, "show", "cluster"}, ExitError, "cannot reach the cluster at " + dead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := h.env
			if tt.env != nil {
				h.env = tt.env
			}
			defer func() { h.env = saved }()
			r := h.run(tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %+v", r.code, tt.code, r)
			}
			if tt.code == ExitOK {
				if r.stderr != "" || !strings.Contains(r.stdout, "USAGE") {
					t.Errorf("help: %+v", r)
				}
				return
			}
			if !strings.HasPrefix(r.stderr, "Error: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want one line 'Error: ...%s...'", r.stderr, tt.want)
			}
		})
	}
}

func TestTraceFlag(t *testing.T) {
	h := newHarness(t)
	rec := tracetest.NewSpanRecorder()
	h.sp = rec
	h.env["AIS_JAEGER_URL"] = "http://jaeger.example:16686"
	h.must("bucket", "create", "ais://b")
	h.stdin = "traced"
	r := h.must("put", "-", "ais://b/o", "--trace")
	var root sdktrace.ReadOnlySpan
	var clients int
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "ais put":
			root = s
		case "PUT /v1/objects":
			clients++
		}
	}
	if root == nil || clients != 2 {
		t.Fatalf("spans: root %v, %d client spans", root, clients)
	}
	id := root.SpanContext().TraceID().String()
	want := "Trace ID: " + id + "\nJaeger: http://jaeger.example:16686/trace/" + id + "\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	attrs := map[attribute.Key]string{}
	for _, kv := range root.Attributes() {
		attrs[kv.Key] = kv.Value.Emit()
	}
	if attrs["ais.bucket"] != "ais://b" || attrs["ais.object"] != "o" || attrs["ais.size"] != "6" {
		t.Errorf("root attributes %v", attrs)
	}
	for _, s := range rec.Ended() {
		if s.Name() == "PUT /v1/objects" && s.Parent().SpanID() != root.SpanContext().SpanID() {
			t.Errorf("client span not a child of the root")
		}
	}
	if r := h.must("bucket", "ls", "--trace=false"); r.stderr != "" {
		t.Errorf("untraced command printed %q", r.stderr)
	}
}

func TestShowTraceAndTraceShow(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "put_trace.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	jaeger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/api/traces/")
		if !ok || id == "00000000000000000000000000000404" {
			http.NotFound(w, r)
			return
		}
		asked = append(asked, id)
		var jr jaegerquery.Response[jaegerquery.Trace]
		_ = json.Unmarshal(fixture, &jr)
		jr.Data[0].TraceID = id
		_ = json.NewEncoder(w).Encode(jr)
	}))
	t.Cleanup(jaeger.Close)
	h := newHarness(t)
	h.sp = tracetest.NewSpanRecorder()
	h.env[EnvJaegerURL] = jaeger.URL
	h.must("bucket", "create", "ais://b")

	r := h.must("bucket", "ls", "--show-trace")
	if len(asked) < 2 || !strings.Contains(r.stderr, "Trace ID: "+asked[0]) || !strings.Contains(r.stderr, "        fs.Fsync !") {
		t.Errorf("--show-trace: asked %v, stderr:\n%s", asked, r.stderr)
	}

	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	r = h.must("trace", "show", id)
	golden, err := os.ReadFile(filepath.Join("testdata", "put_trace.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := RenderWaterfall(&want, loadTrace(t, "put_trace.json"), 80); err != nil {
		t.Fatal(err)
	}
	if r.stdout != want.String() || !strings.Contains(string(golden), "fs.Fsync !") {
		t.Errorf("trace show:\n%s\nwant:\n%s", r.stdout, want.String())
	}
	if r := h.run("trace", "show", "00000000000000000000000000000404"); r.code != ExitError || !strings.Contains(r.stderr, "trace not found") {
		t.Errorf("unknown trace: %+v", r)
	}
	if r := h.run("trace", "show", "xyz"); r.code != ExitUsage {
		t.Errorf("bad ID: %+v", r)
	}
}

func TestReorderArgs(t *testing.T) {
	app := newApp(&Env{})
	tests := []struct{ in, want string }{
		{"ais ls ais://b --prefix x", "ais ls --prefix x ais://b"},
		{"ais ls ais://b --prefix=x", "ais ls --prefix=x ais://b"},
		{"ais --endpoint http://e put f ais://b --trace", "ais --endpoint http://e put --trace f ais://b"},
		{"ais bucket create ais://a ais://b --trace", "ais bucket create --trace ais://a ais://b"},
		{"ais get ais://b/o - --yes", "ais get --yes ais://b/o -"},
		{"ais put -- -weird ais://b/o", "ais put -- -weird ais://b/o"},
		{"ais put f ais://b/o -- -x", "ais put -- f ais://b/o -x"},
		{"ais nosuch a --b", "ais nosuch a --b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{-1, "-"}, {0, "0 B"}, {1023, "1023 B"}, {1024, "1.00 KiB"}, {1536, "1.50 KiB"}, {5 << 20, "5.00 MiB"}, {3 << 40, "3.00 TiB"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := HumanSize(tt.n); got != tt.want {
				t.Errorf("HumanSize(%d) = %q", tt.n, got)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine("GET o", 5<<20, 10<<20, 0, 10)
	if want := "GET o [=====>    ]  50%  5.00 MiB / 10.00 MiB"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestProgressBarOnTerminal(t *testing.T) {
	h := newHarness(t)
	h.must("bucket", "create", "ais://b")
	data := make([]byte, progressThreshold+1)
	_, _ = rand.Read(data)
	src := filepath.Join(t.TempDir(), "big")
	writeFile(t, src, data)
	run := func(tty bool, args ...string) result {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), append([]string{"ais"}, args...), Env{
			Stdout: &out, Stderr: &errOut,
			Getenv:     func(k string) string { return h.env[k] },
			IsTerminal: func(io.Writer) bool { return tty },
		})
		return result{code, out.String(), errOut.String()}
	}
	tests := []struct {
		name string
		tty  bool
		args []string
	}{
		{"put tty", true, []string{"put", src, "ais://b/big"}},
		{"get tty", true, []string{"get", "ais://b/big", filepath.Join(t.TempDir(), "o")}},
		{"put no tty", false, []string{"put", src, "ais://b/big"}},
		{"get no tty", false, []string{"get", "ais://b/big", filepath.Join(t.TempDir(), "o")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.tty, tt.args...)
			if r.code != ExitOK {
				t.Fatalf("%+v", r)
			}
			hasBar := strings.Contains(r.stderr, "100%  4.00 MiB / 4.00 MiB")
			if hasBar != tt.tty {
				t.Errorf("tty %v: stderr %q", tt.tty, r.stderr)
			}
			if strings.Contains(r.stdout, "%") {
				t.Errorf("progress on stdout: %q", r.stdout)
			}
		})
	}
	if got, _ := h.nc.Object("b", "big"); !bytes.Equal(got, data) {
		t.Error("content differs")
	}
}
