//go:build long

package tests

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/tests/harness"
)

// TestCrashConsistencyLong is TestCrashConsistency with three kill-and-restart
// rounds of 2000 PUTs each.
func TestCrashConsistencyLong(t *testing.T) {
	runCrashConsistency(t, crashLoad{PUTs: 2000, Workers: 48, Rounds: 3, MaxSize: 8 << 20})
}

// TestSlowPeers checks the deadlines on every connection: a client that
// sends its headers slowly (slowloris) is cut off by the header timeout; a
// client that does not read a GET reply is cut off by the write deadline and
// the request ends on the node; a stranger that connects to a transport port
// and says nothing is dropped after the handshake timeout.
func TestSlowPeers(t *testing.T) {
	ctx := testContext(t)
	const stall = 2 * time.Second
	cl := harness.StartCluster(t, harness.Options{Targets: 1, Mountpaths: 1, LogLevel: "info", TargetArgs: []string{"-stall_timeout=" + stall.String()}})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "slow")
	target := cl.Targets()[0]
	const size = 8 << 20
	data := content("big", size)
	if _, err := c.PutObject(ctx, bck, "big", bytes.NewReader(data), api.PutOptions{Size: size}); err != nil {
		t.Fatal(err)
	}

	type probe struct {
		name string
		addr string
		send string
		max  time.Duration
	}
	probes := []probe{
		{"proxy slowloris", cl.Proxy().PublicAddr, "GET /v1/health HTTP/1.1\r\nHost: x\r\n", 15 * time.Second},
		{"target slowloris", target.PublicAddr, "GET /v1/health HTTP/1.1\r\nHost: x\r\n", 15 * time.Second},
		{"proxy transport idle", cl.Proxy().TransportAddr, "", 10 * time.Second},
		{"target transport idle", target.TransportAddr, "", 10 * time.Second},
	}
	done := make(chan string, len(probes))
	for _, p := range probes {
		go func() {
			nc, err := net.Dial("tcp", p.addr)
			if err != nil {
				done <- fmt.Sprintf("%s: %v", p.name, err)
				return
			}
			defer nc.Close()
			nc.(*net.TCPConn).SetReadBuffer(4096)
			start := time.Now()
			io.WriteString(nc, p.send)
			nc.SetReadDeadline(start.Add(p.max))
			_, err = io.Copy(io.Discard, nc)
			took := time.Since(start)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				done <- fmt.Sprintf("%s: still open after %v", p.name, took)
				return
			}
			t.Logf("%s: closed by the node after %v", p.name, took.Round(100*time.Millisecond))
			done <- ""
		}()
	}
	// A client that reads nothing of a GET reply: the write deadline (the
	// stall timeout plus 1 s per MiB) ends the request and the node lets go
	// of the connection. (The kernel may keep delivering what it buffered.)
	nc, err := net.Dial("tcp", target.PublicAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(nc, "GET /v1/objects/slow/big HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	clientPort := nc.LocalAddr().(*net.TCPAddr).Port
	if !waitUntil(5*time.Second, func() bool { return socketOwned(t, target.PublicAddr, clientPort) }) {
		t.Fatalf("the target never accepted the connection")
	}
	if !waitUntil(stall+8*time.Second+10*time.Second, func() bool { return !socketOwned(t, target.PublicAddr, clientPort) }) {
		t.Errorf("the target still holds the connection of a client that reads nothing after %v", time.Since(start))
	} else if took := time.Since(start); took < stall {
		t.Errorf("the target dropped a GET reply after %v, before the stall timeout", took)
	} else {
		t.Logf("unread GET reply: the target let go of the connection after %v", time.Since(start).Round(100*time.Millisecond))
	}
	for range probes {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
	// The unread GET ended on the target too.
	if !waitUntil(10*time.Second, func() bool {
		st, err := nodeStats(ctx, target.PublicURL)
		return err == nil && st.InFlight <= 1 // the stats request itself
	}) {
		t.Errorf("requests still in flight on the target")
	}
}

// socketOwned reports whether a process still owns the server side of the
// TCP connection between serverAddr and the local clientPort, by
// /proc/net/tcp: the entry is gone, or orphaned (inode 0), once the server
// closed it.
func socketOwned(t testing.TB, serverAddr string, clientPort int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	_, sp, _ := net.SplitHostPort(serverAddr)
	serverPort, _ := strconv.Atoi(sp)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		if portOf(f[1]) == serverPort && portOf(f[2]) == clientPort {
			return f[9] != "0"
		}
	}
	return false
}

// portOf returns the port of a /proc/net/tcp address, "0100007F:1F90".
func portOf(addr string) int {
	_, hex, _ := strings.Cut(addr, ":")
	p, _ := strconv.ParseInt(hex, 16, 32)
	return int(p)
}
