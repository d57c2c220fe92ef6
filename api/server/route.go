package server

import (
	"net/http"
	"strings"

	"miniais/api/wire"
	"miniais/cluster"
)

// Route is a parsed and validated v1 request path.
type Route struct {
	// Resource is one of the Res* constants.
	Resource string
	// Bucket is set for bucket and object requests (Name is empty for
	// "/v1/buckets" itself).
	Bucket cluster.Bucket
	// Object is the object name for object requests: the rest of the path
	// after the bucket, URL-decoded; it may contain '/'.
	Object string
}

// ParseRoute parses and validates r's path and provider query. The error
// wraps cluster.ErrNotFound for an unknown resource and cluster.ErrBadName
// for a bad bucket or object name or provider, so that StatusOf maps it.
func ParseRoute(r *http.Request) (Route, error) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		return Route{}, cluster.Errorf(cluster.ErrNotFound, "unknown path %q", r.URL.Path)
	}
	res, rest, _ := strings.Cut(rest, "/")
	rt := Route{Resource: res}
	switch res {
	case wire.ResHealth, wire.ResDaemon:
		if rest != "" {
			return Route{}, cluster.Errorf(cluster.ErrNotFound, "unknown path %q", r.URL.Path)
		}
		return rt, nil
	case wire.ResBuckets, wire.ResObjects:
	default:
		return Route{}, cluster.Errorf(cluster.ErrNotFound, "unknown path %q", r.URL.Path)
	}
	bname, obj, hasObj := strings.Cut(rest, "/")
	rt.Bucket = cluster.Bucket{Provider: r.URL.Query().Get(wire.QparamProvider), Name: bname}
	if rt.Bucket.Provider == "" {
		rt.Bucket.Provider = cluster.ProviderAIS
	}
	if res == wire.ResBuckets {
		if hasObj && obj != "" {
			return Route{}, cluster.Errorf(cluster.ErrBadName, "bucket path %q has extra segments", r.URL.Path)
		}
		if bname == "" {
			return rt, nil
		}
		return rt, rt.Bucket.Validate()
	}
	if err := rt.Bucket.Validate(); err != nil {
		return Route{}, err
	}
	if err := cluster.ValidateObjectName(obj); err != nil {
		return Route{}, err
	}
	rt.Object = obj
	return rt, nil
}

// SpanName returns the low-cardinality name of the server span of a v1
// request, e.g. "PUT /v1/objects/{bucket}/{object...}". It does not
// allocate.
func SpanName(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v1/objects/"):
		switch r.Method {
		case http.MethodGet:
			return "GET /v1/objects/{bucket}/{object...}"
		case http.MethodPut:
			return "PUT /v1/objects/{bucket}/{object...}"
		case http.MethodHead:
			return "HEAD /v1/objects/{bucket}/{object...}"
		case http.MethodDelete:
			return "DELETE /v1/objects/{bucket}/{object...}"
		}
		return "OTHER /v1/objects/{bucket}/{object...}"
	case strings.HasPrefix(p, "/v1/buckets/") && len(p) > len("/v1/buckets/"):
		switch r.Method {
		case http.MethodGet:
			return "GET /v1/buckets/{bucket}"
		case http.MethodPost:
			return "POST /v1/buckets/{bucket}"
		case http.MethodHead:
			return "HEAD /v1/buckets/{bucket}"
		case http.MethodDelete:
			return "DELETE /v1/buckets/{bucket}"
		case http.MethodPatch:
			return "PATCH /v1/buckets/{bucket}"
		}
		return "OTHER /v1/buckets/{bucket}"
	case p == "/v1/buckets" || p == "/v1/buckets/":
		if r.Method == http.MethodGet {
			return "GET /v1/buckets"
		}
		return "OTHER /v1/buckets"
	case p == "/v1/health":
		return "GET /v1/health"
	case p == "/v1/daemon":
		return "GET /v1/daemon"
	}
	return "unknown route"
}
