package tests

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"miniais/tests/harness"
)

// The S3 gateway with Signature V4 credentials, and its traces read back
// from Jaeger (helpers in s3_test.go).

// TestS3Signed runs the gateway with credentials: signed requests and
// presigned URLs are served; unsigned, wrongly signed and unknown keys are
// refused with 403 and change nothing.
func TestS3Signed(t *testing.T) {
	cl := s3Cluster(t, true, harness.Options{Targets: 2})
	c := newS3Client(t, cl, s3ClientOpts{creds: goodCreds()})
	ctx := context.Background()
	s3Mkbucket(t, c, "signed")
	body := s3Random(t, 64<<10)
	if got := aws.ToString(s3Put(t, c, "signed", "obj", body).ETag); got != md5Quoted(body) {
		t.Fatalf("signed PutObject ETag %s", got)
	}
	if got, _ := s3Get(t, c, "signed", "obj"); !bytes.Equal(got, body) {
		t.Fatal("signed GetObject differs")
	}
	vc := newS3Client(t, cl, s3ClientOpts{creds: goodCreds(), virtual: true})
	s3Put(t, vc, "signed", "vobj", body)
	if got, _ := s3Get(t, c, "signed", "vobj"); !bytes.Equal(got, body) {
		t.Fatal("signed virtual-hosted PutObject differs")
	}

	for _, bad := range []struct {
		name  string
		creds aws.CredentialsProvider
		code  string
	}{
		{"wrong secret", credentials.NewStaticCredentialsProvider(s3Key, "not-the-secret", ""), "SignatureDoesNotMatch"},
		{"unknown key", credentials.NewStaticCredentialsProvider("nobody", "whatever", ""), "InvalidAccessKeyId"},
		{"anonymous", nil, "AccessDenied"},
	} {
		bc := newS3Client(t, cl, s3ClientOpts{creds: bad.creds})
		_, err := bc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("signed"), Key: aws.String("refused"), Body: bytes.NewReader(body)})
		wantS3Error(t, bad.name+" PutObject", err, bad.code, 403)
		_, err = bc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("signed"), Key: aws.String("obj")})
		wantS3Error(t, bad.name+" GetObject", err, bad.code, 403)
		_, err = bc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("signed"), Key: aws.String("obj")})
		wantS3Error(t, bad.name+" DeleteObject", err, bad.code, 403)
		_, err = bc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("refused-bucket")})
		wantS3Error(t, bad.name+" CreateBucket", err, bad.code, 403)
	}
	// The XML body of a refusal.
	resp, err := http.Get(cl.ProxyURL() + "/s3/signed/obj")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var xe struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if err := xml.Unmarshal(b, &xe); err != nil || resp.StatusCode != 403 || xe.Code != "AccessDenied" || xe.Message == "" {
		t.Fatalf("unsigned GET: %d %s", resp.StatusCode, b)
	}
	// Nothing was touched.
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("signed"), Key: aws.String("refused")})
	wantS3Error(t, "HeadObject of a refused PUT's key", err, "", 404)
	if got, _ := s3Get(t, c, "signed", "obj"); !bytes.Equal(got, body) {
		t.Fatal("a refused DELETE changed the object")
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("refused-bucket")})
	wantS3Error(t, "HeadBucket of a refused CreateBucket", err, "", 404)

	// Presigned PUT and GET, with net/http.
	pc := s3.NewPresignClient(c)
	pbody := []byte("presigned content")
	preq, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("signed"), Key: aws.String("presigned")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, preq.URL, bytes.NewReader(pbody))
	for k, v := range preq.SignedHeader {
		if k != "Host" {
			req.Header[k] = v
		}
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Etag") != md5Quoted(pbody) {
		t.Fatalf("presigned PUT: %d ETag %s", resp.StatusCode, resp.Header.Get("Etag"))
	}
	greq, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("signed"), Key: aws.String("presigned")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(greq.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, pbody) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, got)
	}
	// A presigned URL for another key does not open this one.
	tampered := strings.Replace(greq.URL, "/presigned?", "/obj?", 1)
	resp, err = http.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("tampered presigned GET: %d, want 403", resp.StatusCode)
	}
}

// s3TraceCheck checks the trace of one S3 object request: one root, the
// proxy's server span named by the operation with the aws.s3.* attributes,
// the target's server span of the native request under it, and the fs
// span under that; no orphans.
func s3TraceCheck(tr *harness.Trace, op, method, fsOp, bucket, key string) error {
	if o := tr.Orphans(); len(o) > 0 {
		return fmt.Errorf("%d orphan spans, first %s", len(o), o[0].OperationName)
	}
	roots := tr.Roots()
	if len(roots) != 1 || roots[0].OperationName != "S3 "+op || tr.ServiceOf(roots[0]) != svcProxy {
		return fmt.Errorf("%d roots, want the one proxy span %q", len(roots), "S3 "+op)
	}
	px := roots[0]
	if px.TagString("aws.s3.bucket") != bucket || px.TagString("aws.s3.key") != key {
		return fmt.Errorf("proxy span: aws.s3.bucket %q aws.s3.key %q", px.TagString("aws.s3.bucket"), px.TagString("aws.s3.key"))
	}
	tg, err := one(tr, svcTarget, method+" /v1/objects/{bucket}/{object...}")
	if err != nil {
		return err
	}
	fsSpan, err := one(tr, svcTarget, fsOp)
	if err != nil {
		return err
	}
	switch {
	case !hasAncestor(tr, tg, px):
		return fmt.Errorf("the target span is not under the proxy span")
	case !hasAncestor(tr, fsSpan, tg):
		return fmt.Errorf("%s is not under the target span", fsOp)
	case tg.TagString("ais.object") != key:
		return fmt.Errorf("target span: ais.object %q", tg.TagString("ais.object"))
	}
	return nil
}

// TestS3Traces reads one S3 PUT, one GET and one multipart part back from
// Jaeger, each one trace proxy -> target -> fs; and a client's own
// traceparent makes the request part of the client's trace.
func TestS3Traces(t *testing.T) {
	j := harness.StartJaeger(t)
	cl := s3Cluster(t, false, harness.Options{Targets: 2, TracingEndpoint: j.OTLPEndpoint(), Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=1"}})
	c := newS3Client(t, cl, s3ClientOpts{})
	ctx := context.Background()
	s3Mkbucket(t, c, "traced")
	body := s3Random(t, 256<<10)

	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("traced"), Key: aws.String("dir/obj"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := awsmiddleware.GetRequestIDMetadata(put.ResultMetadata)
	if !ok || len(id) != 32 {
		t.Fatalf("PutObject: request ID %q is not a trace ID", id)
	}
	waitTrace(t, j, id, func(tr *harness.Trace) error {
		return s3TraceCheck(tr, "PutObject", "PUT", "fs.Put", "traced", "dir/obj")
	})

	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("traced"), Key: aws.String("dir/obj")})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, get.Body)
	get.Body.Close()
	id, _ = awsmiddleware.GetRequestIDMetadata(get.ResultMetadata)
	waitTrace(t, j, id, func(tr *harness.Trace) error {
		return s3TraceCheck(tr, "GetObject", "GET", "fs.Get", "traced", "dir/obj")
	})

	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("traced"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("traced"), Key: aws.String("mp"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(3), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	id, _ = awsmiddleware.GetRequestIDMetadata(part.ResultMetadata)
	waitTrace(t, j, id, func(tr *harness.Trace) error {
		if err := s3TraceCheck(tr, "UploadPart", "PUT", "fs.PutPart", "traced", "mp"); err != nil {
			return err
		}
		px := tr.Roots()[0]
		if px.TagString("aws.s3.upload_id") != aws.ToString(cr.UploadId) || px.TagString("aws.s3.part_number") != "3" {
			return fmt.Errorf("UploadPart span: upload_id %q part_number %q", px.TagString("aws.s3.upload_id"), px.TagString("aws.s3.part_number"))
		}
		return nil
	})

	// A client's traceparent: the request joins the client's trace.
	tp, traceID := traceparent()
	req, _ := http.NewRequest(http.MethodGet, cl.ProxyURL()+"/s3/traced/dir/obj", nil)
	req.Header.Set("traceparent", tp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Request-Id") != traceID {
		t.Fatalf("GET with traceparent: %d, request ID %q, want the client's trace %s", resp.StatusCode, resp.Header.Get("X-Amz-Request-Id"), traceID)
	}
	waitTrace(t, j, traceID, func(tr *harness.Trace) error {
		px, err := one(tr, svcProxy, "S3 GetObject")
		if err != nil {
			return err
		}
		if p := tr.Parent(px); p != nil {
			return fmt.Errorf("the proxy span has a parent in Jaeger (%s): the client's span was never exported", p.OperationName)
		}
		_, err = one(tr, svcTarget, "fs.Get")
		return err
	})
}
