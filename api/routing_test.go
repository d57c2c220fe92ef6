package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"miniais/api"
	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// routingFake is a cluster of one proxy and several in-memory targets that
// enforces the direct-routing protocol: a target serves a request with
// api.QparamSmap only when the version equals its own and it owns the
// object. Targets can join, and a target's map can lag the proxy's.
type routingFake struct {
	tb    testing.TB
	proxy *httptest.Server

	mu      sync.Mutex
	smap    *cluster.Map
	targets map[string]*fakeTarget

	smapFetches atomic.Int64
	proxyObjReq atomic.Int64
	refused     atomic.Int64
}

type fakeTarget struct {
	id   string
	srv  *httptest.Server
	smap *cluster.Map // this target's view; lags when not updated
	objs map[string][]byte
}

func newRoutingFake(tb testing.TB, targets ...string) *routingFake {
	tb.Helper()
	f := &routingFake{tb: tb, targets: map[string]*fakeTarget{}}
	f.proxy = httptest.NewServer(http.HandlerFunc(f.serveProxy))
	tb.Cleanup(f.proxy.Close)
	f.smap = cluster.NewMap("u", cluster.NewNode("p1", cluster.RoleProxy, f.proxy.Listener.Addr().String(), "127.0.0.1:1"))
	for _, id := range targets {
		f.join(id, true)
	}
	return f
}

// join adds target id and bumps the map version; with push, every target
// learns the new map at once.
func (f *routingFake) join(id string, push bool) {
	ft := &fakeTarget{id: id, objs: map[string][]byte{}}
	ft.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serveTarget(ft, w, r) }))
	f.tb.Cleanup(ft.srv.Close)
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.smap.Clone()
	next.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, ft.srv.Listener.Addr().String(), "127.0.0.1:1")
	next.Version++
	f.smap = next
	ft.smap = next
	f.targets[id] = ft
	if push {
		for _, t := range f.targets {
			t.smap = next
		}
	}
}

// bump moves the proxy's map version without changing placement; with
// push, the targets learn it.
func (f *routingFake) bump(push bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.smap.Clone()
	next.Version++
	f.smap = next
	if push {
		for _, t := range f.targets {
			t.smap = next
		}
	}
}

func (f *routingFake) serveProxy(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	m := f.smap
	f.mu.Unlock()
	if r.URL.Path == wire.PathDaemon {
		f.smapFetches.Add(1)
		json.NewEncoder(w).Encode(m)
		return
	}
	f.proxyObjReq.Add(1)
	bname, obj, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, wire.PathObjects+"/"), "/")
	owner, err := m.Owner(cluster.NewBucket(bname).Uname(obj))
	if err != nil {
		server.WriteError(w, r, "p1", err)
		return
	}
	q := r.URL.Query()
	q.Set(wire.QparamProxyID, "p1")
	q.Set(wire.QparamUnixTime, "1")
	http.Redirect(w, r, owner.URL()+r.URL.EscapedPath()+"?"+q.Encode(), http.StatusTemporaryRedirect)
}

func (f *routingFake) serveTarget(ft *fakeTarget, w http.ResponseWriter, r *http.Request) {
	bname, obj, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, wire.PathObjects+"/"), "/")
	rt := struct {
		Bucket cluster.Bucket
		Object string
	}{cluster.NewBucket(bname), obj}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	if q.Get(wire.QparamProxyID) == "" {
		v, _ := strconv.ParseInt(q.Get(wire.QparamSmap), 10, 64)
		owner, _ := ft.smap.Owner(rt.Bucket.Uname(rt.Object))
		if v != ft.smap.Version || owner == nil || owner.ID != ft.id {
			f.refused.Add(1)
			server.WriteError(w, r, ft.id, cluster.Errorf(cluster.ErrNotOwner, "v%d, have v%d", v, ft.smap.Version))
			return
		}
	}
	switch r.Method {
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		ft.objs[rt.Object] = b
	case http.MethodGet:
		b, ok := ft.objs[rt.Object]
		if !ok {
			server.WriteError(w, r, ft.id, cluster.Errorf(cluster.ErrNotFound, "%s", rt.Object))
			return
		}
		w.Write(b)
	case http.MethodDelete:
		delete(ft.objs, rt.Object)
	}
}

// misplaced returns the objects stored on a target other than their owner
// in the proxy's current map, and how many objects there are.
func (f *routingFake) misplaced(bck cluster.Bucket) ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var bad []string
	n := 0
	for id, t := range f.targets {
		for name := range t.objs {
			n++
			if o, _ := f.smap.Owner(bck.Uname(name)); o.ID != id {
				bad = append(bad, fmt.Sprintf("%s on %s, owner %s", name, id, o.ID))
			}
		}
	}
	return bad, n
}

func TestDirectRouting(t *testing.T) {
	const objects = 40
	tests := []struct {
		name string
		// change is applied after the client cached the map.
		change func(f *routingFake)
		// refetch makes the client fetch the map again after the change.
		refetch bool
		// wantProxyObj is whether object requests may go through the proxy.
		wantProxyObj bool
	}{
		{"fresh map", func(*routingFake) {}, false, false},
		{"a target joined", func(f *routingFake) { f.join("t4", true) }, false, false},
		{"version moved", func(f *routingFake) { f.bump(true) }, false, false},
		// The client has a newer map than the targets: it falls back to the proxy.
		{"targets lag the client", func(f *routingFake) { f.bump(false) }, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newRoutingFake(t, "t1", "t2", "t3")
			c := api.NewClient(f.proxy.URL, api.WithDirectRouting())
			if !c.DirectRouting() {
				t.Fatal("DirectRouting() = false")
			}
			m, err := c.RefreshMap(ctx)
			if err != nil || m.Version != 3 || c.CachedMap() != m {
				t.Fatalf("RefreshMap: v%v %v", m, err)
			}
			tt.change(f)
			if tt.refetch {
				if _, err := c.RefreshMap(ctx); err != nil {
					t.Fatal(err)
				}
			}
			bck := cluster.NewBucket("b")
			for i := range objects {
				name := fmt.Sprintf("o%d", i)
				data := []byte(name)
				if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
					t.Fatalf("PUT %s: %v", name, err)
				}
				var buf bytes.Buffer
				if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || buf.String() != name {
					t.Fatalf("GET %s: %q %v", name, buf.String(), err)
				}
			}
			bad, n := f.misplaced(bck)
			if n != objects || len(bad) > 0 {
				t.Fatalf("%d objects stored, want %d; misplaced: %v", n, objects, bad)
			}
			if got := c.CachedMap().Version; got != f.smap.Version {
				t.Errorf("client routes with v%d, the proxy has v%d", got, f.smap.Version)
			}
			if !tt.wantProxyObj && f.proxyObjReq.Load() != 0 {
				t.Errorf("%d object requests went through the proxy, want none", f.proxyObjReq.Load())
			}
			if moved := f.smap.Version != 3; moved != (f.refused.Load() > 0) {
				t.Errorf("map moved: %v, but %d requests refused", moved, f.refused.Load())
			}
			if fetches := f.smapFetches.Load(); fetches > 2+2*objects {
				t.Errorf("%d map fetches", fetches)
			}
			// Deleting through the routed client removes the object from its owner.
			if err := c.DeleteObject(ctx, bck, "o0"); err != nil {
				t.Fatalf("DELETE: %v", err)
			}
			if _, n := f.misplaced(bck); n != objects-1 {
				t.Errorf("%d objects after DELETE, want %d", n, objects-1)
			}
		})
	}
}

// TestDirectRoutingRefusal checks that a stale direct request is refused
// with 421 (ErrNotOwner), and that a client without direct routing never
// sends the map version.
func TestDirectRoutingRefusal(t *testing.T) {
	ctx := context.Background()
	f := newRoutingFake(t, "t1", "t2")
	m, err := api.NewClient(f.proxy.URL).ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bck := cluster.NewBucket("b")
	owner, _ := m.Owner(bck.Uname("x"))
	req, _ := http.NewRequest(http.MethodPut, owner.URL()+api.ObjectPath("b", "x")+"?provider=ais&smap=1", bytes.NewReader([]byte("x")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("stale direct PUT: %s, want 421", resp.Status)
	}
	c := api.NewClient(f.proxy.URL)
	if _, err := c.PutObject(ctx, bck, "x", bytes.NewReader([]byte("x")), api.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	if f.refused.Load() != 1 || f.proxyObjReq.Load() != 1 || c.CachedMap() != nil {
		t.Errorf("refused %d, proxy object requests %d, want 1 and 1", f.refused.Load(), f.proxyObjReq.Load())
	}
	var he *wire.HTTPError
	err = fmt.Errorf("wrapped: %w", &wire.HTTPError{Status: http.StatusMisdirectedRequest})
	if !errors.As(err, &he) || !errors.Is(err, cluster.ErrNotOwner) {
		t.Error("a 421 does not match cluster.ErrNotOwner")
	}
}
