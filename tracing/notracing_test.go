//go:build notracing

package tracing

import (
	"context"
	"errors"
	"testing"

	"miniais/cluster"
)

func TestNotCompiled(t *testing.T) {
	c := DefaultConfig()
	c.Enabled, c.ExporterEndpoint = true, "localhost:4317"
	if _, err := New(context.Background(), c, Options{Role: cluster.RoleProxy}); !errors.Is(err, ErrNotCompiled) {
		t.Fatalf("New(enabled) = %v, want ErrNotCompiled", err)
	}
}

// enabledBenchProvider is nil: the SDK is compiled out.
func enabledBenchProvider(testing.TB) *Provider { return nil }

func benchProvider(testing.TB, float64, bool) *Provider { return nil }
