//go:build !notracing

package tracing

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// spanSink is where ended spans go: the export queue, a test's recorder,
// or both.
type spanSink = sdktrace.SpanProcessor

// joinSinks returns a processor that hands every span to a (if not nil)
// and to b.
func joinSinks(a, b sdktrace.SpanProcessor) sdktrace.SpanProcessor {
	if a == nil {
		return b
	}
	return multiSink{a, b}
}

// multiSink is the processor of joinSinks.
type multiSink []sdktrace.SpanProcessor

func (m multiSink) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	for _, p := range m {
		p.OnStart(ctx, s)
	}
}

func (m multiSink) OnEnd(s sdktrace.ReadOnlySpan) {
	for _, p := range m {
		p.OnEnd(s)
	}
}

func (m multiSink) ForceFlush(ctx context.Context) error {
	var errs []error
	for _, p := range m {
		errs = append(errs, p.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

func (m multiSink) Shutdown(ctx context.Context) error {
	var errs []error
	for _, p := range m {
		errs = append(errs, p.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// tailProcessor is the tail rule. Sampled spans pass straight to next.
// Spans recorded but not sampled (the sampler's RecordOnly in tail mode)
// are held per trace until the trace's local root on this node (the span
// whose parent is remote, or none: the server span of a request, or a
// background operation's root) ends; if that root failed (status Error or
// an error.type attribute) or took at least latency, every held span of
// the trace goes to next, marked with TailAttribute and flagged sampled,
// else they are forgotten. A span of a trace already decided (it ended
// after its root) follows the decision.
//
// Memory is bounded: at most max spans are held; beyond that a span is not
// held and is counted in stats.tailOverflow. A trace held longer than
// tailMaxAge (its root never ended) is forgotten.
type tailProcessor struct {
	next    sdktrace.SpanProcessor
	stats   *exportStats
	latency time.Duration
	max     int

	mu      sync.Mutex
	held    map[trace.TraceID]*heldTrace
	n       int // spans held
	decided map[trace.TraceID]string
	order   []trace.TraceID // ring of decided, oldest first
	ops     int
}

// heldTrace is the held spans of one trace.
type heldTrace struct {
	spans []sdktrace.ReadOnlySpan
	since time.Time
}

const (
	// tailDecided bounds the remembered decisions (for late spans).
	tailDecided = 4096
	// tailMaxAge is how long a trace may be held.
	tailMaxAge = 5 * time.Minute
)

var _ sdktrace.SpanProcessor = (*tailProcessor)(nil)

func newTailProcessor(next sdktrace.SpanProcessor, stats *exportStats, latency time.Duration, max int) *tailProcessor {
	return &tailProcessor{
		next: next, stats: stats, latency: latency, max: max,
		held: map[trace.TraceID]*heldTrace{}, decided: map[trace.TraceID]string{},
	}
}

// OnStart passes the span to next.
func (t *tailProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	t.next.OnStart(ctx, s)
}

// OnEnd passes a sampled span on, and holds or decides an unsampled one.
func (t *tailProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	if sc.IsSampled() {
		t.next.OnEnd(s)
		return
	}
	tid := sc.TraceID()
	root := !s.Parent().IsValid() || s.Parent().IsRemote()
	t.mu.Lock()
	if reason, ok := t.decided[tid]; ok && !root {
		t.mu.Unlock()
		if reason != "" {
			t.keep(reason, s)
		}
		return
	}
	if !root {
		if t.n >= t.max {
			t.mu.Unlock()
			t.stats.tailOverflow.Add(1)
			return
		}
		h := t.held[tid]
		if h == nil {
			h = &heldTrace{since: time.Now()}
			t.held[tid] = h
		}
		h.spans = append(h.spans, s)
		t.n++
		t.sweepLocked()
		t.mu.Unlock()
		return
	}
	h := t.held[tid]
	delete(t.held, tid)
	if h != nil {
		t.n -= len(h.spans)
	}
	reason := t.verdict(s)
	t.rememberLocked(tid, reason)
	t.mu.Unlock()
	if reason == "" {
		return
	}
	if h != nil {
		t.keep(reason, h.spans...)
	}
	t.keep(reason, s)
}

// verdict says why the root s is kept ("" for not).
func (t *tailProcessor) verdict(s sdktrace.ReadOnlySpan) string {
	if s.Status().Code == 1 /* codes.Error */ {
		return "error"
	}
	for _, kv := range s.Attributes() {
		if kv.Key == "error.type" {
			return "error"
		}
	}
	if s.EndTime().Sub(s.StartTime()) >= t.latency {
		return "slow"
	}
	return ""
}

// keep hands spans to next, marked and flagged sampled.
func (t *tailProcessor) keep(reason string, spans ...sdktrace.ReadOnlySpan) {
	for _, s := range spans {
		t.next.OnEnd(keptSpan{ReadOnlySpan: s, reason: reason})
	}
	t.stats.tailKept.Add(uint64(len(spans)))
}

// rememberLocked records the decision for tid.
func (t *tailProcessor) rememberLocked(tid trace.TraceID, reason string) {
	if _, ok := t.decided[tid]; !ok {
		if len(t.order) >= tailDecided {
			delete(t.decided, t.order[0])
			t.order = t.order[1:]
		}
		t.order = append(t.order, tid)
	}
	t.decided[tid] = reason
}

// sweepLocked forgets, every 1024 spans held, the traces held too long.
func (t *tailProcessor) sweepLocked() {
	if t.ops++; t.ops%1024 != 0 {
		return
	}
	old := time.Now().Add(-tailMaxAge)
	for tid, h := range t.held {
		if h.since.Before(old) {
			t.n -= len(h.spans)
			delete(t.held, tid)
		}
	}
}

// ForceFlush flushes next (held spans wait for their roots).
func (t *tailProcessor) ForceFlush(ctx context.Context) error { return t.next.ForceFlush(ctx) }

// Shutdown forgets what is held and shuts next down.
func (t *tailProcessor) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.held, t.n = map[trace.TraceID]*heldTrace{}, 0
	t.mu.Unlock()
	return t.next.Shutdown(ctx)
}

// held returns the number of spans held (tests).
func (t *tailProcessor) heldSpans() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// keptSpan is a span the tail rule kept: flagged sampled, with
// TailAttribute added.
type keptSpan struct {
	sdktrace.ReadOnlySpan
	reason string
}

// SpanContext returns the span's context with the sampled flag set.
func (k keptSpan) SpanContext() trace.SpanContext {
	sc := k.ReadOnlySpan.SpanContext()
	return sc.WithTraceFlags(sc.TraceFlags().WithSampled(true))
}

// Attributes returns the span's attributes and TailAttribute.
func (k keptSpan) Attributes() []attribute.KeyValue {
	a := k.ReadOnlySpan.Attributes()
	out := make([]attribute.KeyValue, 0, len(a)+1)
	return append(append(out, a...), attribute.String(TailAttribute, k.reason))
}
