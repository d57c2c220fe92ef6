package cluster

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBucketValidate(t *testing.T) {
	tests := []struct {
		name string
		bck  Bucket
		ok   bool
	}{
		{"plain", NewBucket("b"), true},
		{"dots dashes", NewBucket("my-bucket_1.x"), true},
		{"empty provider means ais", Bucket{Name: "b"}, true},
		{"empty", NewBucket(""), false},
		{"dot", NewBucket("."), false},
		{"dotdot", NewBucket(".."), false},
		{"slash", NewBucket("a/b"), false},
		{"space", NewBucket("a b"), false},
		{"nul", NewBucket("a\x00"), false},
		{"too long", NewBucket(strings.Repeat("a", MaxBucketName+1)), false},
		{"max", NewBucket(strings.Repeat("a", MaxBucketName)), true},
		{"other provider", Bucket{Provider: "s3", Name: "b"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.bck.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tc.bck, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadName) {
				t.Fatalf("error %v does not wrap ErrBadName", err)
			}
		})
	}
}

func TestValidateObjectName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"o", true},
		{"a/b/c.txt", true},
		{"with space ü 日本", true},
		{"..a/b..", true},
		{"", false},
		{"..", false},
		{"a/../b", false},
		{"./a", false},
		{"a/.", false},
		{"/abs", false},
		{"a//b", false},
		{"dir/", false},
		{"a\x00b", false},
		{"\xff\xfe", false},
		{strings.Repeat("x", MaxObjectName), true},
		{strings.Repeat("x", MaxObjectName+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateObjectName(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateObjectName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadName) {
				t.Fatalf("error %v does not wrap ErrBadName", err)
			}
		})
	}
}

func TestUname(t *testing.T) {
	if got, want := NewBucket("b").Uname("x/y"), "ais/@#/b/x/y"; got != want {
		t.Fatalf("Uname = %q, want %q", got, want)
	}
}

func testMap(n int) *Map {
	m := NewMap("u", NewNode("p1", RoleProxy, "127.0.0.1:8080", "127.0.0.1:9080"))
	for i := range n {
		id := "t" + string(rune('a'+i))
		m.Targets[id] = NewNode(id, RoleTarget, "127.0.0.1:808"+string(rune('1'+i)), "127.0.0.1:908"+string(rune('1'+i)))
	}
	return m
}

func TestOwnerDistributionAndStability(t *testing.T) {
	const names = 100_000
	m3, m4 := testMap(3), testMap(4)
	count := map[string]int{}
	moved := 0
	for i := range names {
		u := NewBucket("b").Uname("obj-" + strconv.Itoa(i))
		a, err := m3.Owner(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m4.Owner(u)
		count[a.ID]++
		if a.ID != b.ID {
			moved++
			if b.ID != "td" {
				t.Fatalf("%s moved from %s to %s, not to the new target", u, a.ID, b.ID)
			}
		}
	}
	for id, c := range count {
		if frac := float64(c) / names; frac < 0.95/3 || frac > 1.05/3 {
			t.Errorf("target %s owns %.4f of names, want 1/3 within 5%%", id, frac)
		}
	}
	if frac := float64(moved) / names; frac < 0.95/4 || frac > 1.05/4 {
		t.Errorf("adding a 4th target moved %.4f of names, want about 1/4", frac)
	}
}

func TestOwnerDownAndEmpty(t *testing.T) {
	m := testMap(2)
	u := NewBucket("b").Uname("o")
	n, err := m.Owner(u)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	c.Targets[n.ID].Unresponsive = true
	if got, err := c.Owner(u); !errors.Is(err, ErrUnavailable) || got.ID != n.ID {
		t.Fatalf("Owner with owner down = %v, %v; want %s and ErrUnavailable", got, err, n.ID)
	}
	if _, err := NewMap("u", nil).Owner(u); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Owner on empty map: %v, want ErrUnavailable", err)
	}
}

func TestOwnerAllocs(t *testing.T) {
	m := testMap(3)
	u := NewBucket("b").Uname("some/object")
	m.Owner(u)
	if a := testing.AllocsPerRun(1000, func() { m.Owner(u) }); a != 0 {
		t.Fatalf("Owner allocates %v times per call", a)
	}
}

func TestMapJSONShape(t *testing.T) {
	m := testMap(1)
	m.Version = 7
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pmap", "tmap", "proxy_si", "version", "uuid"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("cluster map JSON lacks %q: %s", k, b)
		}
	}
	tn := raw["tmap"].(map[string]any)["ta"].(map[string]any)
	for _, k := range []string{"daemon_id", "daemon_type", "public_net", "intra_control_net", "intra_data_net", "flags", "id_digest"} {
		if _, ok := tn[k]; !ok {
			t.Errorf("node JSON lacks %q", k)
		}
	}
	if pn := tn["public_net"].(map[string]any); pn["direct_url"] != "http://127.0.0.1:8081" || pn["daemon_port"] != "8081" {
		t.Errorf("public_net = %v", pn)
	}
}

func TestMsgpRoundTrip(t *testing.T) {
	m := testMap(3)
	m.Version = 42
	b, err := m.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got Map
	if _, err := got.UnmarshalMsg(b); err != nil {
		t.Fatal(err)
	}
	if got.Version != 42 || len(got.Targets) != 3 || got.Primary.ID != "p1" || got.Targets["tb"].IDDigest != Digest("tb") {
		t.Fatalf("round trip lost data: %+v", &got)
	}
	bmd := NewBMD("u")
	bmd.Buckets["b"] = DefaultBucketProps(1, time.Unix(0, 5))
	bb, _ := bmd.MarshalMsg(nil)
	var gb BMD
	if _, err := gb.UnmarshalMsg(bb); err != nil || gb.Get(NewBucket("b")).Created != 5 {
		t.Fatalf("BMD round trip: %v %+v", err, gb)
	}
}

func BenchmarkOwner(b *testing.B) {
	for _, n := range []int{3, 10} {
		m := testMap(n)
		u := NewBucket("bench").Uname("some/object/name")
		b.Run(strconv.Itoa(n)+"targets", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Owner(u)
			}
		})
	}
}
