package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
	"miniais/transport"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type testProxy struct {
	*Proxy
	url  string
	stop func()
}

// startProxy serves a proxy on loopback listeners bound on port 0 until
// the test ends (or stop is called).
func startProxy(t testing.TB, dataDir string, tp *tracing.Provider, keepalive time.Duration) *testProxy {
	t.Helper()
	if tp == nil {
		tp = tracing.Disabled()
	}
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{
		ID: "p1", PublicAddr: hln.Addr().String(), TransportAddr: tln.Addr().String(), DataDir: dataDir,
		Tracing: tp, KeepaliveTimeout: keepalive, PushTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, hln, tln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy Run: %v", err)
		}
	})
	t.Cleanup(stop)
	return &testProxy{Proxy: p, url: "http://" + p.cfg.PublicAddr, stop: stop}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeTarget is a transport server that behaves as a target's control plane
// and records what it receives: for the faults a real target cannot be made
// to produce (a prepare that fails, keepalives that stop while the node
// stays up). The happy paths run real targets (nodes_test.go).
type fakeTarget struct {
	node   *cluster.Node
	client *transport.Client
	srv    *transport.Server // a test may add handlers

	mu         sync.Mutex
	prepareErr error
	got        []string // kinds received, in order
	bmd        *cluster.BMD
}

func startFakeTarget(t testing.TB, id string) *fakeTarget {
	t.Helper()
	ft := &fakeTarget{node: cluster.NewNode(id, cluster.RoleTarget, freeAddr(t), freeAddr(t))}
	cfg := transport.Config{NodeID: id}
	srv := transport.NewServer(cfg)
	record := func(k transport.Kind) { ft.mu.Lock(); ft.got = append(ft.got, k.String()); ft.mu.Unlock() }
	srv.Handle(transport.KindMapPush, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		var smap cluster.Map
		if _, err := smap.UnmarshalMsg(b); err != nil {
			return nil, err
		}
		record(m.Header.Kind)
		return nil, nil
	})
	srv.Handle(transport.KindTxnPrepare, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		record(m.Header.Kind)
		ft.mu.Lock()
		defer ft.mu.Unlock()
		return nil, ft.prepareErr
	})
	takeBMD := func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		bmd := &cluster.BMD{}
		if _, err := bmd.UnmarshalMsg(b); err != nil {
			return nil, err
		}
		record(m.Header.Kind)
		ft.mu.Lock()
		ft.bmd = bmd
		ft.mu.Unlock()
		return nil, nil
	}
	srv.Handle(transport.KindTxnCommit, takeBMD)
	srv.Handle(transport.KindBMDPush, takeBMD)
	srv.Handle(transport.KindTxnAbort, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		record(m.Header.Kind)
		return nil, nil
	})
	ln, err := net.Listen("tcp", ft.node.TransportAddr())
	if err != nil {
		t.Fatal(err)
	}
	ft.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, ln)
	ft.client = transport.NewClient(cfg)
	t.Cleanup(func() { cancel(); srv.Close(); ft.client.Close() })
	return ft
}

func (ft *fakeTarget) join(t testing.TB, p *testProxy) {
	t.Helper()
	body, _ := ft.node.MarshalMsg(nil)
	_, rbody, err := ft.client.Call(context.Background(), p.cfg.TransportAddr, &transport.Header{Kind: transport.KindJoin}, body)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	var smap cluster.Map
	if _, err := smap.UnmarshalMsg(rbody); err != nil || smap.Targets[ft.node.ID] == nil {
		t.Fatalf("join reply: %v, map %+v", err, &smap)
	}
}

// keepalive sends a keepalive reporting the bucket metadata version ft
// holds.
func (ft *fakeTarget) keepalive(p *testProxy) error {
	var v cluster.Versions
	ft.mu.Lock()
	if ft.bmd != nil {
		v.BMD = ft.bmd.Version
	}
	ft.mu.Unlock()
	body, _ := v.MarshalMsg(nil)
	_, _, err := ft.client.Call(context.Background(), p.cfg.TransportAddr, &transport.Header{Kind: transport.KindKeepalive}, body)
	return err
}

func (ft *fakeTarget) received() []string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return append([]string(nil), ft.got...)
}

func do(t testing.TB, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestBucketTransactionAbort runs bucket transactions on fake targets: a
// create that commits (each target sees the prepare, then the commit with
// the new bucket metadata), and one whose prepare fails on one target,
// which must abort everywhere (a real target cannot be made to fail a
// prepare). TestBucketTransaction (nodes_test.go) runs the happy path on
// real targets.
func TestBucketTransactionAbort(t *testing.T) {
	p := startProxy(t, t.TempDir(), nil, time.Minute)
	a, b := startFakeTarget(t, "ta"), startFakeTarget(t, "tb")
	a.join(t, p)
	b.join(t, p)

	if resp, body := do(t, "POST", p.url+"/v1/buckets/b1", `{"action":"create-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("create = %d %s", resp.StatusCode, body)
	}
	for _, ft := range []*fakeTarget{a, b} {
		got := strings.Join(ft.received(), ",")
		if !strings.Contains(got, "txn-prepare,txn-commit") {
			t.Errorf("target %s received %s, want a prepare then a commit", ft.node.ID, got)
		}
		ft.mu.Lock()
		bmd := ft.bmd
		ft.mu.Unlock()
		if bmd == nil || bmd.Get(cluster.NewBucket("b1")) == nil {
			t.Errorf("target %s got no bucket metadata with b1", ft.node.ID)
		}
	}

	// A failed prepare on one target aborts everywhere and changes nothing.
	b.mu.Lock()
	b.prepareErr = errors.New("disk on fire")
	b.mu.Unlock()
	v := p.BMD().Version
	resp, body := do(t, "POST", p.url+"/v1/buckets/b2", `{"action":"create-bck"}`)
	if resp.StatusCode < 400 || !strings.Contains(body, "disk on fire") {
		t.Fatalf("create with a failing prepare = %d %s", resp.StatusCode, body)
	}
	if p.BMD().Version != v || p.BMD().Get(cluster.NewBucket("b2")) != nil {
		t.Fatalf("a failed transaction changed the bucket metadata")
	}
	for _, ft := range []*fakeTarget{a, b} {
		got := ft.received()
		if last := got[len(got)-1]; last != "txn-abort" {
			t.Errorf("target %s: last message %s, want txn-abort (all: %v)", ft.node.ID, last, got)
		}
	}
	if resp, _ := do(t, "HEAD", p.url+"/v1/buckets/b2", ""); resp.StatusCode != 404 {
		t.Fatalf("HEAD of aborted bucket = %d", resp.StatusCode)
	}

	b.mu.Lock()
	b.prepareErr = nil
	b.mu.Unlock()
	if resp, body := do(t, "DELETE", p.url+"/v1/buckets/b1", `{"action":"destroy-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("destroy after the abort = %d %s", resp.StatusCode, body)
	}
}

func TestTargetDownAnd503(t *testing.T) {
	// The keepalive timeout is 20 times tb's keepalive period, so that a
	// loaded machine does not make tb miss it (300 ms flaked at a load of 30).
	p := startProxy(t, t.TempDir(), nil, time.Second)
	a, b := startFakeTarget(t, "ta"), startFakeTarget(t, "tb")
	a.join(t, p)
	b.join(t, p)
	do(t, "POST", p.url+"/v1/buckets/b1", `{"action":"create-bck"}`)
	stopA := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stopA:
				return
			case <-time.After(50 * time.Millisecond):
				b.keepalive(p) // b stays alive throughout
			}
		}
	})
	defer func() { close(stopA); wg.Wait() }()
	waitFor(t, func() bool { return p.Smap().Targets["ta"].Down() })
	if p.Smap().Targets["tb"].Down() {
		t.Fatal("a target that keeps alive was flagged down")
	}
	// An object owned by ta answers 503 at once; one owned by tb redirects.
	var onA, onB string
	for i := 0; onA == "" || onB == ""; i++ {
		name := "o" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if n, _ := p.Smap().Owner(cluster.NewBucket("b1").Uname(name)); n.ID == "ta" {
			onA = name
		} else {
			onB = name
		}
	}
	start := time.Now()
	resp, body := do(t, "GET", p.url+"/v1/objects/b1/"+onA, "")
	if resp.StatusCode != 503 || !strings.Contains(body, "ta") || time.Since(start) > 2*time.Second {
		t.Fatalf("GET of an object on a down target = %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", p.url+"/v1/objects/b1/"+onB, ""); resp.StatusCode != 307 {
		t.Fatalf("GET of an object on a live target = %d", resp.StatusCode)
	}
	// A bucket created meanwhile: ta comes back only once it has it.
	if resp, body := do(t, "POST", p.url+"/v1/buckets/b2", `{"action":"create-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("create with a target down = %d %s", resp.StatusCode, body)
	}
	if err := a.keepalive(p); err != nil {
		t.Fatal(err)
	}
	if !p.Smap().Targets["ta"].Down() {
		t.Fatal("a keepalive with an old bucket metadata version cleared the down flag")
	}
	waitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.bmd.Version == p.BMD().Version
	})
	if err := a.keepalive(p); err != nil {
		t.Fatal(err)
	}
	if p.Smap().Targets["ta"].Down() {
		t.Fatal("a keepalive with the current bucket metadata did not clear the down flag")
	}
}

func TestMergePages(t *testing.T) {
	page := func(token string, names ...string) *wire.LsoResult {
		r := &wire.LsoResult{ContinuationToken: token}
		for _, n := range names {
			r.Entries = append(r.Entries, &wire.LsoEntry{Name: n})
		}
		return r
	}
	tests := []struct {
		name      string
		pages     []*wire.LsoResult
		size      int
		want      string
		wantToken string
	}{
		{"empty", []*wire.LsoResult{page(""), page("")}, 10, "", ""},
		{"interleaved", []*wire.LsoResult{page("", "a", "c"), page("", "b", "d")}, 10, "a,b,c,d", ""},
		{"cut at size", []*wire.LsoResult{page("", "a", "c"), page("", "b", "d")}, 3, "a,b,c", "c"},
		{"a target has more", []*wire.LsoResult{page("b", "a", "b"), page("", "c")}, 10, "a,b,c", "c"},
		{"an object on two targets during a move", []*wire.LsoResult{page("", "a", "b"), page("", "b", "c")}, 10, "a,b,c", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mergePages(tc.pages, tc.size)
			var names []string
			for _, e := range res.Entries {
				names = append(names, e.Name)
			}
			if got := strings.Join(names, ","); got != tc.want || res.ContinuationToken != tc.wantToken {
				t.Fatalf("merge = %q token %q, want %q token %q", got, res.ContinuationToken, tc.want, tc.wantToken)
			}
		})
	}
}
