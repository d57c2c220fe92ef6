package tests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestLimits checks the limits that protect a node: the maximum object size
// (413, with or without a Content-Length), the maximum of concurrent requests
// (503 with Retry-After at once, health exempt) and the cut-off of a request
// body that stalls (-stall_timeout). No refused or cut-off PUT leaves an
// object or a work file behind.
func TestLimits(t *testing.T) {
	ctx := testContext(t)
	const (
		maxSize = 1 << 20
		maxConc = 6
		stall   = 2 * time.Second
	)
	cl := harness.StartCluster(t, harness.Options{
		Targets: 1, Mountpaths: 1,
		TargetArgs: []string{fmt.Sprintf("-max_object_size=%d", maxSize), fmt.Sprintf("-max_concurrent=%d", maxConc), "-stall_timeout=" + stall.String()},
		ProxyArgs:  []string{fmt.Sprintf("-max_concurrent=%d", maxConc)},
	})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "lim")
	target := cl.Targets()[0]

	t.Run("max object size", func(t *testing.T) {
		ok := content("max", maxSize)
		if _, err := c.PutObject(ctx, bck, "max", bytes.NewReader(ok), api.PutOptions{Size: maxSize}); err != nil {
			t.Fatalf("PUT of exactly the limit: %v", err)
		}
		big := content("big", maxSize+1)
		for _, tc := range []struct {
			name string
			r    io.Reader
			size int64
		}{
			{"with length", bytes.NewReader(big), int64(len(big))},
			{"chunked", io.MultiReader(bytes.NewReader(big)), -1}, // not re-sendable, no length
		} {
			_, err := c.PutObject(ctx, bck, "big", tc.r, api.PutOptions{Size: tc.size})
			var he *wire.HTTPError
			if !errors.As(err, &he) || he.Status != 413 || !errors.Is(err, cluster.ErrTooLarge) {
				t.Errorf("PUT %d bytes %s: %v, want 413", len(big), tc.name, err)
			}
		}
		if _, err := c.HeadObject(ctx, bck, "big"); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("a refused object exists: %v", err)
		}
		if !waitUntil(3*time.Second, func() bool { return len(workFiles(t, target.Mountpaths)) == 0 }) {
			t.Errorf("work files left: %v", workFiles(t, target.Mountpaths))
		}
	})

	t.Run("stalled body", func(t *testing.T) {
		nc := stalledPut(t, target.PublicAddr, "/v1/objects/lim/stalled?"+redirectQuery(t, ctx, cl), 1000)
		defer nc.Close()
		start := time.Now()
		nc.SetDeadline(time.Now().Add(stall + 10*time.Second))
		rep := readReply(nc)
		took := time.Since(start)
		t.Logf("stalled body cut off after %v: %d %v", took.Round(time.Millisecond), rep.Status, rep.Err)
		if took < stall-500*time.Millisecond || took > stall+5*time.Second {
			t.Errorf("stalled body cut off after %v, want about %v", took, stall)
		}
		if rep.Status != 408 {
			t.Errorf("stalled PUT answered %d %v, want 408", rep.Status, rep.Err)
		}
		if _, err := c.HeadObject(ctx, bck, "stalled"); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("a stalled object exists: %v", err)
		}
		if !waitUntil(3*time.Second, func() bool { return len(workFiles(t, target.Mountpaths)) == 0 }) {
			t.Errorf("work files left: %v", workFiles(t, target.Mountpaths))
		}
	})

	// Fill every request slot of a node with stalled bodies: the next request
	// gets 503 + Retry-After at once, health still answers, and once the
	// stalled requests end the node serves again.
	for _, n := range []*harness.Node{target, cl.Proxy()} {
		t.Run("concurrency "+n.Name, func(t *testing.T) {
			path := "/v1/objects/lim/slot?" + redirectQuery(t, ctx, cl)
			if n == cl.Proxy() {
				path = "/v1/buckets/newbck" // the proxy reads the action message whole
			}
			// Each request trickles a byte every 300ms: it holds its slot
			// without ever stalling long enough to be cut off, so that a
			// slow, shared machine has all the time it needs to admit them.
			open := func() net.Conn {
				nc := stalledPut(t, n.PublicAddr, path, 1)
				go func() {
					for {
						time.Sleep(300 * time.Millisecond)
						if _, err := nc.Write([]byte("x")); err != nil {
							return
						}
					}
				}()
				return nc
			}
			var conns []net.Conn
			for range maxConc {
				conns = append(conns, open())
			}
			// A held request has no reply yet; one that got a reply (or a
			// closed connection) holds no slot: report it and open another.
			for round := 0; round < 5; round++ {
				time.Sleep(200 * time.Millisecond)
				quiet := true
				for i, nc := range conns {
					nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
					var b [512]byte
					if k, err := nc.Read(b[:]); k > 0 || (err != nil && !errors.Is(err, os.ErrDeadlineExceeded)) {
						t.Logf("stalled request %d was answered or closed (%v): %q; opening another", i, err, b[:k])
						nc.Close()
						conns[i] = open()
						quiet = false
					}
					nc.SetReadDeadline(time.Time{})
				}
				if quiet {
					break
				}
			}
			defer func() {
				for _, nc := range conns {
					nc.Close()
				}
			}()
			var rep rawReply
			if !waitUntil(15*time.Second, func() bool {
				rep = rawRequest(t, n.PublicAddr, "GET /v1/daemon?what=smap HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second)
				return rep.Status == 503
			}) {
				t.Fatalf("with %d stalled requests: %d %v, want 503", maxConc, rep.Status, rep.Err)
			}
			if rep.Header.Get("Retry-After") == "" || !strings.Contains(rep.Body, "busy") {
				t.Errorf("503 without Retry-After or message: %v %s", rep.Header, rep.Body)
			}
			if h := rawRequest(t, n.PublicAddr, "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second); h.Status != 200 {
				t.Errorf("health while busy: %d %v", h.Status, h.Err)
			}
			for _, nc := range conns {
				nc.Close()
			}
			if !waitUntil(stall+5*time.Second, func() bool {
				rep = rawRequest(t, n.PublicAddr, "GET /v1/daemon?what=smap HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second)
				return rep.Status == 200
			}) {
				t.Errorf("after the stalled requests ended: %d %v", rep.Status, rep.Err)
			}
		})
	}
	if files := workFiles(t, target.Mountpaths); len(files) != 0 {
		t.Errorf("work files left: %v", files)
	}
}

// stalledPut opens a connection to addr and sends the headers of a request
// with a 1 MiB body (PUT for objects, POST for buckets) and then sent bytes
// of it, and no more. The caller closes the connection.
func stalledPut(t testing.TB, addr, path string, sent int) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	method := "PUT"
	if strings.HasPrefix(path, "/v1/buckets/") {
		method = "POST"
	}
	fmt.Fprintf(nc, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", method, path, 1<<20, strings.Repeat("x", sent))
	return nc
}
