package sigv4

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The example of AWS's "Signature Calculations for the Authorization
// Header: Transferring Payload in Multiple Chunks": 66560 bytes of 'a' in
// chunks of 64 KiB and 1 KiB, with the seed and chunk signatures it gives.
const (
	exampleDate       = "20130524T000000Z"
	exampleSeed       = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	exampleChunk1Sig  = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	exampleChunk2Sig  = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	exampleFinalSig   = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	exampleTrailSeed  = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
	exampleTrail1Sig  = "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2"
	exampleTrail2Sig  = "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7"
	exampleTrailFinal = "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"
	exampleTrailer    = "x-amz-checksum-crc32c:sOO8/Q=="
	exampleTrailerSig = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
)

func exampleBody(sigs [3]string, trailer string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "10000;chunk-signature=%s\r\n%s\r\n", sigs[0], bytes.Repeat([]byte("a"), 65536))
	fmt.Fprintf(&b, "400;chunk-signature=%s\r\n%s\r\n", sigs[1], bytes.Repeat([]byte("a"), 1024))
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", sigs[2])
	if trailer == "" {
		b.WriteString("\r\n")
	} else {
		b.WriteString(trailer)
	}
	return b.Bytes()
}

func exampleRequest(body []byte) *http.Request {
	r := httptest.NewRequest("PUT", "/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", exampleDate)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", streamingSigned)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20130524/us-east-1/s3/aws4_request, "+
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, "+
		"Signature="+exampleSeed)
	return r
}

func exampleVerifier() *Verifier {
	at, _ := time.Parse(timeFormat, exampleDate)
	return &Verifier{Creds: Credentials{testKey: testSecret}, Now: fixedClock(at)}
}

// TestChunkedAWSExample reproduces AWS's published chunked-upload example:
// the seed signature of the request and the three chunk signatures.
func TestChunkedAWSExample(t *testing.T) {
	body := exampleBody([3]string{exampleChunk1Sig, exampleChunk2Sig, exampleFinalSig}, "")
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, the example says 66824", len(body))
	}
	r := exampleRequest(body)
	res, err := exampleVerifier().Verify(r)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Size != 66560 || res.AccessKey != testKey {
		t.Fatalf("size %d key %q", res.Size, res.AccessKey)
	}
	if r.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q left", r.Header.Get("Content-Encoding"))
	}
	got, err := io.ReadAll(iotest.OneByteReader(res.Body))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte("a"), 66560)) {
		t.Fatalf("decoded %d bytes, not the example's content", len(got))
	}
}

// TestChunkedAWSExampleTampered changes one thing of the example at a time.
func TestChunkedAWSExampleTampered(t *testing.T) {
	good := [3]string{exampleChunk1Sig, exampleChunk2Sig, exampleFinalSig}
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	body := exampleBody(good, "")
	dataAt := bytes.Index(body, []byte("aaaa"))
	tests := []struct {
		name string
		body []byte
		kind error
	}{
		{"chunk data", flip(body, dataAt+100), ErrSignatureDoesNotMatch},
		{"second chunk data", flip(body, len(body)-200), ErrSignatureDoesNotMatch},
		{"chunk signature", exampleBody([3]string{exampleChunk2Sig, exampleChunk2Sig, exampleFinalSig}, ""), ErrSignatureDoesNotMatch},
		{"final signature", exampleBody([3]string{exampleChunk1Sig, exampleChunk2Sig, exampleChunk1Sig}, ""), ErrSignatureDoesNotMatch},
		{"chunks swapped", swapExampleChunks(body), ErrSignatureDoesNotMatch},
		{"truncated", body[:len(body)-10], ErrMalformed},
		{"cut after a chunk", body[:bytes.Index(body, []byte("400;"))], ErrMalformed},
		{"data after final", append(bytes.Clone(body), 'x'), ErrMalformed},
		{"no CRLF after data", bytes.Replace(body, []byte("a\r\n400;"), []byte("aX\n400;"), 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := exampleVerifier().Verify(exampleRequest(tt.body))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			_, err = io.ReadAll(res.Body)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("read error %v, want %v", err, tt.kind)
			}
		})
	}
	t.Run("seed", func(t *testing.T) {
		r := exampleRequest(body)
		r.Header.Set("X-Amz-Decoded-Content-Length", "66561")
		if _, err := exampleVerifier().Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Fatalf("tampered decoded length: %v", err)
		}
	})
}

// swapExampleChunks sends the 1 KiB chunk first (same data, so only the
// chaining of signatures can tell).
func swapExampleChunks(body []byte) []byte {
	i := bytes.Index(body, []byte("400;"))
	j := bytes.Index(body, []byte("0;chunk-signature="+exampleFinalSig))
	out := append([]byte{}, body[i:j]...)
	out = append(out, body[:i]...)
	return append(out, body[j:]...)
}

// TestChunkedAWSTrailerExample decodes AWS's published example with a
// signed trailer (seed, chunk and trailer signatures as published).
func TestChunkedAWSTrailerExample(t *testing.T) {
	at, _ := time.Parse(timeFormat, exampleDate)
	key := deriveKey(testSecret, "20130524", "us-east-1")
	for _, tt := range []struct {
		name    string
		trailer string
		kind    error
	}{
		{"published", exampleTrailer + "\r\nx-amz-trailer-signature:" + exampleTrailerSig + "\r\n\r\n", nil},
		{"extra CRLF before trailer", "\r\n" + exampleTrailer + "\r\nx-amz-trailer-signature:" + exampleTrailerSig + "\r\n\r\n", nil},
		{"tampered trailer value", "x-amz-checksum-crc32c:sOO8/A==\r\nx-amz-trailer-signature:" + exampleTrailerSig + "\r\n\r\n", ErrSignatureDoesNotMatch},
		{"no trailer signature", exampleTrailer + "\r\n\r\n", ErrMalformed},
		{"no trailer", "\r\n", ErrMalformed},
		{"other trailer", "x-amz-checksum-crc32:sOO8/Q==\r\nx-amz-trailer-signature:" + exampleTrailerSig + "\r\n\r\n", ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := exampleBody([3]string{exampleTrail1Sig, exampleTrail2Sig, exampleTrailFinal}, tt.trailer)
			d := &digest{name: "x-amz-checksum-crc32c", h: crc32.New(castagnoli), kind: ErrBadDigest, code: "BadDigest"}
			cr := newChunkedReader(bytes.NewReader(body), chunkedConfig{
				declared: 66560, signed: true, key: key, amzDate: at.Format(timeFormat),
				scope: scope("20130524", "us-east-1"), seed: exampleTrailSeed,
				trailer: checksumNamed("x-amz-checksum-crc32c"), trailerDigest: d,
			})
			vb := &verifiedBody{r: cr, c: io.NopCloser(nil), digests: []*digest{d}}
			got, err := io.ReadAll(vb)
			if !errors.Is(err, tt.kind) || (tt.kind == nil && err != nil) {
				t.Fatalf("read: %v, want %v", err, tt.kind)
			}
			if tt.kind == nil && len(got) != 66560 {
				t.Fatalf("decoded %d bytes", len(got))
			}
		})
	}
}

// chunkSigner encodes aws-chunked payloads the way the SDKs do; it is
// checked against AWS's example by TestChunkSignerMatchesExample.
type chunkSigner struct {
	key            []byte
	amzDate, scope string
	prev           string
}

func (s *chunkSigner) sign(data []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + emptySHA256 + "\n" + sha256Hex(data)
	s.prev = sign(s.key, sts)
	return s.prev
}

func (s *chunkSigner) signTrailer(canonical string) string {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + sha256Hex([]byte(canonical))
	return sign(s.key, sts)
}

// encode returns data in aws-chunked chunks of size bytes; with signer nil
// unsigned; trailer ("name:value") appended when given.
func encodeChunked(s *chunkSigner, data []byte, size int, trailer string) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(size, len(data))
		if s != nil {
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", n, s.sign(data[:n]))
		} else {
			fmt.Fprintf(&b, "%x\r\n", n)
		}
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	if s != nil {
		fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", s.sign(nil))
	} else {
		b.WriteString("0\r\n")
	}
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
		if s != nil {
			b.WriteString("x-amz-trailer-signature:" + s.signTrailer(trailer+"\n") + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func TestChunkSignerMatchesExample(t *testing.T) {
	s := &chunkSigner{key: deriveKey(testSecret, "20130524", "us-east-1"), amzDate: exampleDate,
		scope: scope("20130524", "us-east-1"), prev: exampleSeed}
	got := encodeChunked(s, bytes.Repeat([]byte("a"), 66560), 65536, "")
	want := exampleBody([3]string{exampleChunk1Sig, exampleChunk2Sig, exampleFinalSig}, "")
	if !bytes.Equal(got, want) {
		t.Fatal("the test encoder does not reproduce AWS's example")
	}
	s = &chunkSigner{key: s.key, amzDate: exampleDate, scope: s.scope, prev: exampleTrailSeed}
	got = encodeChunked(s, bytes.Repeat([]byte("a"), 66560), 65536, exampleTrailer)
	want = exampleBody([3]string{exampleTrail1Sig, exampleTrail2Sig, exampleTrailFinal},
		exampleTrailer+"\r\nx-amz-trailer-signature:"+exampleTrailerSig+"\r\n\r\n")
	if !bytes.Equal(got, want) {
		t.Fatal("the test encoder does not reproduce AWS's trailer example")
	}
}

// signedChunkedRequest signs a streaming PUT with the SDK's signer (for
// the seed) and encodes data after it.
func signedChunkedRequest(t testing.TB, url string, data []byte, chunk int, mode, trailerName, trailerValue string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest("PUT", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	if trailerName != "" {
		req.Header.Set("X-Amz-Trailer", trailerName)
	}
	if err := sdkSign(req, mode, at); err != nil {
		t.Fatal(err)
	}
	seed := req.Header.Get("Authorization")
	seed = seed[strings.Index(seed, "Signature=")+len("Signature="):]
	var s *chunkSigner
	if mode != streamingUnsignedTrail {
		s = &chunkSigner{key: deriveKey(testSecret, at.Format(dayFormat), "us-east-1"), amzDate: at.Format(timeFormat),
			scope: scope(at.Format(dayFormat), "us-east-1"), prev: seed}
	}
	trailer := ""
	if trailerName != "" {
		trailer = trailerName + ":" + trailerValue
	}
	body := encodeChunked(s, data, chunk, trailer)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	return req
}

func TestChunkedOverHTTP(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Creds: Credentials{testKey: testSecret}, Now: fixedClock(now)}
	s := newServer(t, v, false)
	data := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640000 bytes
	crc := crc32.Checksum(data, castagnoli)
	good := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	bad := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc + 1)})
	tests := []struct {
		name, mode, trailer, value string
		chunk                      int
		status                     int
		code                       string
	}{
		{"signed", streamingSigned, "", "", 64 << 10, 200, ""},
		{"signed one chunk", streamingSigned, "", "", len(data), 200, ""},
		{"signed trailer", streamingSignedTrail, "x-amz-checksum-crc32c", good, 8 << 10, 200, ""},
		{"signed trailer wrong checksum", streamingSignedTrail, "x-amz-checksum-crc32c", bad, 8 << 10, 400, "BadDigest"},
		{"unsigned trailer", streamingUnsignedTrail, "x-amz-checksum-crc32c", good, 100000, 200, ""},
		{"unsigned trailer wrong checksum", streamingUnsignedTrail, "x-amz-checksum-crc32c", bad, 100000, 400, "BadDigest"},
		{"trailer not announced", streamingSigned, "", "", 64 << 10, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signedChunkedRequest(t, s.URL+"/bucket/key", data, tt.chunk, tt.mode, tt.trailer, tt.value, now)
			st, code := s.do(t, req)
			if st != tt.status || code != tt.code {
				t.Fatalf("status %d %q, want %d %q", st, code, tt.status, tt.code)
			}
			o := s.outcome()
			if st == 200 {
				if !bytes.Equal(o.body, data) || o.res.Size != int64(len(data)) {
					t.Fatalf("decoded %d bytes (size %d), want %d", len(o.body), o.res.Size, len(data))
				}
				if ce := o.header.Get("Content-Encoding"); ce != "" {
					t.Fatalf("Content-Encoding %q left for the gateway to store", ce)
				}
			}
		})
	}
	t.Run("wrong mode for trailer", func(t *testing.T) {
		req := signedChunkedRequest(t, s.URL+"/bucket/key", data, 64<<10, streamingSigned, "x-amz-checksum-crc32c", good, now)
		if st, code := s.do(t, req); st != 400 || code != "InvalidArgument" {
			t.Fatalf("status %d %q", st, code)
		}
	})
	t.Run("absurd chunk size", func(t *testing.T) {
		req := signedChunkedRequest(t, s.URL+"/bucket/key", data, 64<<10, streamingSigned, "", "", now)
		body, _ := io.ReadAll(req.Body)
		body = append([]byte("ffffffffffffff;chunk-signature="+strings.Repeat("0", 64)+"\r\n"), body...)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		if st, code := s.do(t, req); st != 400 || code != "InvalidArgument" {
			t.Fatalf("status %d %q", st, code)
		}
	})
}

// sdkSign signs req with the SDK's signer at at.
func sdkSign(req *http.Request, payloadHash string, at time.Time) error {
	return sdkSigner.SignHTTP(context.Background(), testCreds, req, payloadHash, "s3", "us-east-1", at)
}
