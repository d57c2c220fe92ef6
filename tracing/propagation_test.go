package tracing

import (
	"context"
	"net/url"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// remoteContext returns a context holding a fixed, sampled remote span
// context with a trace state, and optionally baggage.
func remoteContext(tb testing.TB, withBaggage bool) (context.Context, trace.SpanContext) {
	tb.Helper()
	ts, err := trace.ParseTraceState("ais=1")
	if err != nil {
		tb.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
		TraceState: ts,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	if withBaggage {
		m, err := baggage.NewMember("user", "alice")
		if err != nil {
			tb.Fatal(err)
		}
		b, err := baggage.New(m)
		if err != nil {
			tb.Fatal(err)
		}
		ctx = baggage.ContextWithBaggage(ctx, b)
	}
	return ctx, sc
}

func TestQueryRoundTrip(t *testing.T) {
	prop := NewPropagator()
	for _, withBaggage := range []bool{false, true} {
		name := "no baggage"
		if withBaggage {
			name = "baggage"
		}
		t.Run(name, func(t *testing.T) {
			ctx, sc := remoteContext(t, withBaggage)
			q := url.Values{"provider": {"ais"}, "pid": {"p1"}}
			InjectQuery(ctx, prop, q)
			if q.Get("provider") != "ais" || q.Get("pid") != "p1" {
				t.Fatalf("InjectQuery clobbered AIStore params: %v", q)
			}
			if q.Get(QueryTraceParent) == "" || q.Get(QueryTraceState) != "ais=1" {
				t.Fatalf("InjectQuery: %v", q)
			}
			if _, ok := q[QueryBaggage]; ok != withBaggage {
				t.Fatalf("baggage key present=%v, want %v: %v", ok, withBaggage, q)
			}
			// Through a real URL, as in a redirect Location.
			u := url.URL{Path: "/v1/objects/b/o", RawQuery: q.Encode()}
			parsed, err := url.Parse(u.String())
			if err != nil {
				t.Fatal(err)
			}
			got := ExtractQuery(context.Background(), prop, parsed.Query())
			gsc := trace.SpanContextFromContext(got)
			if !gsc.IsRemote() || gsc.TraceID() != sc.TraceID() || gsc.SpanID() != sc.SpanID() ||
				!gsc.IsSampled() || gsc.TraceState().String() != "ais=1" {
				t.Fatalf("ExtractQuery: %+v, want %+v", gsc, sc)
			}
			if withBaggage && baggage.FromContext(got).Member("user").Value() != "alice" {
				t.Fatalf("baggage lost: %v", baggage.FromContext(got))
			}
		})
	}
}

func TestExtractNothing(t *testing.T) {
	prop := NewPropagator()
	ctx := context.Background()
	tests := []struct {
		name string
		got  context.Context
	}{
		{"nil query", ExtractQuery(ctx, prop, nil)},
		{"foreign query", ExtractQuery(ctx, prop, url.Values{"provider": {"ais"}})},
		{"bad traceparent", ExtractQuery(ctx, prop, url.Values{"traceparent": {"garbage"}})},
		{"nil map", ExtractMap(ctx, prop, nil)},
		{"foreign map", ExtractMap(ctx, prop, map[string]string{"k": "v"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if sc := trace.SpanContextFromContext(tt.got); sc.IsValid() {
				t.Fatalf("extracted %+v from nothing", sc)
			}
		})
	}
}

func TestMapRoundTrip(t *testing.T) {
	prop := NewPropagator()
	ctx, sc := remoteContext(t, true)
	m := map[string]string{"other": "x"}
	InjectMap(ctx, prop, m)
	if m["traceparent"] == "" || m["other"] != "x" {
		t.Fatalf("InjectMap: %v", m)
	}
	got := ExtractMap(context.Background(), prop, m)
	if gsc := trace.SpanContextFromContext(got); gsc.TraceID() != sc.TraceID() || gsc.SpanID() != sc.SpanID() {
		t.Fatalf("ExtractMap: %+v, want %+v", gsc, sc)
	}
	if baggage.FromContext(got).Member("user").Value() != "alice" {
		t.Fatal("baggage lost")
	}
}

func TestForceSampleMark(t *testing.T) {
	ctx := context.Background()
	if IsForceSampled(ctx) {
		t.Fatal("background is force-sampled")
	}
	if !IsForceSampled(WithForceSample(ctx)) {
		t.Fatal("WithForceSample did not mark")
	}
}
