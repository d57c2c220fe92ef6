package tracing

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// One HTTP client instrumentation for every caller: otelhttp, with the
// span names of ClientSpanName, error.type taken from the kind a node names
// in ErrorKindHeader, and expected statuses (ExpectStatus) not marked as
// errors. The api client (CLI, tests, load generator) uses ClientTransport;
// the nodes use Provider.Transport, which also signs the trace context so
// that the receiving node knows a member sent it.

// ClientTransport returns a RoundTripper that runs every request through
// base (http.DefaultTransport when nil) inside an otelhttp client span of
// tp, one per hop (a followed redirect is a hop of its own), with the trace
// context injected into the request headers by prop (NewPropagator when
// nil). The span ends when the response body is read to its end or closed.
// otelhttp's metrics go to a no-op meter provider: nothing global is read.
func ClientTransport(base http.RoundTripper, tp trace.TracerProvider, prop propagation.TextMapPropagator) http.RoundTripper {
	return newClientTransport(base, tp, prop, nil)
}

// Transport is ClientTransport for requests between nodes: with the
// provider's tracer provider and propagator, and the trace context signed
// with the cluster secret (HeaderTraceSig), so that the receiving node
// follows this node's sampling decision (see Handler).
//
// When the provider is disabled Transport returns base itself (nil:
// http.DefaultTransport).
func (p *Provider) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !p.CanEnable() {
		return base
	}
	return newClientTransport(base, p.tp, p.prop, &p.sig)
}

func newClientTransport(base http.RoundTripper, tp trace.TracerProvider, prop propagation.TextMapPropagator, sig *signer) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if prop == nil {
		prop = NewPropagator()
	}
	ot := otelhttp.NewTransport(&hopTransport{base: base, sig: sig},
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return ClientSpanName(r) }))
	return kindTransport{next: ot}
}

// ClientSpanName names a client span after the method and the resource:
// "PUT /v1/objects", "GET /v1/buckets", never after a bucket or object;
// "HTTP GET" for a path outside /v1.
func ClientSpanName(r *http.Request) string {
	p := r.URL.Path
	if strings.HasPrefix(p, "/v1/") {
		if i := strings.IndexByte(p[len("/v1/"):], '/'); i >= 0 {
			p = p[:len("/v1/")+i]
		}
		return r.Method + " " + p
	}
	return "HTTP " + r.Method
}

// hopTransport runs inside the otelhttp span: it signs the injected trace
// context and sets codes.Ok on an expected status, which otelhttp's
// codes.Error cannot then override.
type hopTransport struct {
	base http.RoundTripper
	sig  *signer
}

// RoundTrip implements http.RoundTripper.
func (t *hopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.sig != nil {
		if tp := r.Header.Get("Traceparent"); tp != "" {
			r2 := *r // otelhttp's own clone; the header is copied all the same
			r2.Header = r.Header.Clone()
			r2.Header.Set(HeaderTraceSig, t.sig.sign(tp, r.Header.Get("Tracestate"), r.Method, r.URL.EscapedPath()))
			r = &r2
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil && IsExpectedStatus(r.Context(), resp.StatusCode) {
		trace.SpanFromContext(r.Context()).SetStatus(codes.Ok, "")
	}
	return resp, err
}

// kindTransport runs outside the otelhttp span: a failed reply's
// error.type becomes the kind the node named, instead of the status code.
type kindTransport struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t kindTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode >= 400 && resp.Request != nil {
		if k := resp.Header.Get(ErrorKindHeader); k != "" {
			trace.SpanFromContext(resp.Request.Context()).SetAttributes(semconv.ErrorTypeKey.String(k))
		}
	}
	return resp, err
}

// InjectRedirect puts the span context of ctx into q, the query of a
// redirect of a method request to path (the escaped URL path the Location
// names), signed with the cluster secret (QueryTraceSig), so that the node
// it redirects to knows a member made the sampling decision. q must be
// non-nil. It does nothing when the provider is disabled.
func (p *Provider) InjectRedirect(ctx context.Context, method, path string, q url.Values) {
	if !p.CanEnable() {
		return
	}
	InjectQuery(ctx, p.prop, q)
	if tp := q.Get(QueryTraceParent); tp != "" {
		q.Set(QueryTraceSig, p.sig.sign(tp, q.Get(QueryTraceState), method, path))
	}
}
