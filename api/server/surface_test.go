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
		{"refused action", `{"action":"copy-listrange"}`, []string{"create-bck"}, cluster.ErrNotImplemented},
		{"another route's action", `{"action":"destroy-bck"}`, []string{"create-bck"}, cluster.ErrBadRequest},
		{"unknown action", `{"action":"nope"}`, []string{"create-bck"}, cluster.ErrBadRequest},
		{"route that takes none", `{"action":"shutdown"}`, nil, cluster.ErrNotImplemented},
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
	// No header is refused today; a stand-in row tests the header path.
	refusedHeader["Ais-Test-Refused"] = &Name{InHeader, "Ais-Test-Refused", Refused, "a test"}
	t.Cleanup(func() { delete(refusedHeader, "Ais-Test-Refused") })
	tests := []struct {
		target string
		hdr    string
		want   bool // refused
	}{
		{"/v1/objects/b/o?provider=ais", "", false},
		{"/v1/objects/b/o?etl_name=upper", "", true},
		{"/v1/objects/b/o?x=1&archregx=.%2A", "", true},
		{"/v1/objects/b/o?arch%6Dode=prefix", "", true},
		{"/v1/objects/b/o?validate-checksum", "", true},
		{"/v1/objects/b/o?object_to=ais%2F%40%23%2Fb%2Fo2&append_type=append&archpath=f", "", false}, // implemented
		{"/v1/objects/b/o?unknown=1&pid=p&utm=u", "", false},
		{"/v1/objects/b/o", "Ais-Test-Refused", true},
		{"/v1/objects/b/o", "Ais-Pine", false},
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

// TestCheckOperation refuses an operation parameter that the route does
// not take, so that none is ever ignored.
func TestCheckOperation(t *testing.T) {
	tests := []struct {
		method, target, hdr string
		takes               []string
		ok                  bool
	}{
		{"DELETE", "/v1/objects/b/o", "", nil, true},
		{"DELETE", "/v1/objects/b/o?uploadId=0123456789abcdef", "", nil, false},
		{"GET", "/v1/objects/b/o?object_to=x", "", nil, false},
		{"GET", "/v1/objects/b/o?archpath=f", "", []string{"archpath"}, true},
		{"GET", "/v1/objects/b/o?archpath=f&append_handle=", "", []string{"archpath"}, false},
		{"PUT", "/v1/objects/b/o", "Ais-Pine", nil, false},
		{"PUT", "/v1/objects/b/o?archpath=f", "Ais-Pine", []string{"archpath", "Ais-Pine"}, true},
		{"GET", "/v1/buckets/b?uploads=true", "", nil, false},
		{"PUT", "/v1/objects/b/o?bck_to=ais%2F%40%23%2Fc%2F", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target+" "+tt.hdr, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.hdr != "" {
				r.Header.Set(tt.hdr, "1")
			}
			err := CheckOperation(r, tt.takes...)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, cluster.ErrBadRequest)) {
				t.Fatalf("CheckOperation(%v) = %v, want ok %v", tt.takes, err, tt.ok)
			}
		})
	}
}
