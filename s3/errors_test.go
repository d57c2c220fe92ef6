package s3

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"miniais/api/wire"
	"miniais/cluster"
)

// sigv4Like is an error as the sigv4 package makes them.
type sigv4Like struct{ code string }

func (e sigv4Like) Error() string   { return e.code }
func (e sigv4Like) Code() string    { return e.code }
func (e sigv4Like) HTTPStatus() int { return http.StatusForbidden }

func TestErrorOf(t *testing.T) {
	for _, tc := range []struct {
		err     error
		missing string
		code    string
		status  int
	}{
		{cluster.Errorf(cluster.ErrNotFound, "x"), "", CodeNoSuchKey, 404},
		{cluster.Errorf(cluster.ErrNotFound, "x"), CodeNoSuchBucket, CodeNoSuchBucket, 404},
		{cluster.Errorf(cluster.ErrNotFound, "x"), CodeNoSuchUpload, CodeNoSuchUpload, 404},
		{cluster.Errorf(cluster.ErrExists, "x"), "", CodeBucketAlreadyOwnedByYou, 409},
		{cluster.Errorf(cluster.ErrBusy, "x"), "", CodeOperationAborted, 409},
		{cluster.Errorf(cluster.ErrBadRequest, "x"), "", CodeInvalidArgument, 400},
		{cluster.Errorf(cluster.ErrBadName, "x"), "", CodeInvalidBucketName, 400},
		{cluster.Errorf(cluster.ErrChecksum, "x"), "", CodeBadDigest, 400},
		{cluster.Errorf(cluster.ErrCorrupt, "x"), "", CodeInternalError, 500},
		{cluster.Errorf(cluster.ErrTooLarge, "x"), "", CodeEntityTooLarge, 400},
		{cluster.Errorf(cluster.ErrNotImplemented, "x"), "", CodeNotImplemented, 501},
		{cluster.Errorf(cluster.ErrUnavailable, "x"), "", CodeServiceUnavailable, 503},
		{cluster.Errorf(cluster.ErrNotOwner, "x"), "", CodeServiceUnavailable, 503},
		{cluster.Errorf(cluster.ErrTimeout, "x"), "", CodeRequestTimeout, 400},
		{&wire.HTTPError{Status: 404, Kind: "not-found", Message: "m"}, CodeNoSuchKey, CodeNoSuchKey, 404},
		{&wire.HTTPError{Status: 412, Message: "m"}, "", CodePreconditionFailed, 412},
		{&wire.HTTPError{Status: 416, Message: "m"}, "", CodeInvalidRange, 416},
		{fmt.Errorf("wrapped: %w", sigv4Like{"SignatureDoesNotMatch"}), "", CodeSignatureDoesNotMatch, 403},
		{sigv4Like{"SomethingNew"}, "", "SomethingNew", 403},
		{Errorf(CodeBucketNotEmpty, "x"), "", CodeBucketNotEmpty, 409},
		{errors.New("boom"), "", CodeInternalError, 500},
	} {
		e := ErrorOf(tc.err, tc.missing)
		if e.Code.Name != tc.code || e.Code.Status != tc.status {
			t.Errorf("ErrorOf(%v, %q) = %s %d, want %s %d", tc.err, tc.missing, e.Code.Name, e.Code.Status, tc.code, tc.status)
		}
	}
	// An *Error is its code's cluster kind.
	if err := Errorf(CodeNoSuchKey, "x"); !errors.Is(err, cluster.ErrNotFound) || wire.StatusOf(err) != 404 {
		t.Errorf("NoSuchKey: errors.Is ErrNotFound %v, status %d", errors.Is(err, cluster.ErrNotFound), wire.StatusOf(err))
	}
}

// TestCodes checks the table: every code once, every status an error's.
func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes {
		if seen[c.Name] || c.Status < 300 || c.Kind == nil {
			t.Errorf("row %+v: duplicate, or no status or kind", c)
		}
		seen[c.Name] = true
	}
}

func TestWriteError(t *testing.T) {
	for _, method := range []string{"GET", "HEAD"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, "/s3/b/k", nil)
		WriteError(w, r, ErrorOf(Errorf(CodeNoSuchKey, "the key does not exist"), ""), "0af7651916cd43dd8448eb211c80319c")
		if w.Code != 404 || w.Header().Get("X-Amz-Request-Id") != "0af7651916cd43dd8448eb211c80319c" {
			t.Fatalf("%s: %d %v", method, w.Code, w.Header())
		}
		if method == "HEAD" {
			if w.Body.Len() != 0 {
				t.Fatalf("HEAD error with a body: %q", w.Body)
			}
			continue
		}
		var e ErrorResponse
		if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != CodeNoSuchKey || e.Message != "the key does not exist" || e.Resource != "/s3/b/k" {
			t.Fatalf("body %q: %v %+v", w.Body, err, e)
		}
		if !strings.HasPrefix(w.Body.String(), xml.Header) || w.Header().Get("Content-Type") != "application/xml" {
			t.Fatalf("not an XML reply: %q %v", w.Body, w.Header())
		}
	}
}

func TestXML(t *testing.T) {
	n := 2
	b, err := xml.Marshal(ListBucketResult{XMLNS: XMLNS, Name: "b", KeyCount: &n, MaxKeys: 2, IsTruncated: true,
		Contents:       []Object{{Key: "a", ETag: `"e"`, Size: 1, LastModified: "2026-01-02T03:04:05.000Z", StorageClass: "STANDARD"}},
		CommonPrefixes: []CommonPrefix{{Prefix: "d/"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount>` +
		`<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>a</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>` +
		`<ETag>&#34;e&#34;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>`
	if string(b) != want {
		t.Errorf("ListBucketResult:\n%s\nwant\n%s", b, want)
	}
	// Requests as the SDKs send them.
	r := httptest.NewRequest("POST", "/s3/b/k?uploadId=u", strings.NewReader(
		`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a"</ETag><PartNumber>1</PartNumber></Part><Part><ETag>"b"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>`))
	var cmu CompleteMultipartUpload
	if err := DecodeXML(r, &cmu); err != nil || len(cmu.Parts) != 2 || cmu.Parts[1].PartNumber != 2 || cmu.Parts[1].ETag != `"b"` {
		t.Errorf("CompleteMultipartUpload: %v %+v", err, cmu)
	}
	r = httptest.NewRequest("POST", "/s3/b?delete", strings.NewReader(`<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Quiet>true</Quiet></Delete>`))
	var del Delete
	if err := DecodeXML(r, &del); err != nil || len(del.Objects) != 2 || !del.Quiet {
		t.Errorf("Delete: %v %+v", err, del)
	}
	r = httptest.NewRequest("POST", "/s3/b?delete", strings.NewReader(`<Delete><Object>`))
	if err := DecodeXML(r, &del); ErrorOf(err, "").Code.Name != CodeMalformedXML {
		t.Errorf("truncated XML: %v", err)
	}
}

func TestGuard(t *testing.T) {
	bad := errors.New("signature does not match")
	for _, tc := range []struct {
		name string
		r    io.Reader
		size int64
		err  error // nil: the body comes through whole
		code string
	}{
		{"whole", strings.NewReader("hello"), 5, nil, ""},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("hello")), 5, nil, ""},
		{"empty", strings.NewReader(""), 0, nil, ""},
		{"short", strings.NewReader("hell"), 5, nil, CodeIncompleteBody},
		{"long", strings.NewReader("hello!"), 5, nil, CodeIncompleteBody},
		{"fails at its end", io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(bad)), 5, bad, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := Guard(tc.r, tc.size)
			var got []byte
			buf := make([]byte, 2)
			var err error
			for {
				var n int
				n, err = g.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			switch {
			case tc.err == nil && tc.code == "":
				if err != io.EOF || int64(len(got)) != tc.size {
					t.Fatalf("got %q, %v", got, err)
				}
			default:
				if int64(len(got)) >= tc.size && tc.size > 0 {
					t.Fatalf("a failing body came through whole: %q", got)
				}
				if tc.err != nil && !errors.Is(err, tc.err) || tc.code != "" && ErrorOf(err, "").Code.Name != tc.code {
					t.Fatalf("error %v", err)
				}
			}
		})
	}
}
