package proxy

import (
	"errors"
	"testing"
	"time"

	"miniais/cluster"
)

func TestMergeBucketProps(t *testing.T) {
	cur := cluster.DefaultBucketProps(42, time.Unix(1700000000, 0))
	tests := []struct {
		name    string
		partial string
		check   func(*cluster.BucketProps) bool
		wantErr bool
	}{
		{"validate warm get", `{"checksum":{"validate_warm_get":true}}`, func(p *cluster.BucketProps) bool {
			return p.Checksum.ValidateWarmGet && p.Checksum.Type == cluster.ChecksumXXHash2 && p.Versioning.Enabled && p.BID == 42
		}, false},
		{"versioning off", `{"versioning":{"enabled":false}}`, func(p *cluster.BucketProps) bool {
			return !p.Versioning.Enabled && !p.Checksum.ValidateWarmGet
		}, false},
		{"empty", `{}`, func(p *cluster.BucketProps) bool { return *p == *cur }, false},
		{"same bid", `{"bid":"42"}`, func(p *cluster.BucketProps) bool { return *p == *cur }, false},
		{"unknown field", `{"lru":{}}`, nil, true},
		{"wrong type", `{"checksum":{"validate_warm_get":"yes"}}`, nil, true},
		{"other bid", `{"bid":"43"}`, nil, true},
		{"provider", `{"provider":"gcp"}`, nil, true},
		{"md5", `{"checksum":{"type":"md5"}}`, nil, true},
		{"mirror", `{"mirror":{"enabled":true,"copies":2}}`, nil, true},
		{"ec", `{"ec":{"enabled":true}}`, nil, true},
		{"trailing data", `{} {}`, nil, true},
		{"not an object", `[]`, nil, true},
		{"truncated", `{"checksum":`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := *cur
			got, err := mergeBucketProps(cur, []byte(tc.partial))
			if *cur != before {
				t.Fatalf("mergeBucketProps modified its input")
			}
			if tc.wantErr {
				if !errors.Is(err, cluster.ErrBadRequest) {
					t.Fatalf("err = %v, want a bad request", err)
				}
				return
			}
			if err != nil || !tc.check(got) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

// FuzzMergeBucketProps: arbitrary partial properties never panic, never
// change what must not change, and fail only as bad requests.
func FuzzMergeBucketProps(f *testing.F) {
	for _, s := range []string{`{"checksum":{"validate_warm_get":true}}`, `{}`, `{"bid":"1"}`, `null`, `{"mirror":{"copies":1}}`, `{"access":"0"}`} {
		f.Add([]byte(s))
	}
	cur := cluster.DefaultBucketProps(42, time.Unix(1700000000, 0))
	f.Fuzz(func(t *testing.T, partial []byte) {
		got, err := mergeBucketProps(cur, partial)
		if err != nil {
			if !errors.Is(err, cluster.ErrBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if got.Provider != cur.Provider || got.BID != cur.BID || got.Created != cur.Created || got.Checksum.Type != cluster.ChecksumXXHash2 || got.EC.Enabled || got.Mirror.Enabled {
			t.Fatalf("accepted %q into %+v", partial, got)
		}
	})
}
