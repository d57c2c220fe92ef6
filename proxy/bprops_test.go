package proxy

import (
	"cmp"
	"errors"
	"strconv"
	"testing"
	"time"

	"miniais/checksum"
	"miniais/cluster"
)

func TestMergeBucketProps(t *testing.T) {
	cur := cluster.DefaultBucketProps(42, time.Unix(1700000000, 0))
	tests := []struct {
		name    string
		partial string
		check   func(*cluster.BucketProps) bool
		wantErr bool
		want    error // the error kind when wantErr (default ErrBadRequest)
	}{
		{"validate warm get", `{"checksum":{"validate_warm_get":true}}`, func(p *cluster.BucketProps) bool {
			return p.Checksum.ValidateWarmGet && p.Checksum.Type == cluster.ChecksumXXHash2 && p.Versioning.Enabled && p.BID == cur.BID
		}, false, nil},
		{"versioning off", `{"versioning":{"enabled":false}}`, func(p *cluster.BucketProps) bool {
			return !p.Versioning.Enabled && !p.Checksum.ValidateWarmGet
		}, false, nil},
		{"empty", `{}`, func(p *cluster.BucketProps) bool { return *p == *cur }, false, nil},
		{"same bid", `{"bid":"` + strconv.FormatUint(cur.BID, 10) + `"}`, func(p *cluster.BucketProps) bool { return *p == *cur }, false, nil},
		{"unknown field", `{"nosuch":{}}`, nil, true, nil},
		{"wrong type", `{"checksum":{"validate_warm_get":"yes"}}`, nil, true, nil},
		{"other bid", `{"bid":"43"}`, nil, true, nil},
		{"provider", `{"provider":"gcp"}`, nil, true, nil},
		{"md5", `{"checksum":{"type":"md5"}}`, func(p *cluster.BucketProps) bool { return p.Checksum.Type == "md5" }, false, nil},
		{"unknown checksum", `{"checksum":{"type":"cesmd5"}}`, nil, true, nil},
		{"mirror", `{"mirror":{"enabled":true,"copies":2}}`, nil, true, cluster.ErrNotImplemented},
		{"ec", `{"ec":{"enabled":true}}`, nil, true, cluster.ErrNotImplemented},
		{"trailing data", `{} {}`, nil, true, nil},
		{"not an object", `[]`, nil, true, nil},
		{"truncated", `{"checksum":`, nil, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := *cur
			got, err := mergeBucketProps(cur, []byte(tc.partial))
			if *cur != before {
				t.Fatalf("mergeBucketProps modified its input")
			}
			if tc.wantErr {
				want := cmp.Or(tc.want, cluster.ErrBadRequest)
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
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
// change what must not change, and fail only as bad requests (or 501 for
// features miniais does not have).
func FuzzMergeBucketProps(f *testing.F) {
	for _, s := range []string{`{"checksum":{"validate_warm_get":true}}`, `{}`, `{"bid":"1"}`, `null`, `{"mirror":{"copies":1}}`, `{"access":"0"}`} {
		f.Add([]byte(s))
	}
	cur := cluster.DefaultBucketProps(42, time.Unix(1700000000, 0))
	f.Fuzz(func(t *testing.T, partial []byte) {
		got, err := mergeBucketProps(cur, partial)
		if err != nil {
			if !errors.Is(err, cluster.ErrBadRequest) && !errors.Is(err, cluster.ErrNotImplemented) {
				t.Fatalf("error %v is neither a bad request nor not implemented", err)
			}
			return
		}
		if got.Provider != cur.Provider || got.BID != cur.BID || got.Created != cur.Created || !checksum.Valid(got.Checksum.Type) || got.EC.Enabled || got.Mirror.Enabled {
			t.Fatalf("accepted %q into %+v", partial, got)
		}
	})
}
