package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares v's indented JSON with testdata/name (-update rewrites
// it) and returns the compact JSON.
func golden(t *testing.T, name string, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	json.Indent(&buf, b, "", "  ")
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, buf.Bytes())
	}
	return b
}

// at returns the JSON object at the dot-separated path of b.
func at(t *testing.T, b []byte, path string) map[string]any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if path != "" {
		for _, p := range strings.Split(path, ".") {
			v = v.(map[string]any)[p]
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%q is not an object: %s", path, b)
	}
	return m
}

// wantKeys checks the keys of the object at path, and that each listed
// with a type has a value of that JSON type ("string", "number", "bool",
// "object", "array").
func wantKeys(t *testing.T, b []byte, path string, keys map[string]string) {
	t.Helper()
	m := at(t, b, path)
	for k, typ := range keys {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s lacks %q", path, k)
			continue
		}
		got := "null"
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		case map[string]any:
			got = "object"
		case []any:
			got = "array"
		}
		if typ != "" && got != typ {
			t.Errorf("%s.%s is a JSON %s, want %s", path, k, got, typ)
		}
	}
}

func fixedSmap() *cluster.Map {
	p := cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:8080", "127.0.0.1:9080")
	m := cluster.NewMap("Tc5almxr0", p)
	m.Targets["t1"] = cluster.NewNode("t1", cluster.RoleTarget, "127.0.0.1:8081", "127.0.0.1:9081")
	m.Version, m.CreationTime = 5, "2026-12-01 08:05:30"
	return m
}

func fixedTracing() tracing.Config {
	c := tracing.DefaultConfig()
	c.Enabled, c.ExporterEndpoint, c.SamplerProbability = true, "localhost:4317", 0.25
	return c
}

func TestClusterConfigReply(t *testing.T) {
	cfg := &cluster.Config{Version: 4, UUID: "Tc5almxr0", LastUpdated: time.Date(2026, 12, 1, 8, 5, 30, 0, time.UTC).UnixNano()}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cc := ClusterConfig(ConfigSource{Config: cfg, Smap: fixedSmap(), Tracing: fixedTracing(), Logger: log,
		CplaneTimeout: 5 * time.Second, MaxKeepalive: 4 * time.Second})
	b := golden(t, "cluster_config.json", cc)
	// aistore-clients.md section 2: the sections, and the types AIStore's
	// decoder needs.
	wantKeys(t, b, "", map[string]string{
		"checksum": "object", "versioning": "object", "mirror": "object", "ec": "object", "rebalance": "object",
		"log": "object", "periodic": "object", "space": "object", "lru": "object", "disk": "object", "fshc": "object",
		"chunks": "object", "client": "object", "timeout": "object", "net": "object", "proxy": "object", "auth": "object",
		"memsys": "object", "resilver": "object", "features": "string", "uuid": "string", "config_version": "string",
		"lastupdate_time": "string", "tracing": "object", "write_policy": "object", "backend": "object",
	})
	wantKeys(t, b, "checksum", map[string]string{"type": "string", "validate_cold_get": "bool", "validate_warm_get": "bool",
		"validate_obj_move": "bool", "enable_read_range": "bool"})
	wantKeys(t, b, "versioning", map[string]string{"enabled": "bool", "validate_warm_get": "bool", "synchronize": "bool"})
	wantKeys(t, b, "mirror", map[string]string{"copies": "number", "burst_buffer": "number", "enabled": "bool"})
	wantKeys(t, b, "log", map[string]string{"level": "string"})
	wantKeys(t, b, "net.http", map[string]string{"use_https": "bool"})
	wantKeys(t, b, "proxy", map[string]string{"primary_url": "string", "original_url": "string", "discovery_url": "string", "non_electable": "bool"})
	wantKeys(t, b, "timeout", map[string]string{"cplane_operation": "string", "max_keepalive": "string"})
	wantKeys(t, b, "tracing", map[string]string{"enabled": "bool", "exporter_endpoint": "string", "sampler_probability": "string",
		"service_name_prefix": "string", "skip_verify": "bool", "exporter_auth": "object"})
	for _, want := range []string{`"config_version":"4"`, `"sampler_probability":"0.25"`, `"level":"4"`, `"type":"xxhash2"`,
		`"primary_url":"http://127.0.0.1:8080"`, `"cplane_operation":"5s"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("cluster config lacks %s", want)
		}
	}
	if bytes.Contains(b, []byte("secret")) {
		t.Error("the cluster config mentions a secret")
	}

	nc := wire.NodeConfig{ClusterConfig: cc, LocalConfig: wire.LocalConfig{
		FSPaths: map[string]string{"/mp1": ""}, ConfigDir: "/data", HostNet: HostNetOf(fixedSmap().Targets["t1"]),
	}}
	nb := golden(t, "node_config.json", nc)
	wantKeys(t, nb, "", map[string]string{"fspaths": "object", "confdir": "string", "log_dir": "string", "host_net": "object",
		"tracing": "object", "config_version": "string"})
	wantKeys(t, nb, "host_net", map[string]string{"hostname": "string", "port": "string", "port_intra_control": "string"})
}

func TestNodeStatusReply(t *testing.T) {
	smap := fixedSmap()
	bmd := cluster.NewBMD("Tc5almxr0")
	bmd.Version = 8
	started := time.Now().Add(-time.Minute)
	ns := NodeStatusOf(smap.Targets["t1"], smap, bmd, &cluster.Config{Version: 4}, started, StateFlags(smap, "t1"))
	ns.Capacity = wire.Capacity{Mountpaths: map[string]*wire.MountpathCapacity{"/mp1": {
		FS: wire.FSInfo{Fs: "/dev/vda1", FsType: "ext4", FsID: "1,2"}, Disks: []string{"vda1"}, Used: 70, Avail: 30, PctUsed: 70,
	}}, TotalUsed: 70, TotalAvail: 30, PctMax: 70, PctAvg: 70, PctMin: 70}
	if ns.Tracker[wire.TrackerUptime] < int64(time.Minute) || ns.Tracker[wire.TrackerFlags] != 6 || ns.Cluster.Flags != 6 {
		t.Errorf("tracker %v flags %d", ns.Tracker, ns.Cluster.Flags)
	}
	// The golden file gets fixed values for what changes between runs.
	ns.Tracker[wire.TrackerUptime] = 60e9
	ns.SysInfo = wire.SysInfo{MemUsed: 1 << 20, MemAvail: 1 << 30, PctMemUsed: 0.1, PctCPUUsed: 2.5, LoadAvg: wire.LoadAvg{One: 1, Five: 0.5, Fifteen: 0.25}}
	b := golden(t, "node_status.json", ns)
	// aistore-clients.md section 2, node_status.
	wantKeys(t, b, "", map[string]string{"status": "string", "deployment": "string", "ais_version": "string", "build_time": "string",
		"k8s_pod_name": "string", "snode": "object", "tracker": "object", "capacity": "object", "cluster": "object",
		"sys_info": "object", "smap_version": "string"})
	wantKeys(t, b, "tracker", map[string]string{"up.ns.time": "number", "state.flags": "number"})
	wantKeys(t, b, "capacity", map[string]string{"mountpaths": "object", "cs_err": "string", "total_used": "string",
		"total_avail": "string", "pct_max": "number", "pct_avg": "number", "pct_min": "number"})
	wantKeys(t, b, "capacity.mountpaths./mp1", map[string]string{"mountpath_label": "string", "fs": "object", "disks": "array",
		"used": "string", "avail": "string", "pct_used": "number"})
	wantKeys(t, b, "capacity.mountpaths./mp1.fs", map[string]string{"Fs": "string", "FsType": "string", "FsID": "string"})
	wantKeys(t, b, "cluster", map[string]string{"smap": "object", "bmd": "object", "config": "object", "flags": "number"})
	wantKeys(t, b, "cluster.smap", map[string]string{"Primary": "object", "uuid": "string", "version": "string"})
	wantKeys(t, b, "cluster.smap.Primary", map[string]string{"pub_url": "string", "control_url": "string", "id": "string"})
	wantKeys(t, b, "cluster.bmd", map[string]string{"uuid": "string", "version": "string"})
	wantKeys(t, b, "sys_info", map[string]string{"mem_used": "number", "mem_avail": "number", "pct_mem_used": "number",
		"pct_cpu_used": "number", "load_avg": "object"})
	wantKeys(t, b, "sys_info.load_avg", map[string]string{"One": "number", "Five": "number", "Fifteen": "number"})
	if ns.Version != "5.0." || ns.Status != "" {
		t.Errorf("version %q status %q", ns.Version, ns.Status)
	}

	// A node not (yet) in the map is started but has not joined; one in
	// maintenance says so.
	if f := StateFlags(cluster.NewMap("u", nil), "t9"); f != wire.StateNodeStarted {
		t.Errorf("flags of a node not in the map = %d", f)
	}
	smap.Targets["t1"].Flags |= cluster.FlagMaintenance
	if f := StateFlags(smap, "t1"); f != wire.StateOK|wire.StateMaintenance {
		t.Errorf("flags of a node in maintenance = %d", f)
	}
}

func TestOtherReplies(t *testing.T) {
	own := wire.SysInfo{MemUsed: 1, MemAvail: 2, PctMemUsed: 3, PctCPUUsed: 4}
	si := wire.ClusterSysInfo{Proxy: map[string]*wire.SysInfo{"p1": &own},
		Target: map[string]*wire.TargetSysInfo{"t1": {SysInfo: own, FSUsed: 70, FSCapacity: 100, PctFSUsed: 70}}}
	b := golden(t, "sysinfo.json", si)
	wantKeys(t, b, "target.t1", map[string]string{"mem_used": "number", "fs_used": "string", "fs_capacity": "string", "pct_fs_used": "number"})

	b = golden(t, "mountpaths.json", wire.MountpathList{Available: []string{"/mp1", "/mp2"}, WaitingDD: []string{}, Disabled: []string{}})
	wantKeys(t, b, "", map[string]string{"available": "array", "waiting_dd": "array", "disabled": "array"})

	if b, _ := json.Marshal(wire.RemoteClusters{}); string(b) != `{"a":null,"ver":0}` {
		t.Errorf("remote = %s", b)
	}
	b = golden(t, "snode.json", fixedSmap().Targets["t1"])
	wantKeys(t, b, "", map[string]string{"daemon_id": "string", "daemon_type": "string", "public_net": "object",
		"intra_control_net": "object", "intra_data_net": "object", "flags": "number", "id_digest": "number"})
}

func TestReadSysInfo(t *testing.T) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("no /proc")
	}
	si := ReadSysInfo(time.Now().Add(-time.Second))
	if si.MemUsed == 0 || si.MemAvail == 0 || si.PctMemUsed <= 0 || si.PctMemUsed > 100 || si.PctCPUUsed < 0 {
		t.Fatalf("ReadSysInfo = %+v", si)
	}
}

func TestSetConfigQuery(t *testing.T) {
	tests := []struct {
		query     string
		kvs       map[string]string
		transient bool
		err       bool
	}{
		{"tracing.enabled=true", map[string]string{"tracing.enabled": "true"}, false, false},
		{"tracing.enabled=true&transient=true", map[string]string{"tracing.enabled": "true"}, true, false},
		{"transient=false", map[string]string{}, false, false},
		{"transient=maybe", nil, false, true},
		{"a=1&a=2", nil, false, true},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		kvs, transient, err := SetConfigQuery(q)
		if (err != nil) != tc.err || (err == nil && (transient != tc.transient || len(kvs) != len(tc.kvs))) {
			t.Errorf("%s: %v %v %v", tc.query, kvs, transient, err)
		}
		if err != nil && !errors.Is(err, cluster.ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", tc.query, err)
		}
		for k, v := range tc.kvs {
			if kvs[k] != v {
				t.Errorf("%s: %s=%q", tc.query, k, kvs[k])
			}
		}
	}
}
