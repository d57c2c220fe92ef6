// Package jaegerquery reads traces back from Jaeger's HTTP query API, the
// JSON API behind the Jaeger UI (GET /api/traces/{traceID}, /api/traces,
// /api/services), for the CLI's waterfall (`ais trace show`) and the
// integration tests.
//
// # Types
//
// Trace, Span, Reference, Process and KeyValue mirror the JSON Jaeger
// answers. Span times are in microseconds since the epoch, durations in
// microseconds. A Trace's methods walk its span tree: a span's parent is
// found by Span.ParentID, the same rule the Jaeger UI draws with.
//
// # Dependencies
//
// The package imports only the standard library: the CLI links it, and it
// must not pull in the OpenTelemetry SDK (the CLI's binary is checked with
// `go list -deps`).
package jaegerquery

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Trace is one trace as Jaeger's query API returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is one span of a Trace. StartTime is in microseconds since the epoch,
// Duration in microseconds.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []KeyValue  `json:"tags"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

// Reference links a span to another: RefType "CHILD_OF" names the parent,
// "FOLLOWS_FROM" a span it was caused by (an OpenTelemetry link).
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Process is the emitting service of spans, keyed by Span.ProcessID in
// Trace.Processes.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// KeyValue is a span or process tag: an OpenTelemetry attribute, or one of
// Jaeger's own ("span.kind", "otel.status_code", "error"). Value holds a
// string, a bool or a number; Client decodes numbers as json.Number, so
// int64 attributes keep every digit.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// String returns the value in text form.
func (kv KeyValue) String() string { return fmt.Sprint(kv.Value) }

// Tag returns the tag key of s.
func (s *Span) Tag(key string) (KeyValue, bool) {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return kv, true
		}
	}
	return KeyValue{}, false
}

// TagString returns the tag key of s in text form, or "" when s has no such
// tag.
func (s *Span) TagString(key string) string {
	kv, ok := s.Tag(key)
	if !ok {
		return ""
	}
	return kv.String()
}

// Failed reports whether s recorded an error (Jaeger's "error" tag, or an
// OpenTelemetry status of Error).
func (s *Span) Failed() bool {
	return s.TagString("error") == "true" || s.TagString("otel.status_code") == "ERROR"
}

// ParentID returns the span ID of the parent of s as the Jaeger UI draws
// it: the CHILD_OF reference, else the first reference of any type; "" for
// a span without references (a root).
func (s *Span) ParentID() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	if len(s.References) > 0 {
		return s.References[0].SpanID
	}
	return ""
}

// ServiceOf returns the service name of the process that emitted s, or ""
// when the trace does not list that process.
func (tr *Trace) ServiceOf(s *Span) string { return tr.Processes[s.ProcessID].ServiceName }

// Span returns the span with the given ID, or nil. The pointer is into
// tr.Spans.
func (tr *Trace) Span(id string) *Span {
	for i := range tr.Spans {
		if tr.Spans[i].SpanID == id {
			return &tr.Spans[i]
		}
	}
	return nil
}

// Parent returns the parent of s within the trace, or nil for a root or an
// orphan.
func (tr *Trace) Parent(s *Span) *Span {
	if p := s.ParentID(); p != "" {
		return tr.Span(p)
	}
	return nil
}

// Children returns the spans whose parent is s, in start order.
func (tr *Trace) Children(s *Span) []*Span {
	return tr.filter(func(c *Span) bool { return c.ParentID() == s.SpanID && c != s })
}

// Roots returns the spans with no parent reference, in start order.
func (tr *Trace) Roots() []*Span {
	return tr.filter(func(s *Span) bool { return s.ParentID() == "" })
}

// Orphans returns the spans whose parent is not in the trace (a broken
// propagation, or a parent span that was never exported), in start order.
func (tr *Trace) Orphans() []*Span {
	return tr.filter(func(s *Span) bool { p := s.ParentID(); return p != "" && tr.Span(p) == nil })
}

// Find returns the spans named op (by exact operation name), in start order.
func (tr *Trace) Find(op string) []*Span {
	return tr.filter(func(s *Span) bool { return s.OperationName == op })
}

// SpansOf returns the spans emitted by service, in start order.
func (tr *Trace) SpansOf(service string) []*Span {
	return tr.filter(func(s *Span) bool { return tr.ServiceOf(s) == service })
}

// Services returns the sorted, distinct service names of the trace's spans.
func (tr *Trace) Services() []string {
	var out []string
	for i := range tr.Spans {
		out = append(out, tr.ServiceOf(&tr.Spans[i]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Ancestors returns the chain of parents of s, nearest first, up to the
// root. A reference cycle in a malformed trace ends the chain.
func (tr *Trace) Ancestors(s *Span) []*Span {
	var out []*Span
	for p := tr.Parent(s); p != nil && len(out) <= len(tr.Spans); p = tr.Parent(p) {
		out = append(out, p)
	}
	return out
}

// Dump renders the trace as an indented tree (service, operation, duration,
// ais.* tags), for failure messages.
func (tr *Trace) Dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s: %d spans\n", tr.TraceID, len(tr.Spans))
	var walk func(s *Span, depth int)
	walk = func(s *Span, depth int) {
		fmt.Fprintf(&b, "%s%s %s (%dus)", strings.Repeat("  ", depth+1), tr.ServiceOf(s), s.OperationName, s.Duration)
		for _, kv := range s.Tags {
			if strings.HasPrefix(kv.Key, "ais.") || kv.Key == "span.kind" || kv.Key == "error" {
				fmt.Fprintf(&b, " %s=%v", kv.Key, kv.Value)
			}
		}
		b.WriteByte('\n')
		if depth < 64 {
			for _, c := range tr.Children(s) {
				walk(c, depth+1)
			}
		}
	}
	for _, r := range tr.Roots() {
		walk(r, 0)
	}
	for _, o := range tr.Orphans() {
		fmt.Fprintf(&b, "  ORPHAN (parent %s):\n", o.ParentID())
		walk(o, 1)
	}
	return b.String()
}

// filter returns the spans for which keep answers true, in start order
// (ties by span ID, so the order is stable).
func (tr *Trace) filter(keep func(*Span) bool) []*Span {
	var out []*Span
	for i := range tr.Spans {
		if keep(&tr.Spans[i]) {
			out = append(out, &tr.Spans[i])
		}
	}
	SortByStart(out)
	return out
}

// SortByStart sorts spans by start time, ties by span ID.
func SortByStart(spans []*Span) {
	slices.SortStableFunc(spans, func(a, b *Span) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), cmp.Compare(a.SpanID, b.SpanID))
	})
}
