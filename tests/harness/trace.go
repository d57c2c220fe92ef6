package harness

import "miniais/tracing/jaegerquery"

// The trace types of Jaeger's query API, as the tests read them back: the
// harness names them for the tests' convenience; they and their methods
// (Roots, Children, Find, Ancestors, Dump, ...) are jaegerquery's.
type (
	// Trace is one trace (see jaegerquery.Trace).
	Trace = jaegerquery.Trace
	// Span is one span of a Trace (see jaegerquery.Span).
	Span = jaegerquery.Span
	// KeyValue is a span tag (see jaegerquery.KeyValue).
	KeyValue = jaegerquery.KeyValue
	// Reference is a span's parent (CHILD_OF) or link (FOLLOWS_FROM) (see
	// jaegerquery.Reference).
	Reference = jaegerquery.Reference
)

// ErrTraceNotFound is returned (wrapped) by Jaeger.Trace when Jaeger does
// not know the trace (yet).
var ErrTraceNotFound = jaegerquery.ErrTraceNotFound
