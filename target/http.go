package target

import (
	"encoding/json"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api"
	"miniais/cluster"
)

// spanName names the server span of each request before routing.
func spanName(r *http.Request) string { return api.SpanName(r) }

// router returns the target's v1 API handler.
func (t *Target) router() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.inFlight.Add(1)
		defer t.inFlight.Add(-1)
		rt, err := api.ParseRoute(r)
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
		case api.ResHealth:
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				t.writeError(w, r, api.ErrMethod(r))
				return
			}
			w.WriteHeader(http.StatusOK)
		case api.ResDaemon:
			t.daemon(w, r)
		case api.ResBuckets:
			t.buckets(w, r, rt)
		case api.ResObjects:
			t.objects(w, r, rt)
		}
	})
}

func (t *Target) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := api.StatusOf(err)
	if status >= 500 {
		t.log.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	api.WriteError(w, r, t.cfg.ID, err)
}

// daemon serves GET /v1/daemon?what=smap|bmd|stats.
func (t *Target) daemon(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		t.writeError(w, r, api.ErrMethod(r))
		return
	}
	switch what := r.URL.Query().Get(api.QparamWhat); what {
	case api.WhatSmap:
		api.WriteJSON(w, t.smap.Load())
	case api.WhatBMD:
		api.WriteJSON(w, t.bmd.Load())
	case api.WhatStats:
		tp := t.cfg.Tracing
		api.WriteJSON(w, api.NodeStats{
			ID: t.cfg.ID, Role: cluster.RoleTarget,
			SmapVersion: t.smap.Load().Version, BMDVersion: t.bmd.Load().Version,
			SpansExported: tp.Exported(), SpansDropped: tp.Dropped(), TracingEnabled: tp.Enabled(),
			UptimeSeconds: int64(time.Since(t.started).Seconds()),
			InFlight:      t.inFlight.Load(),
		})
	default:
		t.writeError(w, r, cluster.Errorf(cluster.ErrBadRequest, "unknown %s=%q (want smap, bmd or stats)", api.QparamWhat, what))
	}
}

// buckets serves HEAD and GET (this target's part of a listing) of
// /v1/buckets/B; bucket changes go through the proxy.
func (t *Target) buckets(w http.ResponseWriter, r *http.Request, rt api.Route) {
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
		w.Header().Set(api.HdrBucketProps, string(b))
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		msg, err := api.ReadAction(r)
		if err == nil && msg.Action != "" && msg.Action != api.ActList {
			err = cluster.Errorf(cluster.ErrBadRequest, "unknown action %q", msg.Action)
		}
		var lso api.ListObjsMsg
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
		if err := api.WriteListing(w, r, res); err != nil {
			t.writeError(w, r, err)
		}
	default:
		t.writeError(w, r, api.ErrMethod(r))
	}
}
