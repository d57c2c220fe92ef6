//go:build !notracing

package tracing

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
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

	stats := &exportStats{}
	sampler := &switchSampler{}
	sampler.set(true, float64(cfg.SamplerProbability))
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(newResource(cfg, opts)),
	}
	if exp != nil {
		qs, bs := cfg.QueueSize, cfg.BatchSize
		if qs == 0 {
			qs = DefaultQueueSize
		}
		if bs == 0 {
			bs = DefaultBatchSize
		}
		qp := newQueueProcessor(exp, stats, logger, processorSettings{
			queueSize: qs, batchSize: min(bs, qs),
			interval: FlushInterval, timeout: ExportTimeout, logEvery: DropLogInterval,
		})
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(qp))
	}
	if opts.SpanProcessor != nil {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(opts.SpanProcessor))
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
	}, nil
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

// NewSampler returns ParentBased(TraceIDRatioBased(p)) that also samples a
// span started from a context marked by WithForceSample when its parent is
// not sampled.
func NewSampler(p float64) sdktrace.Sampler {
	return forceSampler{base: sdktrace.ParentBased(sdktrace.TraceIDRatioBased(p))}
}

// forceSampler overrides its base for contexts marked by WithForceSample.
type forceSampler struct{ base sdktrace.Sampler }

// ShouldSample implements sdktrace.Sampler.
func (s forceSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if IsForceSampled(p.ParentContext) {
		if psc := trace.SpanContextFromContext(p.ParentContext); !psc.IsSampled() {
			return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: psc.TraceState()}
		}
	}
	return s.base.ShouldSample(p)
}

// Description implements sdktrace.Sampler.
func (s forceSampler) Description() string { return "ForceSample{" + s.base.Description() + "}" }

// switchSampler is the sampler of an enabled Provider: NewSampler(ratio),
// or NeverSample while SetSampling has turned sampling off. It is swapped
// atomically, so spans started after a change see it.
type switchSampler struct {
	cur atomic.Pointer[sdktrace.Sampler]
}

// set installs the sampler for on and ratio.
func (s *switchSampler) set(on bool, ratio float64) {
	smp := sdktrace.NeverSample()
	if on {
		smp = NewSampler(ratio)
	}
	s.cur.Store(&smp)
}

// ShouldSample implements sdktrace.Sampler.
func (s *switchSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return (*s.cur.Load()).ShouldSample(p)
}

// Description implements sdktrace.Sampler.
func (s *switchSampler) Description() string { return (*s.cur.Load()).Description() }
