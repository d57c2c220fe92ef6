package fs

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
)

func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	s := newStore(t, 2, func(c *Config) { c.TracerProvider = tp })
	bck := newBucket(t, s, "traced")

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	data := []byte("hello, spans")
	a, err := s.Put(ctx, bck, "dir/obj", bytes.NewReader(data), PutOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Open(ctx, bck, "dir/obj", GetOptions{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	obj.Close()
	if _, err := s.Head(ctx, bck, "dir/obj"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.List(ctx, bck, ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, bck, "dir/obj"); err != nil {
		t.Fatal(err)
	}
	s.Head(ctx, bck, "dir/obj") // not found
	s.Put(ctx, bck, "bad", bytes.NewReader(data), PutOptions{Size: -1,
		Checksum: cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: "0000000000000000"}})
	parent.End()

	objAttrs := map[string]string{
		"ais.bucket": bck.String(), "ais.object": "dir/obj", "ais.size": "12",
		"ais.mountpath": a.Mountpath, "ais.checksum": a.Checksum.Value, "ais.version": "1",
	}
	tests := []struct {
		name   string
		attrs  map[string]string
		status codes.Code
		event  string
	}{
		{"fs.Put", objAttrs, codes.Unset, ""},
		{"fs.Get", objAttrs, codes.Unset, ""},
		{"fs.Head", objAttrs, codes.Unset, ""},
		{"fs.List", map[string]string{"ais.bucket": bck.String()}, codes.Unset, ""},
		{"fs.Delete", map[string]string{"ais.bucket": bck.String(), "ais.object": "dir/obj"}, codes.Unset, ""},
		{"fs.Head", map[string]string{"ais.object": "dir/obj"}, codes.Unset, "not found"},
		{"fs.Put", map[string]string{"ais.object": "bad"}, codes.Error, "exception"},
	}
	var spans []sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if strings.HasPrefix(sp.Name(), "fs.") && sp.Name() != "fs.CreateBucket" {
			spans = append(spans, sp)
		}
	}
	if len(spans) != len(tests) {
		t.Fatalf("recorded %d fs spans, want %d", len(spans), len(tests))
	}
	for i, tt := range tests {
		sp := spans[i]
		t.Run(strconv.Itoa(i)+"-"+tt.name, func(t *testing.T) {
			if sp.Name() != tt.name {
				t.Fatalf("span %d is %q, want %q", i, sp.Name(), tt.name)
			}
			if sp.SpanKind() != trace.SpanKindInternal {
				t.Errorf("kind %v", sp.SpanKind())
			}
			if sp.Parent().SpanID() != parent.SpanContext().SpanID() {
				t.Errorf("parent %v, want the request span", sp.Parent().SpanID())
			}
			got := map[string]string{}
			for _, kv := range sp.Attributes() {
				got[string(kv.Key)] = kv.Value.Emit()
			}
			for k, v := range tt.attrs {
				if got[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, got[k], v)
				}
			}
			if sp.Status().Code != tt.status {
				t.Errorf("status %v, want %v", sp.Status(), tt.status)
			}
			if tt.event != "" && !hasEvent(sp, tt.event) {
				t.Errorf("no event %q in %v", tt.event, sp.Events())
			}
		})
	}
}

func hasEvent(sp sdktrace.ReadOnlySpan, name string) bool {
	for _, e := range sp.Events() {
		if e.Name == name {
			return true
		}
	}
	return false
}

// TestTracingOffAllocs checks that with tracing off (the no-op provider)
// the span calls of the store allocate nothing.
func TestTracingOffAllocs(t *testing.T) {
	s := newStore(t, 1)
	bck := cluster.NewBucket("b")
	a := ObjectAttrs{Size: 1, Version: "1", Mountpath: "/mp"}
	failure := cluster.Errorf(cluster.ErrCorrupt, "x")
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		_, span := s.start(ctx, "fs.Get", bck, "object")
		setAttrs(span, &a)
		endSpan(span, failure)
	}); n != 0 {
		t.Errorf("span calls with tracing off: %v allocations, want 0", n)
	}
}
