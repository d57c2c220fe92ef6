package server

import (
	"net/http"
	"strconv"

	"miniais/api/wire"
	"miniais/cluster"
)

// LimitConcurrency wraps h so that at most n requests run at once; beyond
// that a request is refused at once with 503 and a Retry-After header
// (seconds), never queued. Health checks and metric scrapes always pass
// (a busy node must still say so). n <= 0 returns h.
// The returned handler is safe for concurrent use.
func LimitConcurrency(h http.Handler, n int, nodeID string, retryAfter int) http.Handler {
	if n <= 0 {
		return h
	}
	slots := make(chan struct{}, n)
	ra := strconv.Itoa(max(retryAfter, 1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathHealth || r.URL.Path == PathMetrics {
			h.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", ra)
			WriteError(w, r, nodeID, cluster.Errorf(cluster.ErrUnavailable, "node %s is busy: %d requests in flight", nodeID, n))
			return
		}
		defer func() { <-slots }()
		h.ServeHTTP(w, r)
	})
}
