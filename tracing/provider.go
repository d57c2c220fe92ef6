package tracing

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// RoleCLI is the role of the ais command line, beside the node roles
// cluster.RoleProxy and cluster.RoleTarget; the service name of a process
// is "<prefix>-<role>".
const RoleCLI = "cli"

// InstrumentationName is the name of the tracers that this package's HTTP
// instrumentation uses.
const InstrumentationName = "miniais/tracing"

// ErrNotCompiled is wrapped by the error New returns for an enabled Config in
// a binary built with the "notracing" tag.
var ErrNotCompiled = errors.New("tracing: compiled out (built with -tags notracing)")

// Provider owns a tracer provider, its export pipeline and the propagator.
// A Provider is safe for concurrent use. A nil *Provider behaves as a
// disabled one.
type Provider struct {
	// enabled tells whether there is an export pipeline (the Provider was
	// built enabled); SetSampling can turn sampling off and on again.
	enabled bool
	tp      trace.TracerProvider
	prop    propagation.TextMapPropagator
	stats   *exportStats
	// flush and shutdown are nil when disabled.
	flush    func(context.Context) error
	shutdown func(context.Context) error

	// cfg is the configuration the Provider was built from.
	cfg Config
	// mu serializes SetSampling; sampling is its last setting (nil: never
	// set), and setSampler swaps the SDK sampler (nil when disabled).
	mu         sync.Mutex
	sampling   atomic.Pointer[sampling]
	setSampler func(on bool, ratio float64)

	// sig signs and verifies the trace context of requests between
	// nodes; trust decides which clients are trusted (trust.go).
	sig   signer
	trust *trust
}

// exportStats counts the fate of sampled spans; shared by the provider and
// its span processors.
type exportStats struct {
	dropped  atomic.Uint64
	exported atomic.Uint64
	// queued reports the spans waiting for export (nil: none).
	queued func() int
	// tailKept counts the spans the tail rule exported; tailOverflow the
	// spans it could not hold (its memory bound was reached).
	tailKept, tailOverflow atomic.Uint64
	// tailHeld reports the spans the tail rule holds (nil: no tail rule).
	tailHeld func() int
}

// NewPropagator returns the propagator every Provider uses: W3C trace
// context and W3C baggage.
func NewPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Disabled returns a disabled Provider: the no-op tracer provider, the
// standard propagator, no goroutine and no exporter.
func Disabled() *Provider { return disabledWith(DefaultConfig()) }

// disabledWith returns a disabled Provider that reports cfg (disabled) as
// its configuration.
func disabledWith(cfg Config) *Provider {
	cfg.Enabled = false
	return &Provider{tp: noop.NewTracerProvider(), prop: NewPropagator(), stats: &exportStats{}, cfg: cfg}
}

// Enabled tells whether spans are recorded and exported: the Provider was
// built enabled and SetSampling has not turned sampling off.
func (p *Provider) Enabled() bool { return p != nil && p.enabled && p.samplingState().on }

// TracerProvider returns the tracer provider: the SDK one when enabled, the
// OpenTelemetry no-op one when disabled.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil || p.tp == nil {
		return noop.NewTracerProvider()
	}
	return p.tp
}

// Tracer returns the named tracer of TracerProvider.
func (p *Provider) Tracer(name string) trace.Tracer { return p.TracerProvider().Tracer(name) }

// Propagator returns the W3C trace-context and baggage propagator, also when
// tracing is disabled.
func (p *Provider) Propagator() propagation.TextMapPropagator {
	if p == nil || p.prop == nil {
		return NewPropagator()
	}
	return p.prop
}

// Dropped returns the number of sampled spans dropped so far: the queue was
// full, the collector refused or timed out a batch, the shutdown deadline
// passed first, or the span ended while Shutdown was running. (Spans ended
// once Shutdown has returned never reach the pipeline and are not counted.)
func (p *Provider) Dropped() uint64 {
	if p == nil || p.stats == nil {
		return 0
	}
	return p.stats.dropped.Load()
}

// Exported returns the number of spans the exporter has accepted so far.
// Once Shutdown has returned nil, Exported()+Dropped() is the number of
// sampled spans ended.
func (p *Provider) Exported() uint64 {
	if p == nil || p.stats == nil {
		return 0
	}
	return p.stats.exported.Load()
}

// Queued returns the number of ended spans waiting in the export queue.
func (p *Provider) Queued() int {
	if p == nil || p.stats == nil || p.stats.queued == nil {
		return 0
	}
	return p.stats.queued()
}

// TailKept returns the number of spans that the tail rule exported (spans
// of failed or slow requests that the ratio did not sample).
func (p *Provider) TailKept() uint64 {
	if p == nil || p.stats == nil {
		return 0
	}
	return p.stats.tailKept.Load()
}

// TailHeld returns the number of spans the tail rule holds now, waiting
// for their requests to end (at most Config.Tail.MaxSpans).
func (p *Provider) TailHeld() int {
	if p == nil || p.stats == nil || p.stats.tailHeld == nil {
		return 0
	}
	return p.stats.tailHeld()
}

// TailOverflow returns the number of spans the tail rule could not hold
// because its memory bound (Config.Tail.MaxSpans) was reached.
func (p *Provider) TailOverflow() uint64 {
	if p == nil || p.stats == nil {
		return 0
	}
	return p.stats.tailOverflow.Load()
}

// ForceFlush exports the spans queued when it is called and waits for that,
// within the deadline of ctx. It is a no-op when disabled.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p == nil || p.flush == nil {
		return nil
	}
	return p.flush(ctx)
}

// Shutdown stops the export pipeline: spans ended from now on are dropped,
// queued spans are exported within the deadline of ctx and the exporter is
// closed. Spans not exported by the deadline are counted as dropped. It is a
// no-op when disabled, and safe to call more than once.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil || p.shutdown == nil {
		return nil
	}
	return p.shutdown(ctx)
}
