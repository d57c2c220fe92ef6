package tracing

import (
	"context"
	"net/url"

	"go.opentelemetry.io/otel/propagation"
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
