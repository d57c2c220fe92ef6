package target

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// redirectTTL is how old a proxy's redirect (its utm) may be when it
// reaches a target, and how far in the future (clock skew).
const redirectTTL = time.Minute

// checkRoute decides whether this target may serve an object request, before
// anything is read or written. A target serves only objects it owns under
// its current cluster map, so that nothing stored elsewhere can be served as
// the object:
//
//   - A request routed by the client itself carries wire.QparamSmap, the
//     version of the map it was routed with; it is served when that version
//     is this target's and this target owns the object.
//   - A write (PUT, DELETE, POST) needs that, or a redirect by a proxy of the
//     cluster map: pid names a proxy in the map and utm (the redirect's time,
//     base-36 Unix nanoseconds) is within redirectTTL. Otherwise it is
//     refused with 400 ("expected to be redirected").
//   - A read (GET, HEAD) may also come with neither.
//   - A request for an object another target owns gets 421 (cluster.
//     ErrNotOwner) naming the owner, so that the client re-routes.
//
// Requests between targets (hdrLocalOnly: a neighbour lookup while a
// rebalance moves objects) ask for this target's own copy: a GET or HEAD, or
// a DELETE of a copy this target does not own (the owner removing a copy
// that has not moved yet). Note that pid, utm and hdrLocalOnly are routing
// hints, not guards: anyone who can reach the target can send them. What
// they cannot do is make a non-owner store an object or serve one as the
// owner.
func (t *Target) checkRoute(r *http.Request, rt server.Route) error {
	smap := t.smap.Load()
	owner, err := smap.Owner(rt.Bucket.Uname(rt.Object))
	if owner == nil {
		return err
	}
	mine := owner.ID == t.cfg.ID
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if r.Header.Get(hdrLocalOnly) != "" {
		switch {
		case !write:
			return nil
		case r.Method == http.MethodDelete && !mine:
			return nil
		}
		return cluster.Errorf(cluster.ErrBadRequest, "%s %s: %s applies to GET, HEAD, and DELETE of a copy this target does not own", r.Method, r.URL.Path, hdrLocalOnly)
	}
	q := r.URL.Query()
	if sv := q.Get(wire.QparamSmap); sv != "" {
		v, err := strconv.ParseInt(sv, 10, 64)
		if err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "malformed %s=%q", wire.QparamSmap, sv)
		}
		if v != smap.Version {
			return cluster.Errorf(cluster.ErrNotOwner, "target %s: routed with cluster map v%d, this target has v%d", t.cfg.ID, v, smap.Version)
		}
	} else if write {
		if err := checkRedirect(smap, q); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "%s %s: expected to be redirected by a proxy or routed with a cluster map (%s): %v",
				r.Method, r.URL.Path, wire.QparamSmap, err)
		}
	}
	if !mine {
		return cluster.Errorf(cluster.ErrNotOwner, "target %s: %s/%s belongs to target %s (cluster map v%d)", t.cfg.ID, rt.Bucket, rt.Object, owner.ID, smap.Version)
	}
	return nil
}

// checkRedirect verifies the pid and utm of a proxy's redirect against smap.
func checkRedirect(smap *cluster.Map, q map[string][]string) error {
	pid, utm := first(q[wire.QparamProxyID]), first(q[wire.QparamUnixTime])
	if pid == "" || utm == "" {
		return fmt.Errorf("no %s and %s", wire.QparamProxyID, wire.QparamUnixTime)
	}
	if smap.Proxies[pid] == nil {
		return fmt.Errorf("%s=%q is not a proxy of cluster map v%d", wire.QparamProxyID, pid, smap.Version)
	}
	ns, err := strconv.ParseInt(utm, 36, 64)
	if err != nil {
		return fmt.Errorf("malformed %s=%q", wire.QparamUnixTime, utm)
	}
	if age := time.Since(time.Unix(0, ns)); age > redirectTTL || age < -redirectTTL {
		return fmt.Errorf("the redirect is %v old (at most %v)", age.Round(time.Millisecond), redirectTTL)
	}
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
