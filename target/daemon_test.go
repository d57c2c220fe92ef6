package target

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
	"miniais/transport"
)

// daemonServer serves tg's daemon routes (as its router registers them).
func daemonServer(t *testing.T, tg *testTarget) string {
	t.Helper()
	m := server.NewMux(tg.cfg.ID)
	tg.daemonRoutes(m)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return srv.URL
}

// tracedProvider returns an enabled provider recording its spans.
func tracedProvider(t *testing.T) *tracing.Provider {
	t.Helper()
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleTarget, SpanProcessor: tracetest.NewSpanRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTargetDaemonQueries(t *testing.T) {
	tg := startTarget(t, startFakeProxy(t, "b1"))
	u := daemonServer(t, tg)
	tests := []struct {
		what   string
		status int
		keys   []string
	}{
		{"smap", 200, []string{"pmap", "tmap", "proxy_si", "version", "creation_time"}},
		{"bmd", 200, []string{"providers", "uuid", "version"}},
		{"config", 200, []string{"fspaths", "confdir", "log_dir", "host_net", "tracing", "checksum", "config_version", "proxy"}},
		{"snode", 200, []string{"daemon_id", "daemon_type", "public_net", "flags"}},
		{"node_status", 200, []string{"status", "ais_version", "snode", "tracker", "capacity", "cluster", "sys_info", "smap_version"}},
		{"stats", 200, []string{"daemon_id", "in_flight"}},
		{"version", 200, []string{"version"}},
		{"mountpaths", 200, []string{"available", "waiting_dd", "disabled"}},
		{"metrics", 501, nil},
	}
	for _, tc := range tests {
		t.Run(tc.what, func(t *testing.T) {
			resp, b := request(t, "GET", u+"/v1/daemon?what="+tc.what, nil, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.status == 501 && !strings.Contains(string(b), tc.what) {
				t.Errorf("501 does not name %q: %s", tc.what, b)
			}
			got := []string{}
			if tc.keys != nil {
				got = jsonKeys(t, b)
			}
			for _, k := range tc.keys {
				if !slices.Contains(got, k) {
					t.Errorf("%s lacks %q (has %v)", tc.what, k, got)
				}
			}
		})
	}

	_, b := request(t, "GET", u+"/v1/daemon?what=node_status", nil, nil)
	var ns wire.NodeStatus
	if err := json.Unmarshal(b, &ns); err != nil {
		t.Fatal(err)
	}
	if ns.Tracker["state.flags"] != 6 || ns.Node.ID != "t1" || ns.Cluster.Smap.Primary.ID != "p1" || ns.SmapVersion == 0 {
		t.Errorf("node_status = %s", b)
	}
	if len(ns.Capacity.Mountpaths) != 2 {
		t.Fatalf("capacity of %d mountpaths, want 2: %s", len(ns.Capacity.Mountpaths), b)
	}
	for _, mp := range tg.mps {
		c := ns.Capacity.Mountpaths[mp]
		if c == nil || c.Avail == 0 || c.FS.FsID == "" {
			t.Errorf("capacity of %s = %+v", mp, c)
		}
	}
	if ns.Capacity.TotalAvail == 0 || !strings.Contains(string(b), `"total_avail":"`) || !strings.Contains(string(b), `"used":"`) {
		t.Errorf("capacity totals are not byte-count strings: %s", b)
	}

	_, b = request(t, "GET", u+"/v1/daemon?what=mountpaths", nil, nil)
	var ml wire.MountpathList
	if err := json.Unmarshal(b, &ml); err != nil || !slices.Equal(ml.Available, tg.mps) || ml.WaitingDD == nil || ml.Disabled == nil {
		t.Errorf("mountpaths = %s", b)
	}
	_, b = request(t, "GET", u+"/v1/daemon?what=config", nil, nil)
	var nc wire.NodeConfig
	if err := json.Unmarshal(b, &nc); err != nil || len(nc.FSPaths) != 2 || nc.HostNet.Port == "" || nc.Proxy.PrimaryURL == "" {
		t.Errorf("config = %s", b)
	}
}

// pushConfig sends cfg to tg as the proxy does; validate makes it the
// checking round.
func pushConfig(fp *fakeProxy, tg *testTarget, cfg *cluster.Config, validate bool) error {
	body, _ := cfg.MarshalMsg(nil)
	hdr := &transport.Header{Kind: transport.KindConfigPush}
	if validate {
		hdr.Opaque = []byte("validate")
	}
	_, _, err := fp.client.Call(context.Background(), tg.cfg.TransportAddr, hdr, body)
	return err
}

func sampled(tp *tracing.Provider) bool {
	_, span := tp.Tracer("test").Start(context.Background(), "probe")
	defer span.End()
	return span.SpanContext().IsSampled()
}

func TestTargetConfigPush(t *testing.T) {
	fp := startFakeProxy(t)
	tp := tracedProvider(t)
	tg := startTarget(t, fp, func(c *Config) { c.Tracing = tp })
	zero, off := 0.0, false

	if err := pushConfig(fp, tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{SamplerProbability: &zero}}, true); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !sampled(tp) || tg.conf.load().Version != 0 {
		t.Fatal("the checking round changed something")
	}
	if err := pushConfig(fp, tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{SamplerProbability: &zero}}, false); err != nil {
		t.Fatal(err)
	}
	if sampled(tp) || tg.conf.load().Version != 1 {
		t.Fatalf("after version 1 (ratio 0): sampled %v, version %d", sampled(tp), tg.conf.load().Version)
	}
	// An older or equal version is ignored.
	one := 1.0
	if err := pushConfig(fp, tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{SamplerProbability: &one}}, false); err != nil {
		t.Fatal(err)
	}
	if sampled(tp) {
		t.Fatal("a version not newer was applied")
	}
	if err := pushConfig(fp, tg, &cluster.Config{Version: 2, Tracing: cluster.TracingConfig{SamplerProbability: &one, Enabled: &off}}, false); err != nil {
		t.Fatal(err)
	}
	if sampled(tp) || tp.Config().Enabled || tp.Config().SamplerProbability != 1 {
		t.Fatalf("version 2 (off, ratio 1): %+v", tp.Config())
	}
	// The node's own set-config: at once, not persisted, version unchanged.
	u := daemonServer(t, tg)
	resp, b := request(t, "PUT", u+"/v1/daemon/set-config?tracing.enabled=true&transient=false", nil, nil)
	if resp.StatusCode != 200 || !sampled(tp) || tg.conf.load().Version != 2 {
		t.Fatalf("set-config on the node: %d %s, sampled %v", resp.StatusCode, b, sampled(tp))
	}
	resp, b = request(t, "PUT", u+"/v1/daemon/set-config?memsys.min_free=1GiB", nil, nil)
	if resp.StatusCode != 501 || !strings.Contains(string(b), "memsys.min_free") || !sampled(tp) {
		t.Fatalf("unknown key: %d %s", resp.StatusCode, b)
	}
}

func TestTargetConfigPushNotStarted(t *testing.T) {
	fp := startFakeProxy(t)
	tg := startTarget(t, fp) // tracing disabled
	on, half := true, 0.5
	err := pushConfig(fp, tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{Enabled: &on}}, true)
	var re *transport.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, cluster.ErrBadRequest) || !strings.Contains(err.Error(), "t1") {
		t.Fatalf("validating tracing.enabled=true on a target without tracing: %v, want a bad-request refusal naming it", err)
	}
	// Catching up with such a version applies what it can and holds it.
	if err := pushConfig(fp, tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{Enabled: &on, SamplerProbability: &half}}, false); err != nil {
		t.Fatal(err)
	}
	if c := tg.cfg.Tracing.Config(); c.Enabled || c.SamplerProbability != 0.5 || tg.conf.load().Version != 1 {
		t.Fatalf("after catching up: %+v, version %d", c, tg.conf.load().Version)
	}
	u := daemonServer(t, tg)
	if resp, b := request(t, "PUT", u+"/v1/daemon/set-config?tracing.enabled=true", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("enabling tracing that never started: %d %s", resp.StatusCode, b)
	}
}
