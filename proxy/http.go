package proxy

import (
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
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
	return m
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
	t, err := p.smap.Load().Owner(rt.Bucket.Uname(rt.Object))
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("ais.target", t.ID))
	q := r.URL.Query()
	q.Set(wire.QparamProxyID, p.cfg.ID)
	q.Set(wire.QparamUnixTime, strconv.FormatInt(time.Now().UnixNano(), 36))
	p.cfg.Tracing.InjectRedirect(ctx, r.Method, r.URL.EscapedPath(), q)
	loc := t.URL() + r.URL.EscapedPath() + "?" + q.Encode()
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusTemporaryRedirect)
}
