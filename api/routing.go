package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"miniais/api/wire"
	"miniais/cluster"
)

// WithDirectRouting makes the client send object requests (PUT, GET, HEAD,
// DELETE) straight to the target that owns the object, skipping the proxy's
// redirect hop. The client fetches the cluster map from the proxy on first
// use and caches it; each request carries the map's version (QparamSmap).
//
// When a target refuses a request as not its own (421, cluster.ErrNotOwner:
// the map moved, or a target joined), the client refreshes the map and
// retries once with the new map; if the map has not moved (the target is
// the one lagging) or the retry is refused too, it sends the request through
// the proxy, whose redirect the target always accepts. Objects therefore
// always land on the owner of the proxy's current map. When the map cannot
// be fetched, or the owner is flagged down, requests go through the proxy.
func WithDirectRouting() Option {
	return func(c *Client) { c.router = &router{} }
}

// DirectRouting reports whether the client routes object requests itself
// (WithDirectRouting).
func (c *Client) DirectRouting() bool { return c.router != nil }

// CachedMap returns the cluster map a direct-routing client routes with, or
// nil when it has not fetched one yet (or routes through the proxy). The
// caller must not modify it.
func (c *Client) CachedMap() *cluster.Map {
	if c.router == nil {
		return nil
	}
	return c.router.smap.Load()
}

// RefreshMap fetches the proxy's cluster map into a direct-routing client's
// cache and returns it. A client that routes through the proxy just returns
// the proxy's map.
func (c *Client) RefreshMap(ctx context.Context) (*cluster.Map, error) {
	if c.router == nil {
		return c.ClusterMap(ctx)
	}
	return c.router.refresh(ctx, c, -1)
}

// router holds a direct-routing client's cluster map. It is safe for
// concurrent use: the map is swapped atomically and refreshes are
// serialized, so that a burst of refusals fetches the map once.
type router struct {
	smap atomic.Pointer[cluster.Map]
	mu   sync.Mutex // serializes refresh
}

// current returns the cached map, fetching it on first use.
func (r *router) current(ctx context.Context, c *Client) (*cluster.Map, error) {
	if m := r.smap.Load(); m != nil {
		return m, nil
	}
	return r.refresh(ctx, c, 0)
}

// refresh fetches the proxy's map, unless the cached one already differs
// from version stale (another request refreshed it meanwhile); stale -1
// always fetches.
func (r *router) refresh(ctx context.Context, c *Client, stale int64) (*cluster.Map, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.smap.Load(); m != nil && stale >= 0 && m.Version != stale {
		return m, nil
	}
	m, err := c.ClusterMap(ctx)
	if err != nil {
		return nil, fmt.Errorf("refresh the cluster map: %w", err)
	}
	r.smap.Store(m)
	return m, nil
}

// route is where one object request goes: a target's base URL with the map
// version it was chosen with, or the proxy (version 0).
type route struct {
	base    string
	version int64
}

// direct reports whether the route bypasses the proxy.
func (rt route) direct() bool { return rt.version != 0 }

// query returns q with QparamSmap set for a direct route and removed
// otherwise (the proxy keeps the query in its redirect).
func (rt route) query(q url.Values) url.Values {
	if rt.direct() {
		q.Set(wire.QparamSmap, strconv.FormatInt(rt.version, 10))
	} else {
		q.Del(wire.QparamSmap)
	}
	return q
}

// proxyRoute returns the route through the proxy.
func (c *Client) proxyRoute() route { return route{base: c.endpoint} }

// ownerRoute returns the route to the owner of uname in m, or through the
// proxy when m has no usable owner (none, or flagged down).
func (c *Client) ownerRoute(m *cluster.Map, uname string) route {
	if m == nil || m.Version == 0 {
		return c.proxyRoute()
	}
	n, err := m.Owner(uname)
	if err != nil || n.URL() == "" {
		return c.proxyRoute()
	}
	return route{base: n.URL(), version: m.Version}
}

// routed runs op once on the first route of object name in bck and again,
// by the protocol of WithDirectRouting, while a direct route is refused with
// cluster.ErrNotOwner: at most maxDirectAttempts direct attempts, each
// retry with a newer map, then one through the proxy.
// Without direct routing, op runs once through the proxy.
func (c *Client) routed(ctx context.Context, bck cluster.Bucket, name string, op func(route) error) error {
	if c.router == nil {
		return op(c.proxyRoute())
	}
	uname := bck.Uname(name)
	m, err := c.router.current(ctx, c)
	if err != nil {
		m = nil // the proxy will answer with the real error, if any
	}
	rt := c.ownerRoute(m, uname)
	for attempt := 1; ; attempt++ {
		err := op(rt)
		if !rt.direct() || !errors.Is(err, cluster.ErrNotOwner) {
			return err
		}
		fresh, ferr := c.router.refresh(ctx, c, rt.version)
		if ferr != nil || fresh.Version <= rt.version || attempt >= maxDirectAttempts {
			rt = c.proxyRoute()
			continue
		}
		rt = c.ownerRoute(fresh, uname)
	}
}

// maxDirectAttempts bounds the direct attempts of one request before it
// goes through the proxy.
const maxDirectAttempts = 2
