package matrix

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"miniais/internal/proc"
)

// startProcess starts bin as name, with env added to the driver's
// environment and the output appended to logPath. The child dies with the
// driver (Pdeathsig); it is stopped by its PID only (stopProcess).
func startProcess(name, bin string, args, env []string, logPath string) (*proc.Process, error) {
	return proc.Start(proc.Spec{Name: name, Bin: bin, Args: args, Env: append(os.Environ(), env...), LogPath: logPath})
}

// stopProcess sends SIGTERM and, after 10 s, SIGKILL, and waits for the exit.
func stopProcess(p *proc.Process) { p.Terminate(context.Background(), 10*time.Second) }

// rss returns the resident set size of pid in bytes (Linux /proc).
func rss(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP waits until GET url answers 200, or the deadline, or one of
// procs exits.
func waitHTTP(ctx context.Context, url string, timeout time.Duration, procs ...*proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		for _, p := range procs {
			if p.Exited() {
				return fmt.Errorf("%s exited: %v", p.Name(), p.ExitErr())
			}
		}
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuTime returns the user+system CPU time pid has used (Linux /proc, in
// clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// serverCPU returns the CPU time used by every process of s.
func (s *servers) serverCPU() time.Duration {
	var sum time.Duration
	for _, p := range s.procs {
		if d, err := cpuTime(p.PID()); err == nil {
			sum += d
		}
	}
	return sum
}
