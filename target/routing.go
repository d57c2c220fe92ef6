package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
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
//     ErrNotOwner) naming the owner, so that the client re-routes; one that
//     a proxy redirected here gets a 307 back to that proxy instead
//     (reroute), since its client follows redirects.
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
	owner, err := smap.ObjectOwner(rt.Bucket, rt.Object)
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
	q := rawQuery(r.URL.RawQuery)
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
	if !mine && !write && outOfPlacement(smap, t.cfg.ID) {
		// A target in maintenance keeps serving reads of what has not moved
		// yet, and finds what has at its owner (neighbor.go).
		return nil
	}
	if !mine && q.Get(wire.QparamSmap) == "" && q.Get(wire.QparamProxyID) != "" {
		// The proxy publishes a map before it pushes it: a request it
		// routed by a map this target has not received yet waits for it.
		smap, owner, mine = t.awaitOwner(r.Context(), smap, rt.Bucket.Uname(rt.Object))
	}
	if !mine && !write && outOfPlacement(smap, t.cfg.ID) {
		return nil // in maintenance under the newer map (above)
	}
	if !mine {
		return cluster.Errorf(cluster.ErrNotOwner, "target %s: %s/%s belongs to target %s (cluster map v%d)", t.cfg.ID, rt.Bucket, rt.Object, owner.ID, smap.Version)
	}
	return nil
}

// reroute answers a request that a proxy redirected here, and that
// checkRoute refused as not this target's (err wraps cluster.ErrNotOwner:
// the map changed after the redirect, and no newer map made it ours), with
// a 307 back to that proxy, which routes it again by its current map; it
// reports whether it did. A client that follows redirects (re-sending the
// body, as it did for the proxy's) then sees one more hop where it would
// have seen a 421; nothing was read or written here. A request routed by
// the client itself (wire.QparamSmap), or sent by a node (a proxy relaying
// an S3 request, a neighbour), still gets the 421: those re-route
// themselves.
func (t *Target) reroute(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, cluster.ErrNotOwner) || r.Header.Get(wire.HdrCallerName) != "" {
		return false
	}
	q := rawQuery(r.URL.RawQuery)
	if q.Get(wire.QparamSmap) != "" {
		return false
	}
	p := t.smap.Load().Proxies[q.Get(wire.QparamProxyID)]
	if p == nil {
		return false
	}
	vals := r.URL.Query()
	vals.Del(wire.QparamProxyID)
	vals.Del(wire.QparamUnixTime)
	loc := p.URL() + r.URL.EscapedPath()
	if enc := vals.Encode(); enc != "" {
		loc += "?" + enc
	}
	t.log.DebugContext(r.Context(), "re-routed through the proxy", "method", r.Method, "path", r.URL.Path, "proxy", p.ID, "why", err)
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// mapWait bounds how long a request the proxy routed to this target waits
// for the cluster map that makes this target the owner.
const mapWait = 3 * time.Second

// awaitOwner waits, up to mapWait, for a cluster map newer than smap; it
// returns the newest map seen, the owner of uname under it, and whether
// that is this target.
func (t *Target) awaitOwner(ctx context.Context, smap *cluster.Map, uname string) (*cluster.Map, *cluster.Node, bool) {
	timer := time.NewTimer(mapWait)
	defer timer.Stop()
	owner, _ := smap.Owner(uname)
	for {
		seen := t.mapSeen.wait()
		if cur := t.smap.Load(); cur.Version > smap.Version {
			smap = cur
			if o, _ := smap.Owner(uname); o != nil {
				owner = o
			}
			return smap, owner, owner != nil && owner.ID == t.cfg.ID
		}
		select {
		case <-seen:
		case <-timer.C:
			return smap, owner, false
		case <-ctx.Done():
			return smap, owner, false
		}
	}
}

// outOfPlacement reports whether target id is in smap and in maintenance.
func outOfPlacement(smap *cluster.Map, id string) bool {
	n := smap.Targets[id]
	return n != nil && n.InMaintenance()
}

// signal lets goroutines wait for the next occurrence of an event. Its
// methods are safe for concurrent use.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next bump.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// bump wakes every waiter.
func (s *signal) bump() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// checkRedirect verifies the pid and utm of a proxy's redirect against smap.
func checkRedirect(smap *cluster.Map, q rawQuery) error {
	pid, utm := q.Get(wire.QparamProxyID), q.Get(wire.QparamUnixTime)
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

// rawQuery is a request's raw query, read one parameter at a time without
// parsing the whole of it into url.Values (server.QueryGet).
type rawQuery string

// Get returns the first value of key, as url.Values.Get would.
func (q rawQuery) Get(key string) string { return server.QueryGet(string(q), key) }
