package tests

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"

	"miniais/api/wire"
	"miniais/tests/harness"
)

// Helpers shared by the faults_* and badinput_* tests.

// content returns the deterministic content of object name of the given
// size, so that a test can check what it wrote without keeping it.
func content(name string, size int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], xxhash.ChecksumString64(name))
	b := make([]byte, size)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// rawReply is what a raw request got back: the status (0 when the server
// closed the connection without a reply), headers and body.
type rawReply struct {
	Status int
	Header http.Header
	Body   string
	Err    error // the connection error when Status is 0
}

// rawRequest sends the raw bytes req to addr ("127.0.0.1:PORT") and reads one
// reply, waiting at most timeout. It exists because net/http's client cleans
// or refuses much of the bad input the tests need to send.
func rawRequest(t testing.TB, addr, req string, timeout time.Duration) rawReply {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(nc, req); err != nil {
		return rawReply{Err: err}
	}
	return readReply(nc)
}

// readReply reads one HTTP reply from nc (body bounded to 1 MiB).
func readReply(nc net.Conn) rawReply {
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return rawReply{Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return rawReply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// workFiles returns the files in the work directories of the mountpaths.
func workFiles(t testing.TB, mountpaths []string) []string {
	t.Helper()
	var out []string
	for _, mp := range mountpaths {
		ents, err := os.ReadDir(filepath.Join(mp, ".work"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("read work dir: %v", err)
		}
		for _, e := range ents {
			out = append(out, filepath.Join(mp, ".work", e.Name()))
		}
	}
	return out
}

// allMountpaths returns the mountpaths of every target of cl.
func allMountpaths(cl *harness.Cluster) []string {
	var out []string
	for _, n := range cl.Targets() {
		out = append(out, n.Mountpaths...)
	}
	return out
}

// storedFiles returns every regular file under the mountpaths, relative to
// its mountpath, but the buckets' ID files (@ais/BUCKET/bid, written when a
// bucket is created).
func storedFiles(t testing.TB, mountpaths []string) []string {
	t.Helper()
	var out []string
	for _, mp := range mountpaths {
		err := filepath.WalkDir(mp, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if m, _ := filepath.Match(filepath.Join(mp, "@ais", "*", "bid"), path); m {
				return nil
			}
			if !d.IsDir() {
				rel, _ := filepath.Rel(mp, path)
				out = append(out, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", mp, err)
		}
	}
	return out
}

// findObjectFile returns the path of object name of bucket on the
// mountpaths (the data file, not its metadata).
func findObjectFile(t testing.TB, mountpaths []string, bucket, name string) string {
	t.Helper()
	for _, mp := range mountpaths {
		p := filepath.Join(mp, "@ais", bucket, "%ob", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("object %s/%s is on none of %v", bucket, name, mountpaths)
	return ""
}

// nodeStats returns GET <url>/v1/daemon?what=stats.
func nodeStats(ctx context.Context, url string) (*wire.NodeStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/daemon?what=stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stats of %s: %s", url, resp.Status)
	}
	var st wire.NodeStats
	return &st, json.NewDecoder(resp.Body).Decode(&st)
}

// rssBytes returns the resident set size of process pid (Linux).
func rssBytes(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// waitUntil polls cond every 50 ms until it holds or d passes; it reports
// whether cond held.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// traceparent returns a sampled W3C traceparent header with a random trace
// ID, and that ID.
func traceparent() (header, traceID string) {
	var b [24]byte
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
	traceID = fmt.Sprintf("%x", b[:16])
	return fmt.Sprintf("00-%s-%x-01", traceID, b[16:]), traceID
}
