//go:build !notracing

package tracing

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"
)

// Compiled tells whether the SDK is compiled in (false with -tags notracing).
const Compiled = true

// Options are the per-process inputs of New that are not configuration.
type Options struct {
	// Role is cluster.RoleProxy, cluster.RoleTarget or RoleCLI (another non-empty word is
	// accepted, e.g. for a load generator). Required when enabled.
	Role string
	// NodeID is the daemon ID (resource attributes service.instance.id and
	// ais.node_id).
	NodeID string
	// Version is the software version (service.version).
	Version string
	// Logger receives the drop reports; nil means slog.Default().
	Logger *slog.Logger
	// Secret is the cluster secret: it signs the trace context that a node
	// sends to another over HTTP (redirects, requests between nodes), so
	// that the receiver can tell a member's decision from a client's (see
	// the package doc). Empty: signed with an empty key.
	Secret []byte
	// Exporter, when set, replaces the OTLP exporter (tests:
	// tracetest.NewInMemoryExporter). It still goes through the bounded queue.
	// ExporterEndpoint is then not needed.
	Exporter sdktrace.SpanExporter
	// SpanProcessor, when set, is registered in addition to the export
	// pipeline (tests: tracetest.NewSpanRecorder). With SpanProcessor set and
	// neither Exporter nor ExporterEndpoint, nothing is exported.
	SpanProcessor sdktrace.SpanProcessor
}

// New validates cfg and builds a Provider.
//
// Disabled: the Provider wraps the OpenTelemetry no-op tracer provider; no
// goroutine, no exporter, nothing read from disk.
//
// Enabled: an OTLP gRPC exporter (or opts.Exporter) behind a bounded,
// never-blocking queue, a resource naming the service "<prefix>-<role>" with
// node ID, role, version, host and cfg.Attributes, and the sampler
// ParentBased(TraceIDRatioBased(p)) that honours WithForceSample. The token
// file, if any, is read here: an unreadable or empty one is an error. New
// does not dial: an unreachable collector costs dropped spans later, never a
// blocked start.
//
// The caller owns the Provider and must call Shutdown.
func New(ctx context.Context, cfg Config, opts Options) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled {
		return disabledWith(cfg), nil
	}
	if opts.Role == "" || strings.ContainsAny(opts.Role, " \t\r\n") {
		return nil, fmt.Errorf("%w: role %q", ErrConfig, opts.Role)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	exp := opts.Exporter
	if exp == nil && cfg.ExporterEndpoint != "" {
		var err error
		if exp, err = newOTLPExporter(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if exp == nil && opts.SpanProcessor == nil {
		return nil, fmt.Errorf("%w: tracing enabled without exporter_endpoint", ErrConfig)
	}

	nets, _ := parseNets(cfg.TrustedClients) // checked by Validate
	rate := cfg.TrustedRate
	if rate == 0 {
		rate = DefaultTrustedRate
	}
	stats := &exportStats{}
	sampler := &switchSampler{tail: cfg.Tail.Enabled()}
	sampler.set(true, float64(cfg.SamplerProbability))
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(newResource(cfg, opts)),
		sdktrace.WithIDGenerator(joinIDs{}),
		sdktrace.WithSpanLimits(spanLimits(cfg)),
	}
	var sink spanSink
	if exp != nil {
		qs, bs, bb := cfg.QueueSize, cfg.BatchSize, cfg.BatchBytes
		if qs == 0 {
			qs = DefaultQueueSize
		}
		if bs == 0 {
			bs = DefaultBatchSize
		}
		if bb == 0 {
			bb = DefaultBatchBytes
		}
		qp := newQueueProcessor(exp, stats, logger, processorSettings{
			queueSize: qs, batchSize: min(bs, qs), batchBytes: bb,
			interval: FlushInterval, timeout: ExportTimeout, logEvery: DropLogInterval,
		})
		stats.queued = func() int { return len(qp.queue) }
		sink = qp
	}
	if opts.SpanProcessor != nil {
		sink = joinSinks(sink, opts.SpanProcessor)
	}
	if cfg.Tail.Enabled() && sink != nil {
		n := cfg.Tail.MaxSpans
		if n == 0 {
			n = DefaultTailSpans
		}
		tail := newTailProcessor(sink, stats, time.Duration(cfg.Tail.Latency), n)
		stats.tailHeld = tail.heldSpans
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(tail))
	} else if sink != nil {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(sink))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	return &Provider{
		enabled:    true,
		tp:         tp,
		prop:       NewPropagator(),
		stats:      stats,
		flush:      tp.ForceFlush,
		shutdown:   tp.Shutdown,
		cfg:        cfg,
		setSampler: sampler.set,
		sig:        signer{key: opts.Secret},
		trust:      &trust{nets: nets, limit: newLimiter(rate)},
	}, nil
}

// spanLimits are the SDK's span limits of cfg: attribute values cut to
// AttributeValueLimit characters; attributes, events and links bounded by
// AttributeCountLimit each.
func spanLimits(cfg Config) sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.AttributeValueLengthLimit = cmpOr(cfg.AttributeValueLimit, DefaultAttributeValueLimit)
	n := cmpOr(cfg.AttributeCountLimit, DefaultAttributeCountLimit)
	l.AttributeCountLimit, l.EventCountLimit, l.LinkCountLimit = n, n, n
	l.AttributePerEventCountLimit, l.AttributePerLinkCountLimit = n, n
	return l
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// newOTLPExporter builds the OTLP gRPC exporter of cfg. It does not dial.
func newOTLPExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	ep, err := parseEndpoint(cfg.ExporterEndpoint)
	if err != nil {
		return nil, err
	}
	headers := maps.Clone(cfg.Headers)
	if headers == nil {
		headers = make(map[string]string)
	}
	if a := cfg.ExporterAuth; a.TokenFile != "" {
		tok, err := readToken(a.TokenFile)
		if err != nil {
			return nil, err
		}
		headers[strings.ToLower(a.TokenHeader)] = tok
	}
	o := []otlptracegrpc.Option{
		otlptracegrpc.WithEndpoint(ep.hostPort),
		otlptracegrpc.WithHeaders(headers),
		otlptracegrpc.WithTimeout(ExportTimeout),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{
			Enabled:         true,
			InitialInterval: 500 * time.Millisecond,
			MaxInterval:     2 * time.Second,
			MaxElapsedTime:  ExportTimeout,
		}),
	}
	if ep.insecure {
		o = append(o, otlptracegrpc.WithInsecure())
	} else {
		o = append(o, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(&tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: cfg.SkipVerify, //nolint:gosec // an explicit, documented option
		})))
	}
	exp, err := otlptracegrpc.New(ctx, o...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", ep.hostPort, err)
	}
	return exp, nil
}

// readToken reads an exporter token file.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: exporter_auth.token_file: %w", ErrConfig, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%w: exporter_auth.token_file %s is empty", ErrConfig, path)
	}
	return tok, nil
}

// newResource describes the process: cfg.Attributes first, so that the
// fixed attributes win a clash.
func newResource(cfg Config, opts Options) *resource.Resource {
	attrs := make([]attribute.KeyValue, 0, len(cfg.Attributes)+8)
	for _, k := range slices.Sorted(maps.Keys(cfg.Attributes)) {
		attrs = append(attrs, attribute.String(k, cfg.Attributes[k]))
	}
	attrs = append(attrs,
		semconv.ServiceName(ServiceName(cfg, opts.Role)),
		attribute.String("ais.role", opts.Role),
		semconv.TelemetrySDKLanguageGo,
		semconv.TelemetrySDKName("opentelemetry"),
	)
	if opts.NodeID != "" {
		attrs = append(attrs, semconv.ServiceInstanceID(opts.NodeID), attribute.String("ais.node_id", opts.NodeID))
	}
	if opts.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(opts.Version))
	}
	if host, err := os.Hostname(); err == nil {
		attrs = append(attrs, semconv.HostName(host))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...)
}

// NewSampler returns ParentBased(TraceIDRatioBased(p)) that also follows
// the marks of the span's context: WithForceSample samples a span whose
// parent is not sampled; WithoutRoot drops a span without a sampled
// parent; a root that joins a member's trace (a redirected request) follows
// that trace's sampled flag; a remote parent whose flag is not to be
// trusted is decided by the ratio on the trace ID.
func NewSampler(p float64) sdktrace.Sampler { return newSampler(p, false) }

// newSampler is NewSampler; with tail, a span that would be dropped is
// recorded without being sampled (RecordOnly), for the tail rule, unless
// WithoutRoot marks it or its local parent is not recorded.
func newSampler(p float64, tail bool) sdktrace.Sampler {
	ratio := sdktrace.TraceIDRatioBased(p)
	return ctxSampler{ratio: ratio, base: sdktrace.ParentBased(ratio), tail: tail}
}

// ctxSampler is the sampler of NewSampler.
type ctxSampler struct {
	ratio, base sdktrace.Sampler
	tail        bool
}

// ShouldSample implements sdktrace.Sampler.
func (s ctxSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	ctx := p.ParentContext
	psc := trace.SpanContextFromContext(ctx)
	quiet := isQuiet(ctx)
	var res sdktrace.SamplingResult
	switch {
	case !psc.IsValid() && quiet:
		return sdktrace.SamplingResult{Decision: sdktrace.Drop}
	case !psc.IsValid():
		if j, ok := joinOf(ctx); ok && j.sc.TraceID() == p.TraceID {
			switch {
			case j.sc.IsSampled():
				res = sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: j.sc.TraceState()}
			case j.ratio:
				res = s.ratio.ShouldSample(p)
			default:
				res = sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: j.sc.TraceState()}
			}
			break
		}
		res = s.base.ShouldSample(p)
	case psc.IsSampled() && psc.IsRemote() && isRatioOnly(ctx):
		res = s.ratio.ShouldSample(p)
		res.Tracestate = psc.TraceState()
	default:
		res = s.base.ShouldSample(p)
	}
	if res.Decision == sdktrace.RecordAndSample {
		return res
	}
	if IsForceSampled(ctx) && !psc.IsSampled() && !quiet {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: psc.TraceState()}
	}
	if s.tail && !quiet && (!psc.IsValid() || psc.IsRemote() || trace.SpanFromContext(ctx).IsRecording()) {
		res.Decision = sdktrace.RecordOnly
	}
	return res
}

// Description implements sdktrace.Sampler.
func (s ctxSampler) Description() string {
	d := "AisSampler{" + s.base.Description()
	if s.tail {
		d += ",tail"
	}
	return d + "}"
}

// joinIDs is the tracer provider's ID generator: random IDs, except that
// a root span started from a context marked by withJoin gets the joined
// trace's ID (a redirected request's span is a root in the proxy's trace,
// so that it never outlives its parent).
type joinIDs struct{}

// NewIDs implements sdktrace.IDGenerator.
func (joinIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	if j, ok := joinOf(ctx); ok {
		tid = j.sc.TraceID()
	} else {
		for !tid.IsValid() {
			binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
			binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
		}
	}
	return tid, joinIDs{}.NewSpanID(ctx, tid)
}

// NewSpanID implements sdktrace.IDGenerator.
func (joinIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}

// switchSampler is the sampler of an enabled Provider: newSampler(ratio),
// or NeverSample while SetSampling has turned sampling off. It is swapped
// atomically, so spans started after a change see it.
type switchSampler struct {
	cur  atomic.Pointer[sdktrace.Sampler]
	tail bool
}

// set installs the sampler for on and ratio.
func (s *switchSampler) set(on bool, ratio float64) {
	smp := sdktrace.NeverSample()
	if on {
		smp = newSampler(ratio, s.tail)
	}
	s.cur.Store(&smp)
}

// ShouldSample implements sdktrace.Sampler.
func (s *switchSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return (*s.cur.Load()).ShouldSample(p)
}

// Description implements sdktrace.Sampler.
func (s *switchSampler) Description() string { return (*s.cur.Load()).Description() }
