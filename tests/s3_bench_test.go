package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"miniais/api"
	"miniais/cluster"
	"miniais/tests/harness"
)

// BenchmarkS3 measures S3 GET and PUT through the gateway (the Go AWS SDK
// v2, path style, open gateway: the proxy streams every body to and from
// the owner) against the native API on the same cluster (the api client:
// a 307 from the proxy, the body straight to the target). Each iteration
// does one native and one S3 request, in alternating order, and the
// benchmark reports both latencies and their ratio (s3/native); ns/op is
// the pair's. The S3 client computes no request checksums (the SDK's
// "when required" mode), so that the ratio is the gateway's cost.
//
//	make build && go test -run XXX -bench BenchmarkS3 -benchtime 2s ./tests/
func BenchmarkS3(b *testing.B) {
	cl := s3Cluster(b, false, harness.Options{Targets: 3, LogLevel: "warn"})
	sc := newS3Client(b, cl, s3ClientOpts{whenRequired: true})
	nc := api.NewClient(cl.ProxyURL())
	ctx := context.Background()
	const bucket = "bench"
	s3Mkbucket(b, sc, bucket)
	bck := cluster.NewBucket(bucket)
	for _, size := range []int{4 << 10, 1 << 20} {
		name := fmt.Sprintf("%dKiB", size>>10)
		if size >= 1<<20 {
			name = fmt.Sprintf("%dMiB", size>>20)
		}
		body := s3Random(b, size)
		const keys = 32
		put := func(s3path bool, key string) error {
			if s3path {
				_, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: &key, Body: bytes.NewReader(body)})
				return err
			}
			_, err := nc.PutObject(ctx, bck, key, bytes.NewReader(body), api.PutOptions{Size: int64(size)})
			return err
		}
		get := func(s3path bool, key string) error {
			if s3path {
				out, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: &key})
				if err != nil {
					return err
				}
				defer out.Body.Close()
				_, err = io.Copy(io.Discard, out.Body)
				return err
			}
			_, err := nc.GetObject(ctx, bck, key, io.Discard, api.GetOptions{})
			return err
		}
		for i := range keys {
			if err := put(true, fmt.Sprintf("get-%s-%d", name, i)); err != nil {
				b.Fatal(err)
			}
		}
		for _, op := range []struct {
			name string
			do   func(bool, string) error
			key  string
		}{{"PUT", put, "put"}, {"GET", get, "get"}} {
			b.Run(op.name+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				var took [2]time.Duration // native, s3
				n := 0
				for b.Loop() {
					key := fmt.Sprintf("%s-%s-%d", op.key, name, n%keys)
					for j := range 2 {
						s3path := (n+j)%2 == 1 // alternate which goes first
						t0 := time.Now()
						if err := op.do(s3path, key); err != nil {
							b.Fatalf("%s %s (s3 %v): %v", op.name, key, s3path, err)
						}
						if s3path {
							took[1] += time.Since(t0)
						} else {
							took[0] += time.Since(t0)
						}
					}
					n++
				}
				b.ReportMetric(float64(took[0].Nanoseconds())/float64(n), "native-ns/op")
				b.ReportMetric(float64(took[1].Nanoseconds())/float64(n), "s3-ns/op")
				b.ReportMetric(float64(took[1])/float64(took[0]), "s3/native")
			})
		}
	}
}
