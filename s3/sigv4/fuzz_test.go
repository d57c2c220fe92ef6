package sigv4

import (
	"bytes"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

// splitReader returns at most n bytes per Read, cycling through sizes so
// frames are cut at every kind of point.
type splitReader struct {
	r     io.Reader
	sizes []int
	i     int
}

func (s *splitReader) Read(p []byte) (int, error) {
	n := s.sizes[s.i%len(s.sizes)]
	s.i++
	if len(p) > n {
		p = p[:n]
	}
	return s.r.Read(p)
}

// fuzzDecode decodes body as mode 0 (signed, AWS example key and seed),
// 1 (signed framing, nothing verified: an open Verifier) or 2 (unsigned
// with a crc32 trailer), reading through r's splits.
func fuzzDecode(body []byte, mode byte, declared int64, splits []int) ([]byte, error) {
	c := chunkedConfig{declared: declared}
	switch mode % 3 {
	case 0:
		c.signed, c.key = true, deriveKey(testSecret, "20130524", "us-east-1")
		c.amzDate, c.scope, c.seed = exampleDate, scope("20130524", "us-east-1"), exampleSeed
	case 1:
		c.signed = true
	case 2:
		c.trailer = checksumNamed("x-amz-checksum-crc32")
		c.trailerDigest = &digest{name: c.trailer.header, h: c.trailer.new(), kind: ErrBadDigest, code: "BadDigest"}
	}
	var r io.Reader = newChunkedReader(&splitReader{r: bytes.NewReader(body), sizes: splits}, c)
	if c.trailerDigest != nil {
		r = &verifiedBody{r: r, c: io.NopCloser(nil), digests: []*digest{c.trailerDigest}}
	}
	return io.ReadAll(r)
}

// FuzzChunked feeds the aws-chunked decoder arbitrary payloads, read in
// pieces of arbitrary sizes. It must not panic, never yield more than the
// declared length, end cleanly only with exactly the declared length,
// fail only with the package's errors, and decide the same whatever the
// read sizes.
func FuzzChunked(f *testing.F) {
	// Seeds are small frames from the encoder that reproduces AWS's
	// example (TestChunkSignerMatchesExample), signed with the example's
	// key and seed: large seeds make the fuzzer's minimization crawl.
	signer := func() *chunkSigner {
		return &chunkSigner{key: deriveKey(testSecret, "20130524", "us-east-1"), amzDate: exampleDate,
			scope: scope("20130524", "us-east-1"), prev: exampleSeed}
	}
	small := bytes.Repeat([]byte("a"), 40)
	f.Add(encodeChunked(signer(), small, 16, ""), byte(0), uint32(40), uint16(7))
	f.Add(encodeChunked(signer(), small, 40, ""), byte(0), uint32(40), uint16(1))
	f.Add(encodeChunked(signer(), small, 16, "")[:60], byte(0), uint32(40), uint16(3))
	f.Add(encodeChunked(signer(), small, 8, ""), byte(1), uint32(40), uint16(4096))
	data := []byte("hello, aws-chunked world")
	crc := crc32.ChecksumIEEE(data)
	trailer := "x-amz-checksum-crc32:" + base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	f.Add(encodeChunked(nil, data, 5, trailer), byte(2), uint32(len(data)), uint16(3))
	f.Add(encodeChunked(nil, data, 100, trailer), byte(2), uint32(len(data)), uint16(1))
	f.Add([]byte("0\r\n\r\n"), byte(2), uint32(0), uint16(2))
	f.Add([]byte("ffffffffffffffff;chunk-signature=0\r\n"), byte(1), uint32(10), uint16(5))
	f.Fuzz(func(t *testing.T, body []byte, mode byte, declared uint32, split uint16) {
		n := int64(declared % (1 << 20))
		whole, errWhole := fuzzDecode(body, mode, n, []int{len(body) + 1})
		s := int(split%4096) + 1
		pieces, errPieces := fuzzDecode(body, mode, n, []int{s, 1, s * 3, 2})
		if int64(len(whole)) > n || int64(len(pieces)) > n {
			t.Fatalf("decoded %d / %d bytes, more than the declared %d", len(whole), len(pieces), n)
		}
		if errWhole == nil && int64(len(whole)) != n {
			t.Fatalf("ended cleanly after %d bytes, declared %d", len(whole), n)
		}
		for _, err := range []error{errWhole, errPieces} {
			var e interface{ Code() string }
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("error %v is not one of the package's", err)
			}
		}
		if (errWhole == nil) != (errPieces == nil) || (errWhole == nil && !bytes.Equal(whole, pieces)) {
			t.Fatalf("read whole: %d bytes, %v; in pieces of %d: %d bytes, %v", len(whole), errWhole, s, len(pieces), errPieces)
		}
	})
}
