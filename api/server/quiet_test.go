package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Monitoring is quiet, operations are not.
func TestQuiet(t *testing.T) {
	tests := []struct {
		method, target string
		quiet          bool
	}{
		{"GET", "/v1/health", true},
		{"GET", "/metrics", true},
		{"GET", "/metrics/targets", true},
		{"GET", "/v1/daemon?what=stats", true},
		{"GET", "/v1/daemon?what=node_status", true},
		{"GET", "/v1/daemon?what=metrics", true},
		{"GET", "/v1/daemon?what=smap", false},
		{"PUT", "/v1/daemon/set-config?x=1", false},
		{"GET", "/v1/objects/b/o", false},
	}
	for _, tc := range tests {
		if got := Quiet(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.quiet {
			t.Errorf("%s %s: quiet %v, want %v", tc.method, tc.target, got, tc.quiet)
		}
	}
}

// A metrics scrape passes a full concurrency limit, as a health check does.
func TestLimitPassesScrapes(t *testing.T) {
	block := make(chan struct{})
	entered := make(chan struct{})
	h := LimitConcurrency(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/objects/b/o" {
			close(entered)
			<-block
		}
	}), 1, "t1", 1)
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/objects/b/o", nil))
		close(done)
	}()
	<-entered
	for _, path := range []string{PathMetrics, "/v1/health", "/v1/objects/b/o2"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		want := http.StatusOK
		if path == "/v1/objects/b/o2" {
			want = http.StatusServiceUnavailable
		}
		if w.Code != want {
			t.Errorf("%s with the one slot taken: %d, want %d", path, w.Code, want)
		}
	}
	close(block)
	<-done
}
