package fs

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	"miniais/checksum"
	"miniais/cluster"
)

// allTypes are the seven checksum types, spelled out here rather than taken
// from package checksum so that a type it drops fails these tests.
var allTypes = []string{"xxhash", "xxhash2", "md5", "crc32c", "sha256", "sha512", "none"}

// sumOf computes the value of typ for data with the standard library (and
// OneOfOne's XXH64), independently of package checksum.
func sumOf(tb testing.TB, typ string, data []byte) string {
	tb.Helper()
	switch typ {
	case "xxhash", "xxhash2":
		return xxh(data)
	case "md5":
		s := md5.Sum(data)
		return hex.EncodeToString(s[:])
	case "crc32c":
		return fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	case "sha256":
		s := sha256.Sum256(data)
		return hex.EncodeToString(s[:])
	case "sha512":
		s := sha512.Sum512(data)
		return hex.EncodeToString(s[:])
	case "none":
		return ""
	}
	tb.Fatalf("sumOf: type %q", typ)
	return ""
}

// wrongSum returns a well-formed value of typ that is not the one of data.
func wrongSum(tb testing.TB, typ string, data []byte) string {
	tb.Helper()
	v := []byte(sumOf(tb, typ, data))
	v[0] = "10"[v[0]&1] // '0' and '1' swap; 'a'..'f' and '2'..'9' become '0' or '1'
	return string(v)
}

// flipByte changes one byte of the stored file of the object a.
func flipByte(tb testing.TB, bck cluster.Bucket, a ObjectAttrs, off int64) {
	tb.Helper()
	f, err := os.OpenFile(objectPath(&Mountpath{Path: a.Mountpath}, bck, a.Name), os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		tb.Fatal(err)
	}
	b[0] ^= 0x01
	if _, err := f.WriteAt(b, off); err != nil {
		tb.Fatal(err)
	}
}

// TestBucketChecksumTypes stores an object with every bucket checksum type,
// reads it back with validation, then flips a byte: validation catches it
// for every type but none, whose objects are validated by size only.
func TestBucketChecksumTypes(t *testing.T) {
	data := randBytes(300<<10, 11) // more than two copy buffers
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "types")
		ctx := context.Background()
		for _, typ := range allTypes {
			t.Run(typ, func(t *testing.T) {
				name := "obj-" + typ
				a, err := s.Put(ctx, bck, name, bytes.NewReader(data), PutOptions{Size: int64(len(data)), ChecksumType: typ})
				if err != nil {
					t.Fatal(err)
				}
				want := cluster.Checksum{Type: typ, Value: sumOf(t, typ, data)}
				if a.Checksum != want {
					t.Fatalf("Put checksum %v, want %v", a.Checksum, want)
				}
				if h, err := s.Head(ctx, bck, name); err != nil || h.Checksum != want {
					t.Fatalf("Head checksum %v (%v), want %v", h.Checksum, err, want)
				}
				got, oa := get(t, s, bck, name) // validates
				if !bytes.Equal(got, data) || oa.Checksum != want {
					t.Fatalf("Open: content equal %v, checksum %v", bytes.Equal(got, data), oa.Checksum)
				}

				flipByte(t, bck, a, 200<<10)
				_, err = s.Open(ctx, bck, name, GetOptions{Validate: true})
				switch {
				case typ == "none" && err != nil:
					t.Fatalf("Open with Validate of a none object = %v, want success (size only)", err)
				case typ != "none" && !errors.Is(err, cluster.ErrCorrupt):
					t.Fatalf("Open with Validate of a flipped byte = %v, want ErrCorrupt", err)
				}
				if err := os.Truncate(objectPath(&Mountpath{Path: a.Mountpath}, bck, name), 100); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Open(ctx, bck, name, GetOptions{Validate: true}); !errors.Is(err, cluster.ErrCorrupt) {
					t.Fatalf("Open of a truncated file = %v, want ErrCorrupt", err)
				}
			})
		}
		assertNoWorkFiles(t, s)
	})
}

// TestClientChecksum puts with the client's checksum in every type, into
// buckets of a different type and of the same: a matching value is stored
// under the bucket's type; a wrong one fails with ErrChecksum and changes
// nothing; with SkipVerify the wrong one is ignored.
func TestClientChecksum(t *testing.T) {
	data := randBytes(300<<10, 12)
	old := []byte("previous version")
	s := newStore(t, 2)
	bck := newBucket(t, s, "client")
	ctx := context.Background()
	for _, bucketType := range []string{"", "xxhash2", "md5", "crc32c", "sha512"} {
		for _, clientType := range allTypes {
			if clientType == "none" {
				continue // has no value; see TestClientChecksumNone
			}
			t.Run(fmt.Sprintf("bucket=%s/client=%s", bucketType, clientType), func(t *testing.T) {
				stored := bucketType
				if stored == "" {
					stored = "xxhash2"
				}
				want := cluster.Checksum{Type: stored, Value: sumOf(t, stored, data)}
				opts := func(value string, skip bool) PutOptions {
					return PutOptions{Size: int64(len(data)), ChecksumType: bucketType, SkipVerify: skip,
						Checksum: cluster.Checksum{Type: clientType, Value: value}}
				}
				dir := "b-" + bucketType + "/c-" + clientType
				kept := "kept/" + dir
				put(t, s, bck, kept, old)

				right := sumOf(t, clientType, data)
				for _, v := range []string{right, strings.ToUpper(right)} {
					a, err := s.Put(ctx, bck, "ok/"+dir, bytes.NewReader(data), opts(v, false))
					if err != nil || a.Checksum != want {
						t.Fatalf("Put with the right %s value %s: %v, %v; want %v", clientType, v, a.Checksum, err, want)
					}
				}

				wrong := wrongSum(t, clientType, data)
				for _, name := range []string{"new/" + dir, kept} {
					_, err := s.Put(ctx, bck, name, bytes.NewReader(data), opts(wrong, false))
					if !errors.Is(err, cluster.ErrChecksum) || errors.Is(err, cluster.ErrCorrupt) {
						t.Fatalf("Put %s with a wrong %s value = %v, want ErrChecksum (not ErrCorrupt)", name, clientType, err)
					}
				}
				assertNotFound(t, s, bck, "new/"+dir)
				if got, a := get(t, s, bck, kept); !bytes.Equal(got, old) || a.Version != "1" {
					t.Fatalf("failed overwrite changed the object: version %s", a.Version)
				}

				a, err := s.Put(ctx, bck, kept, bytes.NewReader(data), opts(wrong, true))
				if err != nil || a.Checksum != want || a.Version != "2" {
					t.Fatalf("Put with SkipVerify and a wrong value: %+v, %v; want checksum %v, version 2", a, err, want)
				}
				if got, oa := get(t, s, bck, kept); !bytes.Equal(got, data) || oa.Checksum != want {
					t.Fatalf("Open after the skipped verification: checksum %v", oa.Checksum)
				}
			})
		}
	}
	assertNoWorkFiles(t, s)
}

// TestClientChecksumNone covers buckets of type none: nothing is computed,
// and the client's checksum, right or wrong, is stored unchecked (as
// AIStore does), then validated on read like any stored checksum.
func TestClientChecksumNone(t *testing.T) {
	data := randBytes(10<<10, 13)
	s := newStore(t, 1)
	bck := newBucket(t, s, "none")
	ctx := context.Background()
	tests := []struct {
		name   string
		client cluster.Checksum
		skip   bool
		want   cluster.Checksum
		// validates tells whether a validating Open succeeds.
		validates bool
	}{
		{"no client checksum", cluster.Checksum{}, false, cluster.Checksum{Type: "none"}, true},
		{"client type none", cluster.Checksum{Type: "none"}, false, cluster.Checksum{Type: "none"}, true},
		{"client type without value", cluster.Checksum{Type: "md5"}, false, cluster.Checksum{Type: "none"}, true},
		{"right md5", cluster.Checksum{Type: "md5", Value: sumOf(t, "md5", data)},
			false, cluster.Checksum{Type: "md5", Value: sumOf(t, "md5", data)}, true},
		{"right value without type", cluster.Checksum{Value: xxh(data)},
			false, cluster.Checksum{Type: "xxhash2", Value: xxh(data)}, true},
		{"wrong sha256 stored unchecked", cluster.Checksum{Type: "sha256", Value: wrongSum(t, "sha256", data)},
			false, cluster.Checksum{Type: "sha256", Value: wrongSum(t, "sha256", data)}, false},
		{"wrong crc32c with skip", cluster.Checksum{Type: "crc32c", Value: wrongSum(t, "crc32c", data)},
			true, cluster.Checksum{Type: "crc32c", Value: wrongSum(t, "crc32c", data)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "obj/" + tt.name
			a, err := s.Put(ctx, bck, name, bytes.NewReader(data),
				PutOptions{Size: -1, ChecksumType: "none", Checksum: tt.client, SkipVerify: tt.skip})
			if err != nil || a.Checksum != tt.want {
				t.Fatalf("Put: %v, %v; want %v", a.Checksum, err, tt.want)
			}
			if h, err := s.Head(ctx, bck, name); err != nil || h.Checksum != tt.want {
				t.Fatalf("Head: %v, %v; want %v", h.Checksum, err, tt.want)
			}
			obj, err := s.Open(ctx, bck, name, GetOptions{Validate: true})
			if tt.validates {
				if err != nil {
					t.Fatalf("Open with Validate: %v", err)
				}
				obj.Close()
			} else if !errors.Is(err, cluster.ErrCorrupt) {
				t.Fatalf("Open with Validate of an unchecked wrong value = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestChecksumRejects checks that malformed checksum options fail with
// ErrBadRequest before anything is stored, whether or not verification is
// skipped.
func TestChecksumRejects(t *testing.T) {
	data := []byte("hello\n")
	s := newStore(t, 1)
	bck := newBucket(t, s, "rej")
	type tc struct {
		name string
		opts PutOptions
		want error
	}
	tests := []tc{
		{"unknown bucket type", PutOptions{ChecksumType: "cesmd5"}, checksum.ErrUnknownType},
		{"uppercase bucket type", PutOptions{ChecksumType: "MD5"}, checksum.ErrUnknownType},
		{"unknown client type", PutOptions{Checksum: cluster.Checksum{Type: "sha1", Value: strings.Repeat("0", 40)}}, checksum.ErrUnknownType},
		{"unknown client type without value", PutOptions{Checksum: cluster.Checksum{Type: "sha1"}}, checksum.ErrUnknownType},
		{"none with a value", PutOptions{Checksum: cluster.Checksum{Type: "none", Value: "00"}}, checksum.ErrBadValue},
		{"not hex", PutOptions{Checksum: cluster.Checksum{Type: "crc32c", Value: "353dd8bz"}}, checksum.ErrBadValue},
	}
	for _, typ := range allTypes {
		if typ == "none" {
			continue
		}
		v := sumOf(t, typ, data)
		tests = append(tests,
			tc{typ + " short", PutOptions{Checksum: cluster.Checksum{Type: typ, Value: v[1:]}}, checksum.ErrBadValue},
			tc{typ + " long", PutOptions{Checksum: cluster.Checksum{Type: typ, Value: v + "0"}}, checksum.ErrBadValue})
	}
	for _, tt := range tests {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/skip=%v", tt.name, skip), func(t *testing.T) {
				opts := tt.opts
				opts.Size, opts.SkipVerify = int64(len(data)), skip
				_, err := s.Put(context.Background(), bck, "o", bytes.NewReader(data), opts)
				if !errors.Is(err, tt.want) || !errors.Is(err, cluster.ErrBadRequest) {
					t.Fatalf("Put = %v, want %v wrapping ErrBadRequest", err, tt.want)
				}
				assertNotFound(t, s, bck, "o")
			})
		}
	}
	assertNoWorkFiles(t, s)
}

// TestPutHashesOnePass checks which hashes a Put feeds: one when the client's
// type computes the stored digest (xxhash and xxhash2 do), two otherwise, and
// none to verify when the check is skipped or the bucket's type is none.
func TestPutHashesOnePass(t *testing.T) {
	tests := []struct {
		bucket, client string
		skip           bool
		stored, verify bool
	}{
		{"", "", false, true, false},
		{"xxhash2", "xxhash2", false, true, false},
		{"xxhash2", "xxhash", false, true, false},
		{"xxhash", "xxhash2", false, true, false},
		{"md5", "md5", false, true, false},
		{"xxhash2", "md5", false, true, true},
		{"sha256", "crc32c", false, true, true},
		{"xxhash2", "md5", true, true, false},
		{"none", "md5", false, false, false},
		{"none", "", false, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/skip=%v", tt.bucket, tt.client, tt.skip), func(t *testing.T) {
			c := cluster.Checksum{}
			if tt.client != "" {
				c = cluster.Checksum{Type: tt.client, Value: sumOf(t, tt.client, nil)}
			}
			var p putHashes
			if err := p.init(&PutOptions{ChecksumType: tt.bucket, Checksum: c, SkipVerify: tt.skip}); err != nil {
				t.Fatal(err)
			}
			stored, verify := p.stored.Type() != checksum.None, p.verify.Type() != checksum.None
			if stored != tt.stored || verify != tt.verify {
				t.Fatalf("stored hash %v, verify hash %v; want %v, %v", stored, verify, tt.stored, tt.verify)
			}
		})
	}
}

// TestOldMetadataValidates reads objects whose metadata was written by the
// store before it knew more than xxhash2 (bytes spelled out, not encoded by
// the current code), and a file without metadata.
func TestOldMetadataValidates(t *testing.T) {
	data := []byte("hello\n")
	// 'A' 'M' 1, size 6, "xxhash2", "e4c191d091bd8853", "1", atime 1 (varint 2), no pairs.
	meta := append([]byte{'A', 'M', 1, 6, 7}, "xxhash2"...)
	meta = append(append(meta, 16), "e4c191d091bd8853"...)
	meta = append(meta, 1, '1', 2, 0)
	s := newStore(t, 1)
	bck := newBucket(t, s, "old")
	mp := s.Mountpaths().List()[0]
	write := func(path string, b []byte) {
		if err := os.MkdirAll(path[:strings.LastIndexByte(path, '/')], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(objectPath(mp, bck, "old"), data)
	write(sidecarPath(mp, bck, "old"), meta)
	write(objectPath(mp, bck, "bare"), data)

	got, a := get(t, s, bck, "old")
	want := cluster.Checksum{Type: "xxhash2", Value: "e4c191d091bd8853"}
	if !bytes.Equal(got, data) || a.Checksum != want || a.Version != "1" || !a.Atime.Equal(time.Unix(0, 1)) {
		t.Fatalf("old object: %+v", a)
	}
	if _, a := get(t, s, bck, "bare"); !a.Checksum.Empty() || a.Size != int64(len(data)) {
		t.Fatalf("file without metadata: %+v", a)
	}
	flipByte(t, bck, a, 0)
	if _, err := s.Open(context.Background(), bck, "old", GetOptions{Validate: true}); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Open with Validate of a flipped old object = %v, want ErrCorrupt", err)
	}
}

// TestUnknownStoredType refuses to validate a checksum type that package
// checksum does not know (written by a newer version, or damaged).
func TestUnknownStoredType(t *testing.T) {
	s := newStore(t, 1)
	bck := newBucket(t, s, "unk")
	mp := s.Mountpaths().List()[0]
	a := ObjectAttrs{Bucket: bck, Name: "o", Size: 6, Checksum: cluster.Checksum{Type: "blake3", Value: "00"}, Version: "1"}
	if err := os.WriteFile(objectPath(mp, bck, "o"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.writeSidecar(mp, bck, "o", encodeMeta(nil, &a)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(context.Background(), bck, "o", GetOptions{Validate: true}); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Open with Validate = %v, want ErrCorrupt", err)
	}
	obj, err := s.Open(context.Background(), bck, "o", GetOptions{})
	if err != nil {
		t.Fatalf("Open without Validate: %v", err)
	}
	obj.Close()
}
