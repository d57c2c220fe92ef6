package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestDirectRoutingStaleMap routes PUTs with a cluster map that went stale
// when a target joined: every object must still land on its owner in the
// new map (the targets refuse the stale version with 421, and the client
// refreshes its map and retries), and a direct PUT with a wrong version or
// to a target that is not the owner is refused.
func TestDirectRoutingStaleMap(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2})
	plain := api.NewClient(cl.ProxyURL())
	direct := api.NewClient(cl.ProxyURL(), api.WithDirectRouting())
	bck := createBucket(t, ctx, plain, "routing")

	stale, err := direct.RefreshMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := startExtraTarget(t, cl)
	smap := waitTargets(t, ctx, cl, 3)
	t.Logf("target %s joined: cluster map v%d -> v%d", joined, stale.Version, smap.Version)
	if c := direct.CachedMap(); c.Version != stale.Version {
		t.Fatalf("the client's map moved on its own: v%d", c.Version)
	}

	const n = 60
	want := map[string][]byte{}
	for i := range n {
		name := fmt.Sprintf("obj-%03d", i)
		data := randomBytes(1 + i*97)
		want[name] = data
		if _, err := direct.PutObject(ctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
			t.Fatalf("direct PUT %s: %v", name, err)
		}
	}
	if got := direct.CachedMap().Version; got != smap.Version {
		t.Errorf("after the PUTs the client routes with v%d, want v%d", got, smap.Version)
	}
	onNew := 0
	for name, data := range want {
		owner, err := smap.Owner(bck.Uname(name))
		if err != nil {
			t.Fatal(err)
		}
		if owner.ID == joined {
			onNew++
		}
		for _, tn := range smap.TargetList() {
			code := headOn(t, ctx, tn.URL(), bck, name)
			if wantCode := map[bool]int{true: 200, false: 404}[tn.ID == owner.ID]; code != wantCode {
				t.Errorf("HEAD %s on %s: %d, want %d (owner %s)", name, tn.ID, code, wantCode, owner.ID)
			}
		}
		var buf bytes.Buffer
		if _, err := direct.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), data) {
			t.Errorf("direct GET %s: %d bytes, %v", name, buf.Len(), err)
		}
	}
	if onNew == 0 {
		t.Fatalf("no object of %d belongs to the new target: the test proves nothing", n)
	}

	// Direct PUTs the targets must refuse with 421, and one they accept.
	name := "refusal"
	owner, _ := smap.Owner(bck.Uname(name))
	var other *cluster.Node
	for _, tn := range smap.TargetList() {
		if tn.ID != owner.ID {
			other = tn
		}
	}
	tests := []struct {
		desc    string
		node    *cluster.Node
		version int64
		want    int
	}{
		{"stale version to the owner", owner, stale.Version, http.StatusMisdirectedRequest},
		{"future version to the owner", owner, smap.Version + 1, http.StatusMisdirectedRequest},
		{"current version to another target", other, smap.Version, http.StatusMisdirectedRequest},
		{"current version to the owner", owner, smap.Version, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			u := fmt.Sprintf("%s%s?%s=ais&%s=%d", tt.node.URL(), api.ObjectPath(bck.Name, name), wire.QparamProvider, wire.QparamSmap, tt.version)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader("x"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var he wire.HTTPError
			json.NewDecoder(resp.Body).Decode(&he)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("%s: %d %s, want %d", u, resp.StatusCode, he.Message, tt.want)
			}
		})
	}
}

// startExtraTarget starts one more aisnode target beside the harness's
// cluster and returns its ID; it is stopped by PID when the test ends.
func startExtraTarget(t *testing.T, cl *harness.Cluster) string {
	t.Helper()
	dir := t.TempDir()
	mp := filepath.Join(dir, "mp1")
	if err := os.MkdirAll(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	id := "extra-target"
	args := []string{"-role=target", "-id=" + id, "-public_addr=" + harness.FreeAddr(t), "-transport_addr=" + harness.FreeAddr(t),
		"-proxy=" + cl.Proxy().TransportAddr, "-mountpaths=" + mp, "-data_dir=" + filepath.Join(dir, "data")}
	if s := cl.Secret(); s != "" {
		sf := filepath.Join(dir, "secret")
		if err := os.WriteFile(sf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-secret_file="+sf)
	}
	logf, err := os.Create(filepath.Join(dir, "aisnode.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cl.BinDir(), "aisnode"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("extra target log:\n%s", b)
		}
	})
	return id
}

// waitTargets waits until the proxy's map has n active targets and every
// target has received that map version, and returns it.
func waitTargets(t *testing.T, ctx context.Context, cl *harness.Cluster, n int) *cluster.Map {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := cl.Smap(ctx)
		if err == nil && len(m.ActiveTargets()) == n {
			synced := true
			for _, tn := range m.TargetList() {
				if v, err := targetMapVersion(ctx, tn.URL()); err != nil || v != m.Version {
					synced = false
				}
			}
			if synced {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not reach %d targets with one map version: %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func targetMapVersion(ctx context.Context, base string) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+wire.PathDaemon+"?"+wire.QparamWhat+"="+wire.WhatSmap, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var m cluster.Map
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, err
	}
	return m.Version, nil
}

// headOn returns the status of HEAD of bck/name on one target, addressed
// directly (it answers from its own mountpaths).
// headOn HEADs name on one target's own disks (Ais-Local-Only, as targets
// ask each other): 200 when that target holds a copy, 404 when not.
func headOn(t *testing.T, ctx context.Context, base string, bck cluster.Bucket, name string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, base+api.ObjectPath(bck.Name, name)+"?"+wire.QparamProvider+"="+bck.Provider, nil)
	req.Header.Set("Ais-Local-Only", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("HEAD on %s: %v", base, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
