package metrics

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"miniais/internal/httpstat"
	"miniais/tracing"
)

// Middleware counts every request h serves: by route and status class,
// its latency (with the trace ID of a recorded request as the exemplar),
// the body bytes read and written, its error kind, and AIStore's
// operation counters. h must route with an http.ServeMux (api/server.Mux)
// that sees the *http.Request the middleware passes on, so that r.Pattern
// names the route once h returns; a request no pattern matched counts under route "unmatched".
// Put it inside the tracing handler, so that the span is in the request's
// context. The ResponseWriter h sees keeps io.ReaderFrom (sendfile),
// http.Flusher and Unwrap.
func (n *Node) Middleware(h http.Handler) http.Handler {
	if n.cfg.Off {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var cw *httpstat.Writer
		var in *int64
		if r.Body != nil && r.Body != http.NoBody {
			// A copy of the request: the server's own must keep its body
			// (it decides by its type whether to answer 100 Continue).
			// One allocation holds it with the recorder and the counter.
			st := &bodyState{w: httpstat.Writer{ResponseWriter: w}, r: *r}
			st.body.ReadCloser = r.Body
			st.r.Body = &st.body
			cw, in, r = &st.w, &st.body.n, &st.r
		} else {
			cw, in = &httpstat.Writer{ResponseWriter: w}, new(int64)
		}
		h.ServeHTTP(cw, r)
		var kind string
		if cw.Status >= 400 {
			// Only then: after the status, Header() may cost a copy.
			kind = w.Header().Get(tracing.ErrorKindHeader)
		}
		n.observe(r, cw.Status, time.Since(start), *in, cw.Written, kind)
	})
}

// observe counts one served request.
func (n *Node) observe(r *http.Request, status int, took time.Duration, in, out int64, kind string) {
	if status == 0 {
		status = http.StatusOK
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	rs := n.route(route)
	ci := statusIndex(status)
	rs.requests[ci].add(1, n.requests, route, statusClass(status), true)
	if id := exemplarTrace(r, status); id != "" {
		rs.latency.(prometheus.ExemplarObserver).ObserveWithExemplar(took.Seconds(), prometheus.Labels{"trace_id": id})
	} else {
		rs.latency.Observe(took.Seconds())
	}
	if in > 0 {
		rs.received.add(float64(in), n.received, route, "", false)
	}
	if out > 0 {
		rs.sent.add(float64(out), n.sent, route, "", false)
	}
	if status >= 400 {
		if kind == "" {
			kind = "other"
		}
		n.errs.WithLabelValues(kind).Inc()
	}
	if rs.op != nil {
		n.observeOp(r, rs.op, status, took, in, out, kind)
	}
}

// exemplarTrace is the trace ID an observation names: that of a sampled
// request, or of a failed one whose spans the tail rule holds (it keeps
// every failure); "" otherwise.
func exemplarTrace(r *http.Request, status int) string {
	span := trace.SpanFromContext(r.Context())
	sc := span.SpanContext()
	if sc.IsSampled() || (status >= 400 && span.IsRecording()) {
		return sc.TraceID().String()
	}
	return ""
}

// observeOp counts AIStore's operation counters: GET, PUT and DELETE of
// an object, and a bucket listing (op).
func (n *Node) observeOp(r *http.Request, op *opSeries, status int, took time.Duration, in, out int64, kind string) {
	b := n.bucket(r.PathValue("bucket"))
	if status >= 400 {
		n.inc(b, op.errs, 1)
		if kind == "checksum" {
			n.inc(b, op.errCksum, 1)
		}
		return
	}
	n.inc(b, op.count, 1)
	switch op.name {
	case "get":
		n.inc(b, op.bytes, float64(out))
		n.inc(b, op.ns, float64(took.Nanoseconds()))
	case "put":
		n.inc(b, op.bytes, float64(in))
		n.inc(b, op.ns, float64(took.Nanoseconds()))
	}
}

// statusClass is "2xx" for 200..299, and so on.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return statusClasses[status/100-1]
}

// statusClasses are the values of statusClass (constants: no allocation).
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// bodyState is what Middleware keeps of a request with a body.
type bodyState struct {
	w    httpstat.Writer
	body countingReader
	r    http.Request // the copy that reads through body
}

// countingReader counts the bytes read through it.
type countingReader struct {
	io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
