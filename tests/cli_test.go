package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"miniais/tests/harness"
)

// cliResult is what one run of bin/ais produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runAIS runs bin/ais against the cluster with stdin and extra environment.
func runAIS(t *testing.T, cl *harness.Cluster, stdin []byte, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := cl.CLI(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("ais %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// ok runs a command that must succeed and returns its stdout.
func ok(t *testing.T, cl *harness.Cluster, args ...string) string {
	t.Helper()
	r := runAIS(t, cl, nil, nil, args...)
	if r.code != 0 {
		t.Fatalf("ais %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// TestCLI drives every command of bin/ais against a real cluster, and the
// error cases with their exit codes and one-line messages.
func TestCLI(t *testing.T) {
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := write("small.txt", []byte("hello, miniais\n"))
	big := write("big.bin", randomBytes(6<<20))
	write("tree/a.txt", []byte("a"))
	write("tree/sub/b.txt", []byte("bb"))

	ok(t, cl, "bucket", "create", "ais://cli1", "ais://cli2")
	if out := ok(t, cl, "bucket", "ls"); !strings.Contains(out, "cli1") || !strings.Contains(out, "cli2") {
		t.Fatalf("bucket ls:\n%s", out)
	}
	ok(t, cl, "put", small, "ais://cli1/docs/hello.txt")
	ok(t, cl, "put", big, "ais://cli1")                                         // the file's base name
	ok(t, cl, "put", filepath.Join(dir, "tree"), "ais://cli1/t", "--recursive") // a directory
	if r := runAIS(t, cl, []byte("from stdin"), nil, "put", "-", "ais://cli1/stdin.txt"); r.code != 0 {
		t.Fatalf("put from stdin: %d %s", r.code, r.stderr)
	}

	ls := ok(t, cl, "ls", "ais://cli1")
	for _, want := range []string{"docs/hello.txt", "big.bin", "stdin.txt", "t/a.txt", "t/sub/b.txt", "6.00 MiB"} {
		if !strings.Contains(ls, want) {
			t.Errorf("ls lacks %q:\n%s", want, ls)
		}
	}
	if ls := ok(t, cl, "ls", "ais://cli1", "--prefix", "t/"); strings.Contains(ls, "big.bin") || !strings.Contains(ls, "t/sub/b.txt") {
		t.Errorf("ls --prefix t/:\n%s", ls)
	}
	// Table rows line up: every row's second column starts under SIZE.
	lines := strings.Split(strings.TrimSpace(ls), "\n")
	col := strings.Index(lines[0], "SIZE")
	if col < 0 {
		t.Fatalf("ls has no SIZE column:\n%s", ls)
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "Total:") {
			continue
		}
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("ls row does not line up with its header:\n%s\n%s", lines[0], l)
		}
	}

	out := filepath.Join(dir, "out", "big.copy")
	os.MkdirAll(filepath.Dir(out), 0o755)
	ok(t, cl, "get", "ais://cli1/big.bin", out)
	if a, b := mustRead(t, big), mustRead(t, out); !bytes.Equal(a, b) {
		t.Fatal("get wrote different bytes")
	}
	if r := runAIS(t, cl, nil, nil, "get", "ais://cli1/big.bin", out); r.code == 0 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("get over an existing file without --yes: exit %d, %q", r.code, r.stderr)
	}
	ok(t, cl, "get", "ais://cli1/docs/hello.txt", out, "--yes")
	if got := string(mustRead(t, out)); got != "hello, miniais\n" {
		t.Errorf("get --yes wrote %q", got)
	}
	if got := ok(t, cl, "get", "ais://cli1/stdin.txt", "-"); got != "from stdin" {
		t.Errorf("get to stdout = %q", got)
	}
	show := ok(t, cl, "object", "show", "ais://cli1/docs/hello.txt")
	for _, want := range []string{"docs/hello.txt", "xxhash2", "15 B"} {
		if !strings.Contains(show, want) {
			t.Errorf("object show lacks %q:\n%s", want, show)
		}
	}
	ok(t, cl, "object", "rm", "ais://cli1/docs/hello.txt")
	if cls := ok(t, cl, "show", "cluster"); strings.Count(cls, "target") < 2 || !strings.Contains(cls, "proxy") {
		t.Errorf("show cluster:\n%s", cls)
	}
	for _, args := range [][]string{{"--help"}, {"put", "--help"}, {"bucket", "create", "--help"}, {"trace", "show", "--help"}} {
		if h := ok(t, cl, args...); !strings.Contains(strings.ToLower(h), "usage") {
			t.Errorf("ais %s prints no usage:\n%s", strings.Join(args, " "), h)
		}
	}

	// Errors: one line on stderr, a non-zero exit code, nothing on stdout.
	errs := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"missing bucket", nil, []string{"ls", "ais://nosuch"}, "nosuch"},
		{"missing object", nil, []string{"get", "ais://cli1/nothing", filepath.Join(dir, "x")}, "nothing"},
		{"object rm of a missing object", nil, []string{"object", "rm", "ais://cli1/nothing"}, "not found"},
		{"bucket exists", nil, []string{"bucket", "create", "ais://cli2"}, "exists"},
		{"bad URI", nil, []string{"ls", "s3://b"}, "s3"},
		{"bad object name", nil, []string{"put", small, "ais://cli1/../escape"}, ".."},
		{"unreachable cluster", []string{"AIS_ENDPOINT=http://127.0.0.1:1"}, []string{"bucket", "ls"}, "http://127.0.0.1:1"},
		{"unknown command", nil, []string{"frobnicate"}, "frobnicate"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			r := runAIS(t, cl, nil, tc.env, tc.args...)
			msg := strings.TrimSpace(r.stderr)
			if r.code == 0 || strings.Count(msg, "\n") > 1 || !strings.Contains(msg, tc.want) {
				t.Fatalf("ais %s: exit %d, stderr %q; want a non-zero exit and one line naming %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
			}
		})
	}

	ok(t, cl, "bucket", "rm", "ais://cli2")
	if out := ok(t, cl, "bucket", "ls"); strings.Contains(out, "cli2") {
		t.Errorf("bucket rm left the bucket:\n%s", out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCLIAIStoreCommands drives AIStore's spellings of the bucket, object
// and cluster commands through bin/ais against a real cluster.
func TestCLIAIStoreCommands(t *testing.T) {
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	dir := t.TempDir()
	file := filepath.Join(dir, "o.txt")
	if err := os.WriteFile(file, []byte("rmo me"), 0o644); err != nil {
		t.Fatal(err)
	}
	contains := func(t *testing.T, what, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, out)
			}
		}
	}

	// Every subtest works on buckets of its own, but for aisb1, made here.
	contains(t, "create", ok(t, cl, "create", "ais://aisb1"), "ais://aisb1")

	t.Run("create, rmo, rmb", func(t *testing.T) {
		contains(t, "create", ok(t, cl, "create", "ais://aisb2", "ais://aisb3"), "ais://aisb2", "ais://aisb3")
		ok(t, cl, "put", file, "ais://aisb2/dir/o.txt")
		contains(t, "rmo", ok(t, cl, "rmo", "ais://aisb2/dir/o.txt"), "ais://aisb2/dir/o.txt")
		if ls := ok(t, cl, "ls", "ais://aisb2"); strings.Contains(ls, "o.txt") {
			t.Errorf("rmo left the object:\n%s", ls)
		}
		if r := runAIS(t, cl, nil, nil, "rmo", "ais://aisb2/dir/o.txt"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("rmo of a missing object: exit %d, %q", r.code, r.stderr)
		}
		// stdin is not a terminal: without -y rmb refuses at once.
		if r := runAIS(t, cl, []byte("y\n"), nil, "rmb", "ais://aisb3"); r.code != 2 || !strings.Contains(r.stderr, "--yes") {
			t.Errorf("rmb without -y: exit %d, %q", r.code, r.stderr)
		}
		ok(t, cl, "rmb", "-y", "ais://aisb2", "ais://aisb3")
		if out := ok(t, cl, "bucket", "ls"); strings.Contains(out, "aisb2") || strings.Contains(out, "aisb3") || !strings.Contains(out, "aisb1") {
			t.Errorf("rmb -y:\n%s", out)
		}
	})

	t.Run("bucket props show, set, reset", func(t *testing.T) {
		show := ok(t, cl, "bucket", "props", "show", "ais://aisb1")
		contains(t, "props show", show, "checksum.type", "xxhash2", "versioning.enabled", "mirror.copies")
		set := ok(t, cl, "bucket", "props", "set", "ais://aisb1", "versioning.enabled=false", "checksum.validate_warm_get=true")
		contains(t, "props set", set, `"versioning.enabled" set to false (was true)`, `"checksum.validate_warm_get" set to true (was false)`)
		after := ok(t, cl, "bucket", "props", "show", "ais://aisb1", "--json")
		contains(t, "props after set", after, `"validate_warm_get": true`, "\"versioning\": {\n    \"enabled\": false")
		ok(t, cl, "bucket", "props", "reset", "ais://aisb1")
		reset := ok(t, cl, "bucket", "props", "show", "ais://aisb1", "--json")
		contains(t, "props after reset", reset, "\"versioning\": {\n    \"enabled\": true", "\"validate_warm_get\": false")
		if r := runAIS(t, cl, nil, nil, "bucket", "props", "set", "ais://aisb1", "no.such=1"); r.code != 2 || !strings.Contains(r.stderr, "unknown bucket property") {
			t.Errorf("set of an unknown property: exit %d, %q", r.code, r.stderr)
		}
	})

	t.Run("show cluster smap and bmd", func(t *testing.T) {
		smap := ok(t, cl, "show", "cluster", "smap")
		contains(t, "smap", smap, "[P]", "proxy", "target", "Proxies: 1, targets: 2")
		for _, n := range cl.Targets() {
			contains(t, "smap", smap, n.ID, n.PublicURL)
		}
		contains(t, "bmd", ok(t, cl, "show", "cluster", "bmd"), "BUCKET", "ais://aisb1", "xxhash2")
	})

	// Needs the cluster-query endpoints (GET /v1/cluster?what=cluster_config,
	// PUT /v1/cluster/set-config) from the cluster-queries work.
	t.Run("show cluster config, config cluster", func(t *testing.T) {
		contains(t, "show cluster config", ok(t, cl, "show", "cluster", "config", "checksum"), "checksum.type", "xxhash2")
		contains(t, "config cluster KEY", ok(t, cl, "config", "cluster", "checksum.validate_warm_get"), "checksum.validate_warm_get", "false")
		set := ok(t, cl, "config", "cluster", "checksum.validate_warm_get=true")
		contains(t, "config cluster KEY=VALUE", set, "checksum.validate_warm_get", "true")
		ok(t, cl, "config", "cluster", "checksum.validate_warm_get", "false")
		contains(t, "config read back", ok(t, cl, "show", "cluster", "config", "checksum.validate_warm_get"), "false")
	})

	// Needs the bucket summary (summary-bck: 202 + job ID, then 200 + result)
	// from the nodes.
	t.Run("ls --summary, storage summary", func(t *testing.T) {
		ok(t, cl, "create", "ais://aissum")
		ok(t, cl, "put", file, "ais://aissum/s1")
		ok(t, cl, "put", file, "ais://aissum/d/s2")
		contains(t, "ls --summary", ok(t, cl, "ls", "ais://aissum", "--summary"), "NAME", "OBJECTS", "SIZE ON DISK", "USAGE(%)", "ais://aissum", "  2  ")
		contains(t, "storage summary", ok(t, cl, "storage", "summary", "ais://aissum/d/"), "ais://aissum/d/", "  1  ")
	})
}
