package tracing

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/url"
	"slices"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Query keys that InjectQuery sets; none clashes with an AIStore query
// parameter.
const (
	QueryTraceParent = "traceparent"
	QueryTraceState  = "tracestate"
	QueryBaggage     = "baggage"
)

// ForceSampleHeader is the request header that asks for the request to be
// traced regardless of the sampling ratio (value "true"); the CLI sets it
// for --trace.
const ForceSampleHeader = "Ais-Trace-Force"

// forceSampleKey marks a context for forced sampling.
type forceSampleKey struct{}

// WithForceSample returns ctx marked so that a span started from it is
// sampled even when the ratio or an unsampled parent says otherwise.
func WithForceSample(ctx context.Context) context.Context {
	return context.WithValue(ctx, forceSampleKey{}, true)
}

// IsForceSampled tells whether ctx was marked by WithForceSample.
func IsForceSampled(ctx context.Context) bool {
	v, _ := ctx.Value(forceSampleKey{}).(bool)
	return v
}

// quietKey marks a context whose spans are never roots.
type quietKey struct{}

// WithoutRoot returns ctx marked so that a span started from it without a
// sampled parent is dropped, whatever the ratio, WithForceSample or the
// tail rule say: background chatter (keepalives, health checks, metric
// scrapes) is traced only as part of a sampled operation.
func WithoutRoot(ctx context.Context) context.Context {
	return context.WithValue(ctx, quietKey{}, true)
}

// isQuiet tells whether ctx was marked by WithoutRoot.
func isQuiet(ctx context.Context) bool {
	v, _ := ctx.Value(quietKey{}).(bool)
	return v
}

// joinKey carries the trace that a root span started from the context
// joins (the tracer provider's ID generator gives the root that trace ID,
// and the sampler follows its sampled flag, or the ratio).
type joinKey struct{}

// join is the value of joinKey.
type join struct {
	sc    trace.SpanContext
	ratio bool // not sampled: the ratio decides on the trace ID
}

// withJoin returns ctx, which must hold no span, marked so that a root
// span started from it belongs to sc's trace, sampled as sc says.
func withJoin(ctx context.Context, sc trace.SpanContext) context.Context {
	return context.WithValue(ctx, joinKey{}, join{sc: sc})
}

// joinOf returns the trace that a root started from ctx joins, if any.
func joinOf(ctx context.Context) (join, bool) {
	j, ok := ctx.Value(joinKey{}).(join)
	return j, ok && j.sc.IsValid()
}

// JoinTrace returns ctx marked so that every root span started from it
// (with no parent span in ctx, or with trace.WithNewRoot) belongs to trace
// id: sampled when sampled is true, else as the ratio decides on id, which
// is the same decision on every node. Background work that several nodes
// do for one cause (a rebalance after a map change) is so one trace, made
// of short roots (one per batch), none open for the whole run.
func JoinTrace(ctx context.Context, id trace.TraceID, sampled bool) context.Context {
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, SpanID: trace.SpanID{1}, TraceFlags: flags})
	ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	return context.WithValue(ctx, joinKey{}, join{sc: sc, ratio: !sampled})
}

// TraceIDOf returns a trace ID derived from parts (the first 16 bytes of
// their SHA-256): every node that names the same cause gets the same trace.
func TraceIDOf(parts ...string) trace.TraceID {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var id trace.TraceID
	copy(id[:], h.Sum(nil))
	if !id.IsValid() {
		id[15] = 1
	}
	return id
}

// ratioKey marks a context whose remote parent's sampled flag is not
// honoured: the ratio decides on the trace ID.
type ratioKey struct{}

func withRatioOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, ratioKey{}, true)
}

func isRatioOnly(ctx context.Context) bool {
	v, _ := ctx.Value(ratioKey{}).(bool)
	return v
}

// expectKey carries the outcomes that the caller expects of a request.
type expectKey struct{}

type expected struct {
	statuses []int
	errs     []error
}

// ExpectStatus returns ctx marked so that an HTTP client span (see
// Provider.Transport and ClientTransport) whose response has one of
// statuses is not marked as an error: for example 404 on a lookup that
// asks whether a peer has an object.
func ExpectStatus(ctx context.Context, statuses ...int) context.Context {
	e := expectedOf(ctx)
	return context.WithValue(ctx, expectKey{}, expected{statuses: append(slices.Clone(e.statuses), statuses...), errs: e.errs})
}

// ExpectErrors returns ctx marked so that a transport client span whose
// call fails with an error wrapping one of errs is not marked as an error
// (its error.type still names the kind): for example cluster.ErrExists on
// a transaction's prepare.
func ExpectErrors(ctx context.Context, errs ...error) context.Context {
	e := expectedOf(ctx)
	return context.WithValue(ctx, expectKey{}, expected{statuses: e.statuses, errs: append(slices.Clone(e.errs), errs...)})
}

func expectedOf(ctx context.Context) expected {
	e, _ := ctx.Value(expectKey{}).(expected)
	return e
}

// IsExpectedStatus tells whether ctx expects the HTTP status code.
func IsExpectedStatus(ctx context.Context, code int) bool {
	return slices.Contains(expectedOf(ctx).statuses, code)
}

// IsExpectedError tells whether ctx expects err (ExpectErrors).
func IsExpectedError(ctx context.Context, err error) bool {
	for _, e := range expectedOf(ctx).errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// queryCarrier adapts url.Values to propagation.TextMapCarrier.
type queryCarrier url.Values

var _ propagation.TextMapCarrier = queryCarrier(nil)

// Get returns the first value of key.
func (c queryCarrier) Get(key string) string { return url.Values(c).Get(key) }

// Set sets key, dropping an empty value (no "baggage=" when there is none).
func (c queryCarrier) Set(key, value string) {
	if value == "" {
		return
	}
	url.Values(c).Set(key, value)
}

// Keys lists the keys of the query.
func (c queryCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectQuery puts the span context (and baggage, if any) of ctx into q
// under the keys "traceparent", "tracestate" and "baggage"; empty values are
// left out. The proxy calls it on the query of a redirect URL so that the
// target joins the trace even when the client forwards no headers. q must be
// non-nil.
func InjectQuery(ctx context.Context, prop propagation.TextMapPropagator, q url.Values) {
	prop.Inject(ctx, queryCarrier(q))
}

// ExtractQuery returns ctx with the remote span context and baggage found in
// q by InjectQuery, or ctx unchanged when q carries none.
func ExtractQuery(ctx context.Context, prop propagation.TextMapPropagator, q url.Values) context.Context {
	if len(q) == 0 {
		return ctx
	}
	return prop.Extract(ctx, queryCarrier(q))
}

// InjectMap puts the span context and baggage of ctx into m, a transport
// header map. m must be non-nil.
func InjectMap(ctx context.Context, prop propagation.TextMapPropagator, m map[string]string) {
	prop.Inject(ctx, propagation.MapCarrier(m))
}

// ExtractMap returns ctx with the remote span context and baggage found in m
// by InjectMap, or ctx unchanged when m carries none.
func ExtractMap(ctx context.Context, prop propagation.TextMapPropagator, m map[string]string) context.Context {
	if len(m) == 0 {
		return ctx
	}
	return prop.Extract(ctx, propagation.MapCarrier(m))
}
