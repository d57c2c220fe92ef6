package tracing

import (
	"context"
	"net/http"
	"reflect"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
)

func TestDisabled(t *testing.T) {
	ctx := context.Background()
	before := runtime.NumGoroutine()
	providers := map[string]*Provider{"nil": nil, "Disabled": Disabled()}
	p, err := New(ctx, DefaultConfig(), Options{Role: cluster.RoleProxy})
	if err != nil {
		t.Fatal(err)
	}
	providers["New"] = p
	// A token file is not read when disabled.
	c := DefaultConfig()
	c.ExporterAuth = ExporterAuth{TokenHeader: "authorization", TokenFile: "/nonexistent/token"}
	if providers["New with token"], err = New(ctx, c, Options{}); err != nil {
		t.Fatalf("disabled New read the token file: %v", err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("disabled New started %d goroutines", n-before)
	}
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	base := &http.Transport{}
	for name, p := range providers {
		t.Run(name, func(t *testing.T) {
			if p.Enabled() {
				t.Fatal("Enabled")
			}
			if got := p.Handler(h, nil); reflect.ValueOf(got).Pointer() != reflect.ValueOf(h).Pointer() {
				t.Fatal("Handler wrapped the handler")
			}
			if got := p.Transport(base); got != base {
				t.Fatal("Transport wrapped the round tripper")
			}
			_, span := p.Tracer("x").Start(ctx, "op")
			if span.IsRecording() || span.SpanContext().IsValid() {
				t.Fatal("disabled tracer records")
			}
			span.End()
			if p.Propagator() == nil || len(p.Propagator().Fields()) < 2 {
				t.Fatalf("propagator fields %v", p.Propagator().Fields())
			}
			if p.Dropped() != 0 || p.Exported() != 0 {
				t.Fatal("counts")
			}
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if err := p.ForceFlush(sctx); err != nil {
				t.Fatal(err)
			}
			if err := p.Shutdown(sctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	c := DefaultConfig()
	c.SamplerProbability = 1.5
	if _, err := New(context.Background(), c, Options{Role: cluster.RoleProxy}); err == nil {
		t.Fatal("New accepted probability 1.5")
	}
}

// A disabled provider still passes a trace context through: the no-op
// tracer keeps the parent's span context.
func TestDisabledPassThrough(t *testing.T) {
	ctx, sc := remoteContext(t, false)
	ctx, span := Disabled().Tracer("x").Start(ctx, "op")
	defer span.End()
	if got := trace.SpanContextFromContext(ctx); got.TraceID() != sc.TraceID() {
		t.Fatalf("trace id %s, want %s", got.TraceID(), sc.TraceID())
	}
}
