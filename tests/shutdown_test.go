package tests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/tests/harness"
)

// TestGracefulShutdown sends SIGTERM to a target in the middle of a PUT:
// the PUT in flight completes and is acknowledged, the process then exits
// cleanly, and after a restart the object reads back.
func TestGracefulShutdown(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 1})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "graceful")
	tn := cl.Targets()[0]

	inFlight := func() int64 {
		t.Helper()
		st, err := nodeStats(ctx, tn.PublicURL)
		if err != nil {
			t.Fatalf("stats of %s: %v", tn.Name, err)
		}
		return st.InFlight
	}
	idle := inFlight() // nothing but (maybe) the stats request itself

	body := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	nc, err := net.DialTimeout("tcp", tn.PublicAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "PUT /v1/objects/%s/inflight?provider=ais&%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
		bck.Name, redirectQuery(t, ctx, cl), len(body))
	half := len(body) / 2
	if _, err := nc.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	// The handler is reading the body: the target counts the PUT in flight.
	var n int64
	if !waitUntil(10*time.Second, func() bool { n = inFlight(); return n > idle }) {
		nc.SetReadDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(nc)
		t.Fatalf("the PUT is not in flight: in_flight = %d, as when idle; the target said: %q", n, b)
	}
	cl.Signal(tn, syscall.SIGTERM)
	// The shutdown has begun: the target closed its listener and refuses
	// new connections, while it waits for the PUT.
	if !waitUntil(10*time.Second, func() bool { return refuses(tn.PublicAddr) }) {
		t.Fatalf("%s still accepts connections 10 s after SIGTERM", tn.Name)
	}
	if !tn.Running() {
		t.Fatal("the target exited with a request in flight")
	}
	if _, err := nc.Write(body[half:]); err != nil {
		t.Fatalf("the in-flight PUT was cut off: %v", err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no reply to the in-flight PUT: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(wire.HdrChecksumValue) != xxh(body) {
		t.Fatalf("in-flight PUT = %d, checksum %q", resp.StatusCode, resp.Header.Get(wire.HdrChecksumValue))
	}
	deadline := time.Now().Add(15 * time.Second)
	for tn.Running() {
		if time.Now().After(deadline) {
			t.Fatal("the target did not exit after its last request")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if log := cl.Logs(tn); !strings.Contains(log, "target stopped") || !strings.Contains(log, "exit status 0") {
		t.Errorf("the target did not stop cleanly:\n%s", log)
	}

	cl.StartTarget(0)
	if err := cl.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.GetObject(ctx, bck, "inflight", &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("the acknowledged object after a restart: %v, %d bytes", err, buf.Len())
	}
}

// refuses reports whether a TCP connection to addr is refused (nothing
// listens there any more).
func refuses(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	nc.Close()
	return false
}
