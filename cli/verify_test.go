package cli

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"miniais/api"
	"miniais/cluster"
)

// TestCopyVerified checks a whole object in the type the cluster stored it
// with, whichever of the seven it is; a range or a none object is copied
// unchecked.
func TestCopyVerified(t *testing.T) {
	data := "hello\n"
	sum := md5.Sum([]byte(data))
	md5hex := hex.EncodeToString(sum[:])
	tests := []struct {
		name string
		ck   cluster.Checksum
		opts api.GetOptions
		want error
	}{
		{"xxhash2 right", cluster.Checksum{Type: "xxhash2", Value: "e4c191d091bd8853"}, api.GetOptions{}, nil},
		{"xxhash2 wrong", cluster.Checksum{Type: "xxhash2", Value: "0000000000000000"}, api.GetOptions{}, cluster.ErrChecksum},
		{"md5 right", cluster.Checksum{Type: "md5", Value: md5hex}, api.GetOptions{}, nil},
		{"md5 wrong", cluster.Checksum{Type: "md5", Value: strings.Repeat("0", 32)}, api.GetOptions{}, cluster.ErrChecksum},
		{"none", cluster.Checksum{Type: "none"}, api.GetOptions{}, nil},
		{"range is not checked", cluster.Checksum{Type: "md5", Value: strings.Repeat("0", 32)}, api.GetOptions{Offset: 1}, nil},
		{"unknown type", cluster.Checksum{Type: "cesmd5", Value: "00"}, api.GetOptions{}, cluster.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := copyVerified(&buf, strings.NewReader(data), &api.ObjectAttrs{Checksum: tt.ck}, tt.opts)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("copyVerified = %v, want %v", err, tt.want)
			}
		})
	}
}
