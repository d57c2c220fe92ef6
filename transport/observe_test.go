package transport

import (
	"context"
	"net"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTracingOffAllocs: with tracing disabled (the no-op provider), the
// tracing part of sending and serving a request allocates nothing; with a
// recording provider it does (the test can fail).
func TestTracingOffAllocs(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	ctx := context.Background()
	hdr := &Header{Kind: KindObjectPut, Bucket: "ais://b", Object: "o", Size: 4096, Sender: "t1"}
	measure := func(c *Client, s *Server) (send, recv float64) {
		send = testing.AllocsPerRun(100, func() {
			h := *hdr
			_, span := c.startSend(ctx, "127.0.0.1:9000", &h)
			span.End()
		})
		recv = testing.AllocsPerRun(100, func() {
			_, span := s.startRecv(ctx, a, hdr)
			span.End()
		})
		return send, recv
	}
	off := Config{NodeID: "p1"}
	if send, recv := measure(NewClient(off), NewServer(off)); send != 0 || recv != 0 {
		t.Errorf("tracing off: %v allocations per send, %v per receive; want 0", send, recv)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	t.Cleanup(func() { tp.Shutdown(ctx) })
	on := Config{NodeID: "p1", TracerProvider: tp}
	if send, recv := measure(NewClient(on), NewServer(on)); send == 0 || recv == 0 {
		t.Errorf("tracing on: %v allocations per send, %v per receive; a recorded span allocates", send, recv)
	}
}
