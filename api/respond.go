package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"miniais/cluster"
)

// WriteJSON writes v as a 200 JSON reply with its Content-Length.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// ErrMethod returns the error for a method that the path does not support
// (it wraps cluster.ErrBadRequest).
func ErrMethod(r *http.Request) error {
	return cluster.Errorf(cluster.ErrBadRequest, "method %s is not supported on %s", r.Method, r.URL.Path)
}
