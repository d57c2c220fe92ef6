package fs

import (
	"bytes"
	"context"
	"io"
	"testing"

	"miniais/cluster"
)

var benchSizes = []struct {
	name string
	size int
}{
	{"4KiB", 4 << 10},
	{"1MiB", 1 << 20},
	{"16MiB", 16 << 20},
}

// BenchmarkPut overwrites one object per size, with fsync always and never.
func BenchmarkPut(b *testing.B) {
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncNever} {
		b.Run("fsync="+string(policy), func(b *testing.B) {
			s := newStore(b, 1, func(c *Config) { c.Fsync = policy })
			bck := newBucket(b, s, "bench")
			for _, sz := range benchSizes {
				b.Run(sz.name, func(b *testing.B) {
					data := randBytes(sz.size, 1)
					r := bytes.NewReader(data)
					ctx := context.Background()
					b.SetBytes(int64(sz.size))
					b.ReportAllocs()
					for b.Loop() {
						r.Reset(data)
						if _, err := s.Put(ctx, bck, "obj-"+sz.name, r, PutOptions{Size: int64(sz.size)}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkPutChecksum overwrites one object per size (fsync never) with
// each bucket checksum type, and with a client checksum that the stored hash
// verifies (xxhash into xxhash2, as aisloader sends) or that needs a second
// hash (md5 into xxhash2).
func BenchmarkPutChecksum(b *testing.B) {
	s := newStore(b, 1)
	bck := newBucket(b, s, "bench")
	cases := []struct{ bucket, client string }{
		{"xxhash2", ""}, {"xxhash2", "xxhash"}, {"xxhash2", "md5"},
		{"md5", ""}, {"crc32c", ""}, {"sha256", ""}, {"sha512", ""}, {"none", ""},
	}
	for _, c := range cases {
		name := "bucket=" + c.bucket
		if c.client != "" {
			name += "/client=" + c.client
		}
		b.Run(name, func(b *testing.B) {
			for _, sz := range benchSizes[:2] {
				b.Run(sz.name, func(b *testing.B) {
					data := randBytes(sz.size, 1)
					opts := PutOptions{Size: int64(sz.size), ChecksumType: c.bucket}
					if c.client != "" {
						opts.Checksum = cluster.Checksum{Type: c.client, Value: sumOf(b, c.client, data)}
					}
					r := bytes.NewReader(data)
					ctx := context.Background()
					b.SetBytes(int64(sz.size))
					b.ReportAllocs()
					for b.Loop() {
						r.Reset(data)
						if _, err := s.Put(ctx, bck, "obj-"+sz.name, r, opts); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkGet opens and reads one object per size, with and without
// checksum validation (reads do not fsync, so the policy does not matter).
func BenchmarkGet(b *testing.B) {
	s := newStore(b, 1)
	bck := newBucket(b, s, "bench")
	for _, validate := range []bool{false, true} {
		name := "validate=false"
		if validate {
			name = "validate=true"
		}
		b.Run(name, func(b *testing.B) {
			for _, sz := range benchSizes {
				b.Run(sz.name, func(b *testing.B) {
					put(b, s, bck, "obj-"+sz.name, randBytes(sz.size, 2))
					ctx := context.Background()
					b.SetBytes(int64(sz.size))
					b.ReportAllocs()
					for b.Loop() {
						obj, err := s.Open(ctx, bck, "obj-"+sz.name, GetOptions{Validate: validate})
						if err != nil {
							b.Fatal(err)
						}
						if _, err := obj.WriteTo(io.Discard); err != nil {
							b.Fatal(err)
						}
						obj.Close()
					}
				})
			}
		})
	}
}
