package server

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"miniais/cluster"
)

// TestSurfaceTable: every row is well formed and named once per place.
func TestSurfaceTable(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Surface {
		key := n.In + ":" + n.Name
		switch {
		case seen[key]:
			t.Errorf("%s is in the table twice", key)
		case n.Name == "" || n.What == "":
			t.Errorf("row %+v has no name or description", n)
		case n.In != InQuery && n.In != InHeader && n.In != InAction:
			t.Errorf("row %+v: unknown place %q", n, n.In)
		case n.Support != Implemented && n.Support != Refused && n.Support != Hint:
			t.Errorf("row %+v: unknown support", n)
		}
		seen[key] = true
	}
}

func TestReadActionFor(t *testing.T) {
	tests := []struct {
		name, body string
		takes      []string
		want       error
	}{
		{"taken", `{"action":"create-bck"}`, []string{"create-bck"}, nil},
		{"no message where none is fine", ``, []string{"", "list"}, nil},
		{"no message", ``, []string{"create-bck"}, cluster.ErrBadRequest},
		{"refused action", `{"action":"copy-bck"}`, []string{"create-bck"}, cluster.ErrNotImplemented},
		{"another route's action", `{"action":"destroy-bck"}`, []string{"create-bck"}, cluster.ErrBadRequest},
		{"unknown action", `{"action":"nope"}`, []string{"create-bck"}, cluster.ErrBadRequest},
		{"route that takes none", `{"action":"start"}`, nil, cluster.ErrNotImplemented},
		{"malformed", `{"action":`, []string{"create-bck"}, cluster.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/buckets/b", strings.NewReader(tt.body))
			_, err := ReadActionFor(r, tt.takes...)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("ReadActionFor(%q, %q) = %v, want %v", tt.body, tt.takes, err, tt.want)
			}
		})
	}
}

// TestStrict refuses a refused query parameter or header, however it is
// spelled in the query, and lets the others through.
func TestStrict(t *testing.T) {
	tests := []struct {
		target string
		hdr    string
		want   bool // refused
	}{
		{"/v1/objects/b/o?provider=ais", "", false},
		{"/v1/objects/b/o?object_to=ais%2F%40%23%2Fb%2Fo2", "", true},
		{"/v1/objects/b/o?x=1&append_type=append", "", true},
		{"/v1/objects/b/o?append%5Ftype=append", "", true},
		{"/v1/objects/b/o?archpath", "", true},
		{"/v1/objects/b/o?unknown=1&pid=p&utm=u", "", false},
		{"/v1/objects/b/o", "Ais-Pine", true},
		{"/v1/objects/b/o", "Ais-Checksum-Type", false},
	}
	for _, tt := range tests {
		t.Run(tt.target+" "+tt.hdr, func(t *testing.T) {
			r := httptest.NewRequest("PUT", tt.target, nil)
			if tt.hdr != "" {
				r.Header.Set(tt.hdr, "1")
			}
			err := Strict(r)
			if tt.want != errors.Is(err, cluster.ErrNotImplemented) || (!tt.want && err != nil) {
				t.Fatalf("Strict = %v, want refused %v", err, tt.want)
			}
		})
	}
}
