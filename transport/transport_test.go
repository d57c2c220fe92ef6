package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/cluster"
)

// TestRoundTripEveryKind sends every kind with Call and with Send and checks
// the reply carries the payload and echoed header fields.
func TestRoundTripEveryKind(t *testing.T) {
	srv := startServer(t, Config{NodeID: "t1"}, echoAll(), "")
	c := newClient(t, Config{NodeID: "p1"})
	ctx := context.Background()
	for k := KindPing; k < kindEnd; k++ {
		for _, mode := range []string{"call", "send", "call-large"} {
			t.Run(k.String()+"/"+mode, func(t *testing.T) {
				payload := []byte("payload of " + k.String())
				if mode == "call-large" {
					payload = bytes.Repeat(payload, 10000) // over inlineBodyMax: stream conn
				}
				req := &Header{Kind: k, Bucket: "ais://b", Object: "o/" + k.String(), Version: "7",
					Opaque: []byte(`{"k":1}`), Checksum: cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: "00ff"}}
				orig := *req
				var rh *Header
				var rb []byte
				var err error
				if mode == "send" {
					rh, rb, err = c.Send(ctx, srv.addr, req, bytes.NewReader(payload), int64(len(payload)))
				} else {
					rh, rb, err = c.Call(ctx, srv.addr, req, payload)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(rb, payload) {
					t.Fatalf("reply body %d bytes, want %d", len(rb), len(payload))
				}
				if rh.Kind != k || !rh.Reply || rh.Sender != "t1" || rh.Size != int64(len(payload)) || rh.ID == 0 {
					t.Fatalf("reply header %+v", rh)
				}
				if string(rh.Opaque) != `{"k":1}` || rh.Version != "7" || rh.Checksum != orig.Checksum || rh.Object != orig.Object {
					t.Fatalf("echoed fields lost: %+v", rh)
				}
				if !headerEqual(req, &orig) {
					t.Fatalf("Call modified the request header: %+v", req)
				}
			})
		}
	}
}

// TestRemoteErrors checks that handler errors come back matching the
// cluster sentinels.
func TestRemoteErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler Handler
		want    error
		kind    string
	}{
		{"not-found", failWith(cluster.Errorf(cluster.ErrNotFound, "object o")), cluster.ErrNotFound, "not-found"},
		{"exists", failWith(cluster.Errorf(cluster.ErrExists, "bucket b")), cluster.ErrExists, "exists"},
		{"bad-name", failWith(cluster.ErrBadName), cluster.ErrBadName, "bad-name"},
		{"bad-request", failWith(cluster.ErrBadRequest), cluster.ErrBadRequest, "bad-request"},
		{"unavailable", failWith(cluster.ErrUnavailable), cluster.ErrUnavailable, "unavailable"},
		{"checksum", failWith(fmt.Errorf("put: %w", cluster.ErrChecksum)), cluster.ErrChecksum, "checksum"},
		{"too-large", failWith(cluster.ErrTooLarge), cluster.ErrTooLarge, "too-large"},
		{"not-owner", failWith(cluster.ErrNotOwner), cluster.ErrNotOwner, "not-owner"},
		{"other", failWith(errors.New("disk on fire")), ErrRemote, ""},
		{"panic", func(context.Context, *Message, *Header) ([]byte, error) { panic("boom") }, ErrRemote, ""},
		{"no-handler", nil, cluster.ErrBadRequest, "bad-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlers := map[Kind]Handler{}
			if tt.handler != nil {
				handlers[KindTxnPrepare] = tt.handler
			}
			srv := startServer(t, Config{NodeID: "t1"}, handlers, "")
			c := newClient(t, Config{NodeID: "p1"})
			// A Send whose handler fails without reading the payload: the
			// transport drains it and the stream connection stays usable.
			payload := bytes.Repeat([]byte("z"), 1<<20)
			for i, mode := range []string{"call", "send", "send-again"} {
				var rh *Header
				var err error
				if i == 0 {
					rh, _, err = c.Call(context.Background(), srv.addr, &Header{Kind: KindTxnPrepare}, nil)
				} else {
					rh, _, err = c.Send(context.Background(), srv.addr, &Header{Kind: KindTxnPrepare}, bytes.NewReader(payload), int64(len(payload)))
				}
				if !errors.Is(err, tt.want) || !errors.Is(err, ErrRemote) {
					t.Fatalf("%s: err = %v, want %v and ErrRemote", mode, err, tt.want)
				}
				var re *RemoteError
				if !errors.As(err, &re) || re.Kind != tt.kind || rh == nil || rh.ErrKind != tt.kind {
					t.Fatalf("%s: err = %#v, reply %+v, want ErrKind %q", mode, err, rh, tt.kind)
				}
				for _, other := range []error{cluster.ErrNotFound, cluster.ErrExists, ErrConnection} {
					if other != tt.want && errors.Is(err, other) {
						t.Fatalf("%s: err %v also matches %v", mode, err, other)
					}
				}
			}
		})
	}
}

func failWith(err error) Handler {
	return func(context.Context, *Message, *Header) ([]byte, error) { return nil, err }
}

// TestConcurrent runs many goroutines calling one server over one client.
func TestConcurrent(t *testing.T) {
	srv := startServer(t, Config{NodeID: "t1"}, echoAll(), "")
	c := newClient(t, Config{NodeID: "p1"})
	const goroutines, calls = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				payload := []byte(fmt.Sprintf("g%d-i%d", g, i))
				if i%5 == 0 {
					payload = bytes.Repeat(payload, 20000)
				}
				var rb []byte
				var err error
				if i%2 == 0 {
					_, rb, err = c.Send(context.Background(), srv.addr, &Header{Kind: KindObjectPut}, bytes.NewReader(payload), int64(len(payload)))
				} else {
					_, rb, err = c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, payload)
				}
				if err == nil && !bytes.Equal(rb, payload) {
					err = fmt.Errorf("g%d i%d: wrong reply", g, i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// slowReader yields fast bytes quickly, then 32 KiB every 5ms, forever.
// It closes slow (when set) as it starts on the slow part: the fast bytes
// have been handed to the sender, so the stream is under way.
type slowReader struct {
	fast int
	slow chan struct{}
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.fast > 0 {
		k := min(len(p), r.fast)
		r.fast -= k
		return k, nil
	}
	if r.slow != nil {
		close(r.slow)
		r.slow = nil
	}
	time.Sleep(5 * time.Millisecond)
	return min(len(p), 32<<10), nil
}

// TestBrokenConnection cuts connections mid-stream and mid-call: every
// caller gets ErrConnection promptly, and the next calls work.
func TestBrokenConnection(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 64) // a token per KindTxnPrepare handler entered
	handlers := echoAll()
	handlers[KindTxnPrepare] = func(ctx context.Context, _ *Message, _ *Header) ([]byte, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	}
	srv := startServer(t, Config{NodeID: "t1"}, handlers, "")
	proxy := newCutProxy(t, srv.addr)
	c := newClient(t, Config{NodeID: "p1"})
	ctx := context.Background()
	if _, _, err := c.Call(ctx, proxy.addr(), &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("mid-stream", func(t *testing.T) {
		slow, done := make(chan struct{}), make(chan struct{})
		defer close(done)
		r := &slowReader{fast: 4 << 20, slow: slow}
		go func() {
			select {
			case <-slow: // the stream is under way: cut it
				proxy.cut()
			case <-done:
			}
		}()
		err := waitErr(t, 5*time.Second, func() error {
			_, _, err := c.Send(ctx, proxy.addr(), &Header{Kind: KindObjectPut}, r, 64<<20)
			return err
		})
		if !errors.Is(err, ErrConnection) {
			t.Fatalf("err = %v, want ErrConnection", err)
		}
	})
	t.Run("in-flight-calls", func(t *testing.T) {
		if _, _, err := c.Call(ctx, proxy.addr(), &Header{Kind: KindPing}, nil); err != nil {
			t.Fatalf("call after the cut: %v", err)
		}
		const n = 8
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				_, _, err := c.Call(ctx, proxy.addr(), &Header{Kind: KindTxnPrepare}, nil)
				errs <- err
			}()
		}
		// Cut only once every call is in its handler, so that each is in
		// flight on the connection that breaks.
		timeout := time.After(5 * time.Second)
		for i := range n {
			select {
			case <-entered:
			case <-timeout:
				t.Fatalf("%d of %d calls reached the handler", i, n)
			}
		}
		proxy.cut()
		for i := 0; i < n; i++ {
			err := waitErr(t, 5*time.Second, func() error { return <-errs })
			if !errors.Is(err, ErrConnection) {
				t.Fatalf("call %d: err = %v, want ErrConnection", i, err)
			}
		}
	})
	t.Run("recovers", func(t *testing.T) {
		if _, rb, err := c.Call(ctx, proxy.addr(), &Header{Kind: KindPing}, []byte("hi")); err != nil || string(rb) != "hi" {
			t.Fatalf("call after the cut: %q, %v", rb, err)
		}
		payload := bytes.Repeat([]byte("x"), 1<<20)
		if _, rb, err := c.Send(ctx, proxy.addr(), &Header{Kind: KindObjectPut}, bytes.NewReader(payload), int64(len(payload))); err != nil || len(rb) != len(payload) {
			t.Fatalf("send after the cut: %d bytes, %v", len(rb), err)
		}
	})
	close(release)
}

// TestShortSource: a Send whose reader ends early fails with
// io.ErrUnexpectedEOF, and the server drops that stream, logging it.
func TestShortSource(t *testing.T) {
	logs := &logRecorder{}
	srv := startServer(t, Config{NodeID: "t1", Logger: slog.New(logs)}, echoAll(), "")
	c := newClient(t, Config{NodeID: "p1"})
	_, _, err := c.Send(context.Background(), srv.addr, &Header{Kind: KindObjectPut}, strings.NewReader("short"), 1<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	logs.waitFor(t, "ERROR", "truncated")
	if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestDeadline: a call to a handler that never answers returns when ctx
// expires, and the connection stays usable.
func TestDeadline(t *testing.T) {
	handlers := echoAll()
	handlers[KindTxnPrepare] = func(ctx context.Context, _ *Message, _ *Header) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	srv := startServer(t, Config{NodeID: "t1"}, handlers, "")
	c := newClient(t, Config{NodeID: "p1"})
	for _, mode := range []string{"call", "send"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := waitErr(t, 3*time.Second, func() error {
				var err error
				if mode == "call" {
					_, _, err = c.Call(ctx, srv.addr, &Header{Kind: KindTxnPrepare}, nil)
				} else {
					_, _, err = c.Send(ctx, srv.addr, &Header{Kind: KindTxnPrepare}, strings.NewReader("x"), 1)
				}
				return err
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCanceledCallKeepsConnection: a call whose ctx is already done fails
// without touching the shared control connection.
func TestCanceledCallKeepsConnection(t *testing.T) {
	srv := startServer(t, Config{NodeID: "t1"}, echoAll(), "")
	c := newClient(t, Config{NodeID: "p1"})
	if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}
	p, _ := c.peer(srv.addr)
	before := p.ctrl
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Call(ctx, srv.addr, &Header{Kind: KindPing}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}
	if p.ctrl != before || before.broken() {
		t.Fatal("a canceled call broke the control connection")
	}
}

// TestPeerRestart stops the server and starts a new one on the same address;
// the client fails fast while it is down and recovers when it is back.
func TestPeerRestart(t *testing.T) {
	srv := startServer(t, Config{NodeID: "t1"}, echoAll(), "")
	addr := srv.addr
	c := newClient(t, Config{NodeID: "p1"})
	ctx := context.Background()
	if _, _, err := c.Call(ctx, addr, &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	for i := 0; i < 3; i++ {
		err := waitErr(t, 5*time.Second, func() error {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, _, err := c.Call(cctx, addr, &Header{Kind: KindPing}, nil)
			return err
		})
		if !errors.Is(err, ErrConnection) {
			t.Fatalf("call %d to a stopped peer: %v, want ErrConnection", i, err)
		}
	}
	startServer(t, Config{NodeID: "t1"}, echoAll(), addr)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, rb, err := c.Call(ctx, addr, &Header{Kind: KindPing}, []byte("back"))
		if err == nil && string(rb) == "back" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client did not recover: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuth covers every combination of secrets at the two ends.
func TestAuth(t *testing.T) {
	tests := []struct {
		name           string
		server, client string
		ok             bool
	}{
		{"both-off", "", "", true},
		{"same-secret", "s3cret", "s3cret", true},
		{"wrong-secret", "s3cret", "guess", false},
		{"client-without", "s3cret", "", false},
		{"server-without", "", "s3cret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logRecorder{}
			srv := startServer(t, Config{NodeID: "t1", Secret: []byte(tt.server), Logger: slog.New(logs)}, echoAll(), "")
			c := newClient(t, Config{NodeID: "p1", Secret: []byte(tt.client)})
			_, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrConnection) {
					t.Fatalf("err = %v, want ErrAuth and ErrConnection", err)
				}
				if tt.server != "" {
					logs.waitFor(t, "WARN", "handshake failed")
				}
			}
		})
	}
}

// rawConn dials addr and performs the client handshake.
func rawConn(tb testing.TB, addr, secret, id string) net.Conn {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := clientHandshake(nc, []byte(secret), id); err != nil {
		tb.Fatal(err)
	}
	return nc
}

// expectDropped checks that the server closes nc.
func expectDropped(tb testing.TB, nc net.Conn) {
	tb.Helper()
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tb.Fatal("server did not close the connection")
	}
}

// TestGarbageDropsOnlyThatConnection sends malformed input on raw
// connections: each is closed with a logged error while a regular client on
// its own connection keeps working.
func TestGarbageDropsOnlyThatConnection(t *testing.T) {
	logs := &logRecorder{}
	srv := startServer(t, Config{NodeID: "t1", Secret: []byte("k"), Logger: slog.New(logs), MaxHeaderSize: 1024,
		KindMaxPayload: map[Kind]int64{KindJoin: 100}}, echoAll(), "")
	c := newClient(t, Config{NodeID: "p1", Secret: []byte("k")})
	ctx := context.Background()
	if _, _, err := c.Call(ctx, srv.addr, &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}
	bigHeader := []byte{'A', 'I', 'S', 1, 0, 1, 0, 0}
	tests := []struct {
		name string
		data []byte
		log  string
	}{
		{"bad-magic", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "bad magic"},
		{"header-too-large", bigHeader, "header length"},
		{"payload-over-limit", encodeFrame(t, &Header{Kind: KindJoin, Sender: "p1"}, make([]byte, 101)), "over the limit"},
		{"wrong-sender", encodeFrame(t, &Header{Kind: KindPing, Sender: "intruder"}, nil), "authenticated as"},
		{"reply-frame", encodeFrame(t, &Header{Kind: KindPing, Reply: true, Sender: "p1"}, nil), "unexpected reply"},
		{"undecodable", []byte{'A', 'I', 'S', 1, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1}, "decode header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc := rawConn(t, srv.addr, "k", "p1")
			if _, err := nc.Write(tt.data); err != nil {
				t.Fatal(err)
			}
			expectDropped(t, nc)
			logs.waitFor(t, "ERROR", tt.log)
			if _, _, err := c.Call(ctx, srv.addr, &Header{Kind: KindPing}, nil); err != nil {
				t.Fatalf("regular client affected: %v", err)
			}
		})
	}
	t.Run("silent-handshake", func(t *testing.T) {
		nc, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte("AIS\x82 not a hello"))
		nc.(*net.TCPConn).CloseWrite()
		expectDropped(t, nc)
		logs.waitFor(t, "WARN", "handshake failed")
	})
}

// TestServerSplitWrites writes frames to a live server in random pieces.
func TestServerSplitWrites(t *testing.T) {
	srv := startServer(t, Config{NodeID: "t1"}, echoAll(), "")
	nc := rawConn(t, srv.addr, "", "p1")
	var stream []byte
	const n = 20
	for i := 1; i <= n; i++ {
		payload := bytes.Repeat([]byte{byte(i)}, i*7919)
		stream = append(stream, encodeFrame(t, &Header{Kind: KindObjectPut, ID: uint64(i), Sender: "p1"}, payload)...)
	}
	go func() {
		sr := &splitReader{data: stream, rng: newRand(1), max: 5000}
		buf := make([]byte, 5000)
		for {
			k, err := sr.Read(buf)
			if err != nil {
				return
			}
			nc.Write(buf[:k])
		}
	}()
	br := bufio.NewReader(nc)
	seen := map[uint64]bool{}
	for len(seen) < n {
		h, _, err := readHeader(br, nil, DefaultMaxHeaderSize)
		if err != nil {
			t.Fatalf("after %d replies: %v", len(seen), err)
		}
		b := &body{r: br, n: h.Size, pool: newBufPool()}
		got, err := io.ReadAll(b)
		if err != nil || !h.Reply || h.Error != "" || len(got) != int(h.ID)*7919 || got[0] != byte(h.ID) {
			t.Fatalf("reply %+v: %d bytes, %v", h, len(got), err)
		}
		seen[h.ID] = true
	}
}

// TestClose: calls after Close fail with ErrClosed; Serve after Close too.
func TestClose(t *testing.T) {
	srv := startServer(t, Config{NodeID: "t1"}, echoAll(), "")
	c := NewClient(Config{NodeID: "p1"})
	if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindPing}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	s := NewServer(Config{})
	s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close: %v, want ErrClosed", err)
	}
}
