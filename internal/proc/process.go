// Package proc runs the child processes of the integration tests and of the
// benchmark driver (aisnode, Jaeger, the reference server): each writes its
// output to a log file, and each is stopped by its own PID only, never by
// name.
//
// On Linux a child also dies with its parent (Pdeathsig), so that a test
// binary that panics or times out leaves no process behind; elsewhere the
// caller's cleanup must stop it.
package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotRunning is returned by Process.Signal when the process has exited.
var ErrNotRunning = errors.New("proc: not running")

// Spec says what to start.
type Spec struct {
	// Name names the process in errors (default: the base name of Bin).
	Name string
	// Bin is the executable, Args its arguments.
	Bin  string
	Args []string
	// Env is the whole environment of the child; nil means this
	// process's.
	Env []string
	// LogPath is the file that the child's stdout and stderr are appended
	// to, between a "--- TIME start: BIN ARGS" and a "--- TIME exit:
	// STATUS" line.
	LogPath string
}

// Process is a started child. Its methods are safe for concurrent use.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	mu  sync.Mutex
	err error // Wait's result, once done
}

// Start starts the process of spec. It returns once the child runs; a
// goroutine waits for its exit (see Done).
func Start(spec Spec) (*Process, error) {
	name := spec.Name
	if name == "" {
		name = filepath.Base(spec.Bin)
	}
	f, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("proc: %s: open log: %w", name, err)
	}
	fmt.Fprintf(f, "--- %s start: %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), spec.Bin, strings.Join(spec.Args, " "))
	cmd := exec.Command(spec.Bin, spec.Args...)
	cmd.Env = spec.Env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("proc: start %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		fmt.Fprintf(f, "--- %s exit: %v\n", time.Now().UTC().Format(time.RFC3339Nano), cmd.ProcessState)
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Name returns the process's name (Spec.Name).
func (p *Process) Name() string { return p.name }

// PID returns the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done returns a channel closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr returns how the process ended (exec.Cmd.Wait's error: nil for
// exit status 0), or nil while it runs.
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Signal sends sig, or returns ErrNotRunning when the process has exited.
func (p *Process) Signal(sig os.Signal) error {
	if p.Exited() {
		return ErrNotRunning
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("proc: signal %s (pid %d): %w", p.name, p.PID(), err)
	}
	return nil
}

// Wait waits until the process exits or ctx ends.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("proc: %s (pid %d) did not exit: %w", p.name, p.PID(), ctx.Err())
	}
}

// Kill sends SIGKILL and waits for the exit, or until ctx ends.
func (p *Process) Kill(ctx context.Context) {
	_ = p.Signal(syscall.SIGKILL)
	_ = p.Wait(ctx)
}

// Terminate sends SIGTERM, waits up to grace, then kills. It reports
// whether the process exited on SIGTERM alone (or had exited already).
func (p *Process) Terminate(ctx context.Context, grace time.Duration) bool {
	if p.Signal(syscall.SIGTERM) != nil {
		return true
	}
	gctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	if p.Wait(gctx) == nil {
		return true
	}
	p.Kill(ctx)
	return false
}
