package transport

import (
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
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
