package fs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkPutParallel writes from 16 goroutines at once (each its own
// objects, overwritten), with fsync always and never: the ratio of the two
// is what group commit buys.
func BenchmarkPutParallel(b *testing.B) {
	const workers = 16
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncNever} {
		b.Run("fsync="+string(policy), func(b *testing.B) {
			s := newStore(b, 1, func(c *Config) { c.Fsync = policy })
			bck := newBucket(b, s, "bench")
			for _, sz := range benchSizes[:2] {
				b.Run(sz.name, func(b *testing.B) {
					data := randBytes(sz.size, 1)
					var next atomic.Int64
					ctx := context.Background()
					b.SetBytes(int64(sz.size))
					b.ReportAllocs()
					b.SetParallelism((workers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						r := bytes.NewReader(data)
						name := fmt.Sprintf("obj-%s-%d", sz.name, next.Add(1))
						for i := 0; pb.Next(); i++ {
							r.Reset(data)
							if _, err := s.Put(ctx, bck, name+"-"+strconv.Itoa(i%8), r, PutOptions{Size: int64(sz.size)}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}

// BenchmarkPutDurableRatio measures, in one run, the throughput of 16
// concurrent Put loops on a store with fsync always and on one with fsync
// never, alternating (ABAB) in rounds of 300 ms, and reports the medians
// of both and their ratio (durable/never): what group commit must keep
// near 1 on a noisy, shared machine.
func BenchmarkPutDurableRatio(b *testing.B) {
	const workers, rounds, round = 16, 6, 300 * time.Millisecond
	for _, sz := range benchSizes[:2] {
		b.Run(sz.name, func(b *testing.B) {
			stores := map[FsyncPolicy]*Store{}
			bcks := map[FsyncPolicy]cluster.Bucket{}
			for _, p := range []FsyncPolicy{FsyncAlways, FsyncNever} {
				stores[p] = newStore(b, 1, func(c *Config) { c.Fsync = p })
				bcks[p] = newBucket(b, stores[p], "bench")
			}
			data := randBytes(sz.size, 1)
			rate := func(p FsyncPolicy) float64 {
				var ops atomic.Int64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						r := bytes.NewReader(data)
						for i := 0; ; i++ {
							select {
							case <-stop:
								return
							default:
							}
							r.Reset(data)
							name := "obj-" + strconv.Itoa(w) + "-" + strconv.Itoa(i%8)
							if _, err := stores[p].Put(context.Background(), bcks[p], name, r, PutOptions{Size: int64(sz.size)}); err != nil {
								b.Error(err)
								return
							}
							ops.Add(1)
						}
					})
				}
				start := time.Now()
				time.Sleep(round)
				close(stop)
				wg.Wait()
				return float64(ops.Load()) / time.Since(start).Seconds()
			}
			for b.Loop() {
				var always, never []float64
				for range rounds {
					always = append(always, rate(FsyncAlways))
					never = append(never, rate(FsyncNever))
				}
				b.ReportMetric(median(always), "durable-puts/s")
				b.ReportMetric(median(never), "nofsync-puts/s")
				b.ReportMetric(median(always)/median(never), "ratio")
			}
		})
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkHead heads one object with the metadata cache on (a hit: one
// lstat) and off (lstat and getxattr).
func BenchmarkHead(b *testing.B) {
	for _, c := range []struct {
		name string
		size int64
	}{{"cache=on", 0}, {"cache=off", -1}} {
		b.Run(c.name, func(b *testing.B) {
			s := newStore(b, 1, func(cfg *Config) { cfg.MetaCacheSize = c.size })
			bck := newBucket(b, s, "bench")
			put(b, s, bck, "obj", randBytes(4<<10, 2))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Head(ctx, bck, "obj"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
