package target

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/tracing"
)

// hdrLocalOnly on a request between targets asks a target to act on its own
// copy only (see checkRoute); targets set it when they ask each other.
const hdrLocalOnly = "Ais-Local-Only"

// fromNeighbors serves a GET, HEAD or DELETE that missed locally from (or
// on) the targets that may still hold the object: while the rebalance
// window is open (window.go), the owner finds an object where it still is,
// and a DELETE removes the copy that has not moved yet. It asks those
// targets in parallel and serves the first that has the object (for a
// DELETE, it reports success if any had it). Outside the window it asks no
// one, except that a target in maintenance asks the object's owner (where
// what it held has moved). It reports whether it served the request.
func (t *Target) fromNeighbors(w http.ResponseWriter, r *http.Request, rt server.Route) bool {
	if r.Header.Get(hdrLocalOnly) != "" {
		return false
	}
	ids := t.win.peers()
	smap := t.smap.Load()
	if outOfPlacement(smap, t.cfg.ID) {
		// In maintenance: what this target held has moved to its owner.
		if owner, _ := smap.Owner(rt.Bucket.Uname(rt.Object)); owner != nil && !slices.Contains(ids, owner.ID) {
			ids = append(ids, owner.ID)
		}
	}
	if len(ids) == 0 {
		return false
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	type answer struct {
		resp *http.Response
		from string
	}
	answers := make(chan answer, len(ids))
	asked := 0
	for _, id := range ids {
		n := smap.Targets[id]
		if n == nil || n.Down() {
			continue
		}
		asked++
		go func() {
			u := n.URL() + r.URL.EscapedPath() + "?" + wire.QparamProvider + "=" + rt.Bucket.Provider
			// A peer that does not have it answers 404: expected, not an error.
			req, err := http.NewRequestWithContext(tracing.ExpectStatus(ctx, http.StatusNotFound), r.Method, u, nil)
			if err != nil {
				answers <- answer{}
				return
			}
			req.Header.Set(hdrLocalOnly, "true")
			if rg := r.Header.Get("Range"); rg != "" {
				req.Header.Set("Range", rg)
			}
			resp, err := t.httpc.Do(req)
			if err != nil {
				answers <- answer{}
				return
			}
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				answers <- answer{}
				return
			}
			answers <- answer{resp, n.ID}
		}()
	}
	var won *answer
	deleted := false
	got := 0
	for got < asked && won == nil {
		a := <-answers
		got++
		switch {
		case a.resp == nil:
		case r.Method == http.MethodDelete:
			a.resp.Body.Close()
			deleted = true
		default:
			won = &a
		}
	}
	// Serve the first; the other requests are cancelled with ctx, and
	// whatever they still answer is closed.
	go func(left int) {
		for range left {
			if a := <-answers; a.resp != nil {
				a.resp.Body.Close()
			}
		}
	}(asked - got)
	if r.Method == http.MethodDelete {
		if deleted {
			w.WriteHeader(http.StatusOK)
		}
		return deleted
	}
	if won == nil {
		return false
	}
	defer won.resp.Body.Close()
	h := w.Header()
	for k, v := range won.resp.Header {
		switch {
		case strings.HasPrefix(k, "Ais-"), k == "Content-Length", k == "Content-Range", k == "Content-Type", k == "Accept-Ranges":
			h[k] = v
		}
	}
	w.WriteHeader(won.resp.StatusCode)
	if r.Method != http.MethodHead {
		if _, err := io.Copy(w, won.resp.Body); err != nil {
			t.log.WarnContext(r.Context(), "neighbor GET cut short", "from", won.from, "err", err)
		}
	}
	t.log.DebugContext(r.Context(), "served from a neighbor", "bucket", rt.Bucket.String(), "object", rt.Object, "from", won.from)
	return true
}
