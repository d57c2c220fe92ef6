package transport

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Defaults applied by NewServer and NewClient to zero Config fields.
const (
	DefaultMaxHeaderSize    = 64 << 10
	DefaultMaxPayload       = 1 << 30
	DefaultObjectMaxPayload = 1 << 40 // KindObjectPut and KindJobObject, unless KindMaxPayload says otherwise
	DefaultDialTimeout      = 3 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultMaxIdleStreams   = 4
	DefaultMaxInflight      = 256
	DefaultMaxBackoff       = 2 * time.Second
	DefaultWriteTimeout     = 30 * time.Second
)

// tracerName is the instrumentation scope of the transport's spans.
const tracerName = "miniais/transport"

// Config configures a Server or a Client; the zero value of every field
// means its default. A Config is read once, by NewServer or NewClient.
type Config struct {
	// NodeID is this node's ID: the Sender of every request, and the identity
	// proven in the handshake.
	NodeID string
	// Secret is the cluster secret. When non-empty, both ends of every
	// connection prove knowledge of it in the handshake (HMAC-SHA256 over both
	// nonces and both node IDs) and a peer that fails is dropped and logged.
	// Empty means no authentication. Both ends must agree.
	Secret []byte
	// TracerProvider makes the transport's spans; nil means a no-op provider.
	TracerProvider trace.TracerProvider
	// Observer, when set, is told of every request sent and served
	// (metrics).
	Observer Observer
	// Propagator moves trace context through Header.Trace; nil means W3C
	// TraceContext plus Baggage.
	Propagator propagation.TextMapPropagator
	// Logger logs dropped connections and protocol errors; nil discards.
	Logger *slog.Logger
	// MaxHeaderSize bounds a frame's msgpack header (default 64 KiB).
	MaxHeaderSize int
	// MaxPayload bounds the payload of a frame (request or reply) of any kind
	// not listed in KindMaxPayload (default 1 GiB).
	MaxPayload int64
	// KindMaxPayload overrides MaxPayload per kind. KindObjectPut and
	// KindJobObject default to 1 TiB unless listed here.
	KindMaxPayload map[Kind]int64
	// DialTimeout bounds dialling a peer plus the handshake (default 3s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the server side of the handshake (default 5s).
	HandshakeTimeout time.Duration
	// MaxIdleStreams is how many idle stream connections a Client keeps per
	// peer for Send (default 4); more streams dial more connections.
	MaxIdleStreams int
	// MaxInflight bounds concurrently running handlers per server connection
	// (default 256); beyond it, the connection stops reading (backpressure).
	MaxInflight int
	// MaxBackoff caps the Client's dial backoff after repeated failures
	// (default 2s; it starts at 50ms and doubles).
	MaxBackoff time.Duration
	// WriteTimeout bounds the Server's writing of one reply (default 30s): a
	// peer that stops reading loses the connection. (Client writes are bounded
	// by the caller's ctx.)
	WriteTimeout time.Duration
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.TracerProvider == nil {
		c.TracerProvider = noop.NewTracerProvider()
	}
	if c.Propagator == nil {
		c.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxHeaderSize <= 0 {
		c.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	limits := make(map[Kind]int64, len(c.KindMaxPayload)+1)
	limits[KindObjectPut] = DefaultObjectMaxPayload
	limits[KindJobObject] = DefaultObjectMaxPayload
	for k, v := range c.KindMaxPayload {
		limits[k] = v
	}
	c.KindMaxPayload = limits
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxIdleStreams <= 0 {
		c.MaxIdleStreams = DefaultMaxIdleStreams
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	c.Secret = append([]byte(nil), c.Secret...)
	return c
}

// payloadLimit returns the payload limit for kind k.
func (c *Config) payloadLimit(k Kind) int64 {
	if v, ok := c.KindMaxPayload[k]; ok {
		return v
	}
	return c.MaxPayload
}
