package transport

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Direction tells whether an Observer sees a request this node sent (Out)
// or served (In).
type Direction int

// The directions of Observer.ObserveMessage.
const (
	Out Direction = iota
	In
)

// String returns "out" or "in".
func (d Direction) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// Observer is told of every request a Client sends and a Server serves,
// once it has its outcome (metrics). Implementations must be safe for
// concurrent use and must not block.
type Observer interface {
	// ObserveMessage reports one request of kind: its payload size, how
	// long it took (the round trip when sent, the handler when served), and
	// its error (nil when it succeeded).
	ObserveMessage(dir Direction, kind Kind, size int64, took time.Duration, err error)
}

// observe tells the configured Observer, if any.
func (c *Config) observe(dir Direction, kind Kind, size int64, took time.Duration, err error) {
	if c.Observer != nil {
		c.Observer.ObserveMessage(dir, kind, size, took, err)
	}
}

// quietKinds are the kinds of background chatter: their spans are never
// roots (tracing.WithoutRoot), and a server gives them no span unless the
// sender's is sampled. An idle cluster adds no traces.
var quietKinds = map[Kind]bool{KindKeepalive: true, KindPing: true}

// RPCSystem is the rpc.system.name (and rpc.system) of transport spans.
const RPCSystem = "ais-transport"

// rpcAttrs are the RPC semantic-convention attributes of a request of kind:
// rpc.system.name (current semantic conventions) and rpc.system (the name
// most back ends still read), rpc.method, and ais.msg_kind.
func rpcAttrs(kind Kind) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.RPCSystemNameKey.String(RPCSystem),
		attribute.String("rpc.system", RPCSystem),
		semconv.RPCMethod(kind.String()),
		attribute.String("ais.msg_kind", kind.String()),
	}
}

// errorType is the error.type of a failed request: the error kind
// (cluster.Kinds' wire name) when it has one, else what the transport
// knows of the failure.
func errorType(err error) string {
	var re *RemoteError
	switch {
	case errors.As(err, &re) && re.Kind != "":
		return re.Kind
	case ErrKindOf(err) != "":
		return ErrKindOf(err)
	case errors.Is(err, ErrAuth):
		return "auth"
	case errors.Is(err, ErrConnection), errors.Is(err, ErrClosed):
		return "connection"
	case errors.Is(err, ErrFrame):
		return "frame"
	case errors.Is(err, ErrRemote):
		return "remote"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// makesSpans reports whether tp makes spans at all: false for
// OpenTelemetry's no-op provider (a node with tracing disabled), whose
// spans would only cost their attributes and options.
func makesSpans(tp trace.TracerProvider) bool {
	_, off := tp.(noop.TracerProvider)
	return !off
}

// noSpan is the span of a request that gets none: End and the rest do
// nothing (it is not the caller's span, which must not be ended here).
var noSpan = trace.SpanFromContext(context.Background())

// startSend starts the client span of request h to addr, unless h is
// background chatter outside a sampled operation (an idle cluster adds no
// traces; the peer then starts none either) or the node makes no spans,
// and puts the trace context to propagate into h.Trace. The caller ends
// the returned span. With tracing disabled and nothing to propagate it
// allocates nothing.
func (c *Client) startSend(ctx context.Context, addr string, h *Header) (context.Context, trace.Span) {
	if quietKinds[h.Kind] && !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx, noSpan
	}
	span := noSpan
	if c.spans {
		attrs := append(make([]attribute.KeyValue, 0, 10), rpcAttrs(h.Kind)...)
		attrs = append(attrs, attribute.String("ais.peer", addr), attribute.String("ais.node_id", c.cfg.NodeID))
		if host, port, err := net.SplitHostPort(addr); err == nil {
			attrs = append(attrs, semconv.ServerAddress(host))
			if n, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, semconv.ServerPort(n))
			}
		}
		attrs = appendObjectAttrs(attrs, h)
		// Every request waits for its reply, a Send's too: a client span.
		ctx, span = c.tracer.Start(ctx, "transport.send "+h.Kind.String(),
			trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	}
	if c.spans || trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0 {
		h.Trace = make(map[string]string, 3)
		c.cfg.Propagator.Inject(ctx, propagation.MapCarrier(h.Trace))
	}
	return ctx, span
}

// startRecv continues the sender's trace (the peer proved the cluster
// secret: its sampling decision is followed) from hdr.Trace and starts the
// server span of request hdr, which arrived on conn, unless it is
// background chatter without a sampled parent or the node makes no spans.
// The caller ends the returned span. With tracing disabled and no trace
// context in hdr it allocates nothing.
func (s *Server) startRecv(ctx context.Context, conn net.Conn, hdr *Header) (context.Context, trace.Span) {
	if len(hdr.Trace) > 0 {
		ctx = s.cfg.Propagator.Extract(ctx, propagation.MapCarrier(hdr.Trace))
	}
	if !s.spans || (quietKinds[hdr.Kind] && !trace.SpanContextFromContext(ctx).IsSampled()) {
		return ctx, noSpan
	}
	attrs := append(make([]attribute.KeyValue, 0, 10), rpcAttrs(hdr.Kind)...)
	attrs = append(attrs, attribute.String("ais.peer", hdr.Sender), attribute.String("ais.node_id", s.cfg.NodeID))
	if host, port, err := net.SplitHostPort(conn.RemoteAddr().String()); err == nil {
		attrs = append(attrs, semconv.NetworkPeerAddress(host))
		if n, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.NetworkPeerPort(n))
		}
	}
	attrs = appendObjectAttrs(attrs, hdr)
	return s.tracer.Start(ctx, "transport.recv "+hdr.Kind.String(),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
}
