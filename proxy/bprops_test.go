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
		// The mirror rules (mergeBucketProps's doc).
		{"mirror on", `{"mirror":{"enabled":true,"copies":2}}`, mirrorIs(2, true), false, nil},
		{"mirror copies only", `{"mirror":{"copies":3}}`, mirrorIs(3, true), false, nil},
		{"mirror copies 1 only", `{"mirror":{"copies":1}}`, mirrorIs(1, false), false, nil},
		{"mirror max copies", `{"mirror":{"copies":32}}`, mirrorIs(cluster.MaxCopies, true), false, nil},
		{"mirror enabled only", `{"mirror":{"enabled":true}}`, mirrorIs(2, true), false, nil},
		{"mirror disabled only", `{"mirror":{"enabled":false}}`, mirrorIs(1, false), false, nil},
		{"mirror off", `{"mirror":{"enabled":false,"copies":1}}`, mirrorIs(1, false), false, nil},
		{"mirror burst only", `{"mirror":{"burst_buffer":64}}`, nil, true, cluster.ErrNotImplemented},
		{"mirror burst unchanged", `{"mirror":{"burst_buffer":0,"copies":2}}`, mirrorIs(2, true), false, nil},
		{"mirror null", `{"mirror":null}`, mirrorIs(1, false), false, nil},
		{"mirror copies 0", `{"mirror":{"copies":0}}`, nil, true, nil},
		{"mirror copies 33", `{"mirror":{"copies":33}}`, nil, true, nil},
		{"mirror copies negative", `{"mirror":{"copies":-2}}`, nil, true, nil},
		{"mirror enabled with 1 copy", `{"mirror":{"enabled":true,"copies":1}}`, nil, true, nil},
		{"mirror disabled with 2 copies", `{"mirror":{"enabled":false,"copies":2}}`, nil, true, nil},
		{"mirror negative burst", `{"mirror":{"burst_buffer":-1}}`, nil, true, nil},
		{"mirror copies a string", `{"mirror":{"copies":"2"}}`, nil, true, nil},
		{"mirror unknown key", `{"mirror":{"paths":2}}`, nil, true, nil},
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

// mirrorIs checks a merge's mirror section.
func mirrorIs(copies int64, enabled bool) func(*cluster.BucketProps) bool {
	return func(p *cluster.BucketProps) bool {
		return p.Mirror.Copies == copies && p.Mirror.Enabled == enabled && p.Copies() == int(max(copies, 1)) && p.Checksum.Type == cluster.ChecksumXXHash2
	}
}

// TestMergeMirrorKeepsCopies: enabling a bucket that has more than two
// copies keeps them; disabling one goes back to one.
func TestMergeMirrorKeepsCopies(t *testing.T) {
	cur := cluster.DefaultBucketProps(42, time.Unix(1700000000, 0))
	cur.Mirror = cluster.MirrorConf{Copies: 3, Enabled: true}
	got, err := mergeBucketProps(cur, []byte(`{"mirror":{"enabled":true}}`))
	if err != nil || got.Mirror != cur.Mirror {
		t.Errorf("enabled on 3 copies: %+v, %v; want 3 copies kept", got, err)
	}
	got, err = mergeBucketProps(cur, []byte(`{"mirror":{"enabled":false}}`))
	if err != nil || got.Mirror != (cluster.MirrorConf{Copies: 1}) || got.Copies() != 1 {
		t.Errorf("disabled: %+v, %v; want 1 copy", got, err)
	}
}

// FuzzMergeBucketProps: arbitrary partial properties never panic, never
// change what must not change, and fail only as bad requests (or 501 for
// features miniais does not have).
func FuzzMergeBucketProps(f *testing.F) {
	for _, s := range []string{`{"checksum":{"validate_warm_get":true}}`, `{}`, `{"bid":"1"}`, `null`, `{"mirror":{"copies":1}}`, `{"access":"0"}`,
		`{"mirror":{"copies":4,"enabled":true}}`, `{"mirror":{"enabled":true}}`, `{"mirror":{"copies":40}}`} {
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
		m := got.Mirror
		if got.Provider != cur.Provider || got.BID != cur.BID || got.Created != cur.Created || !checksum.Valid(got.Checksum.Type) || got.EC.Enabled ||
			m.Copies < 1 || m.Copies > cluster.MaxCopies || m.Burst < 0 || m.Enabled != (m.Copies > 1) || got.Copies() != int(m.Copies) {
			t.Fatalf("accepted %q into %+v", partial, got)
		}
	})
}
