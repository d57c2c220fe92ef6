package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envChild makes the test binary act as a child: "ready" prints a line and
// waits for SIGTERM, then exits 0; "stubborn" ignores SIGTERM.
const envChild = "PROC_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(envChild) {
	case "":
		os.Exit(m.Run())
	case "ready":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("child ready")
		<-ch
		fmt.Println("child got SIGTERM")
		os.Exit(0)
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("child ready")
		time.Sleep(time.Minute)
		os.Exit(3)
	}
}

// startChild starts the test binary as a child of the given kind and waits
// until it has printed its ready line.
func startChild(t *testing.T, kind string) (*Process, string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "child.log")
	// GORACE: a race-enabled child otherwise sleeps 1 s in its exit.
	env := append(os.Environ(), envChild+"="+kind, "GORACE=atexit_sleep_ms=0")
	p, err := Start(Spec{Name: kind, Bin: os.Args[0], Env: env, LogPath: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(context.Background()) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), "child ready") {
			return p, log
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("child %s not ready (exited %v: %v):\n%s", kind, p.Exited(), p.ExitErr(), b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		kind     string
		grace    time.Duration
		graceful bool   // exits on SIGTERM alone
		inLog    string // the exit line
	}{
		{"ready", 20 * time.Second, true, "exit: exit status 0"},
		{"stubborn", 200 * time.Millisecond, false, "exit: signal: killed"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			p, log := startChild(t, tt.kind)
			if p.Name() != tt.kind || p.PID() <= 0 || p.Exited() {
				t.Fatalf("name %q, pid %d, exited %v", p.Name(), p.PID(), p.Exited())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if got := p.Terminate(ctx, tt.grace); got != tt.graceful {
				t.Errorf("Terminate = %v, want %v", got, tt.graceful)
			}
			select {
			case <-p.Done():
			default:
				t.Fatal("Done is open after Terminate")
			}
			if (p.ExitErr() == nil) != tt.graceful {
				t.Errorf("ExitErr = %v", p.ExitErr())
			}
			if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrNotRunning) {
				t.Errorf("Signal after the exit = %v, want ErrNotRunning", err)
			}
			b, _ := os.ReadFile(log)
			if !strings.Contains(string(b), "start: "+os.Args[0]) || !strings.Contains(string(b), tt.inLog) {
				t.Errorf("log lacks the start line or %q:\n%s", tt.inLog, b)
			}
		})
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	p, _ := startChild(t, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a running child = %v, want DeadlineExceeded", err)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		spec Spec
	}{
		{"missing binary", Spec{Bin: filepath.Join(dir, "nope"), LogPath: filepath.Join(dir, "log")}},
		{"log in a missing directory", Spec{Bin: os.Args[0], LogPath: filepath.Join(dir, "no", "log")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := Start(tt.spec); err == nil {
				p.Kill(context.Background())
				t.Fatal("Start succeeded")
			}
		})
	}
}
