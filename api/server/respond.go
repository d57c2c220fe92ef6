package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
)

// WriteJSON writes v as a 200 JSON reply with its Content-Length.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", wire.ContentJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// ErrMethod returns the error for a method that the path does not support
// (it wraps cluster.ErrMethod: 405).
func ErrMethod(r *http.Request) error {
	return cluster.Errorf(cluster.ErrMethod, "method %s is not supported on %s", r.Method, r.URL.Path)
}

// HasBody reports whether r carries a body (a length or chunked encoding).
func HasBody(r *http.Request) bool { return r.ContentLength > 0 || len(r.TransferEncoding) > 0 }

// MaxActionBody bounds the JSON action message of a request.
const MaxActionBody = 64 << 10

// ReadAction decodes the optional JSON action message in r's body (none
// gives the zero message). A "value" of null is dropped. Errors wrap
// cluster.ErrBadRequest, or cluster.ErrTooLarge over MaxActionBody.
func ReadAction(r *http.Request) (wire.ActionMsg, error) {
	var msg wire.ActionMsg
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxActionBody+1))
	if err != nil {
		return msg, cluster.Errorf(cluster.ErrBadRequest, "read request body: %v", err)
	}
	if len(b) > MaxActionBody {
		return msg, cluster.Errorf(cluster.ErrTooLarge, "action message over %d bytes", MaxActionBody)
	}
	if len(b) == 0 {
		return msg, nil
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		return msg, cluster.Errorf(cluster.ErrBadRequest, "malformed action message: %v", err)
	}
	if string(msg.Value) == "null" {
		msg.Value = nil
	}
	return msg, nil
}

// WriteListing writes one page of an object listing, in msgpack when the
// request accepts it, else in JSON.
func WriteListing(w http.ResponseWriter, r *http.Request, res *wire.LsoResult) error {
	if r.Header.Get("Accept") != wire.ContentMsgpack {
		WriteJSON(w, res)
		return nil
	}
	b, err := res.MarshalMsg(nil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", wire.ContentMsgpack)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	return nil
}

// WriteError writes err as the JSON error body with status
// wire.StatusOf(err). When the request's trace is recorded (sampled, or
// held by the tail rule, which keeps every failed request) its trace ID is
// in the body (trace_id) and in the tracing.TraceIDHeader response header,
// so that a curl user can find the trace of a failure. The error's kind is
// named in tracing.ErrorKindHeader (spans take it as error.type, metrics
// count errors by it). A HEAD reply has no body: the same JSON goes into
// the wire.HdrError header, as AIStore's nodes do. err must not be nil.
func WriteError(w http.ResponseWriter, r *http.Request, nodeID string, err error) {
	he := wire.NewHTTPError(r, nodeID, err)
	h := w.Header()
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		he.TraceID = span.SpanContext().TraceID().String()
		h.Set(tracing.TraceIDHeader, he.TraceID)
	}
	if k := cluster.KindOf(err); k != nil {
		h.Set(tracing.ErrorKindHeader, k.Name)
	}
	body, _ := json.Marshal(he) // cannot fail: only strings and ints
	h.Del("Content-Length")
	if r.Method == http.MethodHead {
		h.Set(wire.HdrError, string(body))
		w.WriteHeader(he.Status)
		return
	}
	h.Set("Content-Type", wire.ContentJSON)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(he.Status)
	_, _ = w.Write(append(body, '\n'))
}
