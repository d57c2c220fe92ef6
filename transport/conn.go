package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"miniais/cluster"
)

// clientConn is one client connection: writers take wmu to put a whole frame
// on the wire, and one reader goroutine delivers replies to the callers
// waiting for them, matched by ID.
type clientConn struct {
	p  *peer
	nc net.Conn

	wsem chan struct{} // the write lock: a channel so that waiters honour ctx
	bw   *bufio.Writer
	wbuf []byte

	mu      sync.Mutex
	pending map[uint64]chan reply
	err     error         // why the connection broke; set once
	done    chan struct{} // closed when err is set
}

// reply is a received reply frame; body is owned by the receiver.
type reply struct {
	hdr  *Header
	body []byte
}

func newClientConn(p *peer, nc net.Conn) *clientConn {
	return &clientConn{
		p:       p,
		nc:      nc,
		wsem:    make(chan struct{}, 1),
		bw:      bufio.NewWriterSize(nc, bufSize),
		pending: make(map[uint64]chan reply),
		done:    make(chan struct{}),
	}
}

// broken reports whether the connection has failed.
func (c *clientConn) broken() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// fail breaks the connection: it closes it, and every call waiting on it
// returns an error wrapping err. Only the first call has an effect.
func (c *clientConn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	c.mu.Unlock()
	c.nc.Close()
	c.p.remove(c)
}

// failure returns the error a call on the broken connection reports.
func (c *clientConn) failure() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrConnection) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrConnection, c.p.addr, err)
}

// readLoop delivers replies until the connection fails.
func (c *clientConn) readLoop() {
	br := bufio.NewReaderSize(c.nc, bufSize)
	cfg := &c.p.c.cfg
	var hbuf []byte
	for {
		hdr, buf, err := readHeader(br, hbuf, cfg.MaxHeaderSize)
		hbuf = buf
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("connection closed by peer: %w", err)
			}
			c.readFailed(err)
			return
		}
		if !hdr.Reply {
			c.readFailed(fmt.Errorf("%w: request frame (id %d) on a client connection", ErrFrame, hdr.ID))
			return
		}
		if lim := cfg.payloadLimit(hdr.Kind); hdr.Size > lim {
			c.readFailed(fmt.Errorf("%w: %s reply of %d bytes over the limit of %d: %w", ErrFrame, hdr.Kind, hdr.Size, lim, cluster.ErrTooLarge))
			return
		}
		body, err := readBody(br, hdr.Size)
		if err != nil {
			c.readFailed(fmt.Errorf("%w: truncated %s reply: %w", ErrFrame, hdr.Kind, err))
			return
		}
		c.mu.Lock()
		ch := c.pending[hdr.ID]
		delete(c.pending, hdr.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- reply{hdr: hdr, body: body} // buffered: never blocks
		}
	}
}

func (c *clientConn) readFailed(err error) {
	if !c.broken() && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		c.p.c.cfg.Logger.Error("transport: dropping connection", "peer", c.p.addr, "err", err)
	}
	c.fail(err)
}

// readBody reads a reply payload of n bytes, already checked against the
// limit. Large bodies grow as bytes arrive, so a lying size cannot make it
// allocate more than was actually received (plus slack).
func readBody(br *bufio.Reader, n int64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if n <= 1<<20 {
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		return b, noEOF(err)
	}
	var buf bytes.Buffer
	k, err := buf.ReadFrom(io.LimitReader(br, n))
	if err == nil && k < n {
		err = io.ErrUnexpectedEOF
	}
	return buf.Bytes(), err
}

// roundTrip writes the request h (payload: body, or h.Size bytes from r) and
// waits for its reply. sent reports whether any byte reached the connection.
func (c *clientConn) roundTrip(ctx context.Context, h *Header, body []byte, r io.Reader) (rep reply, sent bool, err error) {
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return reply{}, false, c.failure()
	}
	c.pending[h.ID] = ch
	c.mu.Unlock()

	if sent, err = c.write(ctx, h, body, r); err != nil {
		c.forget(h.ID)
		return reply{}, sent, err
	}
	select {
	case rep = <-ch:
		return rep, true, nil
	case <-c.done:
		select {
		case rep = <-ch:
			return rep, true, nil
		default:
			return reply{}, true, c.failure()
		}
	case <-ctx.Done():
		c.forget(h.ID)
		return reply{}, true, fmt.Errorf("transport: %s to %s: %w", h.Kind, c.p.addr, ctx.Err())
	}
}

func (c *clientConn) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// trackedWriter remembers whether the destination (not the source) failed.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.err = err
	}
	return n, err
}

// write puts one request frame on the wire under the write lock. Waiting for
// the lock honours ctx. Once the first byte is written, ctx still aborts the
// write, but any failure then breaks the connection (and fails the other
// calls in flight on it), since the peer cannot resynchronise mid-frame.
func (c *clientConn) write(ctx context.Context, h *Header, body []byte, r io.Reader) (sent bool, err error) {
	cfg := &c.p.c.cfg
	select {
	case c.wsem <- struct{}{}:
	case <-c.done:
		return false, c.failure()
	case <-ctx.Done():
		return false, fmt.Errorf("transport: %s to %s: %w", h.Kind, c.p.addr, ctx.Err())
	}
	defer func() { <-c.wsem }()
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("transport: %s to %s: %w", h.Kind, c.p.addr, err)
	}
	if c.broken() {
		return false, c.failure()
	}

	c.wbuf, err = appendFrameHeader(c.wbuf[:0], h)
	if err != nil {
		return false, err
	}
	if n := len(c.wbuf) - prefixLen; n > cfg.MaxHeaderSize {
		return false, cluster.Errorf(cluster.ErrTooLarge, "transport: %s header of %d bytes over the limit of %d", h.Kind, n, cfg.MaxHeaderSize)
	}

	dl, _ := ctx.Deadline()
	if err := c.nc.SetWriteDeadline(dl); err != nil {
		return false, c.writeFailed(ctx, h, err)
	}
	if ctx.Done() != nil {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			c.nc.SetWriteDeadline(time.Unix(1, 0)) // in the past: abort the blocked write
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired
			}
		}()
	}

	if _, err := c.bw.Write(c.wbuf); err != nil {
		return true, c.writeFailed(ctx, h, err)
	}
	if r == nil {
		if _, err := c.bw.Write(body); err != nil {
			return true, c.writeFailed(ctx, h, err)
		}
		if err := c.bw.Flush(); err != nil {
			return true, c.writeFailed(ctx, h, err)
		}
		return true, nil
	}
	if err := c.bw.Flush(); err != nil {
		return true, c.writeFailed(ctx, h, err)
	}
	tw := &trackedWriter{w: c.nc}
	var n int64
	if sendfileReader(r) {
		// *net.TCPConn.ReadFrom: sendfile, no user-space copy at all.
		n, err = io.CopyN(c.nc, r, h.Size)
		if err != nil && err != io.EOF {
			tw.err = err
		}
	} else {
		bp := c.p.c.pool.get()
		n, err = io.CopyBuffer(tw, io.LimitReader(r, h.Size), *bp)
		c.p.c.pool.put(bp)
	}
	if err == nil && n < h.Size {
		err = fmt.Errorf("transport: %s payload: %d of %d bytes: %w", h.Kind, n, h.Size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		if tw.err == nil && ctx.Err() == nil {
			// The source failed: abort the stream, report the source's error.
			c.fail(fmt.Errorf("%w: payload source failed", ErrConnection))
			return true, fmt.Errorf("transport: read %s payload: %w", h.Kind, err)
		}
		return true, c.writeFailed(ctx, h, err)
	}
	return true, nil
}

// writeFailed breaks the connection and returns the caller's error.
func (c *clientConn) writeFailed(ctx context.Context, h *Header, err error) error {
	if ctx.Err() != nil {
		c.fail(fmt.Errorf("%w: write aborted: %w", ErrConnection, ctx.Err()))
		return fmt.Errorf("transport: %s to %s: %w", h.Kind, c.p.addr, ctx.Err())
	}
	c.fail(fmt.Errorf("%w: %s: write: %w", ErrConnection, c.p.addr, err))
	return c.failure()
}
