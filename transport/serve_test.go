package transport

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeWaitsForHandlers: Serve returns only after every handler it
// started has returned, for handlers run concurrently (small payloads) and
// inline (large ones), once their contexts are cancelled.
func TestServeWaitsForHandlers(t *testing.T) {
	for _, size := range []int{10, inlineBodyMax + 1} {
		t.Run(map[bool]string{true: "inline", false: "concurrent"}[size > inlineBodyMax], func(t *testing.T) {
			entered := make(chan struct{})
			var returned atomic.Bool
			s := NewServer(Config{NodeID: "t1"})
			s.Handle(KindObjectPut, func(ctx context.Context, msg *Message, _ *Header) ([]byte, error) {
				close(entered)
				<-ctx.Done()
				// A handler that takes a while to wind down: Serve must
				// still be waiting when it is done.
				time.Sleep(50 * time.Millisecond)
				returned.Store(true)
				return nil, ctx.Err()
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx, ln) }()
			c := newClient(t, Config{NodeID: "p1"})
			called := make(chan struct{})
			go func() {
				defer close(called)
				c.Call(context.Background(), ln.Addr().String(), &Header{Kind: KindObjectPut, Size: int64(size)}, bytes.Repeat([]byte{1}, size))
			}()
			<-entered
			cancel()
			if err := <-served; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if !returned.Load() {
				t.Fatal("Serve returned while a handler was still running")
			}
			<-called
		})
	}
}
