package sigv4

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// crc64NVME is the CRC-64/NVME polynomial in the reversed form that
// hash/crc64 takes (the normal form is 0xad93d23594c93659).
const crc64NVME = 0x9a6c9329ac4bc9b5

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	nvme       = crc64.MakeTable(crc64NVME)
)

// checksum is a flexible checksum S3 clients send in x-amz-checksum-*.
type checksum struct {
	header string // lower-case header (or trailer) name
	algo   string // as in x-amz-sdk-checksum-algorithm
	size   int    // of the digest in bytes
	new    func() hash.Hash
}

// checksums are the flexible checksums this package verifies.
var checksums = []checksum{
	{"x-amz-checksum-crc32", "CRC32", 4, func() hash.Hash { return crc32.NewIEEE() }},
	{"x-amz-checksum-crc32c", "CRC32C", 4, func() hash.Hash { return crc32.New(castagnoli) }},
	{"x-amz-checksum-crc64nvme", "CRC64NVME", 8, func() hash.Hash { return crc64.New(nvme) }},
	{"x-amz-checksum-sha1", "SHA1", sha1.Size, sha1.New},
	{"x-amz-checksum-sha256", "SHA256", sha256.Size, sha256.New},
}

// notChecksums are x-amz-checksum-* headers that carry no digest of the
// request's body: the gateway handles them.
var notChecksums = map[string]bool{
	"x-amz-checksum-mode":      true, // GET: return the checksum
	"x-amz-checksum-type":      true, // multipart: FULL_OBJECT / COMPOSITE
	"x-amz-checksum-algorithm": true, // CreateMultipartUpload
}

func checksumNamed(header string) *checksum {
	for i := range checksums {
		if checksums[i].header == header {
			return &checksums[i]
		}
	}
	return nil
}

// digest is one digest of the decoded content to verify at its end.
type digest struct {
	name string // for the message: "Content-MD5", "x-amz-checksum-crc32", ...
	h    hash.Hash
	want []byte // nil until known (a trailer)
	kind *Error
	code string
}

func (d *digest) check() error {
	if d.want == nil {
		return fail(ErrMalformed, "the %s trailer is missing", d.name)
	}
	if !bytes.Equal(d.h.Sum(nil), d.want) {
		return failCode(d.kind, d.code, "the %s you specified did not match the calculated checksum", d.name)
	}
	return nil
}

// payload wraps r's body as the request's payload mode says (a is nil for
// an open Verifier, key nil when no signature is verified).
func payload(r *http.Request, a *auth, key []byte) (io.ReadCloser, int64, error) {
	mode := r.Header.Get("X-Amz-Content-Sha256")
	if a != nil {
		mode = a.payloadHash
	}
	if mode == "" {
		mode = unsignedPayload
	}
	digests, flexible, err := declaredDigests(r)
	if err != nil {
		return nil, 0, err
	}
	trailer, err := declaredTrailer(r)
	if err != nil {
		return nil, 0, err
	}
	if algo := r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"); algo != "" && !completeUpload(r) {
		name := flexible
		if trailer != nil {
			name = trailer
		}
		if name == nil {
			return nil, 0, failCode(ErrMalformed, "InvalidArgument",
				"x-amz-sdk-checksum-algorithm %s is given but no x-amz-checksum- header or x-amz-trailer", algo)
		}
		if !strings.EqualFold(name.algo, algo) {
			return nil, 0, failCode(ErrMalformed, "InvalidArgument",
				"x-amz-sdk-checksum-algorithm %s does not match %s", algo, name.header)
		}
	}
	if flexible != nil && trailer != nil {
		return nil, 0, failCode(ErrMalformed, "InvalidArgument", "expecting a single x-amz-checksum- header or trailer")
	}

	var body io.Reader = r.Body
	size := r.ContentLength
	chunked := false
	switch {
	case mode == unsignedPayload:
	case isHexSHA256(mode):
		want, _ := hex.DecodeString(mode)
		if r.ContentLength == 0 && mode != emptySHA256 {
			return nil, 0, failCode(ErrBadDigest, "XAmzContentSHA256Mismatch",
				"the provided x-amz-content-sha256 does not match what was computed")
		}
		digests = append(digests, &digest{name: "x-amz-content-sha256", h: sha256.New(), want: want,
			kind: ErrBadDigest, code: "XAmzContentSHA256Mismatch"})
	case mode == streamingSigned || mode == streamingSignedTrail || mode == streamingUnsignedTrail:
		withTrailer := mode != streamingSigned
		if withTrailer != (trailer != nil) {
			return nil, 0, failCode(ErrMalformed, "InvalidArgument",
				"x-amz-content-sha256 %s and x-amz-trailer %q do not agree", mode, r.Header.Get("X-Amz-Trailer"))
		}
		if size, err = decodedLength(r); err != nil {
			return nil, 0, err
		}
		c := chunkedConfig{declared: size, encoded: r.ContentLength, signed: mode != streamingUnsignedTrail}
		if c.signed && a != nil {
			c.key, c.amzDate, c.scope, c.seed = key, a.amzDate, scope(a.day, a.region), strings.ToLower(a.signature)
		}
		if trailer != nil {
			d := &digest{name: trailer.header, h: trailer.new(), kind: ErrBadDigest, code: ErrBadDigest.code}
			digests = append(digests, d)
			c.trailer, c.trailerDigest = trailer, d
		}
		body, chunked = newChunkedReader(r.Body, c), true
	case strings.HasPrefix(mode, "STREAMING-"):
		return nil, 0, fail(ErrNotImplemented, "x-amz-content-sha256 %s is not implemented", mode)
	default:
		return nil, 0, failCode(ErrMalformed, "InvalidArgument",
			"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- value or a hex SHA-256, not %q", mode)
	}
	if !chunked && awsChunked(r.Header) {
		return nil, 0, failCode(ErrMalformed, "InvalidArgument",
			"Content-Encoding aws-chunked needs a STREAMING- x-amz-content-sha256, not %s", mode)
	}
	if trailer != nil && !chunked {
		return nil, 0, failCode(ErrMalformed, "InvalidArgument", "x-amz-trailer needs a STREAMING- x-amz-content-sha256")
	}
	if len(digests) == 0 && !chunked {
		return r.Body, size, nil
	}
	return &verifiedBody{r: body, c: r.Body, digests: digests}, size, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// declaredDigests returns the digests in Content-MD5 and x-amz-checksum-*
// headers, and the flexible checksum among them. CompleteMultipartUpload
// (POST with uploadId) is left out: its x-amz-checksum-* is of the whole
// object, not of the request's body.
func declaredDigests(r *http.Request) ([]*digest, *checksum, error) {
	var digests []*digest
	if v := r.Header.Values("Content-Md5"); len(v) > 0 {
		want, err := base64.StdEncoding.DecodeString(v[0])
		if len(v) > 1 || err != nil || len(want) != md5.Size {
			return nil, nil, failCode(ErrBadDigest, "InvalidDigest", "the Content-MD5 you specified is not valid")
		}
		digests = append(digests, &digest{name: "Content-MD5", h: md5.New(), want: want, kind: ErrBadDigest, code: ErrBadDigest.code})
	}
	if completeUpload(r) {
		return digests, nil, nil
	}
	var flexible *checksum
	for name, vals := range r.Header {
		l := strings.ToLower(name)
		if !strings.HasPrefix(l, "x-amz-checksum-") || notChecksums[l] {
			continue
		}
		c := checksumNamed(l)
		if c == nil {
			return nil, nil, fail(ErrNotImplemented, "checksum %s is not implemented", l)
		}
		if flexible != nil || len(vals) != 1 {
			return nil, nil, failCode(ErrMalformed, "InvalidArgument", "expecting a single x-amz-checksum- header")
		}
		want, err := base64.StdEncoding.DecodeString(vals[0])
		if err != nil || len(want) != c.size {
			return nil, nil, failCode(ErrMalformed, "InvalidArgument", "value for %s header is invalid", l)
		}
		flexible = c
		digests = append(digests, &digest{name: l, h: c.new(), want: want, kind: ErrBadDigest, code: ErrBadDigest.code})
	}
	return digests, flexible, nil
}

// declaredTrailer returns the checksum that x-amz-trailer announces, nil
// for none.
func declaredTrailer(r *http.Request) (*checksum, error) {
	vals := r.Header.Values("X-Amz-Trailer")
	if len(vals) == 0 {
		return nil, nil
	}
	name := strings.ToLower(strings.TrimSpace(vals[0]))
	if len(vals) > 1 || strings.Contains(name, ",") {
		return nil, fail(ErrNotImplemented, "more than one trailer is not implemented")
	}
	c := checksumNamed(name)
	if c == nil {
		return nil, fail(ErrNotImplemented, "trailer %q is not implemented", name)
	}
	return c, nil
}

// decodedLength reads x-amz-decoded-content-length, which a streaming
// payload must have.
func decodedLength(r *http.Request) (int64, error) {
	s := r.Header.Get("X-Amz-Decoded-Content-Length")
	if s == "" {
		return 0, failCode(ErrMalformed, "MissingContentLength",
			"a STREAMING- payload needs x-amz-decoded-content-length")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > maxDecodedLength {
		return 0, failCode(ErrMalformed, "InvalidArgument", "x-amz-decoded-content-length %q is not a valid length", s)
	}
	return n, nil
}

// maxDecodedLength is S3's largest single PUT: 5 GiB.
const maxDecodedLength = 5 << 30

// verifiedBody checks digests of what r yields when r ends.
type verifiedBody struct {
	r       io.Reader
	c       io.Closer
	digests []*digest
	err     error
}

func (b *verifiedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	for _, d := range b.digests {
		d.h.Write(p[:n])
	}
	if err == io.EOF {
		for _, d := range b.digests {
			if derr := d.check(); derr != nil {
				err = derr
				break
			}
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *verifiedBody) Close() error { return b.c.Close() }

// awsChunked tells whether Content-Encoding names aws-chunked.
func awsChunked(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		for _, e := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(e), "aws-chunked") {
				return true
			}
		}
	}
	return false
}

// completeUpload tells whether r is CompleteMultipartUpload, whose
// x-amz-checksum-* headers are of the whole object.
func completeUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}
