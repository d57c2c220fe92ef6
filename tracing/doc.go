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
//	AIS_TRACING_TRUSTED_CLIENTS       trusted clients, comma-separated IPs or CIDRs ("none")
//	AIS_TRACING_TAIL_LATENCY          turns the tail rule on with this threshold ("250ms"; "off")
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
// with probability p, a child follows its parent. Marks on the context
// refine it: [WithForceSample] samples a span whose parent is not sampled
// (the CLI's --trace); [WithoutRoot] drops a span without a sampled parent,
// whatever else says (keepalives, health checks, metric scrapes: an idle
// cluster adds no traces); [JoinTrace] makes root spans members of a given
// trace (a rebalance is one trace across the cluster, one short root per
// batch, none open for the run).
//
// [Provider.SetSampling] changes the ratio, or turns sampling off and on
// again, at run time (the nodes' set-config); a Provider built disabled has
// no pipeline and refuses to be turned on ([ErrNotStarted]).
// [Provider.Config] reports what the Provider runs with.
//
// # Whose decision counts
//
// [Provider.Handler] follows the sampling decision of a cluster member: an
// HTTP request whose trace context is signed with the cluster secret
// ([HeaderTraceSig], set by [Provider.Transport]), or a redirect whose query
// carries the proxy's signed context ([Provider.InjectRedirect],
// [QueryTraceSig]); the transport's peers proved the secret in their
// handshake. A client's "Ais-Trace-Force: true" ([ForceSampleHeader]) and
// sampled traceparent are honoured only when it is trusted
// ([Config.TrustedClients]), at most [Config.TrustedRate] new traces per
// second; anyone else's request starts a trace of its own, sampled by the
// ratio, with a link to the context it sent.
//
// # No span outlives its parent
//
// A redirect's target span is parented on the client's own span of that hop
// when a trusted client sent one in the proxy's trace, and is otherwise a
// root of the proxy's trace (the ID generator gives it that trace's ID);
// either way it links to the proxy's span, whose decision it follows. The
// proxy's span covers the redirect only.
//
// # Semantic conventions and limits
//
// Server spans carry the stable HTTP attributes (http.request.method,
// http.response.status_code, http.route, url.path, server.address,
// server.port, network.peer.address, client.address, user_agent.original);
// a failure's error.type is the error kind the node names in
// [ErrorKindHeader]; 4xx and 501 are not server errors. Client spans are
// otelhttp's ([ClientTransport], [Provider.Transport]), one per hop, with the
// same error.type and expected statuses ([ExpectStatus]) not marked as
// errors. Attribute values are cut to [Config.AttributeValueLimit]
// characters and a span keeps at most [Config.AttributeCountLimit]
// attributes, events and links (the SDK's span limits).
//
// # The tail rule
//
// With [Config.Tail] on, a span the ratio would drop is recorded without
// being sampled and held, per trace, in a bounded buffer; when the trace's
// local root on this node ends, its spans are exported, marked with
// [TailAttribute], if the request failed or took at least the latency
// threshold, and forgotten otherwise.
//
// # Export never hurts the data path
//
// Ended spans go to a bounded queue ([Config.QueueSize]) drained by one
// goroutine that exports batches ([Config.BatchSize], and at most
// [Config.BatchBytes] of estimated encoding per request, under a gRPC
// collector's limit) at least every [FlushInterval]. Ending a span never blocks: when the queue is full the span
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
// inside a span carries the attributes trace_id, span_id and trace_sampled.
package tracing
