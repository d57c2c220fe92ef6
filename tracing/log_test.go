package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLogHandler(t *testing.T) {
	spanCtx, sc := remoteContext(t, false)
	tests := []struct {
		name     string
		ctx      context.Context
		group    string
		wantIDs  bool
		wantAttr bool
	}{
		{name: "in span", ctx: spanCtx, wantIDs: true},
		{name: "no span", ctx: context.Background()},
		{name: "with attrs", ctx: spanCtx, wantIDs: true, wantAttr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
			if tt.wantAttr {
				logger = logger.With("node", "t1")
			}
			// Enough attributes to overflow slog.Record's inline array.
			logger.InfoContext(tt.ctx, "hello", "a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			tid, _ := rec[LogTraceID].(string)
			sid, _ := rec[LogSpanID].(string)
			if tt.wantIDs {
				if tid != sc.TraceID().String() || sid != sc.SpanID().String() {
					t.Fatalf("ids %q %q, want %s %s: %s", tid, sid, sc.TraceID(), sc.SpanID(), buf.Bytes())
				}
			} else if tid != "" || sid != "" {
				t.Fatalf("ids outside a span: %s", buf.Bytes())
			}
			if rec["f"] != float64(6) {
				t.Fatalf("attribute lost: %s", buf.Bytes())
			}
			if tt.wantAttr && rec["node"] != "t1" {
				t.Fatalf("WithAttrs lost: %s", buf.Bytes())
			}
		})
	}
}

func TestLogHandlerEnabled(t *testing.T) {
	h := LogHandler(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Fatal("Enabled does not follow the wrapped handler")
	}
	if LogHandler(h) != h {
		t.Fatal("LogHandler wraps twice")
	}
	if _, ok := h.WithGroup("g").(logHandler); !ok {
		t.Fatal("WithGroup loses the wrapper")
	}
}
