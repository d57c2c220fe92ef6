package target

import (
	"net/http"
	"strconv"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// checkRoute verifies how an object request reached this target. A request
// redirected by the proxy (pid and utm in its query) is trusted: the proxy
// routed it with the authoritative map. A request routed by the client
// itself carries api.QparamSmap, the version of the map it was routed with;
// it is served only when that version equals this target's map version and
// this target is the object's HRW owner, and otherwise refused with an
// error wrapping cluster.ErrNotOwner (421), so that the client refreshes its
// map. PUT and DELETE must come one way or the other; GET and HEAD may also
// come with neither (a client that addresses the target on purpose).
func (t *Target) checkRoute(r *http.Request, rt server.Route) error {
	q := r.URL.Query()
	if q.Get(wire.QparamProxyID) != "" && q.Get(wire.QparamUnixTime) != "" {
		return nil
	}
	sv := q.Get(wire.QparamSmap)
	if sv == "" {
		if r.Method == http.MethodPut || r.Method == http.MethodDelete {
			return cluster.Errorf(cluster.ErrBadRequest, "%s %s: expected to be redirected by the proxy (no %s/%s) or routed with a cluster map (no %s)",
				r.Method, r.URL.Path, wire.QparamProxyID, wire.QparamUnixTime, wire.QparamSmap)
		}
		return nil
	}
	v, err := strconv.ParseInt(sv, 10, 64)
	if err != nil {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed %s=%q", wire.QparamSmap, sv)
	}
	smap := t.smap.Load()
	if v != smap.Version {
		return cluster.Errorf(cluster.ErrNotOwner, "target %s: routed with cluster map v%d, this target has v%d", t.cfg.ID, v, smap.Version)
	}
	owner, err := smap.Owner(rt.Bucket.Uname(rt.Object))
	if owner == nil {
		return err
	}
	if owner.ID != t.cfg.ID {
		return cluster.Errorf(cluster.ErrNotOwner, "target %s: %s/%s belongs to %s (cluster map v%d)", t.cfg.ID, rt.Bucket, rt.Object, owner.ID, v)
	}
	return nil
}
