package target_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
	"miniais/target"
	"miniais/tracing"
	"miniais/transport"
)

// tracedProvider returns an enabled provider whose spans go to sp (a new
// recorder when nil).
func tracedProvider(t testing.TB, sp sdktrace.SpanProcessor) *tracing.Provider {
	t.Helper()
	if sp == nil {
		sp = tracetest.NewSpanRecorder()
	}
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleTarget, SpanProcessor: sp})
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
	tg := startTarget(t, []string{"b1"})
	u := tg.url
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
		{"metrics", 200, []string{"get.n", "get.ns.total", "put.size", "up.ns.time", "state.flags"}},
		{"no-such-what", 501, nil},
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
	if uint64(ns.Tracker["state.flags"])&^(wire.StateRebalancing|wire.StateResilvering) != wire.StateOK || ns.Node.ID != "t1" || ns.Cluster.Smap.Primary.ID != "p1" || ns.SmapVersion == 0 {
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

// pushConfig sends cfg to tg as its proxy does (the test stands in for
// the proxy, with its ID and the cluster secret: a real proxy never sends
// the older versions some steps send); validate makes it the checking
// round.
func pushConfig(tg *testTarget, cfg *cluster.Config, validate bool) error {
	c := transport.NewClient(transport.Config{NodeID: nodetest.ProxyID, Secret: tg.Config.Secret})
	defer c.Close()
	body, _ := cfg.MarshalMsg(nil)
	hdr := &transport.Header{Kind: transport.KindConfigPush}
	if validate {
		hdr.Opaque = []byte("validate")
	}
	_, _, err := c.Call(context.Background(), tg.Config.TransportAddr, hdr, body)
	return err
}

// heldVersion returns the cluster configuration version tg holds.
func heldVersion(t *testing.T, tg *testTarget) int64 {
	t.Helper()
	resp, b := request(t, "GET", tg.url+"/v1/daemon?what=config", nil, nil)
	var nc struct {
		Version string `json:"config_version"`
	}
	if err := json.Unmarshal(b, &nc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("config = %d %s (%v)", resp.StatusCode, b, err)
	}
	v, err := strconv.ParseInt(nc.Version, 10, 64)
	if err != nil {
		t.Fatalf("config_version %q: %v", nc.Version, err)
	}
	return v
}

func sampled(tp *tracing.Provider) bool {
	_, span := tp.Tracer("test").Start(context.Background(), "probe")
	defer span.End()
	return span.SpanContext().IsSampled()
}

func TestTargetConfigPush(t *testing.T) {
	tp := tracedProvider(t, nil)
	tg := startTarget(t, nil, func(c *target.Config) { c.Tracing = tp })
	zero, off := 0.0, false

	if err := pushConfig(tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{SamplerProbability: &zero}}, true); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !sampled(tp) || heldVersion(t, tg) != 0 {
		t.Fatal("the checking round changed something")
	}
	if err := pushConfig(tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{SamplerProbability: &zero}}, false); err != nil {
		t.Fatal(err)
	}
	if sampled(tp) || heldVersion(t, tg) != 1 {
		t.Fatalf("after version 1 (ratio 0): sampled %v, version %d", sampled(tp), heldVersion(t, tg))
	}
	// An older or equal version is ignored.
	one := 1.0
	if err := pushConfig(tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{SamplerProbability: &one}}, false); err != nil {
		t.Fatal(err)
	}
	if sampled(tp) {
		t.Fatal("a version not newer was applied")
	}
	if err := pushConfig(tg, &cluster.Config{Version: 2, Tracing: cluster.TracingConfig{SamplerProbability: &one, Enabled: &off}}, false); err != nil {
		t.Fatal(err)
	}
	if sampled(tp) || tp.Config().Enabled || tp.Config().SamplerProbability != 1 {
		t.Fatalf("version 2 (off, ratio 1): %+v", tp.Config())
	}
	// The node's own set-config: at once, not persisted, version unchanged.
	u := tg.url
	resp, b := request(t, "PUT", u+"/v1/daemon/set-config?tracing.enabled=true&transient=false", nil, nil)
	if resp.StatusCode != 200 || !sampled(tp) || heldVersion(t, tg) != 2 {
		t.Fatalf("set-config on the node: %d %s, sampled %v", resp.StatusCode, b, sampled(tp))
	}
	resp, b = request(t, "PUT", u+"/v1/daemon/set-config?memsys.min_free=1GiB", nil, nil)
	if resp.StatusCode != 501 || !strings.Contains(string(b), "memsys.min_free") || !sampled(tp) {
		t.Fatalf("unknown key: %d %s", resp.StatusCode, b)
	}
}

func TestTargetConfigPushNotStarted(t *testing.T) {
	tg := startTarget(t, nil) // tracing disabled
	on, half := true, 0.5
	err := pushConfig(tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{Enabled: &on}}, true)
	var re *transport.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, cluster.ErrBadRequest) || !strings.Contains(err.Error(), "t1") {
		t.Fatalf("validating tracing.enabled=true on a target without tracing: %v, want a bad-request refusal naming it", err)
	}
	// Catching up with such a version applies what it can and holds it.
	if err := pushConfig(tg, &cluster.Config{Version: 1, Tracing: cluster.TracingConfig{Enabled: &on, SamplerProbability: &half}}, false); err != nil {
		t.Fatal(err)
	}
	if c := tg.Config.Tracing.Config(); c.Enabled || c.SamplerProbability != 0.5 || heldVersion(t, tg) != 1 {
		t.Fatalf("after catching up: %+v, version %d", c, heldVersion(t, tg))
	}
	u := tg.url
	if resp, b := request(t, "PUT", u+"/v1/daemon/set-config?tracing.enabled=true", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("enabling tracing that never started: %d %s", resp.StatusCode, b)
	}
}
