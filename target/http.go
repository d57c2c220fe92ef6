package target

import (
	"encoding/json"
	"net/http"
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

// router returns the target's v1 API handler: one pattern per route.
func (t *Target) router() http.Handler {
	m := server.NewMux(t.cfg.ID)
	m.HandleFunc("GET "+server.PathMetrics, t.cfg.Metrics.Handler().ServeHTTP)
	m.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	t.daemonRoutes(m)
	for _, method := range []string{http.MethodPut, http.MethodPost, http.MethodDelete} {
		m.HandleFunc(method+" /v1/daemon/mountpaths", t.mountpathAction)
	}
	m.HandleFunc("HEAD /v1/buckets/{bucket}", t.route(t.headBucket))
	m.HandleFunc("GET /v1/buckets/{bucket}", t.route(t.getBucket))
	m.HandleFunc("GET /v1/objects/{bucket}/{object...}", t.route(t.getObject))
	m.HandleFunc("HEAD /v1/objects/{bucket}/{object...}", t.route(t.headObject))
	m.HandleFunc("PUT /v1/objects/{bucket}/{object...}", t.route(t.putObject))
	m.HandleFunc("DELETE /v1/objects/{bucket}/{object...}", t.route(t.deleteObject))
	m.HandleFunc("POST /v1/objects/{bucket}/{object...}", t.route(t.postObject))
	return m
}

// route adapts a handler: it counts the request in flight, validates the
// route, tags the span, checks how an object request got here (checkRoute)
// and writes the handler's error.
func (t *Target) route(h func(http.ResponseWriter, *http.Request, server.Route) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t.inFlight.Add(1)
		defer func() { t.fgLast.Store(time.Now().UnixNano()); t.inFlight.Add(-1) }()
		rt, err := server.RouteOf(r)
		if err == nil {
			t.tagSpan(r, rt)
			if rt.Object != "" {
				if err = t.checkRoute(r, rt); err != nil && t.reroute(w, r, err) {
					return
				}
			}
		}
		if err == nil {
			err = h(w, r, rt)
		}
		if err != nil {
			t.writeError(w, r, err)
		}
	}
}

func (t *Target) tagSpan(r *http.Request, rt server.Route) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("ais.bucket", rt.Bucket.String()), attribute.String("ais.node_id", t.cfg.ID))
	if rt.Object != "" {
		span.SetAttributes(attribute.String("ais.object", rt.Object))
	}
}

func (t *Target) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := wire.StatusOf(err)
	if status >= 500 && status != http.StatusNotImplemented {
		t.log.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	server.WriteError(w, r, t.cfg.ID, err)
}

// headBucket serves HEAD /v1/buckets/B.
func (t *Target) headBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	props := t.bmd.Load().Get(rt.Bucket)
	if props == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", rt.Bucket)
	}
	b, _ := json.Marshal(props)
	w.Header().Set(wire.HdrBucketProps, string(b))
	w.WriteHeader(http.StatusOK)
	return nil
}

// getBucket serves GET /v1/buckets/B: this target's page of a listing (the
// proxy merges them over the transport; this is for direct use).
func (t *Target) getBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	if r.URL.Query().Has(wire.QparamUploads) {
		return t.listUploads(w, r, rt)
	}
	msg, err := server.ReadActionFor(r, "", wire.ActList)
	if err != nil {
		return err
	}
	lso, err := msg.ListMsg()
	if err != nil {
		return err
	}
	res, err := t.listPage(r.Context(), rt.Bucket, lso)
	if err != nil {
		return err
	}
	return server.WriteListing(w, r, res)
}
