package tests

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"miniais/tests/harness"
)

// The S3 gateway driven by the Go AWS SDK v2 against a real cluster: every
// operation the gateway implements, path-style, root and virtual-hosted,
// open and with Signature V4 credentials, and the XML error body of each
// code it answers with.

const (
	s3Key    = "miniais-sdk-key"
	s3Secret = "miniais/sdk+secret=="
	// s3Domain is the virtual-hosted domain the test's proxy takes
	// (-s3_domain); the test's HTTP client dials the proxy for any host.
	s3Domain = "s3.miniais.test"
)

// s3Cluster starts a cluster whose proxy serves S3 at /s3, at the root and
// virtual-hosted for s3Domain; with creds, only requests signed with
// s3Key are served.
func s3Cluster(t testing.TB, creds bool, opts harness.Options) *harness.Cluster {
	t.Helper()
	opts.ProxyArgs = append(opts.ProxyArgs, "-s3_root", "-s3_domain="+s3Domain)
	if creds {
		p := filepath.Join(t.TempDir(), "credentials")
		body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", s3Key, s3Secret)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		opts.ProxyArgs = append(opts.ProxyArgs, "-s3_credentials="+p)
	}
	return harness.StartCluster(t, opts)
}

// s3ClientOpts say how a test's SDK client talks to the gateway.
type s3ClientOpts struct {
	creds   aws.CredentialsProvider // nil: anonymous (unsigned)
	virtual bool                    // virtual-hosted style at s3Domain
	root    bool                    // path style at the root, not /s3
	// whenRequired makes the SDK compute request checksums only where S3
	// requires them (DeleteObjects), not its default CRC32 of every PUT.
	whenRequired bool
}

// newS3Client returns an SDK client of the cluster's gateway.
func newS3Client(t testing.TB, cl *harness.Cluster, o s3ClientOpts) *s3.Client {
	t.Helper()
	addr := cl.Proxy().PublicAddr
	_, port, _ := net.SplitHostPort(addr)
	endpoint := cl.ProxyURL() + "/s3"
	switch {
	case o.virtual:
		endpoint = "http://" + s3Domain + ":" + port
	case o.root:
		endpoint = cl.ProxyURL()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr) // every host is the proxy
	}
	cfg := aws.Config{
		Region:      "us-east-1",
		HTTPClient:  &http.Client{Transport: tr},
		Credentials: o.creds,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	if o.creds == nil {
		cfg.Credentials = aws.AnonymousCredentials{}
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.BaseEndpoint = aws.String(endpoint)
		so.UsePathStyle = !o.virtual
		if o.whenRequired {
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
	})
}

// goodCreds signs with the key the signed cluster has.
func goodCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s3Key, s3Secret, "")
}

// apiError returns the S3 code and HTTP status of an SDK error.
func apiError(err error) (string, int) {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// wantS3Error fails the test unless err is S3 error code with status.
func wantS3Error(t testing.TB, what string, err error, code string, status int) {
	t.Helper()
	gotCode, gotStatus := apiError(err)
	if err == nil || gotStatus != status || (code != "" && gotCode != code) {
		t.Fatalf("%s: got %v (code %q, status %d), want %s %d", what, err, gotCode, gotStatus, code, status)
	}
}

func md5Quoted(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func s3Random(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func s3Put(t testing.TB, c *s3.Client, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

func s3Get(t testing.TB, c *s3.Client, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s/%s: read: %v", bucket, key, err)
	}
	return b, out
}

func s3Mkbucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket %s: %v", bucket, err)
	}
}

// TestS3 runs every operation against an open gateway.
func TestS3(t *testing.T) {
	cl := s3Cluster(t, false, harness.Options{Targets: 3})
	c := newS3Client(t, cl, s3ClientOpts{})
	ctx := context.Background()

	t.Run("buckets", func(t *testing.T) {
		s3Mkbucket(t, c, "sdk-buckets")
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sdk-buckets")})
		wantS3Error(t, "CreateBucket again", err, "BucketAlreadyOwnedByYou", 409)
		if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("sdk-buckets")}); err != nil {
			t.Fatalf("HeadBucket: %v", err)
		}
		_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("sdk-nosuch")})
		wantS3Error(t, "HeadBucket of a missing bucket", err, "", 404)
		lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatalf("ListBuckets: %v", err)
		}
		if !slices.ContainsFunc(lb.Buckets, func(b types.Bucket) bool { return aws.ToString(b.Name) == "sdk-buckets" && b.CreationDate != nil }) {
			t.Fatalf("ListBuckets lacks sdk-buckets: %+v", lb.Buckets)
		}
		loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("sdk-buckets")})
		if err != nil || loc.LocationConstraint != "" {
			t.Fatalf("GetBucketLocation: %v %q", err, loc.LocationConstraint)
		}
		s3Put(t, c, "sdk-buckets", "x", []byte("x"))
		_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("sdk-buckets")})
		wantS3Error(t, "DeleteBucket of a bucket with an object", err, "BucketNotEmpty", 409)
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("sdk-buckets"), Key: aws.String("x")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("sdk-buckets")}); err != nil {
			t.Fatalf("DeleteBucket: %v", err)
		}
		_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("sdk-buckets")})
		wantS3Error(t, "HeadBucket after DeleteBucket", err, "", 404)
	})

	s3Mkbucket(t, c, "sdk")
	s3Mkbucket(t, c, "sdk-other")

	t.Run("object", func(t *testing.T) {
		body := s3Random(t, 100<<10)
		put := s3Put(t, c, "sdk", "dir/obj", body)
		if got := aws.ToString(put.ETag); got != md5Quoted(body) {
			t.Fatalf("PutObject ETag %s, want %s", got, md5Quoted(body))
		}
		got, out := s3Get(t, c, "sdk", "dir/obj")
		if !bytes.Equal(got, body) || aws.ToString(out.ETag) != md5Quoted(body) || aws.ToInt64(out.ContentLength) != int64(len(body)) {
			t.Fatalf("GetObject: %d bytes (equal %v), ETag %s, length %d", len(got), bytes.Equal(got, body), aws.ToString(out.ETag), aws.ToInt64(out.ContentLength))
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("dir/obj")})
		if err != nil || aws.ToString(head.ETag) != md5Quoted(body) || aws.ToInt64(head.ContentLength) != int64(len(body)) || head.LastModified == nil {
			t.Fatalf("HeadObject: %v %+v", err, head)
		}
		if time.Since(*head.LastModified) > time.Minute || time.Until(*head.LastModified) > time.Minute {
			t.Fatalf("HeadObject LastModified %v is not about now", head.LastModified)
		}
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String("nosuch")})
		wantS3Error(t, "GetObject of a missing key", err, "NoSuchKey", 404)
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("nosuch")})
		wantS3Error(t, "HeadObject of a missing key", err, "", 404)
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk-nosuch"), Key: aws.String("k")})
		wantS3Error(t, "GetObject in a missing bucket", err, "NoSuchBucket", 404)
		// Overwrite, then delete (twice: S3's delete is idempotent).
		body2 := []byte("second version")
		s3Put(t, c, "sdk", "dir/obj", body2)
		if got, _ := s3Get(t, c, "sdk", "dir/obj"); !bytes.Equal(got, body2) {
			t.Fatalf("GetObject after overwrite: %q", got)
		}
		for range 2 {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("sdk"), Key: aws.String("dir/obj")}); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
		}
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("dir/obj")})
		wantS3Error(t, "HeadObject after DeleteObject", err, "", 404)
		// An empty object.
		put = s3Put(t, c, "sdk", "empty", nil)
		if got, _ := s3Get(t, c, "sdk", "empty"); len(got) != 0 || aws.ToString(put.ETag) != md5Quoted(nil) {
			t.Fatalf("empty object: %d bytes, ETag %s", len(got), aws.ToString(put.ETag))
		}
	})

	t.Run("range", func(t *testing.T) {
		body := []byte("0123456789abcdefghij")
		s3Put(t, c, "sdk", "range", body)
		for _, tc := range []struct{ rng, want, contentRange string }{
			{"bytes=2-5", "2345", "bytes 2-5/20"},
			{"bytes=15-", "fghij", "bytes 15-19/20"},
			{"bytes=-3", "hij", "bytes 17-19/20"},
		} {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String("range"), Range: aws.String(tc.rng)})
			if err != nil {
				t.Fatalf("GetObject %s: %v", tc.rng, err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(got) != tc.want || aws.ToString(out.ContentRange) != tc.contentRange {
				t.Fatalf("GetObject %s: %q %q, want %q %q", tc.rng, got, aws.ToString(out.ContentRange), tc.want, tc.contentRange)
			}
		}
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String("range"), Range: aws.String("bytes=100-200")})
		wantS3Error(t, "GetObject of a range past the end", err, "InvalidRange", 416)
	})

	t.Run("conditional", func(t *testing.T) {
		body := []byte("conditional content")
		etag := aws.ToString(s3Put(t, c, "sdk", "cond", body).ETag)
		past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("cond")})
		if err != nil {
			t.Fatal(err)
		}
		get := func(in *s3.GetObjectInput) error {
			in.Bucket, in.Key = aws.String("sdk"), aws.String("cond")
			out, err := c.GetObject(ctx, in)
			if err == nil {
				b, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if !bytes.Equal(b, body) {
					return fmt.Errorf("content %q", b)
				}
			}
			return err
		}
		for _, tc := range []struct {
			name   string
			in     *s3.GetObjectInput
			status int
		}{
			{"If-Match hit", &s3.GetObjectInput{IfMatch: &etag}, 200},
			{"If-Match miss", &s3.GetObjectInput{IfMatch: aws.String(`"0123"`)}, 412},
			{"If-None-Match hit", &s3.GetObjectInput{IfNoneMatch: &etag}, 304},
			{"If-None-Match miss", &s3.GetObjectInput{IfNoneMatch: aws.String(`"0123"`)}, 200},
			{"If-Modified-Since past", &s3.GetObjectInput{IfModifiedSince: &past}, 200},
			{"If-Modified-Since its time", &s3.GetObjectInput{IfModifiedSince: head.LastModified}, 304},
			{"If-Modified-Since future (invalid: ignored)", &s3.GetObjectInput{IfModifiedSince: &future}, 200},
			{"If-Unmodified-Since future", &s3.GetObjectInput{IfUnmodifiedSince: &future}, 200},
			{"If-Unmodified-Since past", &s3.GetObjectInput{IfUnmodifiedSince: &past}, 412},
		} {
			err := get(tc.in)
			if tc.status == 200 {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				continue
			}
			code := ""
			if tc.status == 412 {
				code = "PreconditionFailed"
			}
			wantS3Error(t, tc.name, err, code, tc.status)
		}
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("cond"), IfMatch: aws.String(`"0123"`)})
		wantS3Error(t, "HeadObject If-Match miss", err, "", 412)
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("cond"), IfNoneMatch: &etag})
		wantS3Error(t, "HeadObject If-None-Match hit", err, "", 304)
	})

	t.Run("copy", func(t *testing.T) {
		body := s3Random(t, 300<<10)
		s3Put(t, c, "sdk", "copy-src", body)
		for _, dst := range []struct{ bucket, key string }{{"sdk", "copy-dst"}, {"sdk-other", "copy-dst"}} {
			out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst.bucket, Key: &dst.key, CopySource: aws.String("sdk/copy-src")})
			if err != nil {
				t.Fatalf("CopyObject to %s/%s: %v", dst.bucket, dst.key, err)
			}
			if got := aws.ToString(out.CopyObjectResult.ETag); got != md5Quoted(body) {
				t.Fatalf("CopyObject ETag %s, want %s", got, md5Quoted(body))
			}
			if got, _ := s3Get(t, c, dst.bucket, dst.key); !bytes.Equal(got, body) {
				t.Fatalf("copy %s/%s differs", dst.bucket, dst.key)
			}
		}
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sdk"), Key: aws.String("x"), CopySource: aws.String("sdk/copy-src"),
			CopySourceIfMatch: aws.String(`"0123"`)})
		wantS3Error(t, "CopyObject with a source If-Match that fails", err, "PreconditionFailed", 412)
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sdk"), Key: aws.String("x"), CopySource: aws.String("sdk/copy-src"),
			CopySourceIfMatch: aws.String(md5Quoted(body))}); err != nil {
			t.Fatalf("CopyObject with a source If-Match that holds: %v", err)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sdk"), Key: aws.String("copy-src"), CopySource: aws.String("sdk/copy-src")})
		wantS3Error(t, "CopyObject onto itself", err, "InvalidRequest", 400)
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sdk"), Key: aws.String("x"), CopySource: aws.String("sdk/nosuch")})
		wantS3Error(t, "CopyObject of a missing key", err, "NoSuchKey", 404)
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sdk"), Key: aws.String("y"), CopySource: aws.String("sdk/copy-src"),
			MetadataDirective: types.MetadataDirectiveReplace})
		wantS3Error(t, "CopyObject with REPLACE", err, "NotImplemented", 501)
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("y")}); err == nil {
			t.Fatal("a refused copy made its destination")
		}
	})

	t.Run("multipart", func(t *testing.T) {
		const partSize, total = 8 << 20, 100 << 20
		body := s3Random(t, total)
		key := "big/100MiB"
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sdk"), Key: &key})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		id := cr.UploadId
		ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("sdk")})
		if err != nil || !slices.ContainsFunc(ups.Uploads, func(u types.MultipartUpload) bool {
			return aws.ToString(u.UploadId) == *id && aws.ToString(u.Key) == key
		}) {
			t.Fatalf("ListMultipartUploads: %v %+v", err, ups)
		}
		var parts []types.CompletedPart
		var md5s []byte
		for n, off := int32(1), 0; off < total; n, off = n+1, off+partSize {
			chunk := body[off:min(off+partSize, total)]
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(chunk)})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", n, err)
			}
			if aws.ToString(out.ETag) != md5Quoted(chunk) {
				t.Fatalf("UploadPart %d: ETag %s, want %s", n, aws.ToString(out.ETag), md5Quoted(chunk))
			}
			sum := md5.Sum(chunk)
			md5s = append(md5s, sum[:]...)
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
		}
		lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id})
		if err != nil || len(lp.Parts) != len(parts) || aws.ToString(lp.Parts[0].ETag) != aws.ToString(parts[0].ETag) {
			t.Fatalf("ListParts: %v, %d parts, want %d", err, len(lp.Parts), len(parts))
		}
		lp, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id, MaxParts: aws.Int32(5), PartNumberMarker: aws.String("5")})
		if err != nil || len(lp.Parts) != 5 || aws.ToInt32(lp.Parts[0].PartNumber) != 6 || !aws.ToBool(lp.IsTruncated) {
			t.Fatalf("ListParts page: %v %+v", err, lp)
		}
		// Out of order, then a wrong ETag: refused, and the upload stays.
		swapped := slices.Clone(parts)
		swapped[0], swapped[1] = swapped[1], swapped[0]
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: swapped}})
		wantS3Error(t, "CompleteMultipartUpload out of order", err, "InvalidPartOrder", 400)
		wrong := slices.Clone(parts)
		wrong[2].ETag = aws.String(`"00000000000000000000000000000000"`)
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: wrong}})
		wantS3Error(t, "CompleteMultipartUpload with a wrong ETag", err, "InvalidPart", 400)
		done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		sum := md5.Sum(md5s)
		want := fmt.Sprintf(`"%x-%d"`, sum, len(parts))
		if aws.ToString(done.ETag) != want {
			t.Fatalf("multipart ETag %s, want %s", aws.ToString(done.ETag), want)
		}
		got, out := s3Get(t, c, "sdk", key)
		if !bytes.Equal(got, body) || aws.ToString(out.ETag) != want {
			t.Fatalf("GetObject of the multipart object: %d bytes, equal %v, ETag %s", len(got), bytes.Equal(got, body), aws.ToString(out.ETag))
		}
		_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("sdk"), Key: &key, UploadId: id})
		wantS3Error(t, "ListParts of a completed upload", err, "NoSuchUpload", 404)

		// UploadPartCopy: two ranges of the big object, into another.
		cr, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sdk-other"), Key: aws.String("pc")})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		var cparts []types.CompletedPart
		for i, rng := range [][2]int{{0, 5<<20 - 1}, {5 << 20, 7<<20 + 11}} {
			out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("sdk-other"), Key: aws.String("pc"), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String("sdk/" + key), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", rng[0], rng[1]))})
			if err != nil {
				t.Fatalf("UploadPartCopy %d: %v", i+1, err)
			}
			if aws.ToString(out.CopyPartResult.ETag) != md5Quoted(body[rng[0]:rng[1]+1]) {
				t.Fatalf("UploadPartCopy %d: ETag %s", i+1, aws.ToString(out.CopyPartResult.ETag))
			}
			cparts = append(cparts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
		}
		if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sdk-other"), Key: aws.String("pc"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: cparts}}); err != nil {
			t.Fatalf("CompleteMultipartUpload of copied parts: %v", err)
		}
		if got, _ := s3Get(t, c, "sdk-other", "pc"); !bytes.Equal(got, body[:7<<20+12]) {
			t.Fatalf("the object of copied parts differs (%d bytes)", len(got))
		}

		// Parts smaller than 5 MiB (but the last) are refused; then abort.
		cr, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sdk"), Key: aws.String("aborted")})
		if err != nil {
			t.Fatal(err)
		}
		var small []types.CompletedPart
		for n := int32(1); n <= 2; n++ {
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sdk"), Key: aws.String("aborted"), UploadId: cr.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader([]byte("part"))})
			if err != nil {
				t.Fatal(err)
			}
			small = append(small, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sdk"), Key: aws.String("aborted"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: small}})
		wantS3Error(t, "CompleteMultipartUpload of 4-byte parts", err, "EntityTooSmall", 400)
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sdk"), Key: aws.String("aborted"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(7), ETag: small[0].ETag}}}})
		wantS3Error(t, "CompleteMultipartUpload of a part never uploaded", err, "InvalidPart", 400)
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("sdk"), Key: aws.String("aborted"), UploadId: cr.UploadId}); err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}
		_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("sdk"), Key: aws.String("aborted"), UploadId: cr.UploadId})
		wantS3Error(t, "ListParts of an aborted upload", err, "NoSuchUpload", 404)
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("aborted")})
		wantS3Error(t, "HeadObject of an aborted upload's key", err, "", 404)
	})

	t.Run("list", func(t *testing.T) {
		s3Mkbucket(t, c, "sdk-list")
		keys := []string{"a/1", "a/2", "a/b/3", "b/1", "c", "d", "e/1", "e/2", "f"}
		for _, k := range keys {
			s3Put(t, c, "sdk-list", k, []byte(k))
		}
		type page struct {
			keys, prefixes []string
			truncated      bool
		}
		v2 := func(in *s3.ListObjectsV2Input) (page, *s3.ListObjectsV2Output) {
			in.Bucket = aws.String("sdk-list")
			out, err := c.ListObjectsV2(ctx, in)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			var p page
			for _, o := range out.Contents {
				p.keys = append(p.keys, aws.ToString(o.Key))
				if aws.ToString(o.ETag) != md5Quoted([]byte(aws.ToString(o.Key))) || aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) || o.LastModified == nil {
					t.Fatalf("ListObjectsV2 entry %+v", o)
				}
			}
			for _, cp := range out.CommonPrefixes {
				p.prefixes = append(p.prefixes, aws.ToString(cp.Prefix))
			}
			p.truncated = aws.ToBool(out.IsTruncated)
			if int(aws.ToInt32(out.KeyCount)) != len(p.keys)+len(p.prefixes) {
				t.Fatalf("KeyCount %d, want %d", aws.ToInt32(out.KeyCount), len(p.keys)+len(p.prefixes))
			}
			return p, out
		}
		check := func(what string, got page, keys, prefixes []string, truncated bool) {
			t.Helper()
			if !slices.Equal(got.keys, keys) || !slices.Equal(got.prefixes, prefixes) || got.truncated != truncated {
				t.Fatalf("%s: %+v, want keys %v prefixes %v truncated %v", what, got, keys, prefixes, truncated)
			}
		}
		p, _ := v2(&s3.ListObjectsV2Input{})
		check("all", p, keys, nil, false)
		p, _ = v2(&s3.ListObjectsV2Input{Prefix: aws.String("a/")})
		check("prefix a/", p, []string{"a/1", "a/2", "a/b/3"}, nil, false)
		p, _ = v2(&s3.ListObjectsV2Input{Delimiter: aws.String("/")})
		check("delimiter", p, []string{"c", "d", "f"}, []string{"a/", "b/", "e/"}, false)
		p, _ = v2(&s3.ListObjectsV2Input{Prefix: aws.String("a/"), Delimiter: aws.String("/")})
		check("prefix and delimiter", p, []string{"a/1", "a/2"}, []string{"a/b/"}, false)
		p, _ = v2(&s3.ListObjectsV2Input{StartAfter: aws.String("c")})
		check("start-after", p, []string{"d", "e/1", "e/2", "f"}, nil, false)
		// Pages of 2 with a delimiter: prefixes count as keys.
		var all page
		var token *string
		for i := 0; ; i++ {
			p, out := v2(&s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), ContinuationToken: token})
			all.keys, all.prefixes = append(all.keys, p.keys...), append(all.prefixes, p.prefixes...)
			if len(p.keys)+len(p.prefixes) > 2 || i > 5 {
				t.Fatalf("page %d: %+v", i, p)
			}
			if !p.truncated {
				break
			}
			token = out.NextContinuationToken
		}
		check("pages of 2 with a delimiter", all, []string{"c", "d", "f"}, []string{"a/", "b/", "e/"}, false)
		// ListObjects (v1) with markers.
		var got []string
		marker := ""
		for i := 0; i < 10; i++ {
			out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("sdk-list"), MaxKeys: aws.Int32(4), Marker: aws.String(marker)})
			if err != nil {
				t.Fatalf("ListObjects: %v", err)
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			marker = aws.ToString(out.NextMarker)
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("ListObjects pages: %v, want %v", got, keys)
		}
	})

	t.Run("delete-objects", func(t *testing.T) {
		s3Mkbucket(t, c, "sdk-del")
		for _, k := range []string{"k1", "k2", "k3", "k4", "k5"} {
			s3Put(t, c, "sdk-del", k, []byte(k))
		}
		var ids []types.ObjectIdentifier
		for _, k := range []string{"k1", "k3", "k5", "missing"} {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("sdk-del"), Delete: &types.Delete{Objects: ids}})
		if err != nil || len(out.Deleted) != 4 || len(out.Errors) != 0 {
			t.Fatalf("DeleteObjects: %v %+v", err, out)
		}
		lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("sdk-del")})
		if err != nil || len(lo.Contents) != 2 || aws.ToString(lo.Contents[0].Key) != "k2" || aws.ToString(lo.Contents[1].Key) != "k4" {
			t.Fatalf("after DeleteObjects: %v %+v", err, lo.Contents)
		}
	})

	t.Run("addressing", func(t *testing.T) {
		vc := newS3Client(t, cl, s3ClientOpts{virtual: true})
		s3Mkbucket(t, vc, "sdk-vhost")
		body := []byte("virtual-hosted")
		s3Put(t, vc, "sdk-vhost", "dir/v", body)
		if got, _ := s3Get(t, c, "sdk-vhost", "dir/v"); !bytes.Equal(got, body) {
			t.Fatalf("path-style GET of a virtual-hosted PUT: %q", got)
		}
		lo, err := vc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("sdk-vhost")})
		if err != nil || len(lo.Contents) != 1 {
			t.Fatalf("virtual-hosted ListObjectsV2: %v %+v", err, lo)
		}
		rc := newS3Client(t, cl, s3ClientOpts{root: true})
		if got, _ := s3Get(t, rc, "sdk-vhost", "dir/v"); !bytes.Equal(got, body) {
			t.Fatalf("root GET: %q", got)
		}
		// The v1 API keeps its paths with -s3_root.
		resp, err := http.Get(cl.ProxyURL() + "/v1/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /v1/health with -s3_root: %v %v", err, resp)
		}
		resp.Body.Close()
	})

	t.Run("refused", func(t *testing.T) {
		s3Put(t, c, "sdk", "acl", []byte("x"))
		_, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("sdk"), Key: aws.String("acl")})
		wantS3Error(t, "GetObjectAcl", err, "NotImplemented", 501)
		_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("sdk"),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
		wantS3Error(t, "PutBucketVersioning", err, "NotImplemented", 501)
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sdk"), Key: aws.String("sse"), Body: strings.NewReader("x"),
			ServerSideEncryption: types.ServerSideEncryptionAes256})
		wantS3Error(t, "PutObject with server-side encryption", err, "NotImplemented", 501)
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sdk"), Key: aws.String("meta"), Body: strings.NewReader("x"),
			Metadata: map[string]string{"k": "v"}})
		wantS3Error(t, "PutObject with user metadata", err, "NotImplemented", 501)
		// A body that does not match its Content-MD5 (verified at its end,
		// while it streams to the target) is refused and stores nothing,
		// at every size: the proxy holds back the last bytes.
		for _, size := range []int{1, 100 << 10, 3 << 20} {
			body := s3Random(t, size)
			sum := md5.Sum(append(slices.Clone(body[:size-1]), body[size-1]^1))
			req, _ := http.NewRequest(http.MethodPut, cl.ProxyURL()+"/s3/sdk/bad-md5", bytes.NewReader(body))
			req.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>BadDigest</Code>") {
				t.Fatalf("PUT of %d bytes with a wrong Content-MD5: %d %s", size, resp.StatusCode, b)
			}
		}
		for _, k := range []string{"sse", "meta", "bad-md5"} {
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String(k)})
			wantS3Error(t, "HeadObject of a refused PUT's key", err, "", 404)
		}
	})

	t.Run("xml-errors", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			body         string
			code         string
			status       int
		}{
			{"GET", "/s3/sdk/nosuch", "", "NoSuchKey", 404},
			{"GET", "/s3/sdk-nosuch", "", "NoSuchBucket", 404},
			{"GET", "/s3/sdk/acl?tagging", "", "NotImplemented", 501},
			{"GET", "/s3/sdk?versioning", "", "NotImplemented", 501},
			{"GET", "/s3/sdk/acl?uploadId=0123456789abcdef", "", "NoSuchUpload", 404},
			{"PUT", "/s3/sdk", "", "BucketAlreadyOwnedByYou", 409},
			{"DELETE", "/s3/sdk", "", "BucketNotEmpty", 409},
			{"POST", "/s3/sdk/acl?uploadId=0123456789abcdef", "<CompleteMultipartUpload><Part>", "MalformedXML", 400},
			{"PATCH", "/s3/sdk/acl", "", "MethodNotAllowed", 405},
			{"GET", "/s3/sdk/acl?list-type=2", "", "NotImplemented", 501},
			{"GET", "/s3/sdk?list-type=2&max-keys=x", "", "InvalidArgument", 400},
			{"GET", "/s3/sdk?list-type=2&continuation-token=***", "", "InvalidArgument", 400},
			{"PUT", "/s3/sdk/x?partNumber=1&uploadId=0123456789abcdef", "p", "NoSuchUpload", 404},
			{"PUT", "/s3/sdk/x?partNumber=0&uploadId=0123456789abcdef", "p", "InvalidArgument", 400},
			{"GET", "/s3/Bad_Bucket!", "", "InvalidBucketName", 400},
		} {
			req, _ := http.NewRequest(tc.method, cl.ProxyURL()+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				XMLName xml.Name `xml:"Error"`
				Code    string   `xml:"Code"`
				Message string   `xml:"Message"`
			}
			if err := xml.Unmarshal(b, &e); err != nil || resp.StatusCode != tc.status || e.Code != tc.code || e.Message == "" ||
				resp.Header.Get("Content-Type") != "application/xml" {
				t.Errorf("%s %s: %d %q (%v), want %d %s", tc.method, tc.path, resp.StatusCode, b, err, tc.status, tc.code)
			}
		}
	})
}
