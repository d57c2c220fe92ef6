package node

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"miniais/transport"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServeOrder: a request in flight when ctx is done finishes with its
// reply; Stopped runs after it and before the loops are told to stop; Serve
// returns only once the loops and every goroutine of the Group returned;
// the Group then runs nothing more.
func TestServeOrder(t *testing.T) {
	var order []string
	var reqDone, loopDone, lateDone atomic.Bool
	inHandler := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		close(inHandler)
		<-release
		w.Write([]byte("ok"))
		reqDone.Store(true)
	})
	g := NewGroup()
	hln, tln := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, Config{
			Name: "test", HTTP: &http.Server{Handler: mux}, HTTPListener: hln,
			Transport: transport.NewServer(transport.Config{NodeID: "n"}), TransportListener: tln,
			Group: g,
			Loops: []func(context.Context){func(ctx context.Context) {
				<-ctx.Done()
				g.Go(func(context.Context) {}) // refused or waited for: either way not leaked
				time.Sleep(20 * time.Millisecond)
				loopDone.Store(true)
			}},
			Stopped: func() {
				order = append(order, "stopped")
				if !reqDone.Load() {
					t.Error("Stopped ran before the request in flight finished")
				}
				if loopDone.Load() {
					t.Error("Stopped ran after the loops ended")
				}
			},
			ShutdownTimeout: 10 * time.Second,
		})
	}()
	if !g.Go(func(ctx context.Context) { <-ctx.Done(); time.Sleep(20 * time.Millisecond); lateDone.Store(true) }) {
		t.Fatal("a running Group refused a goroutine")
	}
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + hln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		resp.Body.Close()
		got <- resp.Status
	}()
	<-inHandler
	cancel()
	close(release)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if s := <-got; s != "200 OK" {
		t.Fatalf("the request in flight got %s", s)
	}
	if !loopDone.Load() || !lateDone.Load() {
		t.Fatalf("Serve returned before its goroutines: loop %v, group %v", loopDone.Load(), lateDone.Load())
	}
	if len(order) != 1 {
		t.Fatalf("Stopped ran %d times", len(order))
	}
	if g.Go(func(context.Context) {}) {
		t.Fatal("a stopped Group ran a goroutine")
	}
	// A node serves once.
	if err := Serve(context.Background(), Config{
		HTTP: &http.Server{}, HTTPListener: listen(t), Transport: transport.NewServer(transport.Config{}),
		TransportListener: listen(t), Group: g,
	}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Serve with a stopped Group: %v, want ErrStopped", err)
	}
}

// TestServeServerFailure: a server that fails stops the node, and Serve
// returns its error.
func TestServeServerFailure(t *testing.T) {
	hln, tln := listen(t), listen(t)
	hln.Close() // the HTTP server fails at once
	err := Serve(context.Background(), Config{
		Name: "test", HTTP: &http.Server{}, HTTPListener: hln,
		Transport: transport.NewServer(transport.Config{}), TransportListener: tln,
		Group: NewGroup(), ShutdownTimeout: time.Second,
	})
	if err == nil {
		t.Fatal("Serve of a closed listener returned nil")
	}
}
