package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a child process whose output goes to a log file. Its methods are safe for
// concurrent use.
type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited

	mu  sync.Mutex
	err error // Wait's result, once done
}

// startProcess starts bin with args and env, appending stdout and stderr to logPath.
func startProcess(bin string, args, env []string, logPath string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("harness: open log: %w", err)
	}
	fmt.Fprintf(f, "--- %s start: %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("harness: start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, log: f, done: make(chan struct{})}
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

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// signal sends sig unless the process has exited.
func (p *process) signal(sig os.Signal) error {
	if p.exited() {
		return errNotRunning
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("harness: signal pid %d: %w", p.pid(), err)
	}
	return nil
}

// wait waits until the process exits or ctx ends.
func (p *process) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("harness: pid %d did not exit: %w", p.pid(), ctx.Err())
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill(ctx context.Context) {
	_ = p.signal(syscall.SIGKILL)
	_ = p.wait(ctx)
}

// terminate sends SIGTERM, waits up to grace, then kills. It reports whether the process
// exited on SIGTERM alone.
func (p *process) terminate(ctx context.Context, grace time.Duration) bool {
	if p.signal(syscall.SIGTERM) != nil {
		return true
	}
	gctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	if p.wait(gctx) == nil {
		return true
	}
	p.kill(ctx)
	return false
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
