package proxy

import (
	"context"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// The node endpoints of the proxy: GET /v1/daemon?what=...,
// PUT /v1/daemon/set-config, and the relay /v1/reverse/daemon[/...].

// getDaemon serves GET /v1/daemon?what=smap|bmd|config|snode|node_status|
// stats|version. Any other what is refused with 501 naming it (mountpaths:
// a proxy has none, 400).
func (p *Proxy) getDaemon(w http.ResponseWriter, r *http.Request) {
	switch what := r.URL.Query().Get(wire.QparamWhat); what {
	case wire.WhatSmap:
		server.WriteJSON(w, p.smap.Load())
	case wire.WhatBMD:
		server.WriteJSON(w, p.bmd.Load())
	case wire.WhatConfig:
		server.WriteJSON(w, wire.NodeConfig{
			ClusterConfig: p.clusterConfigReply(),
			LocalConfig: wire.LocalConfig{
				FSPaths: map[string]string{}, ConfigDir: p.cfg.DataDir, HostNet: server.HostNetOf(p.self),
			},
		})
	case wire.WhatSnode:
		server.WriteJSON(w, p.snode())
	case wire.WhatNodeStatus:
		smap := p.smap.Load()
		ns := server.NodeStatusOf(p.snode(), smap, p.bmd.Load(), p.clusterConfig(), p.started, server.StateFlags(smap, p.cfg.ID))
		maps.Copy(ns.Tracker, p.cfg.Metrics.Tracker()) // the counters /metrics serves
		server.WriteJSON(w, ns)
	case server.WhatMetrics:
		server.WriteJSON(w, p.cfg.Metrics.Kinds())
	case wire.WhatStats:
		tp := p.cfg.Tracing
		server.WriteJSON(w, wire.NodeStats{
			ID: p.cfg.ID, Role: cluster.RoleProxy,
			SmapVersion: p.smap.Load().Version, BMDVersion: p.bmd.Load().Version,
			SpansExported: tp.Exported(), SpansDropped: tp.Dropped(), TracingEnabled: tp.Enabled(),
			UptimeSeconds: int64(time.Since(p.started).Seconds()),
		})
	case wire.WhatVersion:
		server.WriteJSON(w, wire.BuildInfo{Version: wire.Version})
	case wire.WhatMountpaths:
		p.writeError(w, r, cluster.Errorf(cluster.ErrBadRequest, "proxy %s has no mountpaths", p.cfg.ID))
	default:
		p.writeError(w, r, cluster.Errorf(cluster.ErrNotImplemented, "GET %s?%s=%q is not implemented", wire.PathDaemon, wire.QparamWhat, what))
	}
}

// snode returns the proxy as its cluster map lists it.
func (p *Proxy) snode() *cluster.Node {
	if n := p.smap.Load().Node(p.cfg.ID); n != nil {
		return n
	}
	return p.self
}

// setDaemonConfig serves PUT /v1/daemon/set-config?KEY=VALUE...: it
// changes what this node runs with, at once and until it restarts (or the
// cluster configuration sets the same key); it persists nothing, whatever
// transient says. Keys and refusals are those of setClusterConfig.
func (p *Proxy) setDaemonConfig(w http.ResponseWriter, r *http.Request) {
	if err := server.SetNodeConfig(p.cfg.Tracing, r.URL.Query()); err != nil {
		p.writeError(w, r, err)
		return
	}
	p.log.InfoContext(r.Context(), "node configuration changed", "set", r.URL.RawQuery)
	w.WriteHeader(http.StatusOK)
}

// reverser relays /v1/reverse/daemon requests to other nodes.
type reverser struct {
	once sync.Once
	hc   *http.Client
	rp   *httputil.ReverseProxy
}

// client returns the HTTP client for requests to other nodes: traced
// (each request is a client span, its trace context injected).
func (rv *reverser) client(p *Proxy) *http.Client { rv.init(p); return rv.hc }

func (rv *reverser) init(p *Proxy) {
	rv.once.Do(func() {
		tr := p.cfg.Tracing.Transport(http.DefaultTransport.(*http.Transport).Clone())
		rv.hc = &http.Client{Transport: tr, Timeout: time.Minute}
		rv.rp = &httputil.ReverseProxy{
			Transport: tr,
			Rewrite: func(pr *httputil.ProxyRequest) {
				u := pr.In.Context().Value(reverseTarget{}).(*url.URL)
				pr.Out.URL = u
				pr.Out.Host = u.Host
				pr.Out.Header.Set(wire.HdrCallerName, p.cfg.ID)
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				id := r.Header.Get(wire.HdrNodeID)
				p.writeError(w, r, cluster.Errorf(cluster.ErrUnavailable, "node %s did not answer: %v", id, err))
			},
		}
	})
}

// reverseTarget is the context key of the URL a reverse request goes to.
type reverseTarget struct{}

// reverseDaemon serves /v1/reverse/daemon[/...] (any method): the request
// is for the node named by the Ais-Node-Id header, and goes to it with
// "/reverse" dropped from the path (so that it sees /v1/daemon...), query,
// headers and body as they came; its reply comes back as it is. The
// proxy's span of the request is the parent of the relayed one.
//
// The proxy answers itself when the ID is its own. An ID that the cluster
// map does not list gets 404, a node flagged down 503 naming it, a missing
// header 400.
func (p *Proxy) reverseDaemon(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(wire.HdrNodeID)
	if id == "" {
		p.writeError(w, r, cluster.Errorf(cluster.ErrBadRequest, "%s: no %s header naming the node", r.URL.Path, wire.HdrNodeID))
		return
	}
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("ais.node_id", p.cfg.ID), attribute.String("ais.reverse_to", id))
	path := unreversed(r.URL.Path)
	if id == p.cfg.ID {
		p.serveSelf(w, r, path)
		return
	}
	n := p.smap.Load().Node(id)
	if p.maintenanceStatus(w, r, n) {
		return
	}
	switch {
	case n == nil:
		p.writeError(w, r, cluster.Errorf(cluster.ErrNotFound, "node %q is not in the cluster map v%d (errNodeNotFound)", id, p.smap.Load().Version))
		return
	case n.Down():
		p.writeError(w, r, cluster.Errorf(cluster.ErrUnavailable, "node %s is down: it missed its keepalives", id))
		return
	}
	u, err := url.Parse(n.URL())
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	u.Path, u.RawPath, u.RawQuery = path, "", r.URL.RawQuery
	if r.URL.RawPath != "" {
		u.RawPath = unreversed(r.URL.RawPath)
	}
	p.rev.init(p)
	p.rev.rp.ServeHTTP(w, r.WithContext(contextWithTarget(r, u)))
}

// unreversed drops "/reverse" from a /v1/reverse/... path.
func unreversed(path string) string {
	if rest, ok := strings.CutPrefix(path, wire.PathReverse+"/"); ok {
		return "/v1/" + rest
	}
	return path
}

func contextWithTarget(r *http.Request, u *url.URL) context.Context {
	return context.WithValue(r.Context(), reverseTarget{}, u)
}

// serveSelf answers a reverse request for the proxy itself: the daemon
// queries and set-config; any other path is refused with 501.
func (p *Proxy) serveSelf(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == wire.PathDaemon && r.Method == http.MethodGet:
		p.getDaemon(w, r)
	case path == wire.PathDaemonSetConfig && r.Method == http.MethodPut:
		p.setDaemonConfig(w, r)
	default:
		p.writeError(w, r, cluster.Errorf(cluster.ErrNotImplemented, "%s %s on proxy %s is not implemented", r.Method, path, p.cfg.ID))
	}
}
