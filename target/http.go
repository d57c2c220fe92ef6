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

// spanName names the server span of each request before routing.
func spanName(r *http.Request) string { return server.SpanName(r) }

// router returns the target's v1 API handler.
func (t *Target) router() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.inFlight.Add(1)
		defer t.inFlight.Add(-1)
		rt, err := server.ParseRoute(r)
		if err != nil {
			t.writeError(w, r, err)
			return
		}
		if rt.Bucket.Name != "" {
			span := trace.SpanFromContext(r.Context())
			if span.IsRecording() {
				span.SetAttributes(attribute.String("ais.bucket", rt.Bucket.String()), attribute.String("ais.node_id", t.cfg.ID))
				if rt.Object != "" {
					span.SetAttributes(attribute.String("ais.object", rt.Object))
				}
			}
		}
		switch rt.Resource {
		case wire.ResHealth:
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				t.writeError(w, r, server.ErrMethod(r))
				return
			}
			w.WriteHeader(http.StatusOK)
		case wire.ResDaemon:
			t.daemon(w, r)
		case wire.ResBuckets:
			t.buckets(w, r, rt)
		case wire.ResObjects:
			t.objects(w, r, rt)
		}
	})
}

func (t *Target) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := wire.StatusOf(err)
	if status >= 500 {
		t.log.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	server.WriteError(w, r, t.cfg.ID, err)
}

// daemon serves GET /v1/daemon?what=smap|bmd|stats.
func (t *Target) daemon(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		t.writeError(w, r, server.ErrMethod(r))
		return
	}
	switch what := r.URL.Query().Get(wire.QparamWhat); what {
	case wire.WhatSmap:
		server.WriteJSON(w, t.smap.Load())
	case wire.WhatBMD:
		server.WriteJSON(w, t.bmd.Load())
	case wire.WhatStats:
		tp := t.cfg.Tracing
		server.WriteJSON(w, wire.NodeStats{
			ID: t.cfg.ID, Role: cluster.RoleTarget,
			SmapVersion: t.smap.Load().Version, BMDVersion: t.bmd.Load().Version,
			SpansExported: tp.Exported(), SpansDropped: tp.Dropped(), TracingEnabled: tp.Enabled(),
			UptimeSeconds: int64(time.Since(t.started).Seconds()),
			InFlight:      t.inFlight.Load(),
		})
	default:
		t.writeError(w, r, cluster.Errorf(cluster.ErrBadRequest, "unknown %s=%q (want smap, bmd or stats)", wire.QparamWhat, what))
	}
}

// buckets serves HEAD and GET (this target's part of a listing) of
// /v1/buckets/B; bucket changes go through the proxy.
func (t *Target) buckets(w http.ResponseWriter, r *http.Request, rt server.Route) {
	if rt.Bucket.Name == "" {
		t.writeError(w, r, cluster.Errorf(cluster.ErrBadRequest, "list buckets through the proxy"))
		return
	}
	props := t.bmd.Load().Get(rt.Bucket)
	switch r.Method {
	case http.MethodHead:
		if props == nil {
			t.writeError(w, r, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", rt.Bucket))
			return
		}
		b, _ := json.Marshal(props)
		w.Header().Set(wire.HdrBucketProps, string(b))
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		msg, err := server.ReadAction(r)
		if err == nil && msg.Action != "" && msg.Action != wire.ActList {
			err = cluster.Errorf(cluster.ErrBadRequest, "unknown action %q", msg.Action)
		}
		var lso wire.ListObjsMsg
		if err == nil {
			lso, err = msg.ListMsg()
		}
		if err != nil {
			t.writeError(w, r, err)
			return
		}
		res, err := t.listPage(r.Context(), rt.Bucket, lso)
		if err != nil {
			t.writeError(w, r, err)
			return
		}
		if err := server.WriteListing(w, r, res); err != nil {
			t.writeError(w, r, err)
		}
	default:
		t.writeError(w, r, server.ErrMethod(r))
	}
}
