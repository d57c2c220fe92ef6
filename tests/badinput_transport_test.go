package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"miniais/api"
	"miniais/cluster"
	"miniais/tests/harness"
	"miniais/transport"
)

// TestStrangerOnTransport has a process that is not a cluster member connect
// to the transport ports of the proxy and of a target and send garbage, then
// well-formed frames without a handshake, then a handshake with a forged MAC
// followed by frames, then full protocol sessions with a wrong secret and
// with none, trying to join, push a cluster map and bucket metadata, and put
// an object. Every attempt must be dropped quickly and logged, nothing may
// change, and a concurrent client load must be served throughout.
func TestStrangerOnTransport(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, LogLevel: "info"})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "guarded")
	smap0, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bmd0 := targetBMDVersion(t, ctx, cl.Targets()[0])

	// The load that must not notice.
	var served, failed atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; loadCtx.Err() == nil; i++ {
				name := fmt.Sprintf("load-%d-%d", w, i)
				data := content(name, 4096)
				_, err := c.PutObject(loadCtx, bck, name, bytes.NewReader(data), api.PutOptions{Size: 4096})
				var buf bytes.Buffer
				if err == nil {
					_, err = c.GetObject(loadCtx, bck, name, &buf, api.GetOptions{})
				}
				switch {
				case loadCtx.Err() != nil:
				case err != nil || !bytes.Equal(buf.Bytes(), data):
					failed.Add(1)
					t.Errorf("load %s: %v", name, err)
				default:
					served.Add(1)
				}
			}
		}()
	}

	stranger := cluster.NewNode("stranger", cluster.RoleTarget, "127.0.0.1:1", "127.0.0.1:2")
	joinBody, _ := stranger.MarshalMsg(nil)
	forgedMap := cluster.NewMap(smap0.UUID, cluster.NewNode("stranger", cluster.RoleProxy, "127.0.0.1:1", "127.0.0.1:2"))
	forgedMap.Version = smap0.Version + 1000
	mapBody, _ := forgedMap.MarshalMsg(nil)
	emptyBMD := cluster.NewBMD("")
	emptyBMD.Version = 1 << 40
	bmdBody, _ := emptyBMD.MarshalMsg(nil)
	frames := [][]byte{
		frame(t, &transport.Header{Kind: transport.KindJoin, ID: 1, Sender: "stranger"}, joinBody),
		frame(t, &transport.Header{Kind: transport.KindMapPush, ID: 2, Sender: "stranger"}, mapBody),
		frame(t, &transport.Header{Kind: transport.KindBMDPush, ID: 3, Sender: "stranger"}, bmdBody),
		frame(t, &transport.Header{Kind: transport.KindObjectPut, ID: 4, Sender: "stranger", Bucket: bck.Name, Object: "planted"}, []byte("planted")),
	}
	allFrames := bytes.Join(frames, nil)

	for _, node := range []*harness.Node{cl.Proxy(), cl.Targets()[0]} {
		addr := node.TransportAddr
		t.Run(node.Name+"/garbage", func(t *testing.T) {
			garbage := make([]byte, 8192)
			rand.Read(garbage)
			expectDropped(t, addr, func(nc net.Conn) { nc.Write(garbage) })
		})
		t.Run(node.Name+"/frames without handshake", func(t *testing.T) {
			expectDropped(t, addr, func(nc net.Conn) { nc.Write(allFrames) })
		})
		t.Run(node.Name+"/frames after the server hello", func(t *testing.T) {
			expectDropped(t, addr, func(nc net.Conn) {
				readServerHello(t, nc)
				nc.Write(allFrames)
			})
		})
		t.Run(node.Name+"/forged MAC then frames", func(t *testing.T) {
			expectDropped(t, addr, func(nc net.Conn) {
				readServerHello(t, nc)
				hello := append([]byte("AIS\x82"), make([]byte, 32)...)
				hello = append(hello, byte(len("stranger")))
				hello = append(hello, "stranger"...)
				hello = append(hello, make([]byte, 32)...) // MAC of an empty secret
				nc.Write(hello)
				var verdict [5]byte
				if _, err := io.ReadFull(nc, verdict[:]); err == nil && verdict[4] == 0 {
					t.Errorf("a forged MAC was accepted")
				}
				nc.Write(allFrames)
			})
		})
		for _, secret := range []string{"", "not-the-cluster-secret"} {
			t.Run(fmt.Sprintf("%s/client with secret %q", node.Name, secret), func(t *testing.T) {
				tc := transport.NewClient(transport.Config{NodeID: "stranger", Secret: []byte(secret), DialTimeout: 3 * time.Second})
				defer tc.Close()
				for _, tr := range []struct {
					kind transport.Kind
					body []byte
				}{
					{transport.KindJoin, joinBody}, {transport.KindMapPush, mapBody}, {transport.KindBMDPush, bmdBody},
					{transport.KindObjectPut, []byte("planted")}, {transport.KindPing, nil},
				} {
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					start := time.Now()
					_, _, err := tc.Call(cctx, addr, &transport.Header{Kind: tr.kind, Bucket: bck.Name, Object: "planted"}, tr.body)
					cancel()
					if err == nil {
						t.Errorf("%s from a stranger was accepted", tr.kind)
					} else if d := time.Since(start); d > 6*time.Second {
						t.Errorf("%s from a stranger took %v to refuse: %v", tr.kind, d, err)
					}
				}
			})
		}
	}
	time.Sleep(500 * time.Millisecond) // some load after the last attempt
	stopLoad()
	wg.Wait()
	t.Logf("load served %d PUT+GET pairs, %d failed, during the stranger's attempts", served.Load(), failed.Load())
	if served.Load() == 0 {
		t.Errorf("the load made no progress")
	}

	// Nothing changed.
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if smap.Version != smap0.Version || smap.Targets["stranger"] != nil || smap.Primary.ID != smap0.Primary.ID || len(smap.ActiveTargets()) != 2 {
		t.Errorf("the cluster map changed: v%d -> v%d, %d targets", smap0.Version, smap.Version, len(smap.Targets))
	}
	if v := targetBMDVersion(t, ctx, cl.Targets()[0]); v != bmd0 {
		t.Errorf("the target's bucket metadata changed: v%d -> v%d", bmd0, v)
	}
	if _, err := c.HeadBucket(ctx, bck); err != nil {
		t.Errorf("bucket after the attempts: %v", err)
	}
	if _, err := c.HeadObject(ctx, bck, "planted"); err == nil {
		t.Errorf("the stranger planted an object")
	}
	// And each node logged the strangers.
	for _, node := range []*harness.Node{cl.Proxy(), cl.Targets()[0]} {
		n := strings.Count(cl.Logs(node), "handshake failed")
		if n < 5 {
			t.Errorf("%s logged %d failed handshakes", node.Name, n)
		}
		t.Logf("%s logged %d failed handshakes", node.Name, n)
	}
}

// frame encodes one transport frame (transport/README.md): "AIS", version 1,
// the header length (big-endian uint32), the msgpack header, the payload.
func frame(t testing.TB, h *transport.Header, payload []byte) []byte {
	t.Helper()
	h.Size = int64(len(payload))
	hb, err := h.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte("AIS\x01"), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[4:], uint32(len(hb)))
	return append(append(b, hb...), payload...)
}

// readServerHello reads the server's handshake hello: "AIS" 0x81, a 32-byte
// nonce, a length byte and the server's ID.
func readServerHello(t testing.TB, nc net.Conn) {
	t.Helper()
	var fixed [37]byte
	if _, err := io.ReadFull(nc, fixed[:]); err != nil {
		t.Fatalf("server hello: %v", err)
	}
	if string(fixed[:4]) != "AIS\x81" {
		t.Fatalf("server hello starts with %q", fixed[:4])
	}
	if _, err := io.ReadFull(nc, make([]byte, fixed[36])); err != nil {
		t.Fatalf("server hello ID: %v", err)
	}
}

// expectDropped connects to addr, runs send, and expects the node to close
// the connection within the handshake timeout (5 s) plus a margin, without
// ever answering a frame.
func expectDropped(t *testing.T, addr string, send func(net.Conn)) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	nc.SetDeadline(start.Add(10 * time.Second))
	send(nc)
	rest, err := io.ReadAll(nc)
	took := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the node kept the stranger's connection open for %v", took)
	}
	// The only bytes a stranger may get are the server hello (before it
	// spoke) and a refusal verdict: never a frame.
	if bytes.Contains(rest, []byte("AIS\x01")) {
		t.Errorf("the node answered a frame to a stranger: %q", rest)
	}
	t.Logf("dropped after %v", took.Round(time.Millisecond))
}

// targetBMDVersion returns the bucket metadata version of target n.
func targetBMDVersion(t testing.TB, ctx context.Context, n *harness.Node) int64 {
	t.Helper()
	st, err := nodeStats(ctx, n.PublicURL)
	if err != nil {
		t.Fatal(err)
	}
	return st.BMDVersion
}
