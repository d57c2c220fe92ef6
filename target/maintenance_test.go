package target

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// routeMap is a map of proxy p1 and targets t1..t3 at version v, with the
// given targets flagged maint.
func routeMap(v int64, maint ...string) *cluster.Map {
	m := cluster.NewMap("u", cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:1", "127.0.0.1:2"))
	for _, id := range []string{"t1", "t2", "t3"} {
		m.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:3", "127.0.0.1:4")
	}
	for _, id := range maint {
		m.Targets[id].Flags = cluster.FlagMaintenance
	}
	m.Version = v
	return m
}

// objectOf returns an object name that target id owns (own) or does not
// own under m.
func objectOf(m *cluster.Map, bck cluster.Bucket, id string, own bool) string {
	for i := 0; ; i++ {
		name := fmt.Sprintf("obj-%d", i)
		if n, _ := m.Owner(bck.Uname(name)); (n.ID == id) == own {
			return name
		}
	}
}

// TestCheckRouteMaintenance: a target in maintenance owns nothing, but
// serves every read it is asked (what has not moved yet); writes it refuses
// as not its own.
func TestCheckRouteMaintenance(t *testing.T) {
	m := routeMap(7, "t1")
	bck := cluster.NewBucket("b")
	tg := &Target{cfg: Config{ID: "t1"}}
	tg.smap.Store(m)
	name := objectOf(routeMap(7), bck, "t1", true) // t1's before the maintenance
	fresh := "pid=p1&utm=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	tests := []struct {
		name, method, query string
		want                error
	}{
		{"get with neither", http.MethodGet, "", nil},
		{"head routed with the map", http.MethodHead, "smap=7", nil},
		{"get routed with another map", http.MethodGet, "smap=6", cluster.ErrNotOwner},
		{"direct put", http.MethodPut, "smap=7", cluster.ErrNotOwner},
		{"direct delete", http.MethodDelete, "smap=7", cluster.ErrNotOwner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/v1/objects/b/"+name+"?provider=ais&"+tt.query, nil)
			if err := tg.checkRoute(r, server.Route{Bucket: bck, Object: name}); !errors.Is(err, tt.want) || (err != nil && tt.want == nil) {
				t.Fatalf("checkRoute: %v, want %v", err, tt.want)
			}
		})
	}
	// A redirected write waits for a newer map (mapWait), then is refused,
	// and sent back to the proxy that redirected it.
	r := httptest.NewRequest(http.MethodPut, "/v1/objects/b/"+name+"?provider=ais&"+fresh, nil)
	err := tg.checkRoute(r, server.Route{Bucket: bck, Object: name})
	if !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("redirected put to a target in maintenance: %v, want ErrNotOwner", err)
	}
	tg.log = slog.New(slog.DiscardHandler)
	w := httptest.NewRecorder()
	want := m.Proxies["p1"].URL() + "/v1/objects/b/" + name + "?provider=ais"
	if !tg.reroute(w, r, err) || w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != want {
		t.Fatalf("reroute: %d to %q, want 307 to %q", w.Code, w.Header().Get("Location"), want)
	}
	// Not a request the client routed itself, nor one a node sent: they
	// re-route themselves on the 421.
	direct := httptest.NewRequest(http.MethodPut, "/v1/objects/b/"+name+"?provider=ais&smap=7", nil)
	relayed := httptest.NewRequest(http.MethodPut, "/v1/objects/b/"+name+"?provider=ais&"+fresh, nil)
	relayed.Header.Set(wire.HdrCallerName, "p1")
	for _, r := range []*http.Request{direct, relayed} {
		if tg.reroute(httptest.NewRecorder(), r, err) {
			t.Fatalf("rerouted %s", r.URL)
		}
	}
}

// TestCheckRouteAwaitsMap: a write the proxy redirected by a map this
// target has not applied yet waits for it and is then served.
func TestCheckRouteAwaitsMap(t *testing.T) {
	bck := cluster.NewBucket("b")
	old, next := routeMap(7, "t1"), routeMap(8) // t1 leaves maintenance
	name := objectOf(next, bck, "t1", true)
	tg := &Target{cfg: Config{ID: "t1"}}
	tg.smap.Store(old)
	fresh := "pid=p1&utm=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	r := httptest.NewRequest(http.MethodPut, "/v1/objects/b/"+name+"?provider=ais&"+fresh, nil)
	done := make(chan error, 1)
	go func() { done <- tg.checkRoute(r, server.Route{Bucket: bck, Object: name}) }()
	// Wait until the request waits for a map (its signal channel exists).
	for deadline := time.Now().Add(time.Second); ; {
		tg.mapSeen.mu.Lock()
		waiting := tg.mapSeen.ch != nil
		tg.mapSeen.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never waited for a map")
		}
		time.Sleep(time.Millisecond)
	}
	tg.smap.Store(next)
	tg.mapSeen.bump()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("checkRoute after the new map: %v", err)
		}
	case <-time.After(mapWait / 2):
		t.Fatal("the request did not see the new map")
	}
}

// TestPlacementChanged: entering or leaving maintenance changes placement
// (and is the operator's); removing a target already out of placement does
// not; a join does.
func TestPlacementChanged(t *testing.T) {
	plain, maint := routeMap(1), routeMap(2, "t2")
	removed := routeMap(3, "t2")
	delete(removed.Targets, "t2")
	removed = removed.Clone()
	tests := []struct {
		name        string
		prev, next  *cluster.Map
		placed, ops bool
	}{
		{"enter maintenance", plain, maint, true, true},
		{"leave maintenance", maint, plain, true, true},
		{"removed after maintenance", maint, removed, false, false},
		{"join", removed, plain, true, false},
		{"no change", plain, plain.Clone(), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := placementChanged(tt.prev, tt.next); got != tt.placed {
				t.Errorf("placementChanged = %v, want %v", got, tt.placed)
			}
			if got := maintenanceChanged(tt.prev, tt.next); got != tt.ops {
				t.Errorf("maintenanceChanged = %v, want %v", got, tt.ops)
			}
		})
	}
}
