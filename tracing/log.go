package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys that LogHandler adds.
const (
	LogTraceID = "trace_id"
	LogSpanID  = "span_id"
	// LogSampled tells whether the record's trace is recorded (true: look
	// for it in Jaeger; false: its trace ID names nothing there).
	LogSampled = "trace_sampled"
)

// LogHandler wraps h so that a record logged with a context inside a span
// (a valid span context, sampled or not) carries the attributes trace_id and
// span_id as lowercase hex, and trace_sampled: true when the trace is
// sampled or its span is recorded for the tail rule (it may reach Jaeger),
// false when nothing of it is recorded. Records without such a context pass unchanged.
// Attributes added after WithGroup land inside that group, like any other.
func LogHandler(h slog.Handler) slog.Handler {
	if lh, ok := h.(logHandler); ok {
		return lh
	}
	return logHandler{h}
}

// logHandler is the slog.Handler of LogHandler.
type logHandler struct{ h slog.Handler }

var _ slog.Handler = logHandler{}

// Enabled reports whether the wrapped handler handles level.
func (l logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

// Handle adds the trace and span IDs of ctx, if any, and passes r on.
func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String(LogTraceID, sc.TraceID().String()), slog.String(LogSpanID, sc.SpanID().String()),
			slog.Bool(LogSampled, sc.IsSampled() || trace.SpanFromContext(ctx).IsRecording()))
	}
	return l.h.Handle(ctx, r)
}

// WithAttrs wraps the wrapped handler's WithAttrs.
func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.h.WithAttrs(attrs)}
}

// WithGroup wraps the wrapped handler's WithGroup.
func (l logHandler) WithGroup(name string) slog.Handler {
	return logHandler{l.h.WithGroup(name)}
}
