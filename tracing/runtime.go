package tracing

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotStarted is wrapped by the error SetSampling returns when asked to
// enable tracing on a Provider that has no export pipeline: the process
// started with tracing disabled (no exporter endpoint), and a pipeline is
// only ever built at start-up.
var ErrNotStarted = errors.New("tracing: not started on this node (it needs an exporter endpoint at start-up)")

// sampling is the run-time part of a Provider's configuration.
type sampling struct {
	on    bool    // spans are sampled at all
	ratio float64 // root sampling ratio while on
}

// SetSampling changes, at run time, whether spans are sampled and the
// ratio of root spans sampled; spans started afterwards see the change.
//
// Three things can happen:
//   - enabled is true and the Provider has an export pipeline (it was built
//     enabled): the sampler becomes ParentBased(TraceIDRatioBased(probability))
//     as at start-up, WithForceSample included.
//   - enabled is false: nothing is sampled any more, not even a span whose
//     parent is sampled or whose context asks for WithForceSample. The
//     pipeline stays, so that enabling again works; spans already queued
//     are still exported.
//   - enabled is true and there is no pipeline: the error wraps
//     ErrNotStarted and nothing changes.
//
// A probability outside [0,1] is refused with an error wrapping ErrConfig,
// and nothing changes. On a disabled Provider a probability is recorded (it
// shows in Config) but has no effect. SetSampling is safe for concurrent use.
func (p *Provider) SetSampling(enabled bool, probability float64) error {
	if p == nil {
		return fmt.Errorf("%w: nil provider", ErrNotStarted)
	}
	if math.IsNaN(probability) || probability < 0 || probability > 1 {
		return fmt.Errorf("%w: sampler_probability %v outside [0,1]", ErrConfig, probability)
	}
	if enabled && !p.enabled {
		return ErrNotStarted
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sampling.Store(&sampling{on: enabled, ratio: probability})
	if p.setSampler != nil {
		p.setSampler(enabled, probability)
	}
	return nil
}

// CanEnable tells whether SetSampling(true, ...) can succeed: the Provider
// has an export pipeline.
func (p *Provider) CanEnable() bool { return p != nil && p.enabled }

// Config returns the configuration the Provider runs with: the one it was
// built from, with Enabled and SamplerProbability as SetSampling last set
// them. A Provider made by Disabled reports DefaultConfig, disabled.
func (p *Provider) Config() Config {
	if p == nil {
		return DefaultConfig()
	}
	c := p.cfg
	s := p.samplingState()
	c.Enabled = p.enabled && s.on
	c.SamplerProbability = Probability(s.ratio)
	return c
}

// samplingState returns the current sampling; a Provider that was never
// reconfigured samples as its configuration says.
func (p *Provider) samplingState() sampling {
	if s := p.sampling.Load(); s != nil {
		return *s
	}
	return sampling{on: p.enabled, ratio: float64(p.cfg.SamplerProbability)}
}
