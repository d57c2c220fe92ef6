package transport

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
	"miniais/tracing"
)

func attrMap(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestTraceContext checks that the receiver's span is a child of the
// sender's span, in the same trace, with the documented names, kinds and
// attributes, and that baggage crosses too.
func TestTraceContext(t *testing.T) {
	clientRec, serverRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	clientTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(clientRec))
	serverTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(serverRec))
	t.Cleanup(func() { clientTP.Shutdown(context.Background()); serverTP.Shutdown(context.Background()) })

	var gotParent trace.SpanContext
	handlers := echoAll()
	handlers[KindTxnAbort] = failWith(cluster.Errorf(cluster.ErrNotFound, "txn 1"))
	handlers[KindObjectPut] = func(ctx context.Context, msg *Message, reply *Header) ([]byte, error) {
		gotParent = trace.SpanContextFromContext(ctx)
		return echo(ctx, msg, reply)
	}
	srv := startServer(t, Config{NodeID: "t1", TracerProvider: serverTP}, handlers, "")
	c := newClient(t, Config{NodeID: "t2", TracerProvider: clientTP})

	tests := []struct {
		name               string
		kind               Kind
		send               bool
		sendKind, recvKind trace.SpanKind
		wantErr            bool
	}{
		{"call", KindListObjects, false, trace.SpanKindClient, trace.SpanKindServer, false},
		{"send", KindObjectPut, true, trace.SpanKindClient, trace.SpanKindServer, false}, // a Send waits for its reply too
		{"remote-error", KindTxnAbort, false, trace.SpanKindClient, trace.SpanKindServer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := &Header{Kind: tt.kind, Bucket: "ais://b", Object: "o1"}
			var err error
			if tt.send {
				_, _, err = c.Send(context.Background(), srv.addr, hdr, strings.NewReader("data"), 4)
			} else {
				_, _, err = c.Call(context.Background(), srv.addr, hdr, []byte("data"))
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			send := findSpan(t, clientRec, "transport.send "+tt.kind.String())
			recv := findSpan(t, serverRec, "transport.recv "+tt.kind.String())
			if recv.Parent().SpanID() != send.SpanContext().SpanID() || recv.SpanContext().TraceID() != send.SpanContext().TraceID() {
				t.Fatalf("recv span %v (parent %v) is not a child of send span %v", recv.SpanContext(), recv.Parent(), send.SpanContext())
			}
			if !recv.Parent().IsRemote() {
				t.Fatal("recv parent not marked remote")
			}
			if send.SpanKind() != tt.sendKind || recv.SpanKind() != tt.recvKind {
				t.Fatalf("span kinds %v/%v, want %v/%v", send.SpanKind(), recv.SpanKind(), tt.sendKind, tt.recvKind)
			}
			sa, ra := attrMap(send), attrMap(recv)
			wantSend := map[attribute.Key]string{"ais.msg_kind": tt.kind.String(), "ais.peer": srv.addr, "ais.node_id": "t2", "ais.bucket": "ais://b", "ais.object": "o1"}
			wantRecv := map[attribute.Key]string{"ais.msg_kind": tt.kind.String(), "ais.peer": "t2", "ais.node_id": "t1", "ais.bucket": "ais://b", "ais.object": "o1"}
			for k, v := range wantSend {
				if sa[k].AsString() != v {
					t.Errorf("send %s = %q, want %q", k, sa[k].AsString(), v)
				}
			}
			for k, v := range wantRecv {
				if ra[k].AsString() != v {
					t.Errorf("recv %s = %q, want %q", k, ra[k].AsString(), v)
				}
			}
			if sa["ais.size"].AsInt64() != 4 || ra["ais.size"].AsInt64() != 4 {
				t.Errorf("ais.size = %v / %v, want 4", sa["ais.size"], ra["ais.size"])
			}
			for _, a := range []map[attribute.Key]attribute.Value{sa, ra} {
				if a["rpc.system.name"].AsString() != RPCSystem || a["rpc.system"].AsString() != RPCSystem || a["rpc.method"].AsString() != tt.kind.String() {
					t.Errorf("rpc attributes %v", a)
				}
			}
			if sa["server.address"].AsString() != "127.0.0.1" || sa["server.port"].AsInt64() == 0 || ra["network.peer.address"].AsString() != "127.0.0.1" {
				t.Errorf("address attributes: send %v, recv %v", sa, ra)
			}
			// The sender failed; the receiver answered as asked (a 4xx
			// kind is the request's fault, not the server's error).
			sendCode, recvCode := codes.Unset, codes.Unset
			if tt.wantErr {
				sendCode = codes.Error
				if sa["error.type"].AsString() != "not-found" || ra["error.type"].AsString() != "not-found" {
					t.Errorf("error.type %q / %q, want the kind", sa["error.type"].AsString(), ra["error.type"].AsString())
				}
			}
			if send.Status().Code != sendCode || recv.Status().Code != recvCode {
				t.Errorf("status %v / %v, want %v / %v", send.Status().Code, recv.Status().Code, sendCode, recvCode)
			}
			if tt.send && gotParent.SpanID() != recv.SpanContext().SpanID() {
				t.Errorf("handler ctx does not carry the recv span")
			}
		})
	}
}

// TestTraceContinuesCallerTrace: the send span is a child of the caller's
// span, so one trace spans caller -> send -> recv.
func TestTraceContinuesCallerTrace(t *testing.T) {
	clientRec := tracetest.NewSpanRecorder()
	clientTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(clientRec))
	serverRec := tracetest.NewSpanRecorder()
	serverTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(serverRec))
	srv := startServer(t, Config{NodeID: "t1", TracerProvider: serverTP, Propagator: propagation.TraceContext{}}, echoAll(), "")
	c := newClient(t, Config{NodeID: "p1", TracerProvider: clientTP, Propagator: propagation.TraceContext{}})
	ctx, root := clientTP.Tracer("test").Start(context.Background(), "root")
	_, _, err := c.Call(ctx, srv.addr, &Header{Kind: KindPing}, nil)
	root.End()
	if err != nil {
		t.Fatal(err)
	}
	send := findSpan(t, clientRec, "transport.send ping")
	recv := findSpan(t, serverRec, "transport.recv ping")
	if send.Parent().SpanID() != root.SpanContext().SpanID() || recv.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Fatal("trace does not continue the caller's")
	}
}

// TestQuietAndExpected: a keepalive outside a sampled operation makes no
// span on either side; inside one it does. An expected error leaves the
// send span's status alone. The observer sees every request.
func TestQuietAndExpected(t *testing.T) {
	clientRec, serverRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	clientTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(clientRec))
	serverTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(serverRec))
	t.Cleanup(func() { clientTP.Shutdown(context.Background()); serverTP.Shutdown(context.Background()) })
	handlers := echoAll()
	handlers[KindTxnPrepare] = failWith(cluster.Errorf(cluster.ErrExists, "bucket b"))
	obs := &countObserver{}
	srv := startServer(t, Config{NodeID: "t1", TracerProvider: serverTP, Observer: obs}, handlers, "")
	c := newClient(t, Config{NodeID: "t2", TracerProvider: clientTP, Observer: obs})

	if _, _, err := c.Call(context.Background(), srv.addr, &Header{Kind: KindKeepalive}, nil); err != nil {
		t.Fatal(err)
	}
	if n, m := len(clientRec.Ended()), len(serverRec.Ended()); n != 0 || m != 0 {
		t.Fatalf("a keepalive made %d/%d spans, want none", n, m)
	}
	ctx, root := clientTP.Tracer("test").Start(context.Background(), "op")
	if _, _, err := c.Call(ctx, srv.addr, &Header{Kind: KindKeepalive}, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Call(tracing.ExpectErrors(ctx, cluster.ErrExists), srv.addr, &Header{Kind: KindTxnPrepare}, nil)
	root.End()
	if !errors.Is(err, cluster.ErrExists) {
		t.Fatalf("prepare: %v", err)
	}
	findSpan(t, serverRec, "transport.recv keepalive")
	if s := findSpan(t, clientRec, "transport.send txn-prepare"); s.Status().Code != codes.Unset || attrMap(s)["error.type"].AsString() != "exists" {
		t.Fatalf("expected error: status %v, error.type %q", s.Status(), attrMap(s)["error.type"].AsString())
	}
	if in, out := obs.n[In].Load(), obs.n[Out].Load(); in != 3 || out != 3 {
		t.Fatalf("observer saw %d in, %d out, want 3 each", in, out)
	}
}

// countObserver counts the requests it is told of.
type countObserver struct{ n [2]atomic.Int64 }

func (o *countObserver) ObserveMessage(dir Direction, _ Kind, _ int64, _ time.Duration, _ error) {
	o.n[dir].Add(1)
}

func findSpan(tb testing.TB, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	tb.Helper()
	var found sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			found = s // the latest
		}
	}
	if found == nil {
		tb.Fatal(errors.New("no span " + name))
	}
	return found
}
