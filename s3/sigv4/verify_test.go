package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var testCreds = aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}

// outcome is what the test server saw of one request.
type outcome struct {
	verifyErr error
	readErr   error
	body      []byte
	res       Result
	header    http.Header
}

// server is a real HTTP server whose handler runs v.Verify and reads the
// body to its end.
type server struct {
	*httptest.Server
	v    *Verifier
	mu   sync.Mutex
	last outcome
}

func newServer(t testing.TB, v *Verifier, tls bool) *server {
	s := &server{v: v}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o outcome
		o.res, o.verifyErr = s.v.Verify(r)
		if o.verifyErr == nil {
			o.body, o.readErr = io.ReadAll(o.res.Body)
			o.res.Body.Close()
		}
		o.header = r.Header.Clone()
		s.mu.Lock()
		s.last = o
		s.mu.Unlock()
		err := o.verifyErr
		if err == nil {
			err = o.readErr
		}
		if err != nil {
			var c interface {
				Code() string
				HTTPStatus() int
			}
			if !errors.As(err, &c) {
				t.Errorf("error %v has no Code/HTTPStatus", err)
				w.WriteHeader(500)
				return
			}
			w.Header().Set("X-Code", c.Code())
			w.WriteHeader(c.HTTPStatus())
			io.WriteString(w, err.Error())
			return
		}
		w.WriteHeader(http.StatusOK) // what was read is in outcome
	})
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *server) outcome() outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// do sends req and returns the status and S3 code of the reply.
func (s *server) do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Logf("%s %s: %d %s %s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("X-Code"), msg)
	}
	return resp.StatusCode, resp.Header.Get("X-Code")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signed returns a request to s signed by the SDK's signer.
func signed(t testing.TB, s *server, method, path string, body []byte, payloadHash string, at time.Time, creds aws.Credentials, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestVerifySDKSigned(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Creds: Credentials{testKey: testSecret, "other": "other-secret"}, Now: fixedClock(now)}
	s := newServer(t, v, false)
	body := []byte("hello, signed world")
	tests := []struct {
		name, method, path string
		body               []byte
		hash               string
		hdr                map[string]string
	}{
		{"get", "GET", "/bucket/key", nil, emptySHA256, nil},
		{"root", "GET", "/", nil, emptySHA256, nil},
		{"list query", "GET", "/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=10", nil, emptySHA256, nil},
		{"valueless query", "POST", "/bucket/key?uploads", nil, emptySHA256, nil},
		{"put sha256", "PUT", "/bucket/dir/key.txt", body, sha256Hex(body), map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Color": "  blue   green "}},
		{"put unsigned", "PUT", "/bucket/key", body, unsignedPayload, nil},
		{"encoded path", "PUT", "/bucket/a%20b/c%2Bd/%E2%82%AC~x", body, sha256Hex(body), nil},
		{"query needs encoding", "GET", "/bucket?prefix=a%20b%2Bc&start-after=%E2%82%AC", nil, emptySHA256, nil},
		{"copy source", "PUT", "/bucket/dst", nil, emptySHA256, map[string]string{"X-Amz-Copy-Source": "/bucket/src%20x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signed(t, s, tt.method, tt.path, tt.body, tt.hash, now.Add(-time.Minute), testCreds, tt.hdr)
			if st, code := s.do(t, req); st != 200 {
				t.Fatalf("status %d %s, want 200", st, code)
			}
			o := s.outcome()
			if o.res.AccessKey != testKey || !bytes.Equal(o.body, tt.body) {
				t.Fatalf("access key %q body %q, want %q %q", o.res.AccessKey, o.body, testKey, tt.body)
			}
			if want := int64(len(tt.body)); o.res.Size != want {
				t.Fatalf("size %d, want %d", o.res.Size, want)
			}
		})
	}
}

func TestVerifyRefused(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Creds: Credentials{testKey: testSecret}, Now: fixedClock(now)}
	s := newServer(t, v, false)
	body := []byte("payload")
	sign := func(t *testing.T, creds aws.Credentials, at time.Time, hash string, hdr map[string]string) *http.Request {
		return signed(t, s, "PUT", "/bucket/key", body, hash, at, creds, hdr)
	}
	good := func(t *testing.T) *http.Request { return sign(t, testCreds, now, sha256Hex(body), nil) }
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
		kind   error
		code   string
	}{
		{"wrong secret", func(t *testing.T) *http.Request {
			return sign(t, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "wrong"}, now, sha256Hex(body), nil)
		}, 403, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"unknown key", func(t *testing.T) *http.Request {
			return sign(t, aws.Credentials{AccessKeyID: "nobody", SecretAccessKey: testSecret}, now, sha256Hex(body), nil)
		}, 403, ErrAccessDenied, "InvalidAccessKeyId"},
		{"unsigned", func(t *testing.T) *http.Request {
			req, _ := http.NewRequest("PUT", s.URL+"/bucket/key", bytes.NewReader(body))
			return req
		}, 403, ErrAccessDenied, "AccessDenied"},
		{"tampered date", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("X-Amz-Date", now.Add(time.Second).Format(timeFormat))
			return req
		}, 403, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"credential date not request date", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("X-Amz-Date", now.Add(-24*time.Hour).Format(timeFormat))
			return req
		}, 400, ErrMalformed, "AuthorizationHeaderMalformed"},
		{"tampered signed header", func(t *testing.T) *http.Request {
			req := sign(t, testCreds, now, sha256Hex(body), map[string]string{"X-Amz-Meta-A": "1"})
			req.Header.Set("X-Amz-Meta-A", "2")
			return req
		}, 403, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"unsigned x-amz header", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("X-Amz-Copy-Source", "/other/obj")
			return req
		}, 403, ErrAccessDenied, "AccessDenied"},
		{"tampered path", func(t *testing.T) *http.Request {
			req := good(t)
			req.URL.Path = "/bucket/other"
			return req
		}, 403, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"tampered query", func(t *testing.T) *http.Request {
			req := good(t)
			req.URL.RawQuery = "partNumber=2"
			return req
		}, 403, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"tampered body", func(t *testing.T) *http.Request {
			req := good(t)
			req.Body = io.NopCloser(strings.NewReader("PAYLOAD"))
			return req
		}, 400, ErrBadDigest, "XAmzContentSHA256Mismatch"},
		{"skew past", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now.Add(-16*time.Minute), sha256Hex(body), nil)
		}, 403, ErrRequestTimeTooSkewed, "RequestTimeTooSkewed"},
		{"skew future", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now.Add(16*time.Minute), sha256Hex(body), nil)
		}, 403, ErrRequestTimeTooSkewed, "RequestTimeTooSkewed"},
		{"no content sha256", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Del("X-Amz-Content-Sha256")
			return req
		}, 400, ErrMalformed, "InvalidArgument"},
		{"bad content sha256", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, "not-a-hash", nil)
		}, 400, ErrMalformed, "InvalidArgument"},
		{"wrong region", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/us-east-1/", "/eu-west-1/", 1))
			return req
		}, 400, ErrMalformed, "AuthorizationHeaderMalformed"},
		{"wrong service", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/s3/", "/ec2/", 1))
			return req
		}, 400, ErrMalformed, "AuthorizationHeaderMalformed"},
		{"garbled authorization", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			return req
		}, 400, ErrMalformed, "AuthorizationHeaderMalformed"},
		{"unsorted signed headers", func(t *testing.T) *http.Request {
			req := good(t)
			a := req.Header.Get("Authorization")
			i, j := strings.Index(a, "SignedHeaders="), strings.Index(a, ", Signature=")
			req.Header.Set("Authorization", a[:i]+"SignedHeaders=x-amz-date;host;x-amz-content-sha256"+a[j:])
			return req
		}, 400, ErrMalformed, "AuthorizationHeaderMalformed"},
		{"sigv2", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("Authorization", "AWS "+testKey+":frJIUN8DYpKDtOLCwo//yllqDzg=")
			return req
		}, 501, ErrNotImplemented, "NotImplemented"},
		{"sigv4a", func(t *testing.T) *http.Request {
			req := good(t)
			req.Header.Set("Authorization", "AWS4-ECDSA-P256-SHA256 Credential=x/20261201/s3/aws4_request, SignedHeaders=host, Signature=00")
			return req
		}, 501, ErrNotImplemented, "NotImplemented"},
		{"session token", func(t *testing.T) *http.Request {
			return sign(t, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: "tok"}, now, sha256Hex(body), nil)
		}, 501, ErrNotImplemented, "NotImplemented"},
		{"unknown checksum", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, sha256Hex(body), map[string]string{"X-Amz-Checksum-Md6": "AAAA"})
		}, 501, ErrNotImplemented, "NotImplemented"},
		{"wrong crc32 header", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, sha256Hex(body), map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="})
		}, 400, ErrBadDigest, "BadDigest"},
		{"wrong content-md5", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, sha256Hex(body), map[string]string{"Content-Md5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
		}, 400, ErrBadDigest, "BadDigest"},
		{"aws-chunked without streaming", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, unsignedPayload, map[string]string{"Content-Encoding": "aws-chunked"})
		}, 400, ErrMalformed, "InvalidArgument"},
		{"streaming without decoded length", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, streamingSigned, nil)
		}, 400, ErrMalformed, "MissingContentLength"},
		{"sigv4a streaming payload", func(t *testing.T) *http.Request {
			return sign(t, testCreds, now, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", map[string]string{"X-Amz-Decoded-Content-Length": "7"})
		}, 501, ErrNotImplemented, "NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, code := s.do(t, tt.req(t))
			if st != tt.status || code != tt.code {
				t.Fatalf("status %d code %q, want %d %q", st, code, tt.status, tt.code)
			}
			o := s.outcome()
			err := o.verifyErr
			if err == nil {
				err = o.readErr
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v does not wrap %v", err, tt.kind)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Creds: Credentials{testKey: testSecret}, Now: fixedClock(now)}
	s := newServer(t, v, false)
	presign := func(t *testing.T, method, path string, at time.Time, expires time.Duration, creds aws.Credentials) string {
		req, err := http.NewRequest(method, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
		req.URL.RawQuery = q.Encode()
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, unsignedPayload, "s3", "us-east-1", at,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(t *testing.T, method, u string, body string) (int, string) {
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return s.do(t, req)
	}
	t.Run("get", func(t *testing.T) {
		if st, code := get(t, "GET", presign(t, "GET", "/bucket/a%20key", now.Add(-time.Hour), 2*time.Hour, testCreds), ""); st != 200 {
			t.Fatalf("%d %s", st, code)
		}
	})
	t.Run("put", func(t *testing.T) {
		if st, code := get(t, "PUT", presign(t, "PUT", "/bucket/key", now, time.Hour, testCreds), "content"); st != 200 {
			t.Fatalf("%d %s", st, code)
		}
		if o := s.outcome(); string(o.body) != "content" {
			t.Fatalf("body %q", o.body)
		}
	})
	tests := []struct {
		name   string
		url    func(t *testing.T) string
		method string
		status int
		kind   error
	}{
		{"expired", func(t *testing.T) string {
			return presign(t, "GET", "/b/k", now.Add(-2*time.Hour), time.Hour, testCreds)
		}, "GET", 403, ErrExpiredPresign},
		{"not yet valid", func(t *testing.T) string { return presign(t, "GET", "/b/k", now.Add(time.Hour), time.Hour, testCreds) }, "GET", 403, ErrExpiredPresign},
		{"over a week", func(t *testing.T) string { return presign(t, "GET", "/b/k", now, 8*24*time.Hour, testCreds) }, "GET", 400, ErrMalformed},
		{"wrong secret", func(t *testing.T) string {
			return presign(t, "GET", "/b/k", now, time.Hour, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "x"})
		}, "GET", 403, ErrSignatureDoesNotMatch},
		{"other method", func(t *testing.T) string { return presign(t, "GET", "/b/k", now, time.Hour, testCreds) }, "DELETE", 403, ErrSignatureDoesNotMatch},
		{"tampered expiry", func(t *testing.T) string {
			u, _ := url.Parse(presign(t, "GET", "/b/k", now.Add(-2*time.Hour), time.Hour, testCreds))
			q := u.Query()
			q.Set("X-Amz-Expires", "86400")
			u.RawQuery = q.Encode()
			return u.String()
		}, "GET", 403, ErrSignatureDoesNotMatch},
		{"sigv2 presigned", func(t *testing.T) string { return s.URL + "/b/k?AWSAccessKeyId=x&Expires=1&Signature=y" }, "GET", 501, ErrNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, _ := get(t, tt.method, tt.url(t), ""); st != tt.status {
				t.Fatalf("status %d, want %d", st, tt.status)
			}
			if err := s.outcome().verifyErr; !errors.Is(err, tt.kind) {
				t.Fatalf("error %v does not wrap %v", err, tt.kind)
			}
		})
	}
}

func TestVerifyRegion(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		region, signedFor string
		ok                bool
	}{
		{"", "us-east-1", true},
		{"", "eu-west-1", false},
		{"eu-west-1", "eu-west-1", true},
		{AnyRegion, "ap-south-1", true},
	} {
		v := &Verifier{Creds: Credentials{testKey: testSecret}, Region: tt.region, Now: fixedClock(now)}
		req := httptest.NewRequest("GET", "/bucket", nil)
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, emptySHA256, "s3", tt.signedFor, now); err != nil {
			t.Fatal(err)
		}
		_, err := v.Verify(req)
		if (err == nil) != tt.ok {
			t.Errorf("region %q signed for %q: %v, want ok=%v", tt.region, tt.signedFor, err, tt.ok)
		}
	}
}

func TestVerifyOpen(t *testing.T) {
	s := newServer(t, &Verifier{}, false)
	body := []byte("anonymous")
	req, _ := http.NewRequest("PUT", s.URL+"/b/k", bytes.NewReader(body))
	if st, _ := s.do(t, req); st != 200 || string(s.outcome().body) != "anonymous" {
		t.Fatalf("anonymous PUT to an open verifier: %d", st)
	}
	// aws-chunked is decoded (its signatures cannot be checked without
	// the secret), and an open gateway does not care how a request is
	// signed.
	now := time.Now().UTC()
	req = signedChunkedRequest(t, s.URL+"/b/k", body, 4, streamingSigned, "", "", now)
	req.Header.Set("Authorization", "AWS someone:c2lnbmF0dXJl")
	if st, _ := s.do(t, req); st != 200 || string(s.outcome().body) != "anonymous" {
		t.Fatalf("aws-chunked PUT to an open verifier: %d %q", st, s.outcome().body)
	}
	// A digest is still verified.
	req, _ = http.NewRequest("PUT", s.URL+"/b/k", bytes.NewReader(body))
	req.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==")
	if st, code := s.do(t, req); st != 400 || code != "BadDigest" {
		t.Fatalf("wrong checksum to an open verifier: %d %s", st, code)
	}
}

var sdkSigner = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
