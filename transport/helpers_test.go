package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a Server listening on a loopback port.
type testServer struct {
	*Server
	addr string
	stop func() // stops Serve and waits for it
}

// startServer starts a server with cfg and handlers on addr ("" = any port).
func startServer(tb testing.TB, cfg Config, handlers map[Kind]Handler, addr string) *testServer {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a just-stopped server may linger briefly
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := NewServer(cfg)
	for k, h := range handlers {
		s.Handle(k, h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	var once sync.Once
	ts := &testServer{Server: s, addr: ln.Addr().String()}
	ts.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				tb.Errorf("Serve did not return")
			}
		})
	}
	tb.Cleanup(ts.stop)
	return ts
}

// newClient returns a Client closed at the end of the test.
func newClient(tb testing.TB, cfg Config) *Client {
	tb.Helper()
	c := NewClient(cfg)
	tb.Cleanup(func() { c.Close() })
	return c
}

// echo is a handler that returns the payload and echoes the header fields.
func echo(_ context.Context, msg *Message, reply *Header) ([]byte, error) {
	b, err := io.ReadAll(msg.Body)
	if err != nil {
		return nil, err
	}
	reply.Opaque = msg.Header.Opaque
	reply.Version = msg.Header.Version
	reply.Checksum = msg.Header.Checksum
	reply.Bucket, reply.Object = msg.Header.Bucket, msg.Header.Object
	return b, nil
}

// echoAll serves every kind with echo.
func echoAll() map[Kind]Handler {
	m := make(map[Kind]Handler)
	for k := KindPing; k < kindEnd; k++ {
		m[k] = echo
	}
	return m
}

// logRecorder is a slog.Handler that keeps records.
type logRecorder struct {
	mu   sync.Mutex
	recs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		sb.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, sb.String())
	l.mu.Unlock()
	return nil
}

// waitFor polls until some record at level contains substr.
func (l *logRecorder) waitFor(tb testing.TB, level, substr string) string {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, r := range l.recs {
			if strings.HasPrefix(r, level) && strings.Contains(r, substr) {
				l.mu.Unlock()
				return r
			}
		}
		l.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tb.Fatalf("no %s log containing %q; have %q", level, substr, l.recs)
	return ""
}

// cutProxy forwards TCP connections to a target and can cut them all.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newCutProxy(tb testing.TB, target string) *cutProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	go p.accept()
	tb.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, a, b)
		p.mu.Unlock()
		go func() { io.Copy(a, b); a.Close(); b.Close() }()
		go func() { io.Copy(b, a); a.Close(); b.Close() }()
	}
}

// cut closes every forwarded connection (new ones are still accepted).
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// waitErr runs f and fails the test if it takes longer than d.
func waitErr(tb testing.TB, d time.Duration, f func() error) error {
	tb.Helper()
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		tb.Fatalf("call hung for more than %v", d)
		return errors.New("hung")
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
