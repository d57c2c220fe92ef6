package harness

import (
	"fmt"
	"sort"
	"strings"
)

// Trace is one trace as Jaeger's query API returns it (GET /api/traces/{id}).
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is one span of a Trace. StartTime and Duration are in microseconds.
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

// Reference links a span to another: RefType "CHILD_OF" names the parent.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Process is the emitting service of spans, keyed by Span.ProcessID in Trace.Processes.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// KeyValue is a span tag: an OTel attribute, or Jaeger's own ("span.kind", "otel.status_code").
// Value holds a string, a bool, or a json.Number (the harness decodes with UseNumber, so
// int64 attributes keep every digit).
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// String returns the value in text form.
func (kv KeyValue) String() string { return fmt.Sprint(kv.Value) }

// ServiceOf returns the service name of the process that emitted s.
func (tr *Trace) ServiceOf(s *Span) string { return tr.Processes[s.ProcessID].ServiceName }

// Tag returns the tag key of s.
func (s *Span) Tag(key string) (KeyValue, bool) {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return kv, true
		}
	}
	return KeyValue{}, false
}

// TagString returns the tag key of s in text form, or "" when s has no such tag.
func (s *Span) TagString(key string) string {
	kv, ok := s.Tag(key)
	if !ok {
		return ""
	}
	return kv.String()
}

// Tag returns the tag key of span s (a function form of Span.Tag).
func Tag(s *Span, key string) (KeyValue, bool) { return s.Tag(key) }

// ParentID returns the span ID of the CHILD_OF parent of s, or "" for a root span.
func (s *Span) ParentID() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Span returns the span with the given ID, or nil.
func (tr *Trace) Span(id string) *Span {
	for i := range tr.Spans {
		if tr.Spans[i].SpanID == id {
			return &tr.Spans[i]
		}
	}
	return nil
}

// Parent returns the parent of s within the trace, or nil for a root or an orphan.
func (tr *Trace) Parent(s *Span) *Span {
	if p := s.ParentID(); p != "" {
		return tr.Span(p)
	}
	return nil
}

// Children returns the spans whose parent is s, in start order.
func (tr *Trace) Children(s *Span) []*Span {
	var out []*Span
	for i := range tr.Spans {
		if tr.Spans[i].ParentID() == s.SpanID {
			out = append(out, &tr.Spans[i])
		}
	}
	sortByStart(out)
	return out
}

// Roots returns the spans with no parent reference.
func (tr *Trace) Roots() []*Span {
	var out []*Span
	for i := range tr.Spans {
		if tr.Spans[i].ParentID() == "" {
			out = append(out, &tr.Spans[i])
		}
	}
	sortByStart(out)
	return out
}

// Orphans returns the spans whose parent is not in the trace (a broken propagation, or a
// parent span that was never exported).
func (tr *Trace) Orphans() []*Span {
	var out []*Span
	for i := range tr.Spans {
		if p := tr.Spans[i].ParentID(); p != "" && tr.Span(p) == nil {
			out = append(out, &tr.Spans[i])
		}
	}
	return out
}

// Find returns the spans named op (by exact operation name), in start order.
func (tr *Trace) Find(op string) []*Span {
	var out []*Span
	for i := range tr.Spans {
		if tr.Spans[i].OperationName == op {
			out = append(out, &tr.Spans[i])
		}
	}
	sortByStart(out)
	return out
}

// SpansOf returns the spans emitted by service, in start order.
func (tr *Trace) SpansOf(service string) []*Span {
	var out []*Span
	for i := range tr.Spans {
		if tr.ServiceOf(&tr.Spans[i]) == service {
			out = append(out, &tr.Spans[i])
		}
	}
	sortByStart(out)
	return out
}

// Services returns the sorted, distinct service names of the trace's spans.
func (tr *Trace) Services() []string {
	seen := map[string]bool{}
	for i := range tr.Spans {
		seen[tr.ServiceOf(&tr.Spans[i])] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Ancestors returns the chain of parents of s, nearest first, up to the root.
func (tr *Trace) Ancestors(s *Span) []*Span {
	var out []*Span
	for p := tr.Parent(s); p != nil && len(out) <= len(tr.Spans); p = tr.Parent(p) {
		out = append(out, p)
	}
	return out
}

// Dump renders the trace as an indented tree (service, operation, duration, ais.* tags),
// for failure messages.
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

func sortByStart(s []*Span) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].StartTime < s[j].StartTime })
}
