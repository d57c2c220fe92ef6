// Package tracing sets up OpenTelemetry for every miniais node and the CLI:
// a tracer provider that exports over OTLP gRPC (to Jaeger or any collector),
// the W3C trace-context and baggage propagators, HTTP server and client
// instrumentation, propagation helpers for redirect URLs and transport header
// maps, and a log/slog handler that stamps log records with trace and span IDs.
//
// Nothing here touches the OpenTelemetry globals: a [Provider] is created by
// [New] and passed explicitly to whoever needs a tracer.
//
// # Configuration
//
// [Config] is the JSON-configurable part (see [DefaultConfig] for the
// defaults) and [FromEnv] overlays environment variables on it:
//
//	AIS_TRACING_ENDPOINT              exporter endpoint; non-empty enables tracing
//	AIS_TRACING_SERVICE_PREFIX        service name prefix ("aistore")
//	AIS_TRACING_SAMPLING_PROBABILITY  root sampling ratio in [0,1]
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT
//	                                  endpoint, when AIS_TRACING_ENDPOINT is unset (does not enable)
//	OTEL_EXPORTER_OTLP_TRACES_HEADERS, OTEL_EXPORTER_OTLP_HEADERS
//	                                  extra gRPC metadata, "k1=v1,k2=v2"
//	OTEL_EXPORTER_OTLP_TRACES_INSECURE, OTEL_EXPORTER_OTLP_INSECURE
//	                                  plaintext (true) or TLS (false) for a scheme-less endpoint
//	OTEL_SERVICE_NAME                 the whole service name, instead of "<prefix>-<role>"
//	OTEL_SDK_DISABLED=true            disables tracing
//
// A local plaintext Jaeger needs nothing but AIS_TRACING_ENDPOINT=localhost:4317.
//
// # Endpoints and transport security
//
// An endpoint is "host:port", "http://host:port" or "https://host:port" (the
// port defaults to 4317). "http://" and a scheme-less loopback host
// (localhost, 127.0.0.0/8, ::1) are dialled in plaintext; "https://" and a
// scheme-less non-loopback host use TLS, where skip_verify disables the
// certificate check and nothing else.
//
// # Sampling
//
// The sampler is ParentBased(TraceIDRatioBased(p)): a root span is sampled
// with probability p, a child follows its parent. A context marked by
// [WithForceSample] overrides that for a span whose parent is not sampled;
// [Provider.Handler] marks the request context when the request carries the
// header "Ais-Trace-Force: true" ([ForceSampleHeader]), which the CLI sends
// for --trace.
//
// [Provider.SetSampling] changes the ratio, or turns sampling off and on
// again, at run time (the nodes' set-config); a Provider built disabled has
// no pipeline and refuses to be turned on ([ErrNotStarted]).
// [Provider.Config] reports what the Provider runs with.
//
// # Export never hurts the data path
//
// Ended spans go to a bounded queue ([Config.QueueSize]) drained by one
// goroutine that exports batches ([Config.BatchSize]) at least every
// [FlushInterval]. Ending a span never blocks: when the queue is full the span
// is dropped, and a batch the collector refuses, or does not take within
// [ExportTimeout], is dropped as well. Every dropped span is counted
// ([Provider.Dropped]) and the count is logged at most every
// [DropLogInterval]. [Provider.Shutdown] flushes what is queued within the
// deadline of its context. New never blocks on an unreachable collector.
//
// # Off means off
//
// With tracing disabled, [New] returns a Provider backed by the OpenTelemetry
// no-op tracer provider: no exporter, no goroutine, and [Provider.Handler] and
// [Provider.Transport] return the handler and round tripper they are given,
// unchanged. The build tag "notracing" compiles the SDK and the OTLP exporter
// out of the binary entirely; in such a build New returns the disabled
// Provider for a disabled Config and an error wrapping [ErrNotCompiled] for an
// enabled one (a clear start-up error rather than a silent no-op; a main that
// prefers to run untraced can test for it with errors.Is).
//
// # Logs
//
// [LogHandler] wraps a slog.Handler so that a record logged with a context
// inside a span carries the attributes trace_id and span_id.
package tracing
