package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
)

// DefaultEndpoint is the proxy endpoint a client uses when given none.
const DefaultEndpoint = "http://127.0.0.1:8080"

// ExpectContinueTimeout is how long the default transport waits for the
// proxy's answer to a PUT's headers before sending the body anyway (see
// PutObject).
const ExpectContinueTimeout = 10 * time.Second

// Client is a client of a miniais (or AIStore) cluster, talking to one
// proxy's public endpoint. It is safe for concurrent use.
type Client struct {
	endpoint string
	hc       *http.Client // follows redirects (GET, HEAD, DELETE)
	noFollow *http.Client // same transport, returns 3xx to the caller (PUT)

	tp     trace.TracerProvider
	prop   propagation.TextMapPropagator
	header http.Header // added to every request

	router *router // non-nil with WithDirectRouting (routing.go)
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc (which the
// client does not modify; WithTracing wraps a copy's transport). For PUTs of
// bodies that cannot be re-sent, hc's transport should have a non-zero
// ExpectContinueTimeout (see PutObject).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithTracing makes every HTTP request a client span of tp, one per hop,
// with its context injected into the request headers by prop (nil: W3C
// trace context and baggage), through tracing.ClientTransport (otelhttp,
// as the nodes use between themselves). Spans are named
// "<METHOD> /v1/<resource>", never after a bucket or object.
func WithTracing(tp trace.TracerProvider, prop propagation.TextMapPropagator) Option {
	return func(c *Client) { c.tp, c.prop = tp, prop }
}

// WithHeader adds header key: value to every request the client sends
// (for example the CLI's "Ais-Trace-Force: true").
func WithHeader(key, value string) Option {
	return func(c *Client) {
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Add(key, value)
	}
}

// NewClient returns a client of the proxy at endpoint, a base URL such as
// "http://127.0.0.1:8080" (a trailing slash is ignored; an empty endpoint
// means DefaultEndpoint).
func NewClient(endpoint string, opts ...Option) *Client {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	c := &Client{endpoint: strings.TrimRight(endpoint, "/")}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: defaultTransport()}
	}
	if c.tp != nil {
		hc := *c.hc
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Transport = tracing.ClientTransport(base, c.tp, c.prop)
		c.hc = &hc
	}
	nf := *c.hc
	nf.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.noFollow = &nf
	return c
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ExpectContinueTimeout = ExpectContinueTimeout
	t.MaxIdleConnsPerHost = 64
	return t
}

// Endpoint returns the proxy's base URL.
func (c *Client) Endpoint() string { return c.endpoint }

// ConnError is returned when the client cannot reach a node at all
// (connection refused, DNS failure, connection reset before a reply). It
// matches cluster.ErrUnavailable with errors.Is.
type ConnError struct {
	// Endpoint is the cluster endpoint the client was configured with.
	Endpoint string
	// Err is the transport error.
	Err error
}

// Error names the endpoint and the cause.
func (e *ConnError) Error() string {
	return fmt.Sprintf("cannot reach the cluster at %s: %v", e.Endpoint, e.Err)
}

// Unwrap returns the cause and cluster.ErrUnavailable.
func (e *ConnError) Unwrap() []error { return []error{e.Err, cluster.ErrUnavailable} }

// request is one API call: what it addresses (for error messages) and how.
type request struct {
	method string
	base   string // base URL of the node to send to; "" is the proxy
	path   string // escaped path, "/v1/..."
	query  url.Values
	header http.Header
	body   io.Reader
	what   string // "bucket ais://b", "object ais://b/o"
}

func (c *Client) newRequest(ctx context.Context, rq *request) (*http.Request, error) {
	u := rq.base
	if u == "" {
		u = c.endpoint
	}
	u += rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, rq.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rq.method, rq.what, err)
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	c.addHeaders(req)
	return req, nil
}

func (c *Client) addHeaders(req *http.Request) {
	for k, v := range c.header {
		req.Header[k] = append(req.Header[k], v...)
	}
}

// do sends rq through hc and returns the 2xx response, or the error:
// *HTTPError for a non-2xx status, *ConnError when the node is unreachable.
func (c *Client) do(ctx context.Context, hc *http.Client, rq *request) (*http.Response, error) {
	req, err := c.newRequest(ctx, rq)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, hc, req, rq.what)
}

func (c *Client) send(ctx context.Context, hc *http.Client, req *http.Request, what string) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, req.Method, what, err)
	}
	if resp.StatusCode >= 300 && !(hc == c.noFollow && isRedirect(resp.StatusCode)) {
		defer drainClose(resp.Body)
		return nil, decodeError(resp, what)
	}
	return resp, nil
}

func (c *Client) transportError(ctx context.Context, method, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", method, what, ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &ConnError{Endpoint: c.endpoint, Err: fmt.Errorf("%s %s: %w", method, what, err)}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// maxErrorBody bounds how much of an error reply is read.
const maxErrorBody = 64 << 10

// decodeError turns a non-2xx reply into an *HTTPError: the JSON body when
// there is one, else a message built from what and the status.
func decodeError(resp *http.Response, what string) *wire.HTTPError {
	he := &wire.HTTPError{}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if len(body) == 0 {
		body = []byte(resp.Header.Get(wire.HdrError)) // a HEAD's error
	}
	if err := json.Unmarshal(body, he); err != nil || he.Message == "" {
		he = &wire.HTTPError{Message: strings.TrimSpace(string(body))}
	}
	he.Status = resp.StatusCode
	if he.Method == "" && resp.Request != nil {
		he.Method = resp.Request.Method
		he.URLPath = resp.Request.URL.Path
	}
	if he.Message == "" {
		if k := cluster.KindOfStatus(resp.StatusCode); k != nil {
			he.Message = fmt.Sprintf("%s: %v", what, k.Err)
		} else {
			he.Message = fmt.Sprintf("%s: %d %s", what, resp.StatusCode, http.StatusText(resp.StatusCode))
		}
	}
	return he
}

func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, maxErrorBody))
	_ = rc.Close()
}

// bucketQuery returns the query that names bck's provider.
func bucketQuery(bck cluster.Bucket) url.Values {
	p := bck.Provider
	if p == "" {
		p = cluster.ProviderAIS
	}
	return url.Values{wire.QparamProvider: {p}}
}

// BucketPath returns the escaped URL path of bucket name.
func BucketPath(name string) string { return wire.PathBuckets + "/" + url.PathEscape(name) }

// ObjectPath returns the escaped URL path of object name in bucket: each
// '/'-separated segment escaped on its own, so that any UTF-8 name
// (spaces, '%', '?', '#') round-trips.
func ObjectPath(bucket, name string) string {
	var b strings.Builder
	b.Grow(len(wire.PathObjects) + len(bucket) + len(name) + 16)
	b.WriteString(wire.PathObjects)
	b.WriteByte('/')
	b.WriteString(url.PathEscape(bucket))
	for seg := range strings.SplitSeq(name, "/") {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

func jsonBody(v any) (io.Reader, http.Header, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	return bytes.NewReader(b), http.Header{"Content-Type": {wire.ContentJSON}}, nil
}

// Health returns nil when the proxy answers GET /v1/health with 200 (that
// is, it is up and has at least one target).
func (c *Client) Health(ctx context.Context) error {
	resp, err := c.do(ctx, c.hc, &request{method: http.MethodGet, path: wire.PathHealth, what: "health"})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}

// ClusterMap returns the proxy's current cluster map.
func (c *Client) ClusterMap(ctx context.Context) (*cluster.Map, error) {
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: wire.PathDaemon,
		query: url.Values{wire.QparamWhat: {wire.WhatSmap}}, what: "cluster map",
	})
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	m := &cluster.Map{}
	if err := json.NewDecoder(resp.Body).Decode(m); err != nil {
		return nil, fmt.Errorf("decode cluster map: %w", err)
	}
	return m, nil
}
