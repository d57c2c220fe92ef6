package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"
)

// The aws-chunked encoding (x-amz-content-sha256 STREAMING-...):
//
//	<hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n   (repeated)
//	0[;chunk-signature=<64 hex>]\r\n
//	\r\n                                                        (no trailer)
//	<trailer name>:<value>\r\n[x-amz-trailer-signature:<64 hex>\r\n]\r\n (trailer)
//
// Signed chunks carry chunk-signature, the HMAC of
//
//	AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous signature>\n<sha256 of "">\n<sha256 of the chunk>
//
// where the first chunk's previous signature is the request's (the seed).
// The trailer of a signed payload is signed the same way with
//
//	AWS4-HMAC-SHA256-TRAILER\n<amz date>\n<scope>\n<final chunk's signature>\n<sha256 of "name:value\n">
//
// Unsigned chunks (STREAMING-UNSIGNED-PAYLOAD-TRAILER) have no extension.
const (
	// maxLine bounds a chunk header or trailer line.
	maxLine = 4 << 10
	// maxTrailerLines bounds the trailer section.
	maxTrailerLines = 8
	// chunkedBuffer is the decoder's read buffer.
	chunkedBuffer = 32 << 10

	chunkSignature   = "chunk-signature="
	trailerSignature = "x-amz-trailer-signature"
)

// chunkedConfig says how to decode and verify an aws-chunked payload.
type chunkedConfig struct {
	declared int64 // x-amz-decoded-content-length
	encoded  int64 // Content-Length, -1 when unknown (sizes the buffer)
	signed   bool  // chunk headers carry chunk-signature
	// key, amzDate, scope and seed verify the signatures; with no key
	// (an open Verifier) signed framing is decoded but not verified.
	key                  []byte
	amzDate, scope, seed string
	trailer              *checksum // the announced trailer, or nil
	trailerDigest        *digest   // receives the trailer's value
}

type chunkedState int

const (
	inHeader chunkedState = iota
	inData
	done
)

// chunkedReader decodes an aws-chunked payload. It buffers at most
// chunkedBuffer bytes, whatever the chunk sizes.
type chunkedReader struct {
	br    *bufio.Reader
	c     chunkedConfig
	prev  string    // previous signature
	sig   string    // signature of the current chunk
	h     hash.Hash // of the current chunk, when verifying
	left  int64     // bytes left in the current chunk
	total int64     // decoded so far
	state chunkedState
	err   error
}

func newChunkedReader(r io.Reader, c chunkedConfig) *chunkedReader {
	size := chunkedBuffer
	if c.encoded > 0 && c.encoded < int64(size) {
		size = max(int(c.encoded), maxLine+2) // a small body needs no large buffer
	}
	cr := &chunkedReader{br: bufio.NewReaderSize(r, size), c: c, prev: c.seed}
	if c.key != nil {
		cr.h = sha256.New()
	}
	return cr
}

func (cr *chunkedReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	n, err := cr.read(p)
	if err != nil {
		cr.err = err
	}
	return n, err
}

func (cr *chunkedReader) read(p []byte) (int, error) {
	if cr.state == inHeader {
		if err := cr.header(); err != nil {
			return 0, err
		}
		if cr.state == done {
			return 0, io.EOF
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > cr.left {
		p = p[:cr.left]
	}
	n, err := cr.br.Read(p)
	cr.left -= int64(n)
	cr.total += int64(n)
	if cr.h != nil {
		cr.h.Write(p[:n])
	}
	if err == io.EOF {
		return n, truncated()
	}
	if err != nil {
		return n, err
	}
	if cr.left == 0 {
		if err := cr.endChunk(); err != nil {
			return n, err
		}
	}
	return n, nil
}

func truncated() error {
	return failCode(ErrMalformed, "IncompleteBody", "the aws-chunked payload ends early")
}

func malformedChunk(format string, args ...any) error {
	return failCode(ErrMalformed, "InvalidArgument", "aws-chunked payload: "+format, args...)
}

// line reads one CRLF-terminated line without its CRLF.
func (cr *chunkedReader) line() (string, error) {
	b, err := cr.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(b) > maxLine:
		return "", malformedChunk("a line is longer than %d bytes", maxLine)
	case err == io.EOF:
		if len(b) == 0 {
			return "", io.EOF
		}
		return "", truncated()
	case err != nil:
		return "", err
	case len(b) < 2 || b[len(b)-2] != '\r':
		return "", malformedChunk("a line does not end with CRLF")
	}
	return string(b[:len(b)-2]), nil
}

// header reads a chunk header; for the final chunk also the trailer.
func (cr *chunkedReader) header() error {
	l, err := cr.line()
	if err == io.EOF {
		return truncated()
	}
	if err != nil {
		return err
	}
	sizeHex, ext, hasExt := strings.Cut(l, ";")
	if len(sizeHex) == 0 || len(sizeHex) > 16 {
		return malformedChunk("bad chunk size %q", sizeHex)
	}
	size, err := strconv.ParseUint(sizeHex, 16, 64)
	if err != nil {
		return malformedChunk("bad chunk size %q", sizeHex)
	}
	if left := uint64(cr.c.declared - cr.total); size > left {
		return malformedChunk("a chunk of %d bytes goes past x-amz-decoded-content-length %d", size, cr.c.declared)
	}
	switch {
	case cr.c.signed:
		sig, ok := strings.CutPrefix(ext, chunkSignature)
		if !hasExt || !ok || !isHexSignature(sig) {
			return malformedChunk("a chunk header needs chunk-signature=<64 hex digits>, got %q", l)
		}
		cr.sig = sig
	case hasExt:
		return malformedChunk("an unsigned chunk header has an extension: %q", l)
	}
	cr.left = int64(size)
	if size > 0 {
		cr.state = inData
		return nil
	}
	if cr.total != cr.c.declared {
		return truncated()
	}
	if err := cr.verifyChunk(); err != nil {
		return err
	}
	if cr.c.trailer == nil {
		if l, err := cr.line(); err != nil || l != "" {
			return malformedChunk("the final chunk is not followed by an empty line")
		}
	} else if err := cr.trailer(); err != nil {
		return err
	}
	if _, err := cr.br.ReadByte(); err != io.EOF {
		return malformedChunk("data after the final chunk")
	}
	cr.state = done
	return nil
}

// endChunk reads the CRLF after a chunk's data and verifies its signature.
func (cr *chunkedReader) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(cr.br, crlf[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return truncated()
		}
		return err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return malformedChunk("chunk data is not followed by CRLF")
	}
	cr.state = inHeader
	return cr.verifyChunk()
}

// verifyChunk checks the signature of the chunk just read.
func (cr *chunkedReader) verifyChunk() error {
	if cr.c.key == nil {
		return nil
	}
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + cr.c.amzDate + "\n" + cr.c.scope + "\n" + cr.prev + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(cr.h.Sum(nil))
	cr.h.Reset()
	if !sigEqual(sign(cr.c.key, sts), cr.sig) {
		return fail(ErrSignatureDoesNotMatch, "the signature of aws-chunked chunk ending at byte %d does not match", cr.total)
	}
	cr.prev = cr.sig
	return nil
}

// trailer reads the trailer section after the final chunk: the announced
// checksum, for a signed payload its signature, then an empty line (or
// the end of the body). An empty line before the trailer is tolerated
// (some encoders end the final chunk with CRLF as if it had data).
func (cr *chunkedReader) trailer() error {
	var canonical, sig string
	seen := false
	for i := 0; ; i++ {
		if i > maxTrailerLines {
			return malformedChunk("more than %d trailer lines", maxTrailerLines)
		}
		l, err := cr.line()
		if err == io.EOF && seen {
			break
		}
		if err != nil {
			if err == io.EOF {
				return truncated()
			}
			return err
		}
		if l == "" {
			if !seen && i == 0 {
				continue
			}
			break
		}
		name, val, ok := strings.Cut(l, ":")
		name, val = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(val)
		switch {
		case !ok:
			return malformedChunk("bad trailer line %q", l)
		case name == trailerSignature:
			if !cr.c.signed || sig != "" || !seen || !isHexSignature(val) {
				return malformedChunk("unexpected or bad %s", trailerSignature)
			}
			sig = val
		case name == cr.c.trailer.header && !seen && sig == "":
			want, err := base64.StdEncoding.DecodeString(val)
			if err != nil || len(want) != cr.c.trailer.size {
				return malformedChunk("the value of trailer %s is not a base64 %s", name, cr.c.trailer.algo)
			}
			cr.c.trailerDigest.want = want
			canonical += name + ":" + val + "\n"
			seen = true
		default:
			return malformedChunk("unexpected trailer %q (x-amz-trailer announces %s)", name, cr.c.trailer.header)
		}
	}
	if !seen {
		return malformedChunk("the %s trailer is missing", cr.c.trailer.header)
	}
	if !cr.c.signed {
		return nil
	}
	if sig == "" {
		return malformedChunk("the trailer has no %s", trailerSignature)
	}
	if cr.c.key == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(canonical))
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + cr.c.amzDate + "\n" + cr.c.scope + "\n" + cr.prev + "\n" + hex.EncodeToString(sum[:])
	if !sigEqual(sign(cr.c.key, sts), sig) {
		return fail(ErrSignatureDoesNotMatch, "the signature of the aws-chunked trailer does not match")
	}
	return nil
}

func isHexSignature(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
