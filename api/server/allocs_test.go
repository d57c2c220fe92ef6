package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"miniais/api/wire"
)

// TestRequestChecksAllocs: what every object request goes through before
// its handler (Strict, RouteOf, CheckOperation, Quiet) allocates nothing
// for the requests aisloader sends, redirected or not.
func TestRequestChecksAllocs(t *testing.T) {
	for _, target := range []string{
		"/v1/objects/bench/dir/obj-000123?provider=ais",
		"/v1/objects/bench/obj?provider=ais&pid=p1&utm=m3x5k2ab",
	} {
		var r *http.Request
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/objects/{bucket}/{object...}", func(_ http.ResponseWriter, req *http.Request) { r = req })
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("User-Agent", "aisloader")
		mux.ServeHTTP(httptest.NewRecorder(), req)
		if r == nil {
			t.Fatalf("%s: not routed", target)
		}
		n := testing.AllocsPerRun(200, func() {
			if err := Strict(r); err != nil {
				t.Fatal(err)
			}
			if _, err := RouteOf(r); err != nil {
				t.Fatal(err)
			}
			if err := CheckOperation(r, wire.QparamArchpath); err != nil {
				t.Fatal(err)
			}
			if Quiet(r) {
				t.Fatal("an object GET is quiet")
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per request", target, n)
		}
	}
}
