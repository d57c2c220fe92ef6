package fs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"
)

// TestMD5ETag checks S3's ETags: a Put with MD5 keeps the body's MD5 with
// the object (and Head returns it); parts with MD5 complete into
// hex(md5(part MD5s))-N, and a completion may name the parts by their MD5.
func TestMD5ETag(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		ctx := context.Background()
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "b")
		body := randBytes(100<<10, 1)
		sum := md5.Sum(body)
		attrs, err := s.Put(ctx, bck, "o", bytes.NewReader(body), PutOptions{Size: int64(len(body)), MD5: true})
		if err != nil || attrs.Custom[CustomETag] != hex.EncodeToString(sum[:]) {
			t.Fatalf("Put: %v, ETag %q, want %x", err, attrs.Custom[CustomETag], sum)
		}
		head, err := s.Head(ctx, bck, "o")
		if err != nil || head.Custom[CustomETag] != hex.EncodeToString(sum[:]) {
			t.Fatalf("Head: %v %v", err, head.Custom)
		}
		attrs, err = s.Put(ctx, bck, "plain", bytes.NewReader(body), PutOptions{Size: int64(len(body))})
		if err != nil || attrs.Custom[CustomETag] != "" {
			t.Fatalf("Put without MD5: %v %v", err, attrs.Custom)
		}

		info, err := s.CreateUpload(ctx, bck, "mp")
		if err != nil {
			t.Fatal(err)
		}
		var md5s []byte
		var list []CompletedPart
		for n := 1; n <= 3; n++ {
			part := randBytes(10<<10+n, uint64(n))
			p, err := s.PutPart(ctx, bck, "mp", info.ID, n, bytes.NewReader(part), PartOptions{Size: int64(len(part)), MD5: true})
			ps := md5.Sum(part)
			if err != nil || p.MD5 != hex.EncodeToString(ps[:]) {
				t.Fatalf("PutPart %d: %v, MD5 %q", n, err, p.MD5)
			}
			md5s = append(md5s, ps[:]...)
			list = append(list, CompletedPart{Number: n, ETag: `"` + p.MD5 + `"`})
		}
		attrs, err = s.CompleteUpload(ctx, bck, "mp", info.ID, list, CompleteOptions{MD5: true})
		all := md5.Sum(md5s)
		if want := fmt.Sprintf("%x-3", all); err != nil || attrs.Custom[CustomETag] != want {
			t.Fatalf("CompleteUpload: %v, ETag %q, want %s", err, attrs.Custom[CustomETag], want)
		}
	})
}

func TestMultipartETagWithoutMD5(t *testing.T) {
	etag, err := multipartETag([]PartInfo{{Number: 1, MD5: "00"}, {Number: 2}})
	if err != nil || etag != "" {
		t.Fatalf("a part without an MD5: %q %v", etag, err)
	}
	if _, err := multipartETag([]PartInfo{{Number: 1, MD5: "zz"}}); err == nil {
		t.Fatal("a malformed part MD5 is no error")
	}
}
