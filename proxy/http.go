package proxy

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
)

// spanName names the server span of each request before routing (the
// route's handler renames it to its pattern).
func spanName(r *http.Request) string { return server.SpanName(r) }

// router returns the proxy's v1 API handler: one pattern per route.
func (p *Proxy) router() http.Handler {
	m := server.NewMux(p.cfg.ID)
	m.HandleFunc("GET "+server.PathMetrics, p.cfg.Metrics.Handler().ServeHTTP)
	m.HandleFunc("GET "+server.PathMetricsTargets, p.metricsTargets)
	m.HandleFunc("GET /v1/health", p.health)
	m.HandleFunc("PUT /v1/cluster", p.clusterAction)

	m.HandleFunc("GET /v1/buckets", p.bucketRoute(p.getBuckets))
	m.HandleFunc("GET /v1/buckets/{$}", p.bucketRoute(p.getBuckets))
	m.HandleFunc("GET /v1/buckets/{bucket}", p.bucketRoute(p.getBucket))
	m.HandleFunc("HEAD /v1/buckets/{bucket}", p.bucketRoute(p.headBucket))
	m.HandleFunc("HEAD /v1/buckets/{bucket}/{prefix...}", p.bucketRoute(p.headBucket))
	m.HandleFunc("POST /v1/buckets/{bucket}", p.bucketRoute(p.postBucket))
	m.HandleFunc("PUT /v1/buckets/{bucket}", p.bucketRoute(p.putBucket))
	m.HandleFunc("PATCH /v1/buckets/{bucket}", p.bucketRoute(p.patchBucket))
	m.HandleFunc("DELETE /v1/buckets/{bucket}", p.bucketRoute(p.deleteBucket))

	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPost} {
		m.HandleFunc(method+" /v1/objects/{bucket}/{object...}", p.redirect)
	}
	p.clusterRoutes(m)
	p.jobRoutes(m)
	p.s3Routes(m)
	return p.s3Addressed(m)
}

// bucketRoute adapts a bucket handler: it validates the route, tags the
// span and writes the handler's error.
func (p *Proxy) bucketRoute(h func(http.ResponseWriter, *http.Request, server.Route) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rt, err := server.RouteOf(r)
		if err == nil {
			p.tagSpan(r, rt)
			err = h(w, r, rt)
		}
		if err != nil {
			p.writeError(w, r, err)
		}
	}
}

func (p *Proxy) tagSpan(r *http.Request, rt server.Route) {
	if rt.Bucket.Name == "" {
		return
	}
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("ais.bucket", rt.Bucket.String()), attribute.String("ais.node_id", p.cfg.ID))
	if rt.Object != "" {
		span.SetAttributes(attribute.String("ais.object", rt.Object))
	}
}

func (p *Proxy) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := wire.StatusOf(err)
	if status >= 500 && status != http.StatusNotImplemented {
		p.log.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	server.WriteError(w, r, p.cfg.ID, err)
}

// health answers 200 once the cluster map has at least one target.
func (p *Proxy) health(w http.ResponseWriter, r *http.Request) {
	if len(p.smap.Load().ActiveTargets()) == 0 {
		p.writeError(w, r, cluster.Errorf(cluster.ErrUnavailable, "proxy %s: no targets have joined yet", p.cfg.ID))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// redirect answers an object request with a 307 to the owning target (for
// every method: AIStore answers a GET with 301, which clients follow alike).
// The Location keeps the path and query, adds pid and utm, and carries this
// span's trace context, signed (the target follows this span's sampling
// decision, and its own span links to this one; see tracing.Handler).
func (p *Proxy) redirect(w http.ResponseWriter, r *http.Request) {
	rt, err := server.RouteOf(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	p.tagSpan(r, rt)
	if r.Method == http.MethodPost || (r.Method == http.MethodDelete && server.HasBody(r)) {
		// An object action: rename and the multipart ones go to the owner
		// (the client re-sends the body after the 307); any other is
		// refused here rather than redirected.
		takes := []string{wire.ActRenameObj, wire.ActMptUpload, wire.ActMptComplete}
		if r.Method == http.MethodDelete {
			takes = []string{wire.ActMptAbort}
		}
		if _, err := server.ReadActionFor(r, takes...); err != nil {
			p.writeError(w, r, err)
			return
		}
	}
	if p.bmd.Load().Get(rt.Bucket) == nil {
		p.writeError(w, r, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", rt.Bucket))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A bucket being renamed takes no writes: they would be lost.
		if err := p.jobs.busy(rt.Bucket, wire.KindMoveBck); err != nil {
			p.writeError(w, r, err)
			return
		}
	}
	t, err := p.smap.Load().ObjectOwner(rt.Bucket, rt.Object)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("ais.target", t.ID))
	}
	// Set the header's map entry itself: the key is canonical already.
	w.Header()["Location"] = []string{p.location(ctx, r, t)}
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// location returns the Location of r's redirect to target t: t's URL, r's
// escaped path and query, pid and utm (replacing any the client sent),
// and, when the node traces, the signed trace context (InjectRedirect).
//
// The client's query is kept as sent and the rest appended, in one
// allocation when the node does not trace. Only a query that already
// carries one of the keys the proxy sets is parsed and re-encoded
// (url.Values, sorted by key), so that each key appears once.
func (p *Proxy) location(ctx context.Context, r *http.Request, t *cluster.Node) string {
	path, raw := r.URL.EscapedPath(), r.URL.RawQuery
	now := time.Now().UnixNano()
	traced := p.cfg.Tracing.CanEnable()
	if setsKey(raw, traced) {
		q := r.URL.Query()
		q.Set(wire.QparamProxyID, p.cfg.ID)
		q.Set(wire.QparamUnixTime, strconv.FormatInt(now, 36))
		p.cfg.Tracing.InjectRedirect(ctx, r.Method, path, q)
		return t.URL() + path + "?" + q.Encode()
	}
	var tq string
	if traced {
		tv := url.Values{}
		p.cfg.Tracing.InjectRedirect(ctx, r.Method, path, tv)
		tq = tv.Encode()
	}
	var utm [16]byte
	ts := strconv.AppendInt(utm[:0], now, 36)
	pid := p.cfg.ID
	if url.QueryEscape(pid) != pid {
		pid = url.QueryEscape(pid) // not for IDs that need no escaping: those allocate nothing
	}
	var b strings.Builder
	b.Grow(len(t.URL()) + len(path) + len(raw) + len(pid) + len(ts) + len(tq) + len("?&pid=&utm=&"))
	b.WriteString(t.URL())
	b.WriteString(path)
	b.WriteByte('?')
	if raw != "" {
		b.WriteString(raw)
		b.WriteByte('&')
	}
	b.WriteString(wire.QparamProxyID + "=")
	b.WriteString(pid)
	b.WriteString("&" + wire.QparamUnixTime + "=")
	b.Write(ts)
	if tq != "" {
		b.WriteByte('&')
		b.WriteString(tq)
	}
	return b.String()
}

// setsKey reports whether the raw query has a key that the redirect sets:
// pid, utm, and with tracing the trace context's.
func setsKey(raw string, traced bool) bool {
	if raw == "" {
		return false
	}
	if server.QueryHas(raw, wire.QparamProxyID) || server.QueryHas(raw, wire.QparamUnixTime) {
		return true
	}
	if !traced {
		return false
	}
	for _, k := range []string{tracing.QueryTraceParent, tracing.QueryTraceState, tracing.QueryBaggage, tracing.QueryTraceSig} {
		if server.QueryHas(raw, k) {
			return true
		}
	}
	return false
}
