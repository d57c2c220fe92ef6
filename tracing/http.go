package tracing

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"miniais/internal/httpstat"
)

// Handler wraps h so that every request runs in a SpanKindServer span.
//
// The span is named name(r) (low-cardinality, e.g.
// "PUT /v1/objects/{bucket}/{object...}"), or the method when name is nil or
// returns "". It carries the HTTP semantic-convention attributes
// (http.request.method, url.path, url.scheme, server.address, server.port,
// network.peer.address, network.peer.port, client.address,
// user_agent.original, http.request.body.size, then
// http.response.status_code, http.response.body.size and http.route when an
// http.ServeMux routed the request). A failed request's error.type is the
// error kind the reply names in ErrorKindHeader (cluster.Kinds' wire name),
// else its status code; a 5xx other than 501 sets codes.Error, a 4xx or a
// refusal (501) does not: an expected outcome is not a server error.
//
// Whose decision counts (see the package doc): the trace context of a
// request between nodes (headers signed with the cluster secret) is
// followed as it is. A redirect query signed by the proxy makes the span's
// parent the client's own span of this hop, when a trusted client sent one
// in the same trace, else a root in the proxy's trace; either way the span
// links to the proxy's span, and the trace's sampled flag is the proxy's.
// So no span outlives its parent: the proxy's span covers the redirect
// only. A trusted client's context and "Ais-Trace-Force: true" are
// honoured within the rate limit. Anyone else's request starts a trace of
// its own, linked to the context it sent.
//
// With WithQuiet, requests that quiet reports (health checks, metric
// scrapes) get no span unless their parent is sampled.
//
// The ResponseWriter that h sees records the status; it keeps io.ReaderFrom
// (sendfile) and http.Flusher, and Unwrap for http.ResponseController.
//
// When the provider is disabled Handler returns h itself: no cost at all,
// and no trace context is passed on. A Provider whose sampling SetSampling
// turned off still wraps h (nothing is sampled), so that turning it on
// again takes effect.
func (p *Provider) Handler(h http.Handler, name func(*http.Request) string, opts ...HandlerOption) http.Handler {
	if !p.CanEnable() {
		return h
	}
	s := &serverHandler{next: h, name: name, tracer: p.tp.Tracer(InstrumentationName), prop: p.prop, sig: p.sig, trust: p.trust}
	for _, o := range opts {
		o(s)
	}
	return s
}

// HandlerOption configures Provider.Handler.
type HandlerOption func(*serverHandler)

// WithQuiet makes Handler give no span to a request for which quiet
// answers true, unless its parent is sampled (by a member, or a trusted
// client).
func WithQuiet(quiet func(*http.Request) bool) HandlerOption {
	return func(s *serverHandler) { s.quiet = quiet }
}

// serverHandler is the http.Handler of Provider.Handler.
type serverHandler struct {
	next   http.Handler
	name   func(*http.Request) string
	quiet  func(*http.Request) bool
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	sig    signer
	trust  *trust
}

// parent returns the context a request's span starts from, and the links
// the span gets (see Handler).
func (s *serverHandler) parent(r *http.Request) (context.Context, []trace.Link) {
	base := r.Context()
	hctx := s.prop.Extract(base, propagation.HeaderCarrier(r.Header))
	hsc := trace.SpanContextFromContext(hctx)
	if hsc.IsValid() && s.sig.verify(r.Header.Get(HeaderTraceSig), r.Header.Get("Traceparent"),
		r.Header.Get("Tracestate"), r.Method, r.URL.EscapedPath()) {
		return hctx, nil // a member's request
	}
	trusted := s.trust.trusted(r.RemoteAddr)
	if strings.Contains(r.URL.RawQuery, QueryTraceParent+"=") {
		q := r.URL.Query()
		if s.sig.verify(q.Get(QueryTraceSig), q.Get(QueryTraceParent), q.Get(QueryTraceState), r.Method, r.URL.EscapedPath()) {
			qctx := ExtractQuery(base, s.prop, q)
			qsc := trace.SpanContextFromContext(qctx)
			links := []trace.Link{{SpanContext: qsc, Attributes: []attribute.KeyValue{attribute.String("ais.link", "redirected-by")}}}
			switch {
			case trusted && hsc.IsValid() && hsc.TraceID() == qsc.TraceID():
				// The client's own span of this hop: the parent, with
				// the trace's sampled flag as the proxy set it.
				psc := hsc.WithTraceFlags(qsc.TraceFlags()).WithTraceState(qsc.TraceState())
				return trace.ContextWithRemoteSpanContext(qctx, psc), links
			case !trusted || !hsc.IsValid():
				// No client span of this trace: a root in the proxy's
				// trace.
				return withJoin(trace.ContextWithSpanContext(qctx, trace.SpanContext{}), qsc), links
			}
			// A trusted client's operation of another trace (it re-used
			// an old Location): its own context wins, linked to the
			// redirect's.
			ctx, more := s.clientParent(r, base, hctx, hsc, true)
			return ctx, append(links, more...)
		}
	}
	return s.clientParent(r, base, hctx, hsc, trusted)
}

// clientParent is the parent of a request that carries no member's
// context: the client's, if it is trusted, else none (a new trace linked
// to the client's context).
func (s *serverHandler) clientParent(r *http.Request, base, hctx context.Context, hsc trace.SpanContext, trusted bool) (context.Context, []trace.Link) {
	var ctx context.Context
	var links []trace.Link
	switch {
	case hsc.IsValid() && trusted:
		ctx = hctx
		if hsc.IsSampled() && !s.trust.allow() {
			ctx = withRatioOnly(ctx) // over the rate: the ratio decides
		}
	case hsc.IsValid():
		// A stranger's context: a trace of our own, linked to it.
		ctx = base
		links = []trace.Link{{SpanContext: hsc.WithRemote(true), Attributes: []attribute.KeyValue{attribute.String("ais.link", "untrusted-parent")}}}
	default:
		ctx = base
	}
	if trusted && !trace.SpanContextFromContext(ctx).IsSampled() && forceRequested(r.Header) && s.trust.allow() {
		ctx = WithForceSample(ctx)
	}
	return ctx, links
}

// ServeHTTP runs the wrapped handler inside a server span.
func (s *serverHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, links := s.parent(r)
	if s.quiet != nil && s.quiet(r) {
		if !trace.SpanContextFromContext(ctx).IsSampled() {
			s.next.ServeHTTP(w, r)
			return
		}
		ctx = WithoutRoot(ctx)
	}
	spanName := ""
	if s.name != nil {
		spanName = s.name(r)
	}
	if spanName == "" {
		spanName = r.Method
	}
	// The sampler does not read attributes: a span sampled out (not
	// recording) costs none of them.
	ctx, span := s.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer), trace.WithLinks(links...))
	defer span.End()
	r = r.WithContext(ctx)
	if !span.IsRecording() {
		s.next.ServeHTTP(w, r)
		return
	}
	span.SetAttributes(serverAttributes(r)...)
	sw := &httpstat.Writer{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			span.SetStatus(codes.Error, fmt.Sprint("panic: ", v))
			span.SetAttributes(semconv.ErrorTypeOther)
			panic(v)
		}
	}()
	s.next.ServeHTTP(sw, r)

	status := sw.Status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, semconv.HTTPResponseStatusCode(status), semconv.HTTPResponseBodySize(int(sw.Written)))
	if route := routeOf(r.Pattern); route != "" {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	if status >= 400 {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(w.Header(), status)))
	}
	if status >= 500 && status != http.StatusNotImplemented {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.SetAttributes(attrs...)
}

// errorType is the error.type of a failed reply: the kind it names, else
// its status code.
func errorType(h http.Header, status int) string {
	if k := h.Get(ErrorKindHeader); k != "" {
		return k
	}
	return strconv.Itoa(status)
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
	attrs := make([]attribute.KeyValue, 0, 11)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.URLPath(r.URL.Path),
		semconv.URLScheme(scheme),
	)
	if host, port := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
		if port != 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	if host, port := splitHostPort(r.RemoteAddr); host != "" {
		attrs = append(attrs, semconv.NetworkPeerAddress(host), semconv.ClientAddress(host))
		if port != 0 {
			attrs = append(attrs, semconv.NetworkPeerPort(port))
		}
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
