package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"miniais/tracing/jaegerquery"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func loadTrace(tb testing.TB, name string) jaegerquery.Trace {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var jr jaegerquery.Response[jaegerquery.Trace]
	if err := json.Unmarshal(b, &jr); err != nil {
		tb.Fatal(err)
	}
	if len(jr.Data) != 1 {
		tb.Fatalf("%s: %d traces", name, len(jr.Data))
	}
	return jr.Data[0]
}

func TestRenderWaterfallGolden(t *testing.T) {
	tests := []struct {
		fixture, golden string
		width           int
	}{
		{"put_trace.json", "put_trace.golden", 100},
		{"put_trace.json", "put_trace_narrow.golden", 40},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderWaterfall(&buf, loadTrace(t, tt.fixture), tt.width); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("output differs from %s:\n%s\nwant:\n%s", golden, buf.String(), want)
			}
		})
	}
}

func TestRenderWaterfallShapes(t *testing.T) {
	span := func(id, parent, op, proc string, start, dur int64) jaegerquery.Span {
		s := jaegerquery.Span{SpanID: id, OperationName: op, ProcessID: proc, StartTime: start, Duration: dur}
		if parent != "" {
			s.References = []jaegerquery.Reference{{RefType: "CHILD_OF", SpanID: parent}}
		}
		return s
	}
	tests := []struct {
		name  string
		tr    jaegerquery.Trace
		order []string // operations, in rendered order, with indentation
	}{
		{"empty", jaegerquery.Trace{TraceID: "x"}, nil},
		{"orphan becomes a root", jaegerquery.Trace{Spans: []jaegerquery.Span{
			span("b", "missing", "orphan", "p1", 5, 1), span("a", "", "root", "p1", 0, 10), span("c", "a", "child", "p1", 1, 2),
		}}, []string{"root", "  child", "orphan"}},
		{"siblings by start, subtree stays below parent", jaegerquery.Trace{Spans: []jaegerquery.Span{
			span("r", "", "root", "p1", 0, 100), span("late", "r", "late", "p1", 50, 10),
			span("early", "r", "early", "p1", 10, 60), span("gc", "early", "grandchild", "p1", 60, 5),
		}}, []string{"root", "  early", "    grandchild", "  late"}},
		{"self reference does not loop", jaegerquery.Trace{Spans: []jaegerquery.Span{span("s", "s", "self", "p1", 0, 1)}}, []string{"self"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderWaterfall(&buf, tt.tr, 80); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
			if len(tt.order) == 0 {
				if len(lines) != 1 || !strings.Contains(lines[0], "no spans") {
					t.Fatalf("output %q", buf.String())
				}
				return
			}
			if len(lines) != len(tt.order)+2 {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.order)+2, buf.String())
			}
			for i, op := range tt.order {
				// service column "p1" (no process entry), two spaces, operation
				if !strings.HasPrefix(lines[i+2], "p1       "+op+" ") && !strings.HasPrefix(lines[i+2], "p1       "+op+"  ") {
					t.Errorf("line %d = %q, want operation %q", i, lines[i+2], op)
				}
			}
		})
	}
}

func TestTraceComplete(t *testing.T) {
	tr := loadTrace(t, "put_trace.json")
	if !traceComplete(tr) {
		t.Fatal("the fixture is complete")
	}
	// Drop the target's server span: the second client span has no child.
	var partial jaegerquery.Trace
	partial.Processes = tr.Processes
	for _, s := range tr.Spans {
		if s.SpanID != "5fb397be34d26b51" {
			partial.Spans = append(partial.Spans, s)
		}
	}
	if traceComplete(partial) {
		t.Fatal("a trace missing a server span is incomplete")
	}
}

func TestFormatMicros(t *testing.T) {
	tests := []struct {
		us   int64
		want string
	}{{0, "0µs"}, {999, "999µs"}, {1000, "1.00ms"}, {12345, "12.35ms"}, {2_104_000, "2.104s"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatMicros(tt.us); got != tt.want {
				t.Errorf("formatMicros(%d) = %q", tt.us, got)
			}
		})
	}
}
