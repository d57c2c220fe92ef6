package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
	"miniais/tracing"
)

// Client sends requests to peers. It keeps, per peer address, one persistent
// control connection that multiplexes concurrent Calls, plus a small pool of
// stream connections used one payload at a time by Send (so a large object
// never delays control traffic). Connections are dialled on first use and
// re-dialled, with exponential backoff while dialling fails, after they
// break. A Client is safe for concurrent use.
type Client struct {
	cfg    Config
	tracer trace.Tracer
	spans  bool // the tracer makes spans (not OpenTelemetry's no-op)
	pool   *bufPool
	dialer net.Dialer
	nextID atomic.Uint64

	mu     sync.Mutex
	closed bool
	peers  map[string]*peer
}

// NewClient returns a Client configured by cfg (zero fields take defaults).
func NewClient(cfg Config) *Client {
	cfg = cfg.withDefaults()
	return &Client{
		cfg:    cfg,
		tracer: cfg.TracerProvider.Tracer(tracerName),
		spans:  makesSpans(cfg.TracerProvider),
		pool:   newBufPool(),
		peers:  make(map[string]*peer),
	}
}

// Call sends a request with hdr and an in-memory body to the peer at addr and
// waits for the reply. Call does not modify hdr: it sends a copy whose ID,
// Sender, Size and Trace it fills in.
//
// It returns the reply header and body (owned by the caller). If the remote
// handler failed, the error is a *RemoteError (errors.Is holds for ErrRemote
// and the matching cluster sentinel) and the reply header is returned too. A
// network failure wraps ErrConnection (ErrClosed after Close); a done ctx
// returns an error wrapping ctx.Err(). Call never waits past ctx.
func (c *Client) Call(ctx context.Context, addr string, hdr *Header, body []byte) (*Header, []byte, error) {
	return c.do(ctx, addr, hdr, body, nil, int64(len(body)))
}

// Send is Call with a streamed payload: it copies exactly size bytes from r
// to the peer on a stream connection, through one pooled buffer (or with
// sendfile when r is an *os.File), so the payload is never held in memory
// and the peer's reading speed paces the sender. It waits for the reply,
// i.e. the receiving handler's result. If r yields fewer than size bytes the
// stream is aborted and the error wraps io.ErrUnexpectedEOF.
func (c *Client) Send(ctx context.Context, addr string, hdr *Header, r io.Reader, size int64) (*Header, []byte, error) {
	if r == nil {
		r = bytes.NewReader(nil)
	}
	return c.do(ctx, addr, hdr, nil, r, size)
}

// Close closes every connection; calls in flight fail with ErrClosed, and so
// do later calls.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	peers := c.peers
	c.peers = nil
	c.mu.Unlock()
	for _, p := range peers {
		p.close()
	}
	return nil
}

func (c *Client) peer(addr string) (*peer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	p := c.peers[addr]
	if p == nil {
		p = &peer{c: c, addr: addr, conns: make(map[*clientConn]struct{})}
		c.peers[addr] = p
	}
	return p, nil
}

// do is Call (r == nil) and Send (r != nil).
func (c *Client) do(ctx context.Context, addr string, hdr *Header, body []byte, r io.Reader, size int64) (*Header, []byte, error) {
	h := *hdr
	h.ID = c.nextID.Add(1)
	h.Reply, h.Stream = false, r != nil
	h.Sender = c.cfg.NodeID
	h.Size = size
	h.Error, h.ErrKind = "", ""

	ctx, span := c.startSend(ctx, addr, &h)
	defer span.End()

	start := time.Now()
	rh, rb, err := c.roundTrip(ctx, addr, &h, body, r)
	if err == nil && rh.Error != "" {
		err = &RemoteError{Peer: addr, Kind: rh.ErrKind, Msg: rh.Error}
	}
	c.cfg.observe(Out, h.Kind, h.Size, time.Since(start), err)
	if err != nil && span.IsRecording() {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		if tracing.IsExpectedError(ctx, err) {
			span.AddEvent("expected outcome", trace.WithAttributes(attribute.String("exception.message", err.Error())))
		} else {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	return rh, rb, err
}

func (c *Client) roundTrip(ctx context.Context, addr string, h *Header, body []byte, r io.Reader) (*Header, []byte, error) {
	if h.Size < 0 {
		return nil, nil, cluster.Errorf(cluster.ErrBadRequest, "transport: negative payload size %d", h.Size)
	}
	if lim := c.cfg.payloadLimit(h.Kind); h.Size > lim {
		return nil, nil, cluster.Errorf(cluster.ErrTooLarge, "transport: %s payload of %d bytes over the limit of %d", h.Kind, h.Size, lim)
	}
	p, err := c.peer(addr)
	if err != nil {
		return nil, nil, err
	}
	stream := r != nil || len(body) > inlineBodyMax
	for attempt := 0; ; attempt++ {
		var cc *clientConn
		if stream {
			cc, err = p.getStream(ctx)
		} else {
			cc, err = p.getCtrl(ctx)
		}
		if err != nil {
			return nil, nil, err
		}
		rep, sent, err := cc.roundTrip(ctx, h, body, r)
		if stream {
			if err == nil {
				p.putStream(cc)
			} else {
				cc.fail(err) // a stream conn with an unfinished exchange is unusable
			}
		}
		if err == nil {
			return rep.hdr, rep.body, nil
		}
		// A connection found broken before anything was written to it (the
		// peer restarted while it sat idle) is retried once on a fresh one.
		if sent || attempt > 0 || ctx.Err() != nil || !errors.Is(err, ErrConnection) {
			return nil, nil, err
		}
	}
}

// peer is the connection state for one address.
type peer struct {
	c    *Client
	addr string

	mu       sync.Mutex
	closed   bool
	ctrl     *clientConn
	dialing  *dialCall // the control connection being dialled
	idle     []*clientConn
	conns    map[*clientConn]struct{}
	failures int
	retryAt  time.Time
	lastErr  error
}

// dialCall lets concurrent callers share one dial of the control connection.
type dialCall struct {
	done chan struct{}
	cc   *clientConn
	err  error
}

// getCtrl returns the live control connection, dialling it if needed. The
// dial runs in its own goroutine (bounded by DialTimeout) so that every caller
// waiting for it, the first one included, can give up when its ctx is done.
func (p *peer) getCtrl(ctx context.Context) (*clientConn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if cc := p.ctrl; cc != nil && !cc.broken() {
		p.mu.Unlock()
		return cc, nil
	}
	d := p.dialing
	if d == nil {
		wait, err := p.backoffLocked(ctx)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		d = &dialCall{done: make(chan struct{})}
		p.dialing = d
		go func() {
			if wait > 0 {
				time.Sleep(wait)
			}
			d.cc, d.err = p.connect(context.Background())
			p.mu.Lock()
			p.dialing = nil
			if d.err == nil {
				p.ctrl = d.cc
			}
			p.mu.Unlock()
			close(d.done)
		}()
	}
	p.mu.Unlock()
	select {
	case <-d.done:
		return d.cc, d.err
	case <-ctx.Done():
		return nil, fmt.Errorf("transport: dial %s: %w", p.addr, ctx.Err())
	}
}

// getStream returns an idle stream connection or dials a new one; the caller
// owns it until putStream.
func (p *peer) getStream(ctx context.Context) (*clientConn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	for len(p.idle) > 0 {
		cc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !cc.broken() {
			p.mu.Unlock()
			return cc, nil
		}
	}
	p.mu.Unlock()
	return p.dial(ctx)
}

// putStream returns a stream connection to the idle pool (or closes it).
func (p *peer) putStream(cc *clientConn) {
	p.mu.Lock()
	if !p.closed && !cc.broken() && len(p.idle) < p.c.cfg.MaxIdleStreams {
		p.idle = append(p.idle, cc)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	cc.fail(ErrClosed)
}

// backoff returns how long to wait before dialling again after n
// consecutive failures: 50ms doubling up to MaxBackoff.
func (p *peer) backoff(n int) time.Duration {
	d := 50 * time.Millisecond
	for i := 1; i < n && d < p.c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.c.cfg.MaxBackoff)
}

// backoffLocked returns how long a dial must wait for the backoff to
// expire; if ctx cannot wait that long it fails at once. p.mu is held.
func (p *peer) backoffLocked(ctx context.Context) (time.Duration, error) {
	wait := time.Until(p.retryAt)
	if wait <= 0 {
		return 0, nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, fmt.Errorf("%w: %s: in dial backoff after %d failures: %w", ErrConnection, p.addr, p.failures, p.lastErr)
	}
	return wait, nil
}

// dial waits out the dial backoff (or fails at once if ctx cannot wait that
// long), then connects.
func (p *peer) dial(ctx context.Context) (*clientConn, error) {
	p.mu.Lock()
	wait, err := p.backoffLocked(ctx)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("transport: dial %s: %w", p.addr, ctx.Err())
		}
	}
	return p.connect(ctx)
}

// connect dials and handshakes within DialTimeout, records the outcome for
// the backoff, and starts the connection's reader.
func (p *peer) connect(ctx context.Context) (*clientConn, error) {
	dctx, cancel := context.WithTimeout(ctx, p.c.cfg.DialTimeout)
	defer cancel()
	nc, err := p.c.dialer.DialContext(dctx, "tcp", p.addr)
	if err == nil {
		dl, _ := dctx.Deadline()
		stop := context.AfterFunc(dctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
		nc.SetDeadline(dl)
		_, err = clientHandshake(nc, p.c.cfg.Secret, p.c.cfg.NodeID)
		if !stop() && err == nil {
			err = dctx.Err()
		}
		if err == nil {
			err = nc.SetDeadline(time.Time{})
		}
		if err != nil {
			nc.Close()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", p.addr, ctx.Err())
		}
		p.failures++
		p.retryAt = time.Now().Add(p.backoff(p.failures))
		p.lastErr = err
		if errors.Is(err, ErrAuth) {
			p.c.cfg.Logger.Warn("transport: peer failed authentication", "peer", p.addr, "err", err)
		}
		return nil, fmt.Errorf("%w: dial %s: %w", ErrConnection, p.addr, err)
	}
	p.failures, p.retryAt, p.lastErr = 0, time.Time{}, nil
	if p.closed {
		nc.Close()
		return nil, ErrClosed
	}
	cc := newClientConn(p, nc)
	p.conns[cc] = struct{}{}
	go cc.readLoop()
	return cc, nil
}

// remove forgets a failed connection.
func (p *peer) remove(cc *clientConn) {
	p.mu.Lock()
	delete(p.conns, cc)
	if p.ctrl == cc {
		p.ctrl = nil
	}
	p.mu.Unlock()
}

func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*clientConn, 0, len(p.conns))
	for cc := range p.conns {
		conns = append(conns, cc)
	}
	p.idle = nil
	p.mu.Unlock()
	for _, cc := range conns {
		cc.fail(ErrClosed)
	}
}

// sendfileReader reports whether r should go to the socket without a user
// buffer (TCPConn.ReadFrom uses sendfile/splice for files).
func sendfileReader(r io.Reader) bool {
	_, ok := r.(*os.File)
	return ok
}
