package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/tests/harness"
)

// queryClient sends the cluster and node queries that AIStore's CLI sends.
type queryClient struct {
	t    *testing.T
	ctx  context.Context
	base string
	hc   *http.Client
}

// send sends method path (with query) to c.base, with the headers hdr, and
// returns the status and body.
func (c *queryClient) send(method, base, path string, hdr map[string]string, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "ais/cli")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// get fetches path from base and requires status 200 and a JSON object or
// array; it returns the body.
func (c *queryClient) get(base, path string, hdr map[string]string, body string) []byte {
	c.t.Helper()
	status, b := c.send(http.MethodGet, base, path, hdr, body)
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, status, b)
	}
	if !json.Valid(b) {
		c.t.Fatalf("GET %s: not JSON: %s", path, b)
	}
	return b
}

// keysOf returns the keys of the JSON object at the dot-separated path in b.
func keysOf(t *testing.T, b []byte, path string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if path != "" {
		for _, p := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			v = m[p]
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%q is not a JSON object in %.300s", path, b)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mustHave(t *testing.T, what string, b []byte, path string, keys ...string) {
	t.Helper()
	got := keysOf(t, b, path)
	for _, k := range keys {
		if !slices.Contains(got, k) {
			t.Errorf("%s: %q lacks %q (has %v)", what, path, k, got)
		}
	}
}

// tracingOf returns the tracing section and the config version of a
// config or cluster_config reply.
func tracingOf(t *testing.T, b []byte) (wire.TracingConf, string) {
	t.Helper()
	var v struct {
		Tracing wire.TracingConf `json:"tracing"`
		Version string           `json:"config_version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %.300s", err, b)
	}
	return v.Tracing, v.Version
}

var (
	configSections = []string{"checksum", "versioning", "mirror", "ec", "rebalance", "log", "periodic", "space", "lru",
		"disk", "fshc", "chunks", "client", "timeout", "net", "proxy", "auth", "memsys", "resilver", "features", "uuid",
		"config_version", "lastupdate_time", "tracing", "write_policy", "backend"}
	localKeys      = []string{"fspaths", "confdir", "log_dir", "host_net"}
	nodeStatusKeys = []string{"status", "deployment", "ais_version", "build_time", "k8s_pod_name", "snode", "tracker",
		"capacity", "cluster", "sys_info", "smap_version"}
	snodeKeys = []string{"daemon_id", "daemon_type", "public_net", "intra_control_net", "intra_data_net", "flags", "id_digest"}
)

// TestClusterQueries runs the cluster and node queries of AIStore's CLI
// against real aisnode processes (aistore-clients.md sections 1 and 2):
// every what of the proxy's /v1/cluster and /v1/daemon, the same through
// /v1/reverse/daemon for a target, and set-config of the tracing sampler
// read back from every node.
func TestClusterQueries(t *testing.T) {
	ctx := testContext(t)
	// A pipeline needs an exporter endpoint; nothing listens on this one, so
	// spans are dropped, which is all this test needs.
	cl := harness.StartCluster(t, harness.Options{Targets: 2, TracingEndpoint: harness.FreeAddr(t)})
	c := &queryClient{t: t, ctx: ctx, base: cl.ProxyURL(), hc: &http.Client{Timeout: 30 * time.Second}}
	proxy, tgt := cl.Proxy().PublicURL, cl.Targets()[0]
	rev := map[string]string{wire.HdrNodeID: tgt.ID}

	t.Run("cluster", func(t *testing.T) {
		c.t = t
		b := c.get(proxy, "/v1/cluster?what=smap", nil, "")
		mustHave(t, "smap", b, "", "pmap", "tmap", "proxy_si", "version", "uuid", "creation_time")
		mustHave(t, "smap", b, "tmap."+tgt.ID, snodeKeys...)
		mustHave(t, "bmd", c.get(proxy, "/v1/cluster?what=bmd", nil, ""), "", "providers", "uuid", "version")
		cc := c.get(proxy, "/v1/cluster?what=cluster_config", nil, "")
		mustHave(t, "cluster_config", cc, "", configSections...)
		mustHave(t, "cluster_config", cc, "tracing", "enabled", "exporter_endpoint", "sampler_probability", "service_name_prefix")
		if tr, _ := tracingOf(t, cc); !tr.Enabled || tr.SamplerProbability != "1" {
			t.Errorf("tracing at start: %+v", tr)
		}
		if b := c.get(proxy, "/v1/cluster?what=backends", nil, ""); string(b) != "[]" {
			t.Errorf("backends = %s", b)
		}
		if b := c.get(proxy, "/v1/cluster?what=remote", nil, ""); string(b) != `{"a":null,"ver":0}` {
			t.Errorf("remote = %s", b)
		}
		si := c.get(proxy, "/v1/cluster?what=sysinfo", nil, "")
		mustHave(t, "sysinfo", si, "", "proxy", "target")
		for _, n := range cl.Targets() {
			mustHave(t, "sysinfo", si, "target."+n.ID, "mem_used", "mem_avail", "pct_mem_used", "pct_cpu_used", "fs_used", "fs_capacity", "pct_fs_used")
		}
		// No job runs: every target answers an empty array, whatever the
		// kind (AIStore's "ais show job" asks about some 35 of them).
		for _, kind := range []string{"copy-bck", "summary-bck", "no-such-kind"} {
			body := fmt.Sprintf(`{"show_active":true,"bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"id":"","kind":%q}`, kind)
			b := c.get(proxy, "/v1/cluster?what=qryxstats", map[string]string{"Content-Type": "application/json"}, body)
			want := fmt.Sprintf(`{%q:[],%q:[]}`, min(cl.Targets()[0].ID, cl.Targets()[1].ID), max(cl.Targets()[0].ID, cl.Targets()[1].ID))
			if string(b) != want {
				t.Errorf("qryxstats %s = %s, want %s", kind, b, want)
			}
		}
		if status, b := c.send("GET", proxy, "/v1/cluster?what=status", nil, `{"id":"J5y5lVxO0"}`); status != 404 {
			t.Errorf("status of an unknown job: %d %s", status, b)
		}
		if status, b := c.send("GET", proxy, "/v1/cluster?what=node_stats", nil, ""); status != 501 || !strings.Contains(string(b), "node_stats") {
			t.Errorf("unknown what: %d %s", status, b)
		}
	})

	t.Run("daemon", func(t *testing.T) {
		c.t = t
		for _, node := range []struct {
			name, base string
			hdr        map[string]string
			path       string
		}{
			{"proxy", proxy, nil, "/v1/daemon"},
			{"target via reverse", proxy, rev, "/v1/reverse/daemon"},
			{"proxy via reverse", proxy, map[string]string{wire.HdrNodeID: cl.Proxy().ID}, "/v1/reverse/daemon"},
			{"target", tgt.PublicURL, nil, "/v1/daemon"},
		} {
			t.Run(node.name, func(t *testing.T) {
				c.t = t
				q := func(what string) []byte { return c.get(node.base, node.path+"?what="+what, node.hdr, "") }
				mustHave(t, "smap", q("smap"), "", "pmap", "tmap", "proxy_si", "version")
				mustHave(t, "bmd", q("bmd"), "", "providers", "version")
				cfg := q("config")
				mustHave(t, "config", cfg, "", append(slices.Clone(configSections), localKeys...)...)
				mustHave(t, "snode", q("snode"), "", snodeKeys...)
				// The CLI asks node_status in msgpack; JSON is an accepted answer.
				hdr := map[string]string{"Accept": "application/msgpack"}
				for k, v := range node.hdr {
					hdr[k] = v
				}
				ns := c.get(node.base, node.path+"?what=node_status", hdr, "")
				mustHave(t, "node_status", ns, "", nodeStatusKeys...)
				mustHave(t, "node_status", ns, "cluster.smap.Primary", "pub_url", "control_url", "id")
				var st wire.NodeStatus
				json.Unmarshal(ns, &st)
				// A target's rebalance of its joining may still run (flag 8).
				if st.Version != "5.0." || uint64(st.Tracker[wire.TrackerFlags])&^(wire.StateRebalancing|wire.StateResilvering) != wire.StateOK || st.Tracker[wire.TrackerUptime] <= 0 || st.SysInfo.MemUsed == 0 {
					t.Errorf("node_status: %.400s", ns)
				}
				mustHave(t, "version", q("version"), "", "version")
				if strings.Contains(node.name, "target") {
					if len(st.Capacity.Mountpaths) != len(tgt.Mountpaths) || st.Capacity.TotalAvail == 0 {
						t.Errorf("capacity: %+v", st.Capacity)
					}
					var ml wire.MountpathList
					if err := json.Unmarshal(q("mountpaths"), &ml); err != nil || len(ml.Available) != len(tgt.Mountpaths) || ml.WaitingDD == nil {
						t.Errorf("mountpaths: %+v %v", ml, err)
					}
					if st.Node.ID != tgt.ID {
						t.Errorf("node_status of %s came from %s", tgt.ID, st.Node.ID)
					}
				}
				// AIStore's metric kinds (what "ais show performance" reads first).
				var kinds map[string]string
				if status, b := c.send("GET", node.base, node.path+"?what=metrics", node.hdr, ""); status != 200 ||
					json.Unmarshal(b, &kinds) != nil || kinds["get.n"] != "counter" || kinds["up.ns.time"] == "" {
					t.Errorf("what=metrics: %d %s", status, b)
				}
				if status, b := c.send("GET", node.base, node.path+"?what=no-such-what", node.hdr, ""); status != 501 || !strings.Contains(string(b), "no-such-what") {
					t.Errorf("unknown what: %d %s", status, b)
				}
			})
		}
		if status, b := c.send("GET", proxy, "/v1/reverse/daemon?what=snode", map[string]string{wire.HdrNodeID: "t-nobody"}, ""); status != 404 {
			t.Errorf("reverse to an unknown node: %d %s", status, b)
		}
	})

	// every node's config reply, directly and through the relay.
	configs := func(t *testing.T) map[string][]byte {
		out := map[string][]byte{"proxy": c.get(proxy, "/v1/daemon?what=config", nil, "")}
		for _, n := range cl.Targets() {
			out[n.Name] = c.get(n.PublicURL, "/v1/daemon?what=config", nil, "")
			out[n.Name+" via reverse"] = c.get(proxy, "/v1/reverse/daemon?what=config", map[string]string{wire.HdrNodeID: n.ID}, "")
		}
		return out
	}
	expect := func(t *testing.T, enabled bool, ratio, version string) {
		t.Helper()
		for name, b := range configs(t) {
			tr, v := tracingOf(t, b)
			if tr.Enabled != enabled || tr.SamplerProbability != ratio || v != version {
				t.Errorf("%s runs tracing enabled=%v sampler_probability=%s at config version %s; want %v %s %s",
					name, tr.Enabled, tr.SamplerProbability, v, enabled, ratio, version)
			}
		}
	}
	setConfig := func(t *testing.T, query string) (int, []byte) {
		t.Helper()
		return c.send(http.MethodPut, proxy, "/v1/cluster/set-config?"+query, nil, "")
	}

	t.Run("set-config", func(t *testing.T) {
		c.t = t
		expect(t, true, "1", "0")
		// ais config cluster tracing.sampler_probability=0.5
		if status, b := setConfig(t, "tracing.sampler_probability=0.5"); status != 200 || len(b) != 0 {
			t.Fatalf("set-config: %d %q", status, b)
		}
		expect(t, true, "0.5", "1")
		if tr, v := tracingOf(t, c.get(proxy, "/v1/cluster?what=cluster_config", nil, "")); tr.SamplerProbability != "0.5" || v != "1" {
			t.Errorf("cluster_config after set-config: %+v v%s", tr, v)
		}
		if status, b := setConfig(t, "tracing.enabled=false&transient=true"); status != 200 {
			t.Fatalf("set-config: %d %s", status, b)
		}
		expect(t, false, "0.5", "2")
		if status, b := setConfig(t, "tracing.enabled=true"); status != 200 {
			t.Fatalf("set-config: %d %s", status, b)
		}
		expect(t, true, "0.5", "3")

		// Refused: nothing changes anywhere.
		for _, q := range []string{"checksum.type=md5", "tracing.sampler_probability=7", "tracing.exporter_endpoint=x:1"} {
			status, b := setConfig(t, q)
			if status != 501 && status != 400 {
				t.Errorf("%s: %d %s, want 501 or 400", q, status, b)
			}
			if status == 501 && !strings.Contains(string(b), strings.SplitN(q, "=", 2)[0]) {
				t.Errorf("%s: the 501 does not name the key: %s", q, b)
			}
		}
		expect(t, true, "0.5", "3")

		// ais config node T tracing.sampler_probability 0.1: that node only,
		// and no new cluster config version.
		status, b := c.send(http.MethodPut, proxy, "/v1/reverse/daemon/set-config?tracing.sampler_probability=0.1&transient=false", rev, "")
		if status != 200 {
			t.Fatalf("node set-config: %d %s", status, b)
		}
		if tr, v := tracingOf(t, c.get(tgt.PublicURL, "/v1/daemon?what=config", nil, "")); tr.SamplerProbability != "0.1" || v != "3" {
			t.Errorf("%s after its own set-config: %+v v%s", tgt.Name, tr, v)
		}
		other := cl.Targets()[1]
		if tr, _ := tracingOf(t, c.get(other.PublicURL, "/v1/daemon?what=config", nil, "")); tr.SamplerProbability != "0.5" {
			t.Errorf("%s changed with another node's set-config: %+v", other.Name, tr)
		}
		if status, b := c.send(http.MethodPut, proxy, "/v1/reverse/daemon/set-config?log.level=5", rev, ""); status != 501 {
			t.Errorf("node set-config of an unknown key: %d %s", status, b)
		}
	})

	t.Run("catch-up", func(t *testing.T) {
		c.t = t
		// A restarted target starts with its own settings and catches up
		// with the cluster configuration through its keepalives.
		cl.StopNode(tgt, syscall.SIGTERM)
		cl.StartTarget(0)
		deadline := time.Now().Add(15 * time.Second)
		for {
			tr, v := tracingOf(t, c.get(tgt.PublicURL, "/v1/daemon?what=config", nil, ""))
			if v == "3" && tr.SamplerProbability == "0.5" && tr.Enabled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the restarted target runs %+v at config version %s, want the cluster's (v3, 0.5)", tr, v)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// And the proxy keeps the persisted values over a restart.
		cl.RestartProxy()
		expect(t, true, "0.5", "3")
	})
}
