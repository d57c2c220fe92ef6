package server

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestLimitConcurrency(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	h := LimitConcurrency(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Done()
		<-release
	}), 2, "n1", 3)
	var done sync.WaitGroup
	for range 2 {
		started.Add(1)
		done.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/objects/b/o", nil)) })
	}
	started.Wait()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/objects/b/o", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("third request = %d, Retry-After %q; want 503 and 3", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(release)
	done.Wait()
	started.Add(1) // the handler marks itself started again
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/objects/b/o", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("request after the others finished = %d", rec.Code)
	}
}
