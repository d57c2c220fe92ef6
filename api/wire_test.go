package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"miniais/api"
	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{cluster.Errorf(cluster.ErrNotFound, "x"), 404},
		{fmt.Errorf("wrapped: %w", cluster.ErrExists), 409},
		{cluster.ErrBadName, 400},
		{cluster.ErrBadRequest, 400},
		{cluster.ErrChecksum, 400},
		{cluster.Errorf(cluster.ErrCorrupt, "rot"), 500},
		{cluster.ErrTooLarge, 413},
		{&http.MaxBytesError{Limit: 1}, 413},
		{cluster.ErrNotOwner, 421},
		{cluster.ErrUnavailable, 503},
		{context.Canceled, wire.StatusClientClosed},
		{context.DeadlineExceeded, 504},
		{&wire.HTTPError{Status: 502, Message: "relayed"}, 502},
		{errors.New("boom"), 500},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			if got := wire.StatusOf(tt.err); got != tt.want {
				t.Errorf("StatusOf = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWriteErrorRoundTrip(t *testing.T) {
	tests := []struct {
		method string
		err    error
		want   []error
	}{
		{http.MethodGet, cluster.Errorf(cluster.ErrNotFound, "object x"), []error{cluster.ErrNotFound}},
		{http.MethodPut, cluster.Errorf(cluster.ErrChecksum, "bad"), []error{cluster.ErrChecksum, cluster.ErrBadRequest}},
		{http.MethodPut, cluster.Errorf(cluster.ErrBadName, "bad"), []error{cluster.ErrBadName, cluster.ErrBadRequest}},
		{http.MethodPost, cluster.Errorf(cluster.ErrExists, "b"), []error{cluster.ErrExists}},
		{http.MethodGet, cluster.Errorf(cluster.ErrNotOwner, "o"), []error{cluster.ErrNotOwner}},
		{http.MethodHead, cluster.Errorf(cluster.ErrNotFound, "o"), []error{cluster.ErrNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.err.Error(), func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/v1/objects/b/o", nil)
			w := httptest.NewRecorder()
			server.WriteError(w, r, "node1", tt.err)
			if w.Code != wire.StatusOf(tt.err) {
				t.Fatalf("code %d", w.Code)
			}
			if tt.method == http.MethodHead {
				if w.Body.Len() != 0 {
					t.Fatalf("HEAD reply has a body: %q", w.Body)
				}
				return
			}
			var he wire.HTTPError
			if err := json.Unmarshal(w.Body.Bytes(), &he); err != nil {
				t.Fatal(err)
			}
			if he.Node != "node1" || he.Method != tt.method || he.URLPath != "/v1/objects/b/o" || he.Status != w.Code || he.Message != tt.err.Error() {
				t.Errorf("body %+v", he)
			}
			for _, want := range tt.want {
				if !errors.Is(&he, want) {
					t.Errorf("errors.Is(%v, %v) = false", &he, want)
				}
			}
		})
	}
}

func TestLsoWireFormat(t *testing.T) {
	res := &wire.LsoResult{ContinuationToken: "tok", Entries: []*wire.LsoEntry{
		{Name: "o", Size: 123, Checksum: "abcd", Version: "1"},
		{Name: "empty"},
	}}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uuid":"","continuation_token":"tok","entries":[{"name":"o","checksum":"abcd","version":"1","size":"123"},{"name":"empty","size":"0"}],"flags":0}`
	if string(js) != want {
		t.Errorf("JSON\n got %s\nwant %s", js, want)
	}
	var buf bytes.Buffer
	if err := msgp.Encode(&buf, res); err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	var jb bytes.Buffer
	if _, err := msgp.CopyToJSON(&jb, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jb.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"UUID", "ContinuationToken", "Entries", "Flags"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("msgpack lacks top-level key %q: %s", k, jb.String())
		}
	}
	if !strings.Contains(jb.String(), `{"n":"o","cs":"abcd","v":"1","s":123}`) || !strings.Contains(jb.String(), `{"n":"empty"}`) {
		t.Errorf("msgpack entries: %s", jb.String())
	}
	var back wire.LsoResult
	if err := msgp.Decode(bytes.NewReader(buf.Bytes()), &back); err != nil {
		t.Fatal(err)
	}
	if back.ContinuationToken != "tok" || len(back.Entries) != 2 || *back.Entries[0] != *res.Entries[0] {
		t.Errorf("round trip: %+v", back)
	}
}

func TestParseBucketURI(t *testing.T) {
	tests := []struct {
		in      string
		bucket  string
		obj     string
		wantErr bool
	}{
		{"ais://b", "b", "", false},
		{"ais://b/", "b", "", false},
		{"ais://b/o/with/slashes", "b", "o/with/slashes", false},
		{"b", "b", "", false},
		{"ais://b/a b%?#ü", "b", "a b%?#ü", false},
		{"s3://b", "", "", true},
		{"ais://", "", "", true},
		{"ais:///o", "", "", true},
		{"", "", "", true},
		{"://b", "", "", true},
		{"b/o", "", "", true},
		{"ais://bad name", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			bck, obj, err := api.ParseBucketURI(tt.in)
			if tt.wantErr {
				if !errors.Is(err, cluster.ErrBadName) {
					t.Fatalf("err = %v, want ErrBadName", err)
				}
				return
			}
			if err != nil || bck != cluster.NewBucket(tt.bucket) || obj != tt.obj {
				t.Fatalf("= %v, %q, %v", bck, obj, err)
			}
		})
	}
}

func TestObjectPath(t *testing.T) {
	tests := []struct{ bucket, name, want string }{
		{"b", "o", "/v1/objects/b/o"},
		{"b", "a/b/c", "/v1/objects/b/a/b/c"},
		{"b", "a b/50%/q?#", "/v1/objects/b/a%20b/50%25/q%3F%23"},
		{"b", "ü", "/v1/objects/b/%C3%BC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := api.ObjectPath(tt.bucket, tt.name); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzDecodeLsoResult feeds arbitrary bytes to the msgpack decoder of a
// listing page (it arrives from the network): it must not panic, and what it
// accepts must re-encode.
func FuzzDecodeLsoResult(f *testing.F) {
	seed := &wire.LsoResult{UUID: "u", ContinuationToken: "t", Entries: []*wire.LsoEntry{
		{Name: "a/b", Size: 1 << 40, Checksum: "0123456789abcdef", Atime: "2026", Version: "3", Location: "t[x]", Custom: "m", Copies: 1, Flags: 2},
		{Name: "e"},
	}, Flags: 1}
	b, err := seed.MarshalMsg(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		var res wire.LsoResult
		if _, err := res.UnmarshalMsg(data); err != nil {
			return
		}
		if _, err := res.MarshalMsg(nil); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
