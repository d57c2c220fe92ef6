package target

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// TestCheckRoute covers the target's side of direct routing: a request
// routed with the wrong map version, or to a target that is not the HRW
// owner, is refused with ErrNotOwner; proxy redirects are trusted.
func TestCheckRoute(t *testing.T) {
	m := cluster.NewMap("u", cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:1", "127.0.0.1:2"))
	for _, id := range []string{"t1", "t2", "t3"} {
		m.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:3", "127.0.0.1:4")
	}
	m.Version = 7
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

	tests := []struct {
		name, method, object, query string
		want                        error
	}{
		{"direct put, owner, same version", http.MethodPut, mine, "smap=7", nil},
		{"direct get, owner, same version", http.MethodGet, mine, "smap=7", nil},
		{"direct put, stale version", http.MethodPut, mine, "smap=6", cluster.ErrNotOwner},
		{"direct put, newer version", http.MethodPut, mine, "smap=8", cluster.ErrNotOwner},
		{"direct put, not the owner", http.MethodPut, theirs, "smap=7", cluster.ErrNotOwner},
		{"direct get, not the owner", http.MethodGet, theirs, "smap=7", cluster.ErrNotOwner},
		{"direct delete, not the owner", http.MethodDelete, theirs, "smap=7", cluster.ErrNotOwner},
		{"malformed version", http.MethodPut, mine, "smap=x", cluster.ErrBadRequest},
		{"put with neither", http.MethodPut, mine, "", cluster.ErrBadRequest},
		{"delete with neither", http.MethodDelete, mine, "", cluster.ErrBadRequest},
		{"get with neither", http.MethodGet, theirs, "", nil},
		{"proxy redirect is trusted", http.MethodPut, theirs, "pid=p1&utm=abc&smap=1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/v1/objects/b/"+tt.object+"?provider=ais&"+tt.query, nil)
			err := tg.checkRoute(r, server.Route{Resource: wire.ResObjects, Bucket: bck, Object: tt.object})
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
