package s3

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		hdr            map[string]string
		bucket, key    string
		op, code       string // op on success, else the S3 code
	}{
		{"GET", "/s3", nil, "", "", "ListBuckets", ""},
		{"PUT", "/s3/b", nil, "b", "", "CreateBucket", ""},
		{"HEAD", "/s3/b", nil, "b", "", "HeadBucket", ""},
		{"DELETE", "/s3/b", nil, "b", "", "DeleteBucket", ""},
		{"GET", "/s3/b?location", nil, "b", "", "GetBucketLocation", ""},
		{"GET", "/s3/b?list-type=2&prefix=a&delimiter=/&max-keys=3&continuation-token=x&start-after=a&fetch-owner=true&encoding-type=url", nil, "b", "", "ListObjectsV2", ""},
		{"GET", "/s3/b?list-type=1", nil, "b", "", "", CodeInvalidArgument},
		{"GET", "/s3/b?prefix=a&marker=m", nil, "b", "", "ListObjects", ""},
		{"GET", "/s3/b?uploads", nil, "b", "", "ListMultipartUploads", ""},
		{"POST", "/s3/b?delete", nil, "b", "", "DeleteObjects", ""},
		{"PUT", "/s3/b/k", nil, "b", "k", "PutObject", ""},
		{"PUT", "/s3/b/k?x-id=PutObject", nil, "b", "k", "PutObject", ""},
		{"PUT", "/s3/b/k", map[string]string{"X-Amz-Copy-Source": "b/src"}, "b", "k", "CopyObject", ""},
		{"PUT", "/s3/b/k?partNumber=2&uploadId=u", nil, "b", "k", "UploadPart", ""},
		{"PUT", "/s3/b/k?partNumber=2&uploadId=u", map[string]string{"X-Amz-Copy-Source": "b/src"}, "b", "k", "UploadPartCopy", ""},
		{"PUT", "/s3/b/k?uploadId=u", nil, "b", "k", "", CodeInvalidArgument},
		{"PUT", "/s3/b/k?partNumber=10001&uploadId=u", nil, "b", "k", "", CodeInvalidArgument},
		{"GET", "/s3/b/k", nil, "b", "k", "GetObject", ""},
		{"GET", "/s3/b/k?partNumber=1", nil, "b", "k", "", CodeNotImplemented},
		{"GET", "/s3/b/k?uploadId=u&max-parts=2", nil, "b", "k", "ListParts", ""},
		{"HEAD", "/s3/b/k", nil, "b", "k", "HeadObject", ""},
		{"DELETE", "/s3/b/k", nil, "b", "k", "DeleteObject", ""},
		{"DELETE", "/s3/b/k?uploadId=u", nil, "b", "k", "AbortMultipartUpload", ""},
		{"POST", "/s3/b/k?uploads", nil, "b", "k", "CreateMultipartUpload", ""},
		{"POST", "/s3/b/k?uploadId=u", nil, "b", "k", "CompleteMultipartUpload", ""},
		{"GET", "/s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", nil, "b", "k", "GetObject", ""},

		// Refused before anything is touched.
		{"GET", "/s3/b/k?acl", nil, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k?tagging", nil, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b?versioning", nil, "b", "", "", CodeNotImplemented},
		{"GET", "/s3/b?policy", nil, "b", "", "", CodeNotImplemented},
		{"GET", "/s3/b/k?response-content-type=text/plain", nil, "b", "k", "", CodeNotImplemented},
		{"GET", "/s3/b?list-type=2&marker=m", nil, "b", "", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"X-Amz-Meta-Color": "red"}, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"X-Amz-Storage-Class": "GLACIER"}, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"X-Amz-Storage-Class": "STANDARD"}, "b", "k", "PutObject", ""},
		{"PUT", "/s3/b/k", map[string]string{"X-Amz-Copy-Source": "b/src", "X-Amz-Metadata-Directive": "REPLACE"}, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"If-None-Match": "*"}, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"Content-Encoding": "gzip"}, "b", "k", "", CodeNotImplemented},
		{"PUT", "/s3/b/k", map[string]string{"Content-Encoding": "aws-chunked"}, "b", "k", "PutObject", ""},
		{"POST", "/s3/b/k?uploadId=u", map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="}, "b", "k", "", CodeNotImplemented},
		{"GET", "/s3/b/k", map[string]string{"If-None-Match": `"e"`}, "b", "k", "GetObject", ""},
		{"PATCH", "/s3/b/k", nil, "b", "k", "", CodeMethodNotAllowed},
		{"POST", "/s3/b", nil, "b", "", "", CodeMethodNotAllowed},
		{"PUT", "/s3", nil, "", "", "", CodeMethodNotAllowed},
		{"GET", "/s3/Bad_Name!", nil, "Bad_Name!", "", "", CodeInvalidBucketName},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			req, err := Parse(r, tc.bucket, tc.key)
			if tc.code != "" {
				if e := ErrorOf(err, ""); err == nil || e.Code.Name != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil || req.Op.Name != tc.op {
				t.Fatalf("got %v %+v, want %s", err, req, tc.op)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	native := func(p string) bool { return strings.HasPrefix(p, "/v1/") || p == "/metrics" }
	for _, tc := range []struct {
		addr       Addressing
		host, path string
		s3         bool
		want       string
	}{
		{Addressing{}, "h:1", "/s3/b/k", true, "/s3/b/k"},
		{Addressing{}, "h:1", "/b/k", false, "/b/k"},
		{Addressing{Root: true}, "h:1", "/b/k", true, "/s3/b/k"},
		{Addressing{Root: true}, "h:1", "/", true, "/s3/"},
		{Addressing{Root: true}, "h:1", "/v1/buckets/b", false, "/v1/buckets/b"},
		{Addressing{Root: true}, "h:1", "/metrics", false, "/metrics"},
		{Addressing{Domain: "s3.test"}, "b.s3.test:1", "/s3/k", true, "/s3/b/k"},
		{Addressing{Domain: "s3.test"}, "b.s3.test:1", "/s3", true, "/s3/b"},
		{Addressing{Domain: "s3.test", Root: true}, "B.S3.Test", "/dir/k", true, "/s3/b/dir/k"},
		{Addressing{Domain: "s3.test", Root: true}, "s3.test:1", "/b/k", true, "/s3/b/k"},
		{Addressing{Domain: "s3.test"}, "other.example:1", "/s3/b/k", true, "/s3/b/k"},
		{Addressing{Domain: "s3.test"}, "b.s3.test:1", "/b/k", false, "/b/k"},
	} {
		r := httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil)
		if got := tc.addr.Rewrite(r, native); got != tc.s3 || r.URL.Path != tc.want {
			t.Errorf("%+v %s%s: %v %s, want %v %s", tc.addr, tc.host, tc.path, got, r.URL.Path, tc.s3, tc.want)
		}
	}
	// An escaped key keeps its escaping.
	r := httptest.NewRequest("GET", "http://b.s3.test/s3/a%2Fb%20c", nil)
	Addressing{Domain: "s3.test"}.Rewrite(r, native)
	if r.URL.EscapedPath() != "/s3/b/a%2Fb%20c" {
		t.Errorf("escaped path %s", r.URL.EscapedPath())
	}
}

// FuzzParse feeds request lines and headers to Parse: it must never
// panic, and an operation it accepts must be a row of Operations.
func FuzzParse(f *testing.F) {
	f.Add("PUT", "/s3/b/k?partNumber=1&uploadId=u", "X-Amz-Copy-Source", "b/k")
	f.Add("GET", "/s3/b?list-type=2&prefix=a", "", "")
	f.Add("POST", "/s3/b?delete", "Content-Md5", "xx")
	f.Fuzz(func(t *testing.T, method, target, hk, hv string) {
		r, err := http.NewRequest(method, "http://h"+target, nil)
		if err != nil || r.URL.Path == "" {
			return
		}
		if hk != "" {
			r.Header[http.CanonicalHeaderKey(hk)] = []string{hv}
		}
		bucket, key, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/s3"), "/"), "/")
		req, err := Parse(r, bucket, key)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		found := false
		for i := range Operations {
			found = found || req.Op == &Operations[i]
		}
		if method == "" {
			method = http.MethodGet // what net/http makes of an empty method
		}
		if !found || req.Op.Method != method {
			t.Fatalf("op %+v for %s %s", req.Op, method, target)
		}
	})
}
