//go:build notracing

package tracing

import (
	"context"
	"fmt"
	"log/slog"
)

// Compiled tells whether the SDK is compiled in (false with -tags notracing).
const Compiled = false

// Options are the per-process inputs of New that are not configuration. In a
// "notracing" build Exporter and SpanProcessor are untyped so that code
// setting them still compiles; they are ignored.
type Options struct {
	// Role is cluster.RoleProxy, cluster.RoleTarget or RoleCLI.
	Role string
	// NodeID is the daemon ID.
	NodeID string
	// Version is the software version.
	Version string
	// Logger is unused in a "notracing" build.
	Logger *slog.Logger
	// Secret is unused in a "notracing" build.
	Secret []byte
	// Exporter is ignored in a "notracing" build.
	Exporter any
	// SpanProcessor is ignored in a "notracing" build.
	SpanProcessor any
}

// New validates cfg. The SDK is compiled out: a disabled cfg gives the
// disabled Provider (no-op tracer provider, no goroutine, no exporter); an
// enabled one is an error wrapping ErrNotCompiled.
func New(_ context.Context, cfg Config, _ Options) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Enabled {
		return nil, fmt.Errorf("%w: unset AIS_TRACING_ENDPOINT or tracing.enabled", ErrNotCompiled)
	}
	return disabledWith(cfg), nil
}
