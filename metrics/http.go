package metrics

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
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
		cw := &httpstat.Writer{ResponseWriter: w}
		var cr *countingReader
		if r.Body != nil && r.Body != http.NoBody {
			// A copy of the request: the server's own must keep its body
			// (it decides by its type whether to answer 100 Continue).
			r2 := *r
			cr = &countingReader{ReadCloser: r.Body}
			r2.Body = cr
			r = &r2
		}
		h.ServeHTTP(cw, r)
		var in int64
		if cr != nil {
			in = cr.n
		}
		n.observe(r, cw.Status, time.Since(start), in, cw.Written, w.Header().Get(tracing.ErrorKindHeader))
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
	n.requests.WithLabelValues(route, statusClass(status)).Inc()
	obs := n.latency.WithLabelValues(route)
	if id := exemplarTrace(r, status); id != "" {
		obs.(prometheus.ExemplarObserver).ObserveWithExemplar(took.Seconds(), prometheus.Labels{"trace_id": id})
	} else {
		obs.Observe(took.Seconds())
	}
	if in > 0 {
		n.received.WithLabelValues(route).Add(float64(in))
	}
	if out > 0 {
		n.sent.WithLabelValues(route).Add(float64(out))
	}
	if status >= 400 {
		if kind == "" {
			kind = "other"
		}
		n.errs.WithLabelValues(kind).Inc()
	}
	n.observeOp(r, status, took, in, out, kind)
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
// an object, and a bucket listing.
func (n *Node) observeOp(r *http.Request, status int, took time.Duration, in, out int64, kind string) {
	var op string
	switch r.Pattern {
	case "GET /v1/objects/{bucket}/{object...}":
		op = "get"
	case "PUT /v1/objects/{bucket}/{object...}":
		op = "put"
	case "DELETE /v1/objects/{bucket}/{object...}":
		op = "del"
	case "GET /v1/buckets/{bucket}":
		op = "lst"
	default:
		return
	}
	bucket := n.bucketLabel(cluster.Bucket{Provider: cluster.ProviderAIS, Name: r.PathValue("bucket")})
	inc := func(name string, v float64) {
		c := n.ops[name]
		if c == nil {
			return
		}
		if n.cfg.Role == cluster.RoleTarget && (name == "put_count" || name == "put_bytes" || name == "put_ns_total" ||
			name == "err_put_count" || name == "err_put_cksum_count") {
			c.WithLabelValues(bucket, "").Add(v)
			return
		}
		c.WithLabelValues(bucket).Add(v)
	}
	if status >= 400 {
		inc("err_"+op+"_count", 1)
		if op == "put" && kind == "checksum" {
			inc("err_put_cksum_count", 1)
		}
		return
	}
	inc(op+"_count", 1)
	if n.cfg.Role != cluster.RoleTarget {
		return
	}
	switch op {
	case "get":
		inc("get_bytes", float64(out))
		inc("get_ns_total", float64(took.Nanoseconds()))
	case "put":
		inc("put_bytes", float64(in))
		inc("put_ns_total", float64(took.Nanoseconds()))
	}
}

// statusClass is "2xx" for 200..299, and so on.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
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
