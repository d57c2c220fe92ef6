package proxy

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/cluster"
	"miniais/tracing"
	"miniais/transport"
)

// slowTarget is a transport peer whose map pushes block until released:
// the fault a real target cannot be made to produce on demand (a target
// stuck behind a long operation). It counts the pushes in flight.
type slowTarget struct {
	node    *cluster.Node
	release chan struct{}
	entered chan int64 // the version of each push, as its handler is entered

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	got         []int64
}

func startSlowTarget(t *testing.T) *slowTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := &slowTarget{
		node:    cluster.NewNode("t-slow", cluster.RoleTarget, "127.0.0.1:1", ln.Addr().String()),
		release: make(chan struct{}), entered: make(chan int64, 100),
	}
	srv := transport.NewServer(transport.Config{NodeID: st.node.ID})
	srv.Handle(transport.KindMapPush, func(ctx context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, err := m.ReadBody(1 << 20)
		if err != nil {
			return nil, err
		}
		var smap cluster.Map
		if _, err := smap.UnmarshalMsg(b); err != nil {
			return nil, err
		}
		st.mu.Lock()
		st.inFlight++
		st.maxInFlight = max(st.maxInFlight, st.inFlight)
		st.got = append(st.got, smap.Version)
		st.mu.Unlock()
		st.entered <- smap.Version
		select {
		case <-st.release:
		case <-ctx.Done():
		}
		st.mu.Lock()
		st.inFlight--
		st.mu.Unlock()
		return nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return st
}

func (st *slowTarget) state() (maxInFlight int, got []int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.maxInFlight, append([]int64(nil), st.got...)
}

// TestPushesCoalesced sends many map versions to a target that does not
// answer: one push is in flight at a time, the versions queued behind it
// collapse into the newest, which the target gets once it answers; and
// the proxy runs one goroutine for it, not one per version.
func TestPushesCoalesced(t *testing.T) {
	p, err := New(Config{ID: "p1", PublicAddr: "127.0.0.1:1", TransportAddr: "127.0.0.1:1", DataDir: t.TempDir(),
		Tracing: tracing.Disabled(), PushTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.bg.Stop(); p.client.Close() })
	st := startSlowTarget(t)
	ctx := context.Background()
	push := func(v int64) {
		m := cluster.NewMap("u", p.self)
		m.Version = v
		body, err := m.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		p.pushTo(ctx, st.node, transport.KindMapPush, v, body)
	}
	push(1)
	if v := <-st.entered; v != 1 {
		t.Fatalf("first push entered with v%d", v)
	}
	// While v1 hangs: keepalives asking again for v1, and newer versions.
	for v := int64(1); v <= 100; v++ {
		push(v)
		push(v) // a second keepalive at the same version
	}
	p.pushes.mu.Lock()
	pending, running := p.pushes.by[st.node.ID].next[transport.KindMapPush], p.pushes.by[st.node.ID].running
	p.pushes.mu.Unlock()
	if pending == nil || pending.version != 100 || !running {
		t.Fatalf("waiting behind the push in flight: %+v (running %v), want v100", pending, running)
	}
	if n := goroutinesIn("proxy.(*Proxy).sendPushes"); n != 1 {
		t.Fatalf("%d goroutines send pushes to the one target, want 1", n)
	}
	close(st.release) // the target answers from now on
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := p.waitPush(wctx, st.node.ID, transport.KindMapPush, 100); err != nil {
		t.Fatalf("waiting for v100: %v", err)
	}
	maxInFlight, got := st.state()
	if maxInFlight != 1 {
		t.Errorf("%d pushes were in flight at once, want 1", maxInFlight)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 100 {
		t.Errorf("the target got versions %v, want [1 100]", got)
	}
}

// TestPushAllTimesOut: pushAll returns when the target answered
// its version, and a push stuck behind a slow one times out with an error
// naming the target rather than piling up.
func TestPushAllTimesOut(t *testing.T) {
	p, err := New(Config{ID: "p1", PublicAddr: "127.0.0.1:1", TransportAddr: "127.0.0.1:1", DataDir: t.TempDir(),
		Tracing: tracing.Disabled(), PushTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.bg.Stop(); p.client.Close() })
	st := startSlowTarget(t)
	smap := cluster.NewMap("u", p.self)
	smap.Targets[st.node.ID] = st.node
	smap.Version = 7
	body, _ := smap.MarshalMsg(nil)
	errs := p.pushAll(context.Background(), smap, transport.KindMapPush, 7, body)
	if errs[st.node.ID] == nil {
		t.Fatalf("pushAll to a target that never answers: %v, want its error", errs)
	}
	if maxInFlight, _ := st.state(); maxInFlight != 1 {
		t.Fatalf("%d pushes in flight at once", maxInFlight)
	}
}

// goroutinesIn counts the goroutines whose stack has a frame of fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}
