package target

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
)

// hdrLocalOnly on a GET or HEAD asks a target to answer from its own
// mountpaths only; targets set it when they ask each other.
const hdrLocalOnly = "Ais-Local-Only"

// fromNeighbors serves a GET, HEAD or DELETE that missed locally from (or
// on) another target: while a rebalance moves objects to their new owner,
// the owner finds them where they still are, and a DELETE removes the copy
// that has not moved yet, so that the move cannot bring it back. Only the HRW owner asks (a target asked
// directly for an object it does not own answers 404 as before), and the
// targets it asks answer from their own disks. It reports whether it served
// the request.
func (t *Target) fromNeighbors(w http.ResponseWriter, r *http.Request, rt server.Route) bool {
	if r.Header.Get(hdrLocalOnly) != "" {
		return false
	}
	smap := t.smap.Load()
	if owner, _ := smap.Owner(rt.Bucket.Uname(rt.Object)); owner == nil || owner.ID != t.cfg.ID {
		return false
	}
	for _, n := range smap.ActiveTargets() {
		if n.ID == t.cfg.ID {
			continue
		}
		u := n.URL() + r.URL.EscapedPath() + "?" + wire.QparamProvider + "=" + rt.Bucket.Provider
		if r.Method == http.MethodDelete {
			// A target refuses a DELETE nobody routed: this one did.
			u += "&" + wire.QparamProxyID + "=" + t.cfg.ID + "&" + wire.QparamUnixTime + "=" + strconv.FormatInt(time.Now().UnixNano(), 36)
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, u, nil)
		if err != nil {
			return false
		}
		req.Header.Set(hdrLocalOnly, "true")
		if rg := r.Header.Get("Range"); rg != "" {
			req.Header.Set("Range", rg)
		}
		resp, err := t.httpc.Do(req)
		if err != nil {
			continue
		}
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			continue
		}
		h := w.Header()
		for k, v := range resp.Header {
			switch {
			case strings.HasPrefix(k, "Ais-"), k == "Content-Length", k == "Content-Range", k == "Content-Type", k == "Accept-Ranges":
				h[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		if r.Method != http.MethodHead {
			io.Copy(w, resp.Body)
		}
		resp.Body.Close()
		t.log.DebugContext(r.Context(), "served from a neighbor", "bucket", rt.Bucket.String(), "object", rt.Object, "from", n.ID)
		return true
	}
	return false
}
