package tracing

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Handler wraps h so that every request runs in a SpanKindServer span.
//
// The parent comes from the request headers or, when they carry no trace
// context, from the URL query (see InjectQuery). A request with the header
// "Ais-Trace-Force: true" and no sampled parent is sampled regardless of the
// ratio. The span is named name(r) (low-cardinality, e.g.
// "PUT /v1/objects/{bucket}/{object...}"), or the method when name is nil or
// returns "". It carries the HTTP semantic-convention attributes (method,
// url.path, scheme, server and client address, user agent, request and
// response body sizes, status code, and http.route when an http.ServeMux
// routed the request); a 5xx status sets codes.Error, a 4xx does not.
//
// The ResponseWriter that h sees records the status; it keeps io.ReaderFrom
// (sendfile) and http.Flusher, and Unwrap for http.ResponseController.
//
// The parent span comes from the request headers, or from the redirect
// query (see InjectQuery) when that carries the same trace or the headers
// carry none: so a target's span is the child of the proxy span that
// redirected the request, even when the client follows the redirect with a
// span of its own.
//
// When the provider is disabled Handler returns h itself: no cost at all,
// and no trace context is passed on. A Provider whose sampling SetSampling
// turned off still wraps h (nothing is sampled), so that turning it on
// again takes effect.
func (p *Provider) Handler(h http.Handler, name func(*http.Request) string) http.Handler {
	if !p.CanEnable() {
		return h
	}
	return &serverHandler{next: h, name: name, tracer: p.tp.Tracer(InstrumentationName), prop: p.prop}
}

// serverHandler is the http.Handler of Provider.Handler.
type serverHandler struct {
	next   http.Handler
	name   func(*http.Request) string
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// ServeHTTP runs the wrapped handler inside a server span.
func (s *serverHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := s.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if strings.Contains(r.URL.RawQuery, QueryTraceParent+"=") {
		// A redirect URL carries the redirecting server's span. It is the
		// nearer parent when the headers carry the same trace (the client
		// followed the redirect with its own span) or none at all; a
		// different trace in the headers wins.
		hdr := trace.SpanContextFromContext(ctx)
		qctx := ExtractQuery(r.Context(), s.prop, r.URL.Query())
		if q := trace.SpanContextFromContext(qctx); q.IsValid() && (!hdr.IsValid() || hdr.TraceID() == q.TraceID()) {
			ctx = qctx
		}
	}
	if !trace.SpanContextFromContext(ctx).IsSampled() && forceRequested(r.Header) {
		ctx = WithForceSample(ctx)
	}
	spanName := ""
	if s.name != nil {
		spanName = s.name(r)
	}
	if spanName == "" {
		spanName = r.Method
	}
	ctx, span := s.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(serverAttributes(r)...))
	defer span.End()
	r = r.WithContext(ctx)
	if !span.IsRecording() {
		s.next.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			span.SetStatus(codes.Error, fmt.Sprint("panic: ", v))
			panic(v)
		}
	}()
	s.next.ServeHTTP(sw, r)

	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, semconv.HTTPResponseStatusCode(status), semconv.HTTPResponseBodySize(int(sw.written)))
	if route := routeOf(r.Pattern); route != "" {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	if status >= 500 {
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.SetAttributes(attrs...)
}

// forceRequested tells whether the request asks for forced sampling.
func forceRequested(h http.Header) bool {
	v := h.Get(ForceSampleHeader)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// routeOf returns the path part of a ServeMux pattern ("GET /v1/x/{y}" ->
// "/v1/x/{y}").
func routeOf(pattern string) string {
	if _, rest, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimSpace(rest)
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	return pattern
}

// serverAttributes are the attributes known when a request arrives.
func serverAttributes(r *http.Request) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 7)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.URLPath(r.URL.Path),
		semconv.URLScheme(scheme),
	)
	if host, _ := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
	}
	if host, _ := splitHostPort(r.RemoteAddr); host != "" {
		attrs = append(attrs, semconv.ClientAddress(host))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if r.ContentLength > 0 {
		attrs = append(attrs, semconv.HTTPRequestBodySize(int(r.ContentLength)))
	}
	return attrs
}

// splitHostPort splits "host:port", tolerating a missing port.
func splitHostPort(hp string) (string, int) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	n, _ := strconv.Atoi(port)
	return host, n
}

// statusWriter records the status code and body size written through it.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

// WriteHeader records the first final status code.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write writes to the wrapped ResponseWriter.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// ReadFrom keeps the wrapped ResponseWriter's io.ReaderFrom (sendfile).
func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.written += n
	return n, err
}

// Flush flushes the wrapped ResponseWriter if it can.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped ResponseWriter (for http.ResponseController).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transport returns a RoundTripper that runs every request through base
// (http.DefaultTransport when nil) inside a SpanKindClient span named after
// the method, with the trace context and baggage injected into a clone of
// the request's headers. The span ends when the response body is read to its
// end or closed (at once when there is no body); a transport error or a 4xx
// or 5xx status sets codes.Error.
//
// When the provider is disabled Transport returns base itself.
func (p *Provider) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !p.CanEnable() {
		return base
	}
	return &clientTransport{base: base, tracer: p.tp.Tracer(InstrumentationName), prop: p.prop}
}

// clientTransport is the http.RoundTripper of Provider.Transport.
type clientTransport struct {
	base   http.RoundTripper
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// RoundTrip implements http.RoundTripper.
func (t *clientTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(clientAttributes(r)...))
	r = r.Clone(ctx)
	t.prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.End()
		return resp, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		span.End()
	} else {
		resp.Body = &spanBody{rc: resp.Body, span: span}
	}
	return resp, nil
}

// clientAttributes are the attributes of a client span.
func clientAttributes(r *http.Request) []attribute.KeyValue {
	host, port := splitHostPort(r.URL.Host)
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.URLFull(r.URL.Redacted()),
		semconv.ServerAddress(host),
	}
	if port != 0 {
		attrs = append(attrs, semconv.ServerPort(port))
	}
	return attrs
}

// spanBody ends a client span when the response body is exhausted or
// closed.
type spanBody struct {
	rc   io.ReadCloser
	span trace.Span
	once sync.Once
}

// Read reads the body; io.EOF or an error ends the span.
func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.once.Do(func() {
			if err != io.EOF {
				b.span.RecordError(err)
				b.span.SetStatus(codes.Error, err.Error())
			}
			b.span.End()
		})
	}
	return n, err
}

// Close closes the body and ends the span.
func (b *spanBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() { b.span.End() })
	return err
}
