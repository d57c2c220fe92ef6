package server

import (
	"net/http"

	"miniais/api/wire"
	"miniais/cluster"
)

// operationParams are the query parameters and headers that turn an object
// request into another operation (a copy, an append, a multipart part, an
// archive member). Surface lists them as implemented, so Strict lets them
// through on every route; a route that does not take one must refuse it,
// since ignoring it would do something else than the client asked (a
// DELETE with uploadId is an abort, not a delete).
var operationParams = []string{
	wire.QparamObjectTo, wire.QparamAppendType, wire.QparamAppendHandle, wire.QparamArchpath,
	wire.QparamArchmime, wire.QparamUploadID, wire.QparamPartNumber, wire.QparamUploads,
	wire.QparamBckTo, // a bucket copy's or rename's: never an object request's
}

// CheckOperation refuses, with an error wrapping cluster.ErrBadRequest, a
// request that carries an operation parameter (object_to, append_type,
// archpath, uploadId, ...) or the Ais-Pine header that is not among takes.
// It reads only the URL and the headers.
func CheckOperation(r *http.Request, takes ...string) error {
	for _, p := range operationParams {
		if QueryHas(r.URL.RawQuery, p) && !contains(takes, p) {
			return cluster.Errorf(cluster.ErrBadRequest, "query parameter %q does not apply to this request (%s %s)", p, r.Method, r.URL.Path)
		}
	}
	if _, ok := r.Header[wire.HdrPine]; ok && !contains(takes, wire.HdrPine) {
		return cluster.Errorf(cluster.ErrBadRequest, "header %s applies only to an archive PUT (with %s)", wire.HdrPine, wire.QparamArchpath)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
