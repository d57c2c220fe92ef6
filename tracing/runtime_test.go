//go:build !notracing

package tracing

import (
	"context"
	"errors"
	"math"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
)

// sampled starts and ends one span in ctx and reports whether it was sampled.
func sampled(ctx context.Context, p *Provider) bool {
	_, span := p.Tracer("test").Start(ctx, "op")
	defer span.End()
	return span.SpanContext().IsSampled()
}

func TestSetSampling(t *testing.T) {
	p, rec := newRecorded(t, cluster.RoleProxy, 1)
	ctx := context.Background()
	// A sampled remote parent, as a request from another node carries it.
	parent := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	steps := []struct {
		name          string
		on            bool
		ratio         float64
		root, child   bool // want sampled: a root span, a child of the sampled parent
		forced        bool // want sampled: a root span under WithForceSample
		wantEnabled   bool
		wantRatioRead float64
	}{
		{"start-up", true, 1, true, true, true, true, 1},
		{"ratio 0", true, 0, false, true, true, true, 0},
		{"off", false, 1, false, false, false, false, 1},
		{"on again", true, 1, true, true, true, true, 1},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if i > 0 {
				if err := p.SetSampling(st.on, st.ratio); err != nil {
					t.Fatal(err)
				}
			}
			if got := sampled(ctx, p); got != st.root {
				t.Errorf("root span sampled = %v, want %v", got, st.root)
			}
			if got := sampled(parent, p); got != st.child {
				t.Errorf("child of a sampled parent sampled = %v, want %v", got, st.child)
			}
			if got := sampled(WithForceSample(ctx), p); got != st.forced {
				t.Errorf("forced root span sampled = %v, want %v", got, st.forced)
			}
			c := p.Config()
			if c.Enabled != st.wantEnabled || float64(c.SamplerProbability) != st.wantRatioRead || p.Enabled() != st.wantEnabled {
				t.Errorf("Config() = enabled %v ratio %v, Enabled() = %v; want %v %v", c.Enabled, c.SamplerProbability, p.Enabled(), st.wantEnabled, st.wantRatioRead)
			}
		})
	}
	if n := len(rec.Ended()); n != 8 {
		t.Errorf("%d spans recorded, want 8 (3 + 2 + 0 + 3)", n)
	}
}

func TestSetSamplingRefused(t *testing.T) {
	p, _ := newRecorded(t, cluster.RoleTarget, 0.5)
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if err := p.SetSampling(true, bad); !errors.Is(err, ErrConfig) {
			t.Errorf("SetSampling(true, %v) = %v, want ErrConfig", bad, err)
		}
	}
	if c := p.Config(); !c.Enabled || c.SamplerProbability != 0.5 {
		t.Errorf("a refused change changed the config: %+v", c)
	}

	cfg := DefaultConfig()
	cfg.SamplerProbability = 0.25
	d, err := New(context.Background(), cfg, Options{Role: cluster.RoleTarget})
	if err != nil {
		t.Fatal(err)
	}
	for name, dp := range map[string]*Provider{"New disabled": d, "Disabled": Disabled()} {
		if dp.CanEnable() {
			t.Errorf("%s: CanEnable() = true", name)
		}
		if err := dp.SetSampling(true, 1); !errors.Is(err, ErrNotStarted) {
			t.Errorf("%s: SetSampling(true) = %v, want ErrNotStarted", name, err)
		}
		if err := dp.SetSampling(false, 0.75); err != nil {
			t.Errorf("%s: SetSampling(false) = %v", name, err)
		}
		if c := dp.Config(); c.Enabled || c.SamplerProbability != 0.75 {
			t.Errorf("%s: Config() = %+v, want disabled with the ratio recorded", name, c)
		}
		if sampled(context.Background(), dp) {
			t.Errorf("%s samples", name)
		}
	}
	if c := d.Config(); c.ServiceNamePrefix != DefaultServicePrefix {
		t.Errorf("a disabled provider's Config lost its start-up settings: %+v", c)
	}
}
