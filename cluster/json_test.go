package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got (indented) with testdata/name, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, buf.Bytes())
	}
}

// keys returns the keys of the JSON object at path (dot-separated) in b.
func keys(t *testing.T, b []byte, path string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if path != "" {
		for _, p := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%s: not an object at %q in %s", path, p, b)
			}
			v = m[p]
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object in %s", path, b)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// hasKeys fails the test for every key of want missing at path in b.
func hasKeys(t *testing.T, b []byte, path string, want ...string) {
	t.Helper()
	got := keys(t, b, path)
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("%q lacks key %q (has %v)", path, k, got)
		}
	}
}

// fixedMap is a deterministic map for the golden files.
func fixedMap() *Map {
	m := testMap(2)
	m.Version, m.CreationTime = 13, "2026-12-01 08:05:30"
	m.Primary.Flags = FlagIC
	m.Targets["tb"].Unresponsive = true
	return m
}

func TestMapJSON(t *testing.T) {
	b, err := json.Marshal(fixedMap())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "smap.json", b)
	// api-v1.md "Cluster" and aistore-clients.md section 2.
	hasKeys(t, b, "", "pmap", "tmap", "proxy_si", "version", "uuid", "creation_time")
	hasKeys(t, b, "tmap.ta", "daemon_id", "daemon_type", "public_net", "intra_control_net", "intra_data_net", "flags", "id_digest")
	hasKeys(t, b, "tmap.ta.public_net", "node_ip_addr", "daemon_port", "direct_url")
	if !bytes.Contains(b, []byte(`"version":"13"`)) || !bytes.Contains(b, []byte(`"creation_time":"2026-12-01 08:05:30"`)) {
		t.Errorf("version or creation_time not strings: %s", b)
	}
	if got := keys(t, b, "tmap.ta"); slices.Contains(got, "miniais_down") {
		t.Errorf("a node that is up carries miniais_down: %v", got)
	}
	hasKeys(t, b, "tmap.tb", "miniais_down")

	for _, tc := range []struct {
		name, version string
	}{{"string", `"13"`}, {"number", `13`}} {
		t.Run("decode version as "+tc.name, func(t *testing.T) {
			in := bytes.Replace(b, []byte(`"version":"13"`), []byte(`"version":`+tc.version), 1)
			var m Map
			if err := json.Unmarshal(in, &m); err != nil {
				t.Fatal(err)
			}
			if m.Version != 13 || m.CreationTime != "2026-12-01 08:05:30" || !m.Targets["tb"].Down() || m.Targets["ta"].Down() ||
				m.Primary.Flags != FlagIC || len(m.ActiveTargets()) != 1 {
				t.Fatalf("decoded %+v", &m)
			}
		})
	}
	var m Map
	if err := json.Unmarshal([]byte(`{"version":"x"}`), &m); err == nil {
		t.Error("a non-integer version decoded")
	}
}

func TestNodeFlags(t *testing.T) {
	// aistore-clients.md section 8: AIStore's bit values.
	for flag, want := range map[uint64]uint64{FlagNonElectable: 1, FlagIC: 2, FlagMaintenance: 4, FlagDecommission: 8, FlagMaintenancePostRebalance: 16} {
		if flag != want {
			t.Errorf("flag %d, want %d", flag, want)
		}
	}
	n := NewNode("t1", RoleTarget, "127.0.0.1:1", "127.0.0.1:2")
	n.Unresponsive = true
	b, _ := json.Marshal(n)
	if !bytes.Contains(b, []byte(`"flags":0`)) {
		t.Errorf("a down node's flags are not 0 (the down marker is not a flag): %s", b)
	}
}

func fixedBMD() *BMD {
	bmd := NewBMD("Tc5almxr0")
	bmd.Version = 2
	bmd.Buckets["b1"] = DefaultBucketProps(AISBucketID(1), time.Unix(0, 1796112551290581570))
	bmd.Buckets["b2"] = DefaultBucketProps(AISBucketID(2), time.Unix(0, 1796112551290581571))
	return bmd
}

func TestBMDJSON(t *testing.T) {
	b, err := json.Marshal(fixedBMD())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bmd.json", b)
	// aistore-clients.md section 8.
	hasKeys(t, b, "", "providers", "uuid", "version")
	hasKeys(t, b, "providers.ais.@#", "b1", "b2")
	if !bytes.Contains(b, []byte(`"version":"2"`)) {
		t.Errorf("version is not a string: %s", b)
	}
	if empty, _ := json.Marshal(NewBMD("u")); !bytes.Equal(empty, []byte(`{"providers":{},"uuid":"u","version":"0"}`)) {
		t.Errorf("empty BMD = %s", empty)
	}

	tests := []struct {
		name, in string
		want     []string // bucket names; nil: an error
		version  int64
	}{
		{"aistore", string(b), []string{"b1", "b2"}, 2},
		{"number version", `{"providers":{"ais":{"@#":{"x":{"provider":"ais"}}}},"uuid":"u","version":7}`, []string{"x"}, 7},
		{"older miniais", `{"version":3,"uuid":"u","buckets":{"old":{"provider":"ais","bid":"1"}}}`, []string{"old"}, 3},
		{"null providers", `{"providers":null,"uuid":"u","version":"1"}`, []string{}, 1},
		{"empty remote namespace", `{"providers":{"ais":{"@#":{}},"aws":{"@#":{}}},"version":"1"}`, []string{}, 1},
		{"remote provider", `{"providers":{"aws":{"@#":{"s3b":{}}}},"version":"1"}`, nil, 0},
		{"other namespace", `{"providers":{"ais":{"@uuid#ns":{"b":{}}}},"version":"1"}`, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got BMD
			err := json.Unmarshal([]byte(tc.in), &got)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, 0, len(got.Buckets))
			for n := range got.Buckets {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.want) || got.Version != tc.version || got.Buckets == nil {
				t.Fatalf("decoded buckets %v version %d, want %v %d", names, got.Version, tc.want, tc.version)
			}
		})
	}
	var back BMD
	if err := json.Unmarshal(b, &back); err != nil || *back.Buckets["b1"] != *fixedBMD().Buckets["b1"] {
		t.Fatalf("round trip: %v %+v", err, back.Buckets["b1"])
	}
}

func TestBucketPropsJSON(t *testing.T) {
	props := DefaultBucketProps(AISBucketID(1), time.Unix(0, 1796112551290581570))
	b, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bprops.json", b)
	// api-v1.md "Buckets" and aistore-clients.md section 3.
	hasKeys(t, b, "", "provider", "bid", "created", "access", "features", "checksum", "versioning", "mirror", "ec",
		"write_policy", "Renamed", "extra", "rate_limit", "chunks", "lru")
	hasKeys(t, b, "extra", "aws", "gcp", "oci")
	hasKeys(t, b, "checksum", "type", "validate_warm_get")
	for _, want := range []string{`"bid":"9223372036854775809"`, `"created":"1796112551290581570"`, `"access":"18446744073709551615"`,
		`"features":"0"`, `"type":"xxhash2"`, `"write_policy":{"data":"immediate","md":"immediate"}`, `"Renamed":""`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("props JSON lacks %s", want)
		}
	}
	if props.BID&BIDAIS == 0 || DefaultBucketProps(5, time.Now()).BID != AISBucketID(5) {
		t.Error("an ais bucket's ID lacks the top bit")
	}
	var back BucketProps
	if err := json.Unmarshal(b, &back); err != nil || back != *props {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, *props)
	}

	// Turning on what miniais does not have fails to decode.
	for _, in := range []string{`{"lru":{"enabled":true}}`, `{"rate_limit":{"frontend":{"enabled":true}}}`,
		`{"rate_limit":{"backend":{"enabled":true}}}`, `{"chunks":{"objsize_limit":"1GiB"}}`} {
		var p BucketProps
		err := json.Unmarshal([]byte(in), &p)
		if !errors.Is(err, ErrNotImplemented) {
			t.Errorf("decoding %s: %v, want ErrNotImplemented", in, err)
		}
	}
	for _, in := range []string{`{"lru":{"enabled":false}}`, `{"chunks":{"objsize_limit":"0B"}}`, `{"extra":{"aws":{}}}`} {
		var p BucketProps
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			t.Errorf("decoding %s: %v", in, err)
		}
	}
}

func TestMsgpRoundTripNewFields(t *testing.T) {
	m := fixedMap()
	b, err := m.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got Map
	if _, err := got.UnmarshalMsg(b); err != nil {
		t.Fatal(err)
	}
	if got.CreationTime != m.CreationTime || !got.Targets["tb"].Down() || got.Targets["ta"].Down() || got.Primary.Flags != FlagIC {
		t.Fatalf("round trip lost data: %+v", &got)
	}
	bmd := fixedBMD()
	bmd.Buckets["b1"].Renamed = "b0"
	bb, _ := bmd.MarshalMsg(nil)
	var gb BMD
	if _, err := gb.UnmarshalMsg(bb); err != nil || *gb.Buckets["b1"] != *bmd.Buckets["b1"] {
		t.Fatalf("BMD round trip: %v %+v", err, gb.Buckets["b1"])
	}

	on, ratio := true, 0.25
	cfg := Config{Version: 3, UUID: "u", LastUpdated: 9, Tracing: TracingConfig{Enabled: &on, SamplerProbability: &ratio}}
	cb, _ := cfg.MarshalMsg(nil)
	var gc Config
	if _, err := gc.UnmarshalMsg(cb); err != nil || gc.Version != 3 || *gc.Tracing.Enabled != on || *gc.Tracing.SamplerProbability != ratio {
		t.Fatalf("config round trip: %v %+v", err, gc)
	}
	var empty Config
	eb, _ := (&Config{Version: 1}).MarshalMsg(nil)
	if _, err := empty.UnmarshalMsg(eb); err != nil || empty.Tracing.Enabled != nil || empty.Tracing.SamplerProbability != nil {
		t.Fatalf("config without overrides: %v %+v", err, empty)
	}
}

func TestConfigWith(t *testing.T) {
	on := true
	base := Config{Version: 4, Tracing: TracingConfig{Enabled: &on}}
	tests := []struct {
		name    string
		kvs     map[string]string
		kind    error // nil: ok
		enabled *bool
		ratio   *float64
	}{
		{"ratio", map[string]string{"tracing.sampler_probability": "0.5"}, nil, &on, ptr(0.5)},
		{"AIStore spelling", map[string]string{"tracing.sampler_probablity": "0"}, nil, &on, ptr(0.0)},
		{"upper case", map[string]string{"Tracing.Enabled": "false"}, nil, ptr(false), nil},
		{"both", map[string]string{"tracing.enabled": "true", "tracing.sampler_probability": "1"}, nil, &on, ptr(1.0)},
		{"out of range", map[string]string{"tracing.sampler_probability": "1.5"}, ErrBadRequest, nil, nil},
		{"not a number", map[string]string{"tracing.sampler_probability": "half"}, ErrBadRequest, nil, nil},
		{"not a bool", map[string]string{"tracing.enabled": "yes please"}, ErrBadRequest, nil, nil},
		{"checksum default", map[string]string{"checksum.validate_warm_get": "true"}, nil, &on, nil},
		{"unknown", map[string]string{"checksum.type": "md5"}, ErrNotImplemented, nil, nil},
		{"unknown with a known one", map[string]string{"tracing.sampler_probability": "bad", "tracing.exporter_endpoint": "x:1"}, ErrNotImplemented, nil, nil},
		{"none", map[string]string{}, ErrBadRequest, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := base.With(tc.kvs)
			if tc.kind != nil {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("With(%v) = %v, want %v", tc.kvs, err, tc.kind)
				}
				if tc.kind == ErrNotImplemented && !strings.Contains(err.Error(), "tracing.exporter_endpoint") && !strings.Contains(err.Error(), "checksum.type") {
					t.Errorf("error %q does not name the key", err)
				}
				if got.Tracing != base.Tracing {
					t.Errorf("a refused update changed the config: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != base.Version || !eqPtr(got.Tracing.Enabled, tc.enabled) || !eqPtr(got.Tracing.SamplerProbability, tc.ratio) {
				t.Fatalf("With(%v) = %+v", tc.kvs, got)
			}
		})
	}
	if *base.Tracing.Enabled != true {
		t.Error("With modified its receiver's values")
	}

	// New buckets inherit the checksum defaults.
	now := time.Unix(0, 7)
	if p := (*Config)(nil).BucketProps(3, now); *p != *DefaultBucketProps(3, now) {
		t.Errorf("nil config: %+v", p)
	}
	withWarm, err := base.With(map[string]string{KeyChecksumValidateWarmGet: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if p := withWarm.BucketProps(3, now); !p.Checksum.ValidateWarmGet || p.BID != AISBucketID(3) {
		t.Errorf("bucket props under checksum.validate_warm_get=true: %+v", p)
	}
	if got := ConfigKeys(); len(got) != 5 || !slices.IsSorted(got) {
		t.Errorf("ConfigKeys() = %v", got)
	}

	// The removal timeout of a down target: a duration, default when unset.
	if d := base.RemoveDownAfter(); d != DefaultRemoveDownAfter {
		t.Errorf("unset remove_down_after = %v", d)
	}
	withRemove, err := base.With(map[string]string{KeyTimeoutRemoveDownAfter: "90s"})
	if err != nil || withRemove.RemoveDownAfter() != 90*time.Second {
		t.Errorf("remove_down_after=90s: %v, %v", withRemove.RemoveDownAfter(), err)
	}
	for _, bad := range []string{"soon", "-1s"} {
		if _, err := base.With(map[string]string{KeyTimeoutRemoveDownAfter: bad}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("remove_down_after=%q: %v, want ErrBadRequest", bad, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func eqPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
