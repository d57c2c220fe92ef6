package server

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
)

// Route is a request's bucket and object, taken from the path wildcards
// {bucket} and {object...} of the pattern that matched it and validated.
type Route struct {
	// Bucket is set for bucket and object requests (its Name is empty for
	// "/v1/buckets" itself).
	Bucket cluster.Bucket
	// Object is the object name of an object request: the rest of the path
	// after the bucket, URL-decoded; it may contain '/'.
	Object string
}

// Mux is a node's v1 router: a net/http.ServeMux with method and wildcard
// patterns, so that r.Pattern names the route (the server span's name and
// http.route). Around the ServeMux it
//   - refuses a path that is not clean ("..", ".", "//") with 400 instead of
//     the ServeMux's redirect, so that no name is ever rewritten;
//   - answers an unknown path with a JSON 404 and a known path with the
//     wrong method with a JSON 405 (AIStore's error shape);
//   - refuses query parameters and headers that Surface lists as refused,
//     with 501, before any handler runs (see Strict).
//
// Handlers get a validated Route from RouteOf.
type Mux struct {
	mux    *http.ServeMux
	nodeID string
	paths  map[string]bool // method-less patterns that have a 405 fallback
}

// NewMux returns an empty router for node nodeID.
func NewMux(nodeID string) *Mux {
	m := &Mux{mux: http.NewServeMux(), nodeID: nodeID, paths: map[string]bool{}}
	m.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, nodeID, cluster.Errorf(cluster.ErrNotFound, "unknown path %q", r.URL.Path))
	})
	// Without this, the ServeMux would redirect to ".../{bucket}/".
	m.mux.HandleFunc(wire.PathObjects+"/{bucket}", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, nodeID, cluster.Errorf(cluster.ErrBadName, "%s: no object name", r.URL.Path))
	})
	return m
}

// HandleFunc registers h for pattern, which must have a method
// ("PUT /v1/objects/{bucket}/{object...}"). A request that matches the path
// with another method gets 405.
func (m *Mux) HandleFunc(pattern string, h http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" {
		panic("server: pattern without a method: " + pattern)
	}
	m.mux.Handle(pattern, named(h))
	if !m.paths[path] {
		m.paths[path] = true
		m.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, r, m.nodeID, ErrMethod(r))
		})
	}
}

// named sets the server span's name and http.route to the matched pattern.
func named(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(r.Pattern)
			span.SetAttributes(attribute.String("http.route", r.Pattern))
		}
		h(w, r)
	})
}

// ServeHTTP routes r.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !cleanPath(r.URL.Path) {
		WriteError(w, r, m.nodeID, cluster.Errorf(cluster.ErrBadName, "path %q is not clean (no '.', '..' or empty segments)", r.URL.Path))
		return
	}
	if err := Strict(r); err != nil {
		WriteError(w, r, m.nodeID, err)
		return
	}
	m.mux.ServeHTTP(w, r)
}

// cleanPath reports whether p has no ".", ".." or empty segments (a trailing
// '/' is allowed: it ends a virtual directory's name).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for rest := p[1:]; rest != ""; {
		seg, tail, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." || (seg == "" && more) {
			return false
		}
		rest = tail
	}
	return true
}

// SpanName is the server span's name before routing; the route's handler
// renames the span to its pattern.
func SpanName(r *http.Request) string { return r.Method }

// Quiet tells whether r is background chatter rather than an operation: a
// health check, a metrics scrape, or a node's stats, status or metrics
// query (what monitoring polls). Nodes give such a request no span of its
// own (tracing.WithQuiet): it is traced only as part of a sampled
// operation.
func Quiet(r *http.Request) bool {
	switch r.URL.Path {
	case wire.PathHealth, PathMetrics, PathMetricsTargets:
		return true
	case wire.PathDaemon:
		if r.Method != http.MethodGet {
			return false
		}
		switch QueryGet(r.URL.RawQuery, wire.QparamWhat) {
		case wire.WhatStats, wire.WhatNodeStatus, WhatMetrics:
			return true
		}
	}
	return false
}

// PathMetrics is where every node serves its Prometheus metrics.
const PathMetrics = "/metrics"

// PathMetricsTargets is where the proxy lists every node's /metrics for
// Prometheus' HTTP service discovery (http_sd_configs), from its cluster
// map: a target that joins is scraped from the next refresh on.
const PathMetricsTargets = "/metrics/targets"

// WhatMetrics is GET /v1/daemon?what=metrics: the node's metric names and
// their kinds (AIStore's "ais show performance" reads it).
const WhatMetrics = "metrics"

// RouteOf returns the validated bucket and object of a request routed by a
// pattern with {bucket} and, for objects, {object...}. The error wraps
// cluster.ErrBadName, or cluster.ErrNotImplemented for a provider other than
// ais.
func RouteOf(r *http.Request) (Route, error) {
	provider := QueryGet(r.URL.RawQuery, wire.QparamProvider)
	if provider == "" {
		provider = cluster.ProviderAIS
	}
	if provider != cluster.ProviderAIS {
		return Route{}, cluster.Errorf(cluster.ErrNotImplemented, "provider %q: only ais:// buckets are implemented", provider)
	}
	rt := Route{Bucket: cluster.Bucket{Provider: provider, Name: r.PathValue("bucket")}}
	if rt.Bucket.Name == "" {
		return rt, nil
	}
	if err := rt.Bucket.Validate(); err != nil {
		return Route{}, err
	}
	if !strings.Contains(r.Pattern, "{object...}") {
		return rt, nil
	}
	rt.Object = r.PathValue("object")
	if err := cluster.ValidateObjectName(rt.Object); err != nil {
		return Route{}, err
	}
	return rt, nil
}
