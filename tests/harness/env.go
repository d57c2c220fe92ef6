package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Environment variables the harness reads (see the package documentation).
const (
	EnvRepo         = "MINIAIS_REPO"
	EnvBinDir       = "MINIAIS_BIN_DIR"
	EnvJaegerBin    = "MINIAIS_JAEGER_BIN"
	EnvJaegerImage  = "MINIAIS_JAEGER_IMAGE"
	EnvJaegerMode   = "MINIAIS_JAEGER_MODE"
	EnvAisnodeImage = "MINIAIS_AISNODE_IMAGE"
)

// InCI reports whether the tests run under CI (CI=true or CI=1), where the Docker parts
// are required.
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Unavailable ends the test because something it needs cannot be had: under CI it fails
// (t.Fatalf), elsewhere it skips (t.Skipf) with the reason printed. It never returns.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true requires it: %s", msg)
	}
	t.Skipf("SKIP (not under CI): %s", msg)
}

// RepoRoot returns the repository root: MINIAIS_REPO, else the nearest directory above the
// working directory whose go.mod declares module miniais.
func RepoRoot(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvRepo); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("harness: getwd: %v", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module miniais")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("harness: no go.mod of module miniais above the working directory; set %s", EnvRepo)
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Several ports
// needed at once must come from one FreePorts call: the kernel may hand a just-closed port
// out again at once.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment ago (each
// listener stays open until all n are chosen).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("harness: free port: %v", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// FreeUDPPorts returns n distinct UDP ports on 127.0.0.1 that were free a moment ago.
func FreeUDPPorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("harness: free udp port: %v", err)
		}
		defer pc.Close()
		ports = append(ports, pc.LocalAddr().(*net.UDPAddr).Port)
	}
	return ports
}

// FreeAddr returns "127.0.0.1:PORT" with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

// DockerAvailable reports whether a Docker engine answers, and if not, why.
func DockerAvailable(ctx context.Context) (bool, string) {
	if os.Getenv("DOCKER") == "0" {
		return false, "DOCKER=0"
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return false, "no docker command"
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return false, fmt.Sprintf("docker info does not answer: %v: %s", err, firstLine(out))
	}
	return true, ""
}

// ComposeCommand returns the Docker Compose command line: the docker-compose binary when it is
// installed (CI installs it), else the `docker compose` plugin when it answers. It mirrors
// playground/compose.sh.
func ComposeCommand(ctx context.Context) ([]string, error) {
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "compose", "version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("neither docker-compose nor the docker compose plugin: %v: %s", err, firstLine(out))
	}
	return []string{"docker", "compose"}, nil
}

// run runs a command and returns its trimmed stdout; the error carries stderr.
func run(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// lastLine returns the last non-empty line of s (scripts print their answer last).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// firstLine returns the first line of b, for short error messages.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// stopWaiting wraps an error after which waitFor gives up at once (e.g. a process exited).
type stopWaiting struct{ err error }

func (s stopWaiting) Error() string { return s.err.Error() }
func (s stopWaiting) Unwrap() error { return s.err }

// waitFor polls cond every interval until it answers true or ctx ends; it returns the
// last error cond reported when ctx ends. An error of type stopWaiting ends it at once.
func waitFor(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		var stop stopWaiting
		if errors.As(err, &stop) {
			return stop.err
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last: %w)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
