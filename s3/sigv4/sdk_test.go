package sigv4

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// sdkClient is the Go SDK's S3 client aimed at s, path-style, signing with
// creds, without retries.
func sdkClient(s *server, creds aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:     aws.String(s.URL),
		UsePathStyle:     true,
		Region:           "us-east-1",
		Credentials:      credentials.StaticCredentialsProvider{Value: creds},
		HTTPClient:       s.Client(),
		RetryMaxAttempts: 1,
	})
}

// corrupting flips one byte of every request body it sends.
type corrupting struct{ rt http.RoundTripper }

func (c corrupting) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.ContentLength != 0 {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		i := bytes.LastIndex(b, []byte("payload")) // inside the data, not the framing
		if i >= 0 {
			b[i] ^= 0x20
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return c.rt.RoundTrip(r)
}

// TestSDKPutObject sends PutObject with the Go SDK's S3 client with every
// flexible checksum it has: over HTTP the SDK sends a signed SHA-256 of
// the payload and an x-amz-checksum-* header, over TLS an unsigned
// aws-chunked payload with the checksum in a trailer.
func TestSDKPutObject(t *testing.T) {
	data := []byte(strings.Repeat("the payload of an S3 PUT. ", 5000))
	algos := []types.ChecksumAlgorithm{
		types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme,
		types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256,
	}
	for _, tls := range []bool{false, true} {
		v := &Verifier{Creds: Credentials{testKey: testSecret}}
		s := newServer(t, v, tls)
		name := map[bool]string{false: "http", true: "tls"}[tls]
		for _, algo := range algos {
			t.Run(name+"/"+string(algo), func(t *testing.T) {
				_, err := sdkClient(s, testCreds).PutObject(context.Background(), &s3.PutObjectInput{
					Bucket: aws.String("bucket"), Key: aws.String("dir/key with space"),
					Body: bytes.NewReader(data), ChecksumAlgorithm: algo,
				})
				if err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				o := s.outcome()
				if !bytes.Equal(o.body, data) || o.res.Size != int64(len(data)) {
					t.Fatalf("decoded %d bytes (size %d), want %d", len(o.body), o.res.Size, len(data))
				}
				mode := o.header.Get("X-Amz-Content-Sha256")
				if tls != strings.HasPrefix(mode, "STREAMING-") {
					t.Fatalf("payload mode %s over %s", mode, name)
				}
				t.Logf("payload mode %s, trailer %q", mode, o.header.Get("X-Amz-Trailer"))

				// The same request with one byte of the content changed
				// in flight is refused.
				c := sdkClient(s, testCreds)
				_, err = c.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket: aws.String("bucket"), Key: aws.String("k"),
					Body: bytes.NewReader(data), ChecksumAlgorithm: algo,
				}, func(o *s3.Options) {
					o.HTTPClient = &http.Client{Transport: corrupting{s.Client().Transport}}
				})
				if err == nil {
					t.Fatal("a corrupted body was accepted")
				}
				o = s.outcome()
				if !errors.Is(o.readErr, ErrBadDigest) {
					t.Fatalf("corrupted body: verify %v, read %v; want ErrBadDigest", o.verifyErr, o.readErr)
				}
			})
		}
	}
}

func TestSDKPresign(t *testing.T) {
	v := &Verifier{Creds: Credentials{testKey: testSecret}}
	s := newServer(t, v, false)
	pc := s3.NewPresignClient(sdkClient(s, testCreds))
	get, err := pc.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("a/b c+d")},
		s3.WithPresignExpires(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(get.Method, get.URL, nil)
	if st, code := s.do(t, req); st != 200 {
		t.Fatalf("presigned GET: %d %s", st, code)
	}
	put, err := pc.PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(put.Method, put.URL, strings.NewReader("presigned content"))
	for k, vals := range put.SignedHeader {
		if k != "Host" {
			req.Header[k] = vals
		}
	}
	if st, code := s.do(t, req); st != 200 || string(s.outcome().body) != "presigned content" {
		t.Fatalf("presigned PUT: %d %s", st, code)
	}
}

// TestSDKWrongKey: the SDK signing with a wrong secret is refused.
func TestSDKWrongKey(t *testing.T) {
	s := newServer(t, &Verifier{Creds: Credentials{testKey: testSecret}}, false)
	_, err := sdkClient(s, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "wrong"}).PutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if err == nil || !errors.Is(s.outcome().verifyErr, ErrSignatureDoesNotMatch) {
		t.Fatalf("PutObject with a wrong secret: %v (server: %v)", err, s.outcome().verifyErr)
	}
}
