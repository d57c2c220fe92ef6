package tracing

import (
	"context"
	"crypto/rand"

	"go.opentelemetry.io/otel/trace"
)

// Unsampled returns a context whose spans are not sampled: a span started
// from it (by this node, or by a peer that receives the trace context of a
// request sent with it) is a non-recording one, so work done under it costs
// no span at all. It keeps ctx's values, deadline and cancellation, and the
// trace ID of ctx's span when it has one (logs still name the trace). It
// also undoes WithForceSample, which would otherwise sample the children of
// an unsampled parent.
//
// Jobs use it for per-object work: a job is one span per batch of objects,
// never one per object.
func Unsampled(ctx context.Context) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		var tid trace.TraceID
		var sid trace.SpanID
		rand.Read(tid[:])
		rand.Read(sid[:])
		sc = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
	}
	ctx = context.WithValue(ctx, forceSampleKey{}, false)
	return trace.ContextWithSpanContext(ctx, sc.WithTraceFlags(sc.TraceFlags().WithSampled(false)))
}
