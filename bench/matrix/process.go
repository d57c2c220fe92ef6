package matrix

import (
	"context"
	"errors"
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

// memory returns the resident set size of pid and its peak since the
// process started (VmRSS and VmHWM of /proc/PID/status), in bytes.
func memory(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

// parseStatus reads VmRSS and VmHWM ("VmRSS:\t   14336 kB") from the
// text of /proc/PID/status.
func parseStatus(b []byte) (rss, peak int64, err error) {
	var haveRSS, havePeak bool
	for line := range strings.Lines(string(b)) {
		key, v, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc status: %s: %w", key, err)
		}
		if key == "VmRSS" {
			rss, haveRSS = kb<<10, true
		} else {
			peak, havePeak = kb<<10, true
		}
	}
	if !haveRSS || !havePeak {
		return 0, 0, errors.New("/proc status: no VmRSS or VmHWM")
	}
	return rss, peak, nil
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

// clockTick is the unit of the CPU times in /proc/PID/stat: USER_HZ,
// which is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)
// needs cgo to ask).
const clockTick = 10 * time.Millisecond

// cpuTime is the CPU time a process has used.
type cpuTime struct {
	user, sys time.Duration
}

func (c cpuTime) total() time.Duration { return c.user + c.sys }

func (c cpuTime) sub(d cpuTime) cpuTime { return cpuTime{c.user - d.user, c.sys - d.sys} }

// processCPU returns the user and system CPU time that pid has used, its
// threads and its exited threads together (Linux /proc/PID/stat, in clock
// ticks of 10 ms: a sample is up to 10 ms short).
func processCPU(pid int) (cpuTime, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return cpuTime{}, err
	}
	return parseStat(b)
}

// parseStat reads utime and stime, fields 14 and 15, from the text of
// /proc/PID/stat. The second field, the command name in parentheses, may
// itself hold spaces and parentheses: the fields are counted from the last
// ')'.
func parseStat(b []byte) (cpuTime, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return cpuTime{}, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return cpuTime{}, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 63)
	st, err2 := strconv.ParseUint(f[12], 10, 63)
	if err := errors.Join(err1, err2); err != nil {
		return cpuTime{}, fmt.Errorf("/proc stat: utime/stime: %w", err)
	}
	return cpuTime{user: time.Duration(ut) * clockTick, sys: time.Duration(st) * clockTick}, nil
}

// cpu returns the CPU time used by each process of s, in the order of
// s.procs; a process that cannot be read is an error (a node that died
// would otherwise count as free).
func (s *servers) cpu() ([]cpuTime, error) {
	cs := make([]cpuTime, len(s.procs))
	for i, p := range s.procs {
		c, err := processCPU(p.PID())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name(), err)
		}
		cs[i] = c
	}
	return cs, nil
}
