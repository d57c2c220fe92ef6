package server

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"miniais/cluster"
)

// FuzzReadAction: any request body decodes to an action message or fails
// as a 4xx kind of error, never panics.
func FuzzReadAction(f *testing.F) {
	for _, s := range []string{`{"action":"create-bck"}`, `{"action":"list","value":{"prefix":"a"}}`, ``, `{"action":`, `null`, `{"value":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, _ := http.NewRequest(http.MethodPost, "/v1/buckets/b", bytes.NewReader(body))
		msg, err := ReadAction(r)
		if err != nil {
			if !errors.Is(err, cluster.ErrBadRequest) && !errors.Is(err, cluster.ErrTooLarge) {
				t.Fatalf("ReadAction(%q) = %v", body, err)
			}
			return
		}
		if string(msg.Value) == "null" {
			t.Fatalf("ReadAction(%q) kept a null value", body)
		}
	})
}
