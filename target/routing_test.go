package target

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// TestCheckRoute covers the target's side of direct routing: a request
// routed with the wrong map version, or to a target that is not the HRW
// owner, is refused with ErrNotOwner; a write needs a fresh redirect by a
// proxy of the map; between targets only copies are read or deleted.
func TestCheckRoute(t *testing.T) {
	m := cluster.NewMap("u", cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:1", "127.0.0.1:2"))
	for _, id := range []string{"t1", "t2", "t3"} {
		m.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:3", "127.0.0.1:4")
	}
	m.Version = 7
	m.Proxies["p1"] = m.Primary
	bck := cluster.NewBucket("b")
	// Find an object t1 owns and one it does not.
	var mine, theirs string
	for i := 0; mine == "" || theirs == ""; i++ {
		name := fmt.Sprintf("obj-%d", i)
		n, _ := m.Owner(bck.Uname(name))
		if n.ID == "t1" && mine == "" {
			mine = name
		} else if n.ID != "t1" && theirs == "" {
			theirs = name
		}
	}
	tg := &Target{cfg: Config{ID: "t1"}}
	tg.smap.Store(m)

	fresh := "pid=p1&utm=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	stale := "pid=p1&utm=" + strconv.FormatInt(time.Now().Add(-2*redirectTTL).UnixNano(), 36)
	tests := []struct {
		name, method, object, query string
		localOnly                   bool
		want                        error
	}{
		{"direct put, owner, same version", http.MethodPut, mine, "smap=7", false, nil},
		{"direct get, owner, same version", http.MethodGet, mine, "smap=7", false, nil},
		{"direct put, stale version", http.MethodPut, mine, "smap=6", false, cluster.ErrNotOwner},
		{"direct put, newer version", http.MethodPut, mine, "smap=8", false, cluster.ErrNotOwner},
		{"direct put, not the owner", http.MethodPut, theirs, "smap=7", false, cluster.ErrNotOwner},
		{"direct get, not the owner", http.MethodGet, theirs, "smap=7", false, cluster.ErrNotOwner},
		{"direct delete, not the owner", http.MethodDelete, theirs, "smap=7", false, cluster.ErrNotOwner},
		{"malformed version", http.MethodPut, mine, "smap=x", false, cluster.ErrBadRequest},
		{"put with neither", http.MethodPut, mine, "", false, cluster.ErrBadRequest},
		{"delete with neither", http.MethodDelete, mine, "", false, cluster.ErrBadRequest},
		{"get with neither, owner", http.MethodGet, mine, "", false, nil},
		{"get with neither, not the owner", http.MethodGet, theirs, "", false, cluster.ErrNotOwner},
		{"redirected put, owner", http.MethodPut, mine, fresh, false, nil},
		{"redirected put, not the owner", http.MethodPut, theirs, fresh, false, cluster.ErrNotOwner},
		{"redirect by a stranger", http.MethodPut, mine, "pid=x&utm=" + strconv.FormatInt(time.Now().UnixNano(), 36), false, cluster.ErrBadRequest},
		{"stale redirect", http.MethodPut, mine, stale, false, cluster.ErrBadRequest},
		{"malformed utm", http.MethodPut, mine, "pid=p1&utm=!", false, cluster.ErrBadRequest},
		{"local-only get of a copy", http.MethodGet, theirs, "", true, nil},
		{"local-only delete of a copy", http.MethodDelete, theirs, "", true, nil},
		{"local-only delete of the owner's object", http.MethodDelete, mine, fresh, true, cluster.ErrBadRequest},
		{"local-only put", http.MethodPut, theirs, fresh, true, cluster.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/v1/objects/b/"+tt.object+"?provider=ais&"+tt.query, nil)
			if tt.localOnly {
				r.Header.Set(hdrLocalOnly, "true")
			}
			err := tg.checkRoute(r, server.Route{Bucket: bck, Object: tt.object})
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("checkRoute: %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("checkRoute: %v, want %v", err, tt.want)
			}
			if errors.Is(tt.want, cluster.ErrNotOwner) && wire.StatusOf(err) != http.StatusMisdirectedRequest {
				t.Errorf("status %d, want 421", wire.StatusOf(err))
			}
		})
	}
}
