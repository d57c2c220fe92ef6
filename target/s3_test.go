package target

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"miniais/fs"
)

func TestCheckConditions(t *testing.T) {
	mod := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	a := &fs.ObjectAttrs{Atime: mod.Add(300 * time.Millisecond), Custom: map[string]string{fs.CustomETag: "abc"}}
	before, after := mod.Add(-time.Hour).Format(http.TimeFormat), mod.Add(time.Hour).Format(http.TimeFormat)
	at := mod.Format(http.TimeFormat)
	for _, tc := range []struct {
		hdr    map[string]string
		status int
	}{
		{nil, 0},
		{map[string]string{"If-Match": `"abc"`}, 0},
		{map[string]string{"If-Match": `abc`}, 0},
		{map[string]string{"If-Match": `"x", "abc"`}, 0},
		{map[string]string{"If-Match": `*`}, 0},
		{map[string]string{"If-Match": `"x"`}, 412},
		{map[string]string{"If-Unmodified-Since": before}, 412},
		{map[string]string{"If-Unmodified-Since": at}, 0},
		{map[string]string{"If-Match": `"abc"`, "If-Unmodified-Since": before}, 0}, // If-Match wins
		{map[string]string{"If-None-Match": `"abc"`}, 304},
		{map[string]string{"If-None-Match": `W/"abc"`}, 304},
		{map[string]string{"If-None-Match": `"x"`}, 0},
		{map[string]string{"If-Modified-Since": at}, 304},
		{map[string]string{"If-Modified-Since": before}, 0},
		{map[string]string{"If-Modified-Since": after}, 304},
		{map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": at}, 0},                        // If-None-Match wins
		{map[string]string{"If-Modified-Since": time.Now().Add(time.Hour).Format(http.TimeFormat)}, 0}, // future: ignored
		{map[string]string{"If-Match": `"x"`, "If-None-Match": `"abc"`}, 412},
	} {
		r := httptest.NewRequest("GET", "/v1/objects/b/o", nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		if got := checkConditions(r, a); got != tc.status {
			t.Errorf("%v: %d, want %d", tc.hdr, got, tc.status)
		}
	}
	// Without an MD5 the ETag is the checksum.
	b := &fs.ObjectAttrs{}
	b.Checksum.Value = "c5"
	if etagOf(b) != `"c5"` || etagOf(a) != `"abc"` {
		t.Errorf("etagOf: %s %s", etagOf(b), etagOf(a))
	}
}
