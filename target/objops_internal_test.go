package target

import (
	"strings"
	"testing"

	"miniais/cluster"
)

func TestParseHandle(t *testing.T) {
	id := strings.Repeat("ab", 16)
	p := &pendingAppend{id: id, seq: 7}
	good := p.handle("t.with.dots")
	if gid, seq, tid, ok := parseHandle(good); !ok || gid != id || seq != 7 || tid != "t.with.dots" {
		t.Fatalf("parseHandle(%q) = %q %d %q %v", good, gid, seq, tid, ok)
	}
	for _, bad := range []string{
		"", ".", "..", id, id + ".7", id + ".7.", id + "..t1", id + ".07.t1", id + ".-1.t1", id + ".+7.t1",
		id + ".18446744073709551616.t1", strings.ToUpper(id) + ".7.t1", id[:31] + ".7.t1", id + "0.7.t1",
		strings.Repeat("zz", 16) + ".7.t1", " " + id[1:] + ".7.t1",
	} {
		if _, _, _, ok := parseHandle(bad); ok {
			t.Errorf("parseHandle(%q) accepted a malformed handle", bad)
		}
	}
}

// FuzzParseHandle: any input either is refused or round-trips exactly.
func FuzzParseHandle(f *testing.F) {
	f.Add(strings.Repeat("0f", 16) + ".1.t1")
	f.Add(strings.Repeat("0f", 16) + ".0.tab120016")
	f.Add("x.y.z")
	f.Fuzz(func(t *testing.T, h string) {
		id, seq, tid, ok := parseHandle(h)
		if !ok {
			return
		}
		p := &pendingAppend{id: id, seq: seq}
		if again := p.handle(tid); again != h {
			t.Fatalf("parseHandle(%q) = %q %d %q, which formats as %q", h, id, seq, tid, again)
		}
	})
}

func TestParseObjectTo(t *testing.T) {
	for _, tt := range []struct {
		in   string
		bck  string
		obj  string
		want error
	}{
		{"ais/@#/b2/o2", "b2", "o2", nil},
		{"ais/@#/b2/dir/o 2", "b2", "dir/o 2", nil},
		{"ais/@#/b2", "", "", cluster.ErrBadRequest},
		{"ais/@#/b2/", "", "", cluster.ErrBadName},
		{"ais/b2/o2", "", "", cluster.ErrBadRequest}, // no namespace: three parts only
		{"ais/ns/b2/o2", "", "", cluster.ErrNotImplemented},
		{"s3/@#/b2/o2", "", "", cluster.ErrNotImplemented},
		{"ais/@uuid#ns/b2/o2", "", "", cluster.ErrNotImplemented},
		{"ais/@#/../o2", "", "", cluster.ErrBadName},
		{"ais/@#/b2/a/../b", "", "", cluster.ErrBadName},
		{"", "", "", cluster.ErrBadRequest},
	} {
		bck, obj, err := parseObjectTo(tt.in)
		switch {
		case tt.want == nil && (err != nil || bck.Name != tt.bck || obj != tt.obj):
			t.Errorf("parseObjectTo(%q) = %v %q %v", tt.in, bck, obj, err)
		case tt.want != nil && !isKind(err, tt.want):
			t.Errorf("parseObjectTo(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func isKind(err, kind error) bool {
	return err != nil && cluster.KindOf(err) != nil && cluster.KindOf(err).Err == kind
}

// FuzzParseObjectTo: whatever is accepted names a valid bucket and object.
func FuzzParseObjectTo(f *testing.F) {
	for _, s := range []string{"ais/@#/b/o", "ais/@#/b/d/o", "s3/@#/b/o", "ais/@#/../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bck, obj, err := parseObjectTo(s)
		if err != nil {
			return
		}
		if bck.Validate() != nil || cluster.ValidateObjectName(obj) != nil || bck.Uname(obj) != s {
			t.Fatalf("parseObjectTo(%q) accepted %v %q", s, bck, obj)
		}
	})
}
