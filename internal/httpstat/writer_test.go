package httpstat

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name    string
		serve   func(w http.ResponseWriter)
		status  int
		written int64
	}{
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("hello")) }, 200, 5},
		{"status then body", func(w http.ResponseWriter) { w.WriteHeader(404); w.Write([]byte("no")) }, 404, 2},
		{"interim status first", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 201, 0},
		{"flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, 200, 0},
		{"nothing", func(http.ResponseWriter) {}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := &Writer{ResponseWriter: rec}
			tt.serve(w)
			if w.Status != tt.status || w.Written != tt.written {
				t.Fatalf("Status %d Written %d, want %d %d", w.Status, w.Written, tt.status, tt.written)
			}
		})
	}
	t.Run("ReadFrom counts", func(t *testing.T) {
		w := &Writer{ResponseWriter: httptest.NewRecorder()}
		if n, err := w.ReadFrom(strings.NewReader("0123456789")); n != 10 || err != nil || w.Written != 10 || w.Status != 200 {
			t.Fatalf("ReadFrom = %d, %v; Written %d Status %d", n, err, w.Written, w.Status)
		}
	})
	t.Run("Unwrap", func(t *testing.T) {
		rec := httptest.NewRecorder()
		if (&Writer{ResponseWriter: rec}).Unwrap() != rec {
			t.Fatal("Unwrap does not return the wrapped writer")
		}
	})
}
