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
	"miniais/tracing"
)

// spanName names the server span of each request before routing.
func spanName(r *http.Request) string { return server.SpanName(r) }

// router returns the proxy's v1 API handler.
func (p *Proxy) router() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, err := server.ParseRoute(r)
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		if rt.Bucket.Name != "" {
			span := trace.SpanFromContext(r.Context())
			span.SetAttributes(attribute.String("ais.bucket", rt.Bucket.String()), attribute.String("ais.node_id", p.cfg.ID))
			if rt.Object != "" {
				span.SetAttributes(attribute.String("ais.object", rt.Object))
			}
		}
		switch rt.Resource {
		case wire.ResHealth:
			p.health(w, r)
		case wire.ResDaemon:
			p.daemon(w, r)
		case wire.ResBuckets:
			p.buckets(w, r, rt)
		case wire.ResObjects:
			p.redirect(w, r, rt)
		}
	})
}

func (p *Proxy) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := wire.StatusOf(err)
	if status >= 500 {
		p.log.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	server.WriteError(w, r, p.cfg.ID, err)
}

// health answers 200 once the cluster map has at least one target.
func (p *Proxy) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p.writeError(w, r, server.ErrMethod(r))
		return
	}
	if len(p.smap.Load().ActiveTargets()) == 0 {
		p.writeError(w, r, cluster.Errorf(cluster.ErrUnavailable, "proxy %s: no targets have joined yet", p.cfg.ID))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// daemon serves GET /v1/daemon?what=smap|bmd|stats.
func (p *Proxy) daemon(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		p.writeError(w, r, server.ErrMethod(r))
		return
	}
	switch what := r.URL.Query().Get(wire.QparamWhat); what {
	case wire.WhatSmap:
		server.WriteJSON(w, p.smap.Load())
	case wire.WhatBMD:
		server.WriteJSON(w, p.bmd.Load())
	case wire.WhatStats:
		tp := p.cfg.Tracing
		server.WriteJSON(w, wire.NodeStats{
			ID: p.cfg.ID, Role: cluster.RoleProxy,
			SmapVersion: p.smap.Load().Version, BMDVersion: p.bmd.Load().Version,
			SpansExported: tp.Exported(), SpansDropped: tp.Dropped(), TracingEnabled: tp.Enabled(),
			UptimeSeconds: int64(time.Since(p.started).Seconds()),
		})
	default:
		p.writeError(w, r, cluster.Errorf(cluster.ErrBadRequest, "unknown %s=%q (want smap, bmd or stats)", wire.QparamWhat, what))
	}
}

// redirect answers an object request with a 307 to the owning target. The
// Location keeps the path and query, adds pid and utm, and carries this
// span's trace context.
func (p *Proxy) redirect(w http.ResponseWriter, r *http.Request, rt server.Route) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
	default:
		p.writeError(w, r, server.ErrMethod(r))
		return
	}
	if p.bmd.Load().Get(rt.Bucket) == nil {
		p.writeError(w, r, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", rt.Bucket))
		return
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
	tracing.InjectQuery(ctx, p.cfg.Tracing.Propagator(), q)
	loc := t.URL() + r.URL.EscapedPath() + "?" + q.Encode()
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusTemporaryRedirect)
}
