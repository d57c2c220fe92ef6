package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Frame prefix: magic "AIS", protocol version, header length.
const (
	magic0, magic1, magic2 = 'A', 'I', 'S'
	// protoVersion is the frame format version in byte 3 of every frame.
	protoVersion = 1
	// prefixLen is the size of the fixed frame prefix before the header.
	prefixLen = 8
)

// copyBufSize is the size of the pooled buffers that payloads stream through.
// It is larger than the bufio buffers so that bufio.Reader.Read bypasses its
// own buffer (one user-space copy, not two).
const copyBufSize = 256 << 10

// bufPool holds *[]byte of copyBufSize for streaming payloads.
type bufPool struct{ p sync.Pool }

func newBufPool() *bufPool {
	return &bufPool{p: sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}}
}

func (p *bufPool) get() *[]byte  { return p.p.Get().(*[]byte) }
func (p *bufPool) put(b *[]byte) { p.p.Put(b) }

// appendFrameHeader appends the frame prefix and the msgpack header h to dst.
// The payload (h.Size bytes) is the caller's to write next.
func appendFrameHeader(dst []byte, h *Header) ([]byte, error) {
	start := len(dst)
	dst = append(dst, magic0, magic1, magic2, protoVersion, 0, 0, 0, 0)
	dst, err := h.MarshalMsg(dst)
	if err != nil {
		return dst[:start], fmt.Errorf("transport: encode header: %w", err)
	}
	n := len(dst) - start - prefixLen
	binary.BigEndian.PutUint32(dst[start+4:], uint32(n))
	return dst, nil
}

// readHeader reads one frame prefix and header from br, leaving br at the
// first payload byte. buf is scratch space reused across calls (grown up to
// maxHeader); it returns the possibly grown buf. io.EOF is returned only when
// br ends cleanly before the first byte of a frame; every other failure wraps
// ErrFrame (or is a read error).
func readHeader(br *bufio.Reader, buf []byte, maxHeader int) (*Header, []byte, error) {
	var prefix [prefixLen]byte
	if _, err := io.ReadFull(br, prefix[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, buf, fmt.Errorf("%w: truncated prefix", ErrFrame)
		}
		return nil, buf, err // io.EOF: clean end between frames
	}
	if prefix[0] != magic0 || prefix[1] != magic1 || prefix[2] != magic2 {
		return nil, buf, fmt.Errorf("%w: bad magic %x", ErrFrame, prefix[:3])
	}
	if prefix[3] != protoVersion {
		return nil, buf, fmt.Errorf("%w: unsupported version %d", ErrFrame, prefix[3])
	}
	n := binary.BigEndian.Uint32(prefix[4:])
	if n == 0 || uint64(n) > uint64(maxHeader) {
		return nil, buf, fmt.Errorf("%w: header length %d outside 1..%d", ErrFrame, n, maxHeader)
	}
	// n is now bounded by maxHeader: safe to allocate.
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, buf, fmt.Errorf("%w: truncated header: %w", ErrFrame, noEOF(err))
	}
	h := new(Header)
	rest, err := h.UnmarshalMsg(buf)
	if err != nil {
		return nil, buf, fmt.Errorf("%w: decode header: %w", ErrFrame, err)
	}
	if len(rest) != 0 {
		return nil, buf, fmt.Errorf("%w: %d trailing bytes after header", ErrFrame, len(rest))
	}
	if h.Size < 0 {
		return nil, buf, fmt.Errorf("%w: negative payload size %d", ErrFrame, h.Size)
	}
	return h, buf, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a frame, an end of
// stream is always a truncation.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// body is a Message.Body: exactly n bytes of payload read straight from the
// connection's bufio.Reader. An early end of stream is io.ErrUnexpectedEOF,
// never io.EOF, so a handler cannot mistake a truncated payload for a whole one.
type body struct {
	r    *bufio.Reader
	n    int64 // bytes left
	pool *bufPool
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	if err == io.EOF && b.n > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return k, err
}

// WriteTo implements io.WriterTo so that io.Copy(dst, msg.Body) copies
// through one pooled buffer that bufio reads into directly.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	bp := b.pool.get()
	defer b.pool.put(bp)
	buf := *bp
	var total int64
	for b.n > 0 {
		p := buf
		if int64(len(p)) > b.n {
			p = p[:b.n]
		}
		k, rerr := b.r.Read(p)
		b.n -= int64(k)
		if k > 0 {
			wk, werr := w.Write(p[:k])
			total += int64(wk)
			if werr != nil {
				return total, werr
			}
			if wk < k {
				return total, io.ErrShortWrite
			}
		}
		if rerr != nil {
			if rerr == io.EOF && b.n > 0 {
				rerr = io.ErrUnexpectedEOF
			}
			if rerr != io.EOF {
				return total, rerr
			}
		}
	}
	return total, nil
}

// drain discards what the handler did not read; it fails if the payload
// was truncated.
func (b *body) drain() error {
	if b.n <= 0 {
		return nil
	}
	k, err := b.r.Discard(int(min(b.n, 1<<30)))
	b.n -= int64(k)
	for err == nil && b.n > 0 {
		k, err = b.r.Discard(int(min(b.n, 1<<30)))
		b.n -= int64(k)
	}
	return noEOF(err)
}
