package cli

import (
	"testing"

	"miniais/tracing/jaegerquery"
)

func TestTraceCompleteHops(t *testing.T) {
	span := func(id, kind, op string, status bool) jaegerquery.Span {
		s := jaegerquery.Span{SpanID: id, OperationName: op, Tags: []jaegerquery.KeyValue{{Key: "span.kind", Value: kind}}}
		if status {
			s.Tags = append(s.Tags, jaegerquery.KeyValue{Key: "http.response.status_code", Value: "200"})
		}
		return s
	}
	root := span("r", "internal", "ais put", false)
	hop1 := span("c1", "client", "PUT /v1/objects", true)
	hop2 := span("c2", "client", "PUT /v1/objects", true)
	proxy := span("p", "server", "PUT /v1/objects/{bucket}/{object...}", false)
	target := span("t", "server", "PUT /v1/objects/{bucket}/{object...}", false)
	recv := span("x", "server", "transport.recv txn-prepare", false)
	tests := []struct {
		name  string
		spans []jaegerquery.Span
		want  bool
	}{
		{"redirected put with both servers", []jaegerquery.Span{root, hop1, hop2, proxy, target}, true},
		{"target span not yet exported", []jaegerquery.Span{root, hop1, hop2, proxy}, false},
		{"transport spans are not HTTP hops", []jaegerquery.Span{root, hop1, hop2, proxy, recv}, false},
		{"no response yet", []jaegerquery.Span{root, span("c", "client", "GET", false)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := traceComplete(jaegerquery.Trace{Spans: tc.spans}); got != tc.want {
				t.Fatalf("traceComplete = %v, want %v", got, tc.want)
			}
		})
	}
}
