package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
	"miniais/transport"
)

// queryProxy is a proxy (made by New, not running) whose cluster and daemon
// routes are served by an httptest server.
type queryProxy struct {
	*Proxy
	url string
	rec *tracetest.SpanRecorder // nil when tracing is disabled
}

// newQueryProxy returns a proxy with tracing enabled (spans recorded) when
// traced, else disabled, in dataDir.
func newQueryProxy(t *testing.T, dataDir string, traced bool) *queryProxy {
	t.Helper()
	tp, rec := tracing.Disabled(), (*tracetest.SpanRecorder)(nil)
	if traced {
		rec = tracetest.NewSpanRecorder()
		cfg := tracing.DefaultConfig()
		cfg.Enabled = true
		var err error
		if tp, err = tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleProxy, SpanProcessor: rec}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tp.Shutdown(context.Background()) })
	}
	p, err := New(Config{ID: "p1", PublicAddr: freeAddr(t), TransportAddr: freeAddr(t), DataDir: dataDir, Tracing: tp, PushTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.client.Close() })
	m := server.NewMux(p.cfg.ID)
	p.clusterRoutes(m)
	srv := httptest.NewServer(tp.Handler(m, spanName))
	t.Cleanup(srv.Close)
	return &queryProxy{Proxy: p, url: srv.URL, rec: rec}
}

// addTarget puts node n into the proxy's map (a new version).
func (p *queryProxy) addTarget(n *cluster.Node) {
	m := p.smap.Load().Clone()
	m.Targets[n.ID] = n
	m.Version++
	p.smap.Store(m)
}

// request sends method url with headers h and returns the status and body.
func request(t *testing.T, method, url string, h map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// objectKeys decodes a JSON object and returns its keys.
func objectKeys(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func requireKeys(t *testing.T, what, body string, want ...string) {
	t.Helper()
	got := objectKeys(t, body)
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("%s lacks %q (has %v)", what, k, got)
		}
	}
}

// clusterConfigSections are the sections of AIStore's cluster_config that
// aistore-clients.md section 2 lists.
var clusterConfigSections = []string{"checksum", "versioning", "mirror", "ec", "rebalance", "log", "periodic", "space", "lru",
	"disk", "fshc", "chunks", "client", "timeout", "net", "proxy", "auth", "memsys", "resilver", "features", "uuid",
	"config_version", "lastupdate_time", "tracing", "write_policy", "backend"}

func TestClusterQueries(t *testing.T) {
	p := newQueryProxy(t, t.TempDir(), false)
	tests := []struct {
		what   string
		body   string
		status int
		check  func(t *testing.T, body string)
	}{
		{"smap", "", 200, func(t *testing.T, b string) {
			requireKeys(t, "smap", b, "pmap", "tmap", "proxy_si", "version", "uuid", "creation_time")
		}},
		{"bmd", "", 200, func(t *testing.T, b string) { requireKeys(t, "bmd", b, "providers", "uuid", "version") }},
		{"cluster_config", "", 200, func(t *testing.T, b string) {
			requireKeys(t, "cluster_config", b, clusterConfigSections...)
			var cc map[string]any
			json.Unmarshal([]byte(b), &cc)
			if cc["config_version"] != "0" || cc["features"] != "0" {
				t.Errorf("config_version %v features %v, want strings", cc["config_version"], cc["features"])
			}
			tr := cc["tracing"].(map[string]any)
			for _, k := range []string{"enabled", "exporter_endpoint", "sampler_probability", "service_name_prefix", "skip_verify", "exporter_auth"} {
				if _, ok := tr[k]; !ok {
					t.Errorf("tracing lacks %q: %v", k, tr)
				}
			}
			if tr["sampler_probability"] != "1" || tr["enabled"] != false || cc["checksum"].(map[string]any)["type"] != "xxhash2" {
				t.Errorf("tracing %v, checksum %v", tr, cc["checksum"])
			}
			if to := cc["timeout"].(map[string]any); to["cplane_operation"] != "2s" || to["max_keepalive"] != "4s" {
				t.Errorf("timeout = %v, want the proxy's push and keepalive timeouts", to)
			}
		}},
		{"backends", "", 200, func(t *testing.T, b string) {
			if b != "[]" {
				t.Errorf("backends = %s, want []", b)
			}
		}},
		{"remote", "", 200, func(t *testing.T, b string) {
			if b != `{"a":null,"ver":0}` {
				t.Errorf("remote = %s", b)
			}
		}},
		{"sysinfo", "", 200, func(t *testing.T, b string) {
			requireKeys(t, "sysinfo", b, "proxy", "target")
			var si wire.ClusterSysInfo
			json.Unmarshal([]byte(b), &si)
			if own := si.Proxy["p1"]; own == nil || (own.MemUsed == 0 && runtimeHasProc()) {
				t.Errorf("sysinfo of the proxy = %+v", own)
			}
		}},
		{"qryxstats", `{"kind":"rebalance","show_active":true}`, 200, func(t *testing.T, b string) {
			if b != "{}" {
				t.Errorf("qryxstats = %s, want {}", b)
			}
		}},
		{"qryxstats", `{"kind":"no-such-kind","show_active":null,"bck":{"name":"","provider":""}}`, 200, func(t *testing.T, b string) {
			if b != "{}" {
				t.Errorf("qryxstats = %s, want {}", b)
			}
		}},
		{"qryxstats", "", 200, nil},
		{"qryxstats", `{"id":"J5y5lVxO0"}`, 404, nil},
		{"status", `{"id":"J5y5lVxO0","kind":"copy-bck"}`, 404, nil},
		{"status", `{"kind":"rebalance"}`, 404, nil},
		{"status_all", `{"kind":"rebalance"}`, 200, func(t *testing.T, b string) {
			if b != "[]" {
				t.Errorf("status_all = %s", b)
			}
		}},
		{"qryxstats", `{"id":`, 400, nil},
		{"node_stats", "", 501, func(t *testing.T, b string) {
			if !strings.Contains(b, "node_stats") {
				t.Errorf("501 does not name what: %s", b)
			}
		}},
		{"", "", 501, nil},
	}
	for _, tc := range tests {
		t.Run(tc.what+tc.body, func(t *testing.T) {
			status, body := request(t, "GET", p.url+"/v1/cluster?what="+tc.what, nil, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func runtimeHasProc() bool { _, err := os.Stat("/proc/self/statm"); return err == nil }

func TestDaemonQueries(t *testing.T) {
	p := newQueryProxy(t, t.TempDir(), false)
	tests := []struct {
		what   string
		status int
		keys   []string
	}{
		{"smap", 200, []string{"pmap", "tmap", "proxy_si", "version"}},
		{"bmd", 200, []string{"providers", "version"}},
		{"config", 200, append([]string{"fspaths", "confdir", "log_dir", "host_net"}, clusterConfigSections...)},
		{"snode", 200, []string{"daemon_id", "daemon_type", "public_net", "intra_control_net", "intra_data_net", "flags", "id_digest"}},
		{"node_status", 200, []string{"status", "deployment", "ais_version", "build_time", "k8s_pod_name", "snode", "tracker", "capacity", "cluster", "sys_info", "smap_version"}},
		{"stats", 200, []string{"daemon_id", "smap_version", "tracing_enabled"}},
		{"version", 200, []string{"version"}},
		{"mountpaths", 400, nil},
		{"metrics", 200, []string{"get.n", "put.n", "up.ns.time", "state.flags"}},
		{"no-such-what", 501, nil},
	}
	for _, tc := range tests {
		t.Run(tc.what, func(t *testing.T) {
			status, body := request(t, "GET", p.url+"/v1/daemon?what="+tc.what, nil, "")
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.keys != nil {
				requireKeys(t, tc.what, body, tc.keys...)
			}
			if tc.status == 501 && !strings.Contains(body, tc.what) {
				t.Errorf("501 does not name %q: %s", tc.what, body)
			}
		})
	}
	_, body := request(t, "GET", p.url+"/v1/daemon?what=node_status", nil, "")
	var ns wire.NodeStatus
	if err := json.Unmarshal([]byte(body), &ns); err != nil {
		t.Fatal(err)
	}
	if ns.Version != "5.0." || ns.Node.ID != "p1" || ns.Tracker["state.flags"] != 6 || ns.Tracker["up.ns.time"] <= 0 ||
		ns.Cluster.Smap.Primary.ID != "p1" || ns.Cluster.Flags != 6 || !strings.Contains(body, `"smap_version":"0"`) {
		t.Errorf("node_status = %s", body)
	}
}

// fakeNode is an HTTP server standing for a target: it records the
// requests it gets and answers 200 with a fixed body.
type fakeNode struct {
	*httptest.Server
	node *cluster.Node
	mu   sync.Mutex
	got  []*http.Request
	body []string
}

func startFakeNode(t *testing.T, id string) *fakeNode {
	t.Helper()
	fn := &fakeNode{}
	fn.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fn.mu.Lock()
		fn.got = append(fn.got, r.Clone(context.Background()))
		fn.body = append(fn.body, string(b))
		fn.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Ais-From", id)
		w.WriteHeader(http.StatusTeapot) // a status the proxy would never make up
		io.WriteString(w, `{"from":"`+id+`"}`)
	}))
	t.Cleanup(fn.Close)
	fn.node = cluster.NewNode(id, cluster.RoleTarget, strings.TrimPrefix(fn.URL, "http://"), freeAddr(t))
	return fn
}

func TestReverseDaemon(t *testing.T) {
	p := newQueryProxy(t, t.TempDir(), true)
	fn := startFakeNode(t, "t-forward")
	p.addTarget(fn.node)
	down := cluster.NewNode("t-down", cluster.RoleTarget, freeAddr(t), freeAddr(t))
	down.Unresponsive = true
	p.addTarget(down)
	gone := cluster.NewNode("t-gone", cluster.RoleTarget, freeAddr(t), freeAddr(t)) // nothing listens
	p.addTarget(gone)

	t.Run("forwarded", func(t *testing.T) {
		status, body := request(t, "PUT", p.url+"/v1/reverse/daemon/mountpaths?label=x",
			map[string]string{wire.HdrNodeID: "t-forward", "Content-Type": "application/json"}, `{"action":"attach-mp","value":"/mp"}`)
		if status != http.StatusTeapot || body != `{"from":"t-forward"}` {
			t.Fatalf("reply %d %s, want the node's own", status, body)
		}
		fn.mu.Lock()
		defer fn.mu.Unlock()
		if len(fn.got) != 1 {
			t.Fatalf("node got %d requests", len(fn.got))
		}
		r := fn.got[0]
		if r.Method != "PUT" || r.URL.Path != "/v1/daemon/mountpaths" || r.URL.RawQuery != "label=x" ||
			fn.body[0] != `{"action":"attach-mp","value":"/mp"}` || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("node got %s %s?%s %q %v", r.Method, r.URL.Path, r.URL.RawQuery, fn.body[0], r.Header)
		}
		tp := r.Header.Get("Traceparent")
		if tp == "" {
			t.Fatal("the relayed request carries no trace context")
		}
		// The server span ends just after the reply is written.
		var serverTrace string
		waitFor(t, func() bool {
			for _, s := range p.rec.Ended() {
				if s.Name() == "PUT "+wire.PathReverseDaemon+"/{path...}" {
					serverTrace = s.SpanContext().TraceID().String()
				}
			}
			return serverTrace != ""
		})
		if !strings.Contains(tp, serverTrace) {
			t.Errorf("relayed traceparent %s is not in the proxy's trace %s", tp, serverTrace)
		}
	})
	t.Run("get query", func(t *testing.T) {
		status, _ := request(t, "GET", p.url+"/v1/reverse/daemon?what=node_status", map[string]string{wire.HdrNodeID: "t-forward"}, "")
		fn.mu.Lock()
		defer fn.mu.Unlock()
		if last := fn.got[len(fn.got)-1]; status != http.StatusTeapot || last.URL.Path != "/v1/daemon" || last.URL.Query().Get("what") != "node_status" {
			t.Errorf("status %d, node got %s", status, last.URL)
		}
	})
	t.Run("self", func(t *testing.T) {
		status, body := request(t, "GET", p.url+"/v1/reverse/daemon?what=snode", map[string]string{wire.HdrNodeID: "p1"}, "")
		var n cluster.Node
		if status != 200 || json.Unmarshal([]byte(body), &n) != nil || n.ID != "p1" {
			t.Fatalf("self = %d %s", status, body)
		}
		if status, body := request(t, "PUT", p.url+"/v1/reverse/daemon/mountpaths", map[string]string{wire.HdrNodeID: "p1"}, ""); status != 501 {
			t.Errorf("mountpaths on the proxy itself = %d %s, want 501", status, body)
		}
	})
	for _, tc := range []struct {
		name, id string
		status   int
		mention  string
	}{
		{"unknown", "t-nope", 404, "t-nope"},
		{"down", "t-down", 503, "t-down"},
		{"unreachable", "t-gone", 503, "t-gone"},
		{"no header", "", 400, wire.HdrNodeID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.id != "" {
				h[wire.HdrNodeID] = tc.id
			}
			status, body := request(t, "GET", p.url+"/v1/reverse/daemon?what=snode", h, "")
			if status != tc.status || !strings.Contains(body, tc.mention) {
				t.Fatalf("%d %s, want %d naming %s", status, body, tc.status, tc.mention)
			}
		})
	}
}

// configTarget is a transport server that plays a target's config pushes:
// it records the versions it is pushed and refuses the checking round when
// refuse is set.
type configTarget struct {
	node     *cluster.Node
	mu       sync.Mutex
	refuse   error
	versions []int64 // applied
	checks   int
}

func startConfigTarget(t *testing.T, id string) *configTarget {
	t.Helper()
	ct := &configTarget{node: cluster.NewNode(id, cluster.RoleTarget, freeAddr(t), freeAddr(t))}
	srv := transport.NewServer(transport.Config{NodeID: id})
	srv.Handle(transport.KindConfigPush, func(_ context.Context, m *transport.Message, _ *transport.Header) ([]byte, error) {
		b, _ := io.ReadAll(m.Body)
		var cfg cluster.Config
		if _, err := cfg.UnmarshalMsg(b); err != nil {
			return nil, err
		}
		ct.mu.Lock()
		defer ct.mu.Unlock()
		if string(m.Header.Opaque) == "validate" {
			ct.checks++
			return nil, ct.refuse
		}
		ct.versions = append(ct.versions, cfg.Version)
		return nil, nil
	})
	ln, err := net.Listen("tcp", ct.node.TransportAddr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, ln)
	t.Cleanup(func() { cancel(); srv.Close() })
	return ct
}

func (ct *configTarget) applied() []int64 {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return slices.Clone(ct.versions)
}

// sampledNow starts a root span with p's tracer and reports whether it was
// sampled.
func sampledNow(p *Proxy) bool {
	_, span := p.tracer.Start(context.Background(), "probe")
	defer span.End()
	return span.SpanContext().IsSampled()
}

func TestSetClusterConfig(t *testing.T) {
	dir := t.TempDir()
	p := newQueryProxy(t, dir, true)
	a, b := startConfigTarget(t, "ta"), startConfigTarget(t, "tb")
	p.addTarget(a.node)
	p.addTarget(b.node)
	put := func(query string) (int, string) {
		return request(t, "PUT", p.url+"/v1/cluster/set-config?"+query, nil, "")
	}
	version := func() int64 { return p.clusterConfig().Version }
	if !sampledNow(p.Proxy) {
		t.Fatal("a root span is not sampled at ratio 1")
	}

	steps := []struct {
		query   string
		status  int
		sampled bool // a root span started after the request
		version int64
	}{
		{"tracing.sampler_probability=0", 200, false, 1},
		{"tracing.sampler_probablity=1", 200, true, 2}, // AIStore's spelling
		{"tracing.enabled=false", 200, false, 3},
		{"tracing.enabled=true&transient=true", 200, true, 4},
		{"checksum.type=md5", 501, true, 4},
		{"tracing.exporter_endpoint=x:1&tracing.sampler_probability=0", 501, true, 4},
		{"tracing.sampler_probability=2", 400, true, 4},
		{"tracing.enabled=maybe", 400, true, 4},
		{"transient=true", 400, true, 4},
		{"transient=perhaps&tracing.enabled=true", 400, true, 4},
		{"", 400, true, 4},
	}
	for _, st := range steps {
		t.Run(st.query, func(t *testing.T) {
			status, body := put(st.query)
			if status != st.status {
				t.Fatalf("status %d, want %d: %s", status, st.status, body)
			}
			if status == 200 && body != "" {
				t.Errorf("body %q, want empty", body)
			}
			if status == 501 && !strings.Contains(body, "checksum.type") && !strings.Contains(body, "tracing.exporter_endpoint") {
				t.Errorf("501 does not name the key: %s", body)
			}
			if got := sampledNow(p.Proxy); got != st.sampled {
				t.Errorf("a span started after is sampled = %v, want %v", got, st.sampled)
			}
			if v := version(); v != st.version {
				t.Errorf("config version %d, want %d", v, st.version)
			}
		})
	}
	for _, ct := range []*configTarget{a, b} {
		if got := ct.applied(); !slices.Equal(got, []int64{1, 2, 3, 4}) {
			t.Errorf("target %s was pushed versions %v, want 1..4", ct.node.ID, got)
		}
	}
	_, body := request(t, "GET", p.url+"/v1/cluster?what=cluster_config", nil, "")
	var cc wire.ClusterConfig
	if err := json.Unmarshal([]byte(body), &cc); err != nil || cc.Version != 4 || !cc.Tracing.Enabled || cc.Tracing.SamplerProbability != "1" {
		t.Fatalf("cluster_config after the changes: %v %s", err, body)
	}

	// A target that cannot apply the change refuses it: nothing changes.
	b.mu.Lock()
	b.refuse = cluster.Errorf(cluster.ErrBadRequest, "tracing not started here")
	b.mu.Unlock()
	if status, body := put("tracing.sampler_probability=0.5"); status != 400 || !strings.Contains(body, "tb") {
		t.Fatalf("refused by a target: %d %s, want 400 naming it", status, body)
	}
	if version() != 4 || !sampledNow(p.Proxy) || len(a.applied()) != 4 {
		t.Fatalf("a change a target refused changed something: version %d", version())
	}
	b.mu.Lock()
	b.refuse = nil
	b.mu.Unlock()

	// The persisted file has the last version, without the transient value:
	// a restarted proxy runs with enabled=false, ratio 1.
	var disk cluster.Config
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := disk.UnmarshalMsg(raw); err != nil || disk.Version != 4 || disk.Tracing.Enabled == nil || *disk.Tracing.Enabled ||
		*disk.Tracing.SamplerProbability != 1 {
		t.Fatalf("persisted %+v, %v", disk, err)
	}
	again := newQueryProxy(t, dir, true)
	if again.clusterConfig().Version != 4 || sampledNow(again.Proxy) || again.cfg.Tracing.Config().Enabled {
		t.Fatalf("restarted proxy: version %d, sampling %v", again.clusterConfig().Version, sampledNow(again.Proxy))
	}
}

func TestSetConfigNotStarted(t *testing.T) {
	p := newQueryProxy(t, t.TempDir(), false) // started without tracing
	if status, body := request(t, "PUT", p.url+"/v1/cluster/set-config?tracing.enabled=true", nil, ""); status != 400 ||
		!strings.Contains(body, "not started") {
		t.Fatalf("enabling tracing that never started: %d %s, want 400", status, body)
	}
	if v := p.clusterConfig().Version; v != 0 {
		t.Fatalf("a refused change made version %d", v)
	}
	if _, err := os.Stat(filepath.Join(p.cfg.DataDir, configFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused change was persisted: %v", err)
	}
	// The ratio may change: it is recorded and shows in the config.
	if status, body := request(t, "PUT", p.url+"/v1/cluster/set-config?tracing.sampler_probability=0.25", nil, ""); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	_, body := request(t, "GET", p.url+"/v1/daemon?what=config", nil, "")
	if !strings.Contains(body, `"sampler_probability":"0.25"`) {
		t.Fatalf("daemon config after the change: %s", body)
	}
}

func TestSetDaemonConfig(t *testing.T) {
	p := newQueryProxy(t, t.TempDir(), true)
	for _, tc := range []struct {
		query   string
		status  int
		sampled bool
	}{
		{"tracing.sampler_probability=0&transient=false", 200, false},
		{"tracing.enabled=true&tracing.sampler_probability=1", 200, true},
		{"log.level=5", 501, true},
	} {
		status, body := request(t, "PUT", p.url+"/v1/daemon/set-config?"+tc.query, nil, "")
		if status != tc.status || sampledNow(p.Proxy) != tc.sampled {
			t.Errorf("%s: %d %s, sampled %v; want %d %v", tc.query, status, body, sampledNow(p.Proxy), tc.status, tc.sampled)
		}
	}
	if v := p.clusterConfig().Version; v != 0 {
		t.Errorf("a node's own set-config made cluster config version %d", v)
	}
	// Through the relay, addressed to the proxy itself.
	status, body := request(t, "PUT", p.url+"/v1/reverse/daemon/set-config?tracing.sampler_probability=0", map[string]string{wire.HdrNodeID: "p1"}, "")
	if status != 200 || sampledNow(p.Proxy) {
		t.Errorf("reverse set-config on self: %d %s", status, body)
	}
}

func TestSetChecksumDefault(t *testing.T) {
	p := newQueryProxy(t, t.TempDir(), false)
	if status, body := request(t, "PUT", p.url+"/v1/cluster/set-config?checksum.validate_warm_get=true", nil, ""); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	_, body := request(t, "GET", p.url+"/v1/cluster?what=cluster_config", nil, "")
	var cc wire.ClusterConfig
	if err := json.Unmarshal([]byte(body), &cc); err != nil || !cc.Checksum.ValidateWarmGet || cc.Version != 1 {
		t.Fatalf("cluster_config: %v %s", err, body)
	}
	if props := p.clusterConfig().BucketProps(1, time.Now()); !props.Checksum.ValidateWarmGet {
		t.Fatalf("new buckets do not inherit the default: %+v", props)
	}
}
