package api

import (
	"context"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/OneOfOne/xxhash"

	"miniais/api/wire"
	"miniais/cluster"
)

// ObjectAttrs are an object's attributes as the target reports them in the
// reply headers of a PUT, GET or HEAD.
type ObjectAttrs struct {
	Name     string
	Bucket   cluster.Bucket
	Size     int64 // the whole object's size, also for a range GET; -1 if unknown
	Checksum cluster.Checksum
	Version  string
	Atime    string
	Location string // "t[ID]:mp[...]", HEAD only
	// Copies is how many copies of the object its target holds (more than
	// one in a mirrored bucket), Paths their mountpaths, the one reads try
	// first first; HEAD only (0 and nil otherwise).
	Copies  int
	Paths   []string
	Present bool
}

// PutOptions qualify a PutObject.
type PutOptions struct {
	// Size is the body's length, or -1 (or 0) when unknown: the body is
	// then sent chunked, unless the reader can tell its own size. A reader's
	// content is never cut to a zero Size: an empty object is a nil or
	// empty reader.
	Size int64
	// Checksum, when not empty, is sent with the PUT; the target verifies the
	// content against it and stores nothing on mismatch (ErrChecksum). An
	// empty Type means cluster.ChecksumXXHash2.
	Checksum cluster.Checksum
}

// GetOptions select a byte range of an object.
type GetOptions struct {
	// Offset is the first byte to read.
	Offset int64
	// Length is the number of bytes to read; 0 means to the end.
	Length int64
}

// maxRedirects bounds the hops of one PUT.
const maxRedirects = 4

func objectWhat(bck cluster.Bucket, name string) string { return "object " + bck.String() + "/" + name }

func validateObject(bck cluster.Bucket, name string) error {
	if err := bck.Validate(); err != nil {
		return err
	}
	return cluster.ValidateObjectName(name)
}

// PutObject stores the content of r as object name in bck, through the
// proxy's 307 redirect to the owning target, and returns the attributes the
// target reports (with WithDirectRouting, straight to the owner). It never
// buffers the object in memory.
//
// A request whose body is larger than smallBody, or cannot be re-sent, is
// sent with "Expect: 100-continue", so the proxy's redirect arrives before
// any of the body is sent; the body then goes to the redirect's Location. A
// small re-sendable body is sent to the proxy too, which does not read it:
// its server discards it and keeps the connection, where the 307 to an
// "Expect" it did not answer would close it (one new connection per PUT
// cost more CPU than the 4 KiB body; see smallBody). Three kinds of reader
// are handled:
//
//   - An io.ReaderAt that is also an io.Seeker (*os.File on a regular file,
//     *bytes.Reader, *strings.Reader): each hop reads its own section from
//     the current offset, so the body can be re-sent whatever happened
//     before, and its size is known.
//   - Any other reader (stdin, a pipe, a network stream): the body is read
//     once. If a hop consumed part of it before redirecting (a server that
//     ignores Expect, or a transport with ExpectContinueTimeout 0) the PUT
//     fails rather than store a truncated object.
//   - nil: an empty object.
//
// r is never closed.
func (c *Client) PutObject(ctx context.Context, bck cluster.Bucket, name string, r io.Reader, opts PutOptions) (*ObjectAttrs, error) {
	if err := validateObject(bck, name); err != nil {
		return nil, err
	}
	what := objectWhat(bck, name)
	body, err := newPutBody(r, opts.Size)
	if err != nil {
		return nil, fmt.Errorf("PUT %s: %w", what, err)
	}
	var attrs *ObjectAttrs
	err = c.routed(ctx, bck, name, func(rt route) error {
		loc := rt.base + ObjectPath(bck.Name, name) + "?" + rt.query(bucketQuery(bck)).Encode()
		attrs, _, err = c.putHops(ctx, bck, name, loc, body, opts, nil, rt.direct())
		return err
	})
	return attrs, err
}

// smallBody is the largest re-sendable PUT body that the first hop sends
// without "Expect: 100-continue". Go's server (the proxy's) closes the
// connection after a final answer to an Expect whose body it did not read,
// so every such PUT via the proxy would dial anew; a body it did not read
// but received it discards (up to 256 KiB) and keeps the connection. At 4
// and 64 KiB, 16 workers via the proxy, that cut the proxy's CPU per PUT by
// a third (README, Performance); the body crossing twice costs less.
const smallBody = 64 << 10

// putHops sends the PUT to loc and follows redirects to the target. Only the
// first hop may ask "Expect: 100-continue", for a body larger than
// smallBody or one that cannot be re-sent (the proxy answers with its
// redirect before any body byte is sent); the target that a redirect names,
// or a direct route with a re-sendable body, gets the body at once, saving
// a round trip per PUT. extra headers are added to each hop; the target's
// reply headers come back with the attributes.
func (c *Client) putHops(ctx context.Context, bck cluster.Bucket, name, loc string, body *putBody, opts PutOptions, extra http.Header, direct bool) (*ObjectAttrs, http.Header, error) {
	what := objectWhat(bck, name)
	for hop := range maxRedirects {
		rc, n, err := body.open()
		if err != nil {
			return nil, nil, fmt.Errorf("PUT %s to %s: %w", what, loc, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, loc, rc)
		if err != nil {
			return nil, nil, fmt.Errorf("PUT %s: %w", what, err)
		}
		req.ContentLength = n
		if n == 0 {
			req.Body = http.NoBody
		} else if hop == 0 && (body.ra == nil || (!direct && n > smallBody)) {
			req.Header.Set("Expect", "100-continue")
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		c.addHeaders(req)
		if !opts.Checksum.Empty() {
			typ := opts.Checksum.Type
			if typ == "" {
				typ = cluster.ChecksumXXHash2
			}
			req.Header.Set(wire.HdrChecksumType, typ)
			req.Header.Set(wire.HdrChecksumValue, opts.Checksum.Value)
		}
		for k, v := range extra {
			req.Header[k] = v
		}
		resp, err := c.send(ctx, c.noFollow, req, what)
		if err != nil {
			return nil, nil, err
		}
		if isRedirect(resp.StatusCode) {
			u, err := resp.Location()
			drainClose(resp.Body)
			if err != nil {
				return nil, nil, fmt.Errorf("PUT %s: redirect without a usable Location: %w", what, err)
			}
			loc = u.String()
			continue
		}
		drainClose(resp.Body)
		a := attrsFromHeader(bck, name, resp.Header)
		a.Size, a.Present = body.sent(), true
		return a, resp.Header, nil
	}
	return nil, nil, fmt.Errorf("PUT %s: more than %d redirects", what, maxRedirects)
}

// putBody hands out the body of each hop of a PUT.
type putBody struct {
	ra    io.ReaderAt // re-sendable: read [off, off+size) afresh per hop
	off   int64
	size  int64
	once  *countingReader // read-once body
	empty bool
}

func newPutBody(r io.Reader, size int64) (*putBody, error) {
	if r == nil {
		return &putBody{empty: true}, nil
	}
	if ra, ok := r.(io.ReaderAt); ok {
		if s, ok := r.(io.Seeker); ok {
			if off, err := s.Seek(0, io.SeekCurrent); err == nil {
				end, err := s.Seek(0, io.SeekEnd)
				if err != nil {
					return nil, fmt.Errorf("find the body's size: %w", err)
				}
				if _, err := s.Seek(off, io.SeekStart); err != nil {
					return nil, fmt.Errorf("rewind the body: %w", err)
				}
				n := end - off
				if size > 0 && size < n {
					n = size // a section of the reader
				}
				return &putBody{ra: ra, off: off, size: n}, nil
			}
		}
	}
	if size <= 0 {
		size = -1 // unknown: a reader's content is never dropped for a zero Size
	}
	return &putBody{once: &countingReader{r: r}, size: size}, nil
}

// open returns the body of the next hop and its length (-1 unknown).
func (b *putBody) open() (io.Reader, int64, error) {
	switch {
	case b.empty || b.size == 0:
		return nil, 0, nil
	case b.ra != nil:
		return io.NewSectionReader(b.ra, b.off, b.size), b.size, nil
	case b.once.n.Load() > 0:
		return nil, 0, fmt.Errorf("cannot re-send a body that can be read only once: %d bytes were consumed before the redirect", b.once.n.Load())
	}
	return b.once, b.size, nil
}

// sent returns the size of the body as sent.
func (b *putBody) sent() int64 {
	switch {
	case b.empty:
		return 0
	case b.once != nil:
		return b.once.n.Load()
	}
	return b.size
}

// countingReader counts the bytes read through it. It deliberately has no
// Close, so that the HTTP transport cannot close the caller's reader. The
// count is atomic: the transport may still be reading a hop's body in its
// own goroutine when the reply (a redirect) has arrived and the next hop
// asks how much was consumed.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func attrsFromHeader(bck cluster.Bucket, name string, h http.Header) *ObjectAttrs {
	a := &ObjectAttrs{
		Name:     name,
		Bucket:   bck,
		Size:     -1,
		Checksum: cluster.Checksum{Type: h.Get(wire.HdrChecksumType), Value: h.Get(wire.HdrChecksumValue)},
		Version:  h.Get(wire.HdrVersion),
		Atime:    h.Get(wire.HdrAtime),
		Location: h.Get(wire.HdrLocation),
		Present:  h.Get(wire.HdrPresent) == "true",
	}
	if n, err := strconv.Atoi(h.Get(wire.HdrMirrorCopies)); err == nil {
		a.Copies = n
	}
	if p := h.Get(wire.HdrMirrorPaths); p != "" {
		a.Paths = strings.Split(p, ",")
	}
	if n := h.Get(wire.HdrName); n != "" {
		a.Name = n
	}
	if p := h.Get(wire.HdrBucketProvider); p != "" {
		a.Bucket.Provider = p
	}
	if n := h.Get(wire.HdrBucketName); n != "" {
		a.Bucket.Name = n
	}
	return a
}

// sizeOf returns the whole object's size from a GET or HEAD reply.
func sizeOf(resp *http.Response) int64 {
	if resp.StatusCode == http.StatusPartialContent {
		// Content-Range: bytes a-b/total
		cr := resp.Header.Get("Content-Range")
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				return n
			}
		}
		return -1
	}
	return resp.ContentLength
}

// GetObjectReader starts reading object name of bck (or the range opts
// selects) and returns the content, which the caller must close, and the
// object's attributes. It follows the proxy's redirect to the owner.
func (c *Client) GetObjectReader(ctx context.Context, bck cluster.Bucket, name string, opts GetOptions) (io.ReadCloser, *ObjectAttrs, error) {
	if err := validateObject(bck, name); err != nil {
		return nil, nil, err
	}
	if opts.Offset < 0 || opts.Length < 0 {
		return nil, nil, cluster.Errorf(cluster.ErrBadRequest, "negative range %d+%d", opts.Offset, opts.Length)
	}
	hdr := http.Header{}
	switch {
	case opts.Length > 0:
		hdr.Set("Range", fmt.Sprintf("bytes=%d-%d", opts.Offset, opts.Offset+opts.Length-1))
	case opts.Offset > 0:
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", opts.Offset))
	}
	var resp *http.Response
	err := c.routed(ctx, bck, name, func(rt route) (err error) {
		resp, err = c.do(ctx, c.hc, &request{
			method: http.MethodGet, base: rt.base, path: ObjectPath(bck.Name, name), query: rt.query(bucketQuery(bck)),
			header: hdr, what: objectWhat(bck, name),
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	a := attrsFromHeader(bck, name, resp.Header)
	a.Size, a.Present = sizeOf(resp), true
	return resp.Body, a, nil
}

// GetObject copies object name of bck (or the range opts selects) to w and
// returns its attributes. When it reads the whole object and the target sent
// an xxhash2 checksum, it verifies the content and returns an error matching
// cluster.ErrChecksum on mismatch (w has then received the bad bytes).
func (c *Client) GetObject(ctx context.Context, bck cluster.Bucket, name string, w io.Writer, opts GetOptions) (*ObjectAttrs, error) {
	rc, a, err := c.GetObjectReader(ctx, bck, name, opts)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var h hash.Hash64
	dst := w
	if opts.Offset == 0 && opts.Length == 0 && a.Checksum.Type == cluster.ChecksumXXHash2 && a.Checksum.Value != "" {
		h = xxhash.New64()
		dst = io.MultiWriter(w, h)
	}
	n, err := io.Copy(dst, rc)
	if err != nil {
		return nil, fmt.Errorf("GET %s: after %d bytes: %w", objectWhat(bck, name), n, err)
	}
	if h != nil {
		if got := fmt.Sprintf("%016x", h.Sum64()); got != a.Checksum.Value {
			return nil, cluster.Errorf(cluster.ErrChecksum, "GET %s: content has %s %s, the target says %s",
				objectWhat(bck, name), cluster.ChecksumXXHash2, got, a.Checksum.Value)
		}
	}
	return a, nil
}

// HeadObject returns the attributes of object name in bck, or an error
// matching cluster.ErrNotFound.
func (c *Client) HeadObject(ctx context.Context, bck cluster.Bucket, name string) (*ObjectAttrs, error) {
	if err := validateObject(bck, name); err != nil {
		return nil, err
	}
	var resp *http.Response
	err := c.routed(ctx, bck, name, func(rt route) (err error) {
		resp, err = c.do(ctx, c.hc, &request{
			method: http.MethodHead, base: rt.base, path: ObjectPath(bck.Name, name), query: rt.query(bucketQuery(bck)),
			what: objectWhat(bck, name),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	drainClose(resp.Body)
	a := attrsFromHeader(bck, name, resp.Header)
	a.Size = resp.ContentLength
	return a, nil
}

// DeleteObject deletes object name in bck, or returns an error matching
// cluster.ErrNotFound.
func (c *Client) DeleteObject(ctx context.Context, bck cluster.Bucket, name string) error {
	if err := validateObject(bck, name); err != nil {
		return err
	}
	var resp *http.Response
	err := c.routed(ctx, bck, name, func(rt route) (err error) {
		resp, err = c.do(ctx, c.hc, &request{
			method: http.MethodDelete, base: rt.base, path: ObjectPath(bck.Name, name), query: rt.query(bucketQuery(bck)),
			what: objectWhat(bck, name),
		})
		return err
	})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}
