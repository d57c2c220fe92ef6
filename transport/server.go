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
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"miniais/cluster"
)

// Message is a received request. Body streams exactly Header.Size bytes; it
// is valid only until the handler returns, after which the transport discards
// whatever the handler did not read. A truncated payload reads as
// io.ErrUnexpectedEOF, never as io.EOF.
type Message struct {
	Header *Header
	Body   io.Reader
}

// Handler serves one kind of request. It returns the reply's body (small,
// held in memory; may be nil) and sets reply header fields (Opaque, Checksum,
// Version, ...) through reply; Kind, ID, Reply, Sender and Size of the reply
// are the transport's. A non-nil error becomes the reply's Error and ErrKind,
// and the body is then dropped.
//
// Handlers of Call requests whose payload is at most 64 KiB run concurrently
// (up to Config.MaxInflight per connection); a handler of a Send, or of a
// larger payload, reads it from the connection and so runs alone on it.
type Handler func(ctx context.Context, msg *Message, reply *Header) (body []byte, err error)

// inlineBodyMax is the largest request payload the server reads into memory
// before dispatching (so the handler runs concurrently with the next
// request); larger payloads stream from the connection into the handler.
// Clients send bodies larger than this on a stream connection.
const inlineBodyMax = 64 << 10

// bufSize is the size of bufio readers and writers on connections.
const bufSize = 64 << 10

// Server serves requests from peers. Register handlers with Handle, then
// call Serve. Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	tracer   trace.Tracer
	spans    bool // the tracer makes spans (not OpenTelemetry's no-op)
	pool     *bufPool
	handlers atomic.Pointer[map[Kind]Handler]

	mu     sync.Mutex
	closed bool
	serves map[*serveState]struct{}
}

// serveState is one Serve call: its listener and its connections.
type serveState struct {
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewServer returns a Server configured by cfg (zero fields take defaults).
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:    cfg,
		tracer: cfg.TracerProvider.Tracer(tracerName),
		spans:  makesSpans(cfg.TracerProvider),
		pool:   newBufPool(),
		serves: make(map[*serveState]struct{}),
	}
	s.handlers.Store(&map[Kind]Handler{})
	return s
}

// Handle registers h for requests of the given kind, replacing any earlier
// handler. Call it before Serve. Requests of a kind with no handler get a
// reply wrapping cluster.ErrBadRequest.
func (s *Server) Handle(kind Kind, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.handlers.Load()
	m := make(map[Kind]Handler, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[kind] = h
	s.handlers.Store(&m)
}

// Serve accepts connections on ln and serves them until ctx is done, Close is
// called, or ln fails. It then closes ln and the connections it accepted,
// cancels the contexts of their running handlers, and waits for them to
// return. It returns nil after ctx is done or Close, ErrClosed if the Server
// was already closed, and otherwise the listener's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	st := &serveState{ln: ln, conns: make(map[net.Conn]struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	s.serves[st] = struct{}{}
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var err error
	for {
		nc, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() != nil || s.isClosed() {
				break
			}
			var ne net.Error
			if errors.As(aerr, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			err = fmt.Errorf("transport: accept: %w", aerr)
			break
		}
		if !s.track(st, nc) {
			nc.Close()
			break
		}
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			s.serveConn(ctx, st, nc)
		}()
	}
	cancel()
	ln.Close()
	s.mu.Lock()
	delete(s.serves, st)
	for nc := range st.conns {
		nc.Close()
	}
	s.mu.Unlock()
	st.wg.Wait()
	return err
}

// Close stops every Serve call as if its ctx were done, and makes later
// Serve calls fail with ErrClosed. It does not wait for Serve to return.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for st := range s.serves {
		st.ln.Close()
		for nc := range st.conns {
			nc.Close()
		}
	}
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers nc with st; false if the server is closing.
func (s *Server) track(st *serveState, nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if _, ok := s.serves[st]; !ok {
		return false
	}
	st.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(st *serveState, nc net.Conn) {
	s.mu.Lock()
	delete(st.conns, nc)
	s.mu.Unlock()
}

// serverConn is the write side of an accepted connection.
type serverConn struct {
	nc        net.Conn
	peerID    string
	maxHeader int
	timeout   time.Duration // bound on writing one reply
	wmu       sync.Mutex
	bw        *bufio.Writer
	wbuf      []byte
}

func (s *Server) serveConn(ctx context.Context, st *serveState, nc net.Conn) {
	defer s.untrack(st, nc)
	defer nc.Close()
	log := s.cfg.Logger.With("remote", nc.RemoteAddr().String())
	peerID, err := serverHandshake(nc, s.cfg.Secret, s.cfg.NodeID, s.cfg.HandshakeTimeout)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("transport: handshake failed, dropping peer", "peer", peerID, "err", err)
		}
		return
	}
	sc := &serverConn{nc: nc, peerID: peerID, maxHeader: s.cfg.MaxHeaderSize, timeout: s.cfg.WriteTimeout, bw: bufio.NewWriterSize(nc, bufSize)}
	cctx, cancel := context.WithCancel(ctx)
	var handlers sync.WaitGroup
	err = s.readLoop(cctx, sc, &handlers)
	cancel()
	handlers.Wait()
	switch {
	case err == nil, errors.Is(err, io.EOF), ctx.Err() != nil, errors.Is(err, net.ErrClosed):
		log.Debug("transport: connection closed", "peer", peerID)
	default:
		log.Error("transport: dropping connection", "peer", peerID, "err", err)
	}
}

// readLoop reads requests until the connection fails. Small requests are
// dispatched to goroutines; large payloads are handled inline.
func (s *Server) readLoop(ctx context.Context, sc *serverConn, handlers *sync.WaitGroup) error {
	br := bufio.NewReaderSize(sc.nc, bufSize)
	sem := make(chan struct{}, s.cfg.MaxInflight)
	auth := len(s.cfg.Secret) > 0
	var hbuf []byte
	for {
		hdr, buf, err := readHeader(br, hbuf, s.cfg.MaxHeaderSize)
		hbuf = buf
		if err != nil {
			return err
		}
		switch {
		case hdr.Reply:
			return fmt.Errorf("%w: unexpected reply frame (id %d)", ErrFrame, hdr.ID)
		case auth && hdr.Sender != sc.peerID:
			return fmt.Errorf("%w: sender %q on a connection authenticated as %q", ErrFrame, hdr.Sender, sc.peerID)
		case hdr.Size > s.cfg.payloadLimit(hdr.Kind):
			return fmt.Errorf("%w: %s payload of %d bytes over the limit of %d: %w",
				ErrFrame, hdr.Kind, hdr.Size, s.cfg.payloadLimit(hdr.Kind), cluster.ErrTooLarge)
		}
		if hdr.Stream || hdr.Size > inlineBodyMax {
			b := &body{r: br, n: hdr.Size, pool: s.pool}
			reply, rb := s.dispatch(ctx, sc, hdr, b)
			if err := b.drain(); err != nil {
				return fmt.Errorf("%w: truncated %s payload: %w", ErrFrame, hdr.Kind, err)
			}
			if err := sc.writeReply(reply, rb); err != nil {
				return err
			}
			continue
		}
		var data []byte
		if hdr.Size > 0 {
			data = make([]byte, hdr.Size) // bounded by inlineBodyMax
			if _, err := io.ReadFull(br, data); err != nil {
				return fmt.Errorf("%w: truncated %s payload: %w", ErrFrame, hdr.Kind, noEOF(err))
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			defer func() { <-sem }()
			reply, rb := s.dispatch(ctx, sc, hdr, bytes.NewReader(data))
			if err := sc.writeReply(reply, rb); err != nil {
				sc.nc.Close() // the read loop sees it and ends
			}
		}()
	}
}

// dispatch runs the handler for hdr in a span that continues the sender's
// trace (the peer proved the cluster secret: its sampling decision is
// followed), and returns the reply. A keepalive or ping without a sampled
// parent gets no span at all.
func (s *Server) dispatch(ctx context.Context, sc *serverConn, hdr *Header, body io.Reader) (*Header, []byte) {
	ctx, span := s.startRecv(ctx, sc.nc, hdr)
	defer span.End()

	start := time.Now()
	reply := &Header{}
	var rb []byte
	var err error
	if h := (*s.handlers.Load())[hdr.Kind]; h == nil {
		err = cluster.Errorf(cluster.ErrBadRequest, "no handler for %s", hdr.Kind)
	} else {
		rb, err = callHandler(ctx, h, &Message{Header: hdr, Body: body}, reply)
	}
	if err == nil && int64(len(rb)) > s.cfg.payloadLimit(hdr.Kind) {
		err = cluster.Errorf(cluster.ErrTooLarge, "%s reply of %d bytes", hdr.Kind, len(rb))
	}
	s.cfg.observe(In, hdr.Kind, hdr.Size, time.Since(start), err)
	reply.Kind, reply.ID, reply.Reply, reply.Stream = hdr.Kind, hdr.ID, true, false
	reply.Sender, reply.Trace = s.cfg.NodeID, nil
	reply.Error, reply.ErrKind = "", ""
	if err != nil {
		rb = nil
		reply.Error = err.Error()
		if reply.Error == "" {
			reply.Error = "error"
		}
		reply.ErrKind = ErrKindOf(err)
		if span.IsRecording() {
			span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
			if k := cluster.KindOf(err); k != nil && k.Status < 500 {
				// The request's fault (409 on a prepare, 404): the
				// expected answer, not the server's error.
				span.AddEvent("refused", trace.WithAttributes(attribute.String("exception.message", reply.Error)))
			} else {
				span.RecordError(err)
				span.SetStatus(codes.Error, reply.Error)
			}
		}
		s.cfg.Logger.Debug("transport: handler failed", "kind", hdr.Kind.String(), "peer", hdr.Sender, "err", err)
	}
	reply.Size = int64(len(rb))
	return reply, rb
}

// callHandler runs h, turning a panic into an error.
func callHandler(ctx context.Context, h Handler, msg *Message, reply *Header) (rb []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			rb, err = nil, fmt.Errorf("transport: %s handler panicked: %v", msg.Header.Kind, r)
		}
	}()
	return h(ctx, msg, reply)
}

// appendObjectAttrs appends the bucket, object and size attributes that are set.
func appendObjectAttrs(attrs []attribute.KeyValue, h *Header) []attribute.KeyValue {
	if h.Bucket != "" {
		attrs = append(attrs, attribute.String("ais.bucket", h.Bucket))
	}
	if h.Object != "" {
		attrs = append(attrs, attribute.String("ais.object", h.Object))
	}
	if h.Size > 0 {
		attrs = append(attrs, attribute.Int64("ais.size", h.Size))
	}
	return attrs
}

// writeReply writes one reply frame within the write timeout (a peer that
// does not read its replies loses the connection). A reply whose header is
// over the limit is replaced by an error reply.
func (sc *serverConn) writeReply(h *Header, body []byte) error {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	var err error
	sc.wbuf, err = appendFrameHeader(sc.wbuf[:0], h)
	if err == nil && len(sc.wbuf)-prefixLen > sc.maxHeader {
		err = cluster.Errorf(cluster.ErrTooLarge, "%s reply header of %d bytes", h.Kind, len(sc.wbuf)-prefixLen)
	}
	if err != nil {
		h = &Header{Kind: h.Kind, ID: h.ID, Reply: true, Sender: h.Sender, Error: err.Error(), ErrKind: ErrKindOf(err)}
		body = nil
		if sc.wbuf, err = appendFrameHeader(sc.wbuf[:0], h); err != nil {
			return err
		}
	}
	if err := sc.nc.SetWriteDeadline(time.Now().Add(sc.timeout)); err != nil {
		return err
	}
	if _, err := sc.bw.Write(sc.wbuf); err != nil {
		return err
	}
	if _, err := sc.bw.Write(body); err != nil {
		return err
	}
	return sc.bw.Flush()
}

// ReadBody reads the whole payload of a control message into memory. A
// payload over max bytes wraps cluster.ErrTooLarge and a short one
// cluster.ErrBadRequest; neither is read.
func (m *Message) ReadBody(max int64) ([]byte, error) {
	if m.Header.Size < 0 || m.Header.Size > max {
		return nil, cluster.Errorf(cluster.ErrTooLarge, "%s body of %d bytes (at most %d)", m.Header.Kind, m.Header.Size, max)
	}
	buf := make([]byte, m.Header.Size)
	if _, err := io.ReadFull(m.Body, buf); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "truncated %s body: %v", m.Header.Kind, err)
	}
	return buf, nil
}
