//go:build !notracing

package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestUnsampled(t *testing.T) {
	p, rec := newRecorded(t, "target", 1)
	tr := p.Tracer("test")
	for _, tc := range []struct {
		name string
		ctx  func() context.Context
	}{
		{"under a sampled span", func() context.Context {
			ctx, _ := tr.Start(context.Background(), "parent")
			return ctx
		}},
		{"under a forced span", func() context.Context {
			ctx, _ := tr.Start(WithForceSample(context.Background()), "forced")
			return ctx
		}},
		{"no span at all", context.Background},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := tc.ctx()
			before := len(rec.Ended())
			ctx, cancel := context.WithCancel(parent)
			q := Unsampled(ctx)
			_, span := tr.Start(q, "child")
			span.End()
			if span.SpanContext().IsSampled() || len(rec.Ended()) != before {
				t.Errorf("a span under Unsampled was sampled")
			}
			if psc := trace.SpanContextFromContext(parent); psc.IsValid() && trace.SpanContextFromContext(q).TraceID() != psc.TraceID() {
				t.Errorf("the trace ID changed")
			}
			// A peer that receives the context does not sample either.
			m := propagation.MapCarrier{}
			p.Propagator().Inject(q, m)
			_, remote := tr.Start(p.Propagator().Extract(context.Background(), m), "remote")
			remote.End()
			if remote.SpanContext().IsSampled() {
				t.Errorf("a peer's span under Unsampled was sampled (traceparent %q)", m["traceparent"])
			}
			cancel()
			if q.Err() == nil {
				t.Errorf("Unsampled lost the cancellation")
			}
		})
	}
}
