package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/s3"
	"miniais/s3/sigv4"
)

// # The S3 gateway
//
// The proxy serves S3's API under /s3 (and, with S3Config.Addressing, at
// the root and virtual-hosted; package s3 says how). Bucket operations it
// does itself, with the machinery of the v1 API (the bucket transactions,
// the listing merged from every target). Each object operation it
// translates into the native v1 request and sends to the object's HRW owner
// itself, streaming the body both ways (S3 clients do not follow a 307 for
// a PUT): nothing is buffered, and the target computes the MD5 ETag in its
// single pass over the body (s3.HdrETagMD5). CopyObject and UploadPartCopy
// stream the source from its owner to the destination's owner through the
// proxy, so that the copy gets its own MD5 (and a byte range for a part).
//
// One S3 request is one trace: the server span is named by the operation
// ("S3 PutObject") with the attributes aws.s3.bucket, aws.s3.key,
// aws.s3.upload_id and aws.s3.part_number; the request to the target is a
// client span of the proxy's traced HTTP client, the target's spans its
// children.

// S3Config configures the S3 gateway.
type S3Config struct {
	// Addressing adds root-path and virtual-hosted-style requests.
	Addressing s3.Addressing
	// Verifier authenticates every S3 request before anything is touched,
	// and decodes and verifies its payload (aws-chunked, Content-MD5,
	// x-amz-checksum-*). Without credentials (nil, or no Creds) the gateway
	// is open, as the start-up log says: every request is served, its
	// payload still verified.
	Verifier *sigv4.Verifier
	// Region is what GetBucketLocation answers ("" is us-east-1).
	Region string
}

// s3Gateway is the proxy's state of the gateway.
type s3Gateway struct {
	once sync.Once
	hc   *http.Client
}

// client returns the HTTP client of object requests to targets: traced,
// without an overall timeout (bodies stream for as long as they take).
func (g *s3Gateway) client(p *Proxy) *http.Client {
	g.once.Do(func() {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 256
		tr.DisableCompression = true
		// Bodies stream through: fewer, larger writes and reads.
		tr.WriteBufferSize, tr.ReadBufferSize = 64<<10, 64<<10
		g.hc = &http.Client{
			Transport:     p.cfg.Tracing.Transport(tr),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return g.hc
}

// s3Routes registers the gateway's routes on m.
func (p *Proxy) s3Routes(m *server.Mux) {
	m.HandleFunc("GET "+s3.Prefix, p.serveS3)
	m.HandleFunc("GET "+s3.Prefix+"/{$}", p.serveS3)
	// Every method, so that S3 (not the v1 API) answers the ones it does
	// not take: MethodNotAllowed in XML.
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		m.HandleFunc(method+" "+s3.Prefix+"/{bucket}", p.serveS3)
		m.HandleFunc(method+" "+s3.Prefix+"/{bucket}/{key...}", p.serveS3)
	}
	if p.cfg.S3.Verifier == nil {
		p.cfg.S3.Verifier = &sigv4.Verifier{Region: sigv4.AnyRegion} // open
	}
	if len(p.cfg.S3.Verifier.Creds) == 0 {
		p.log.Warn("S3 gateway is open: no credentials file (-s3_credentials), every S3 request is served unauthenticated",
			"root", p.cfg.S3.Addressing.Root, "domain", p.cfg.S3.Addressing.Domain)
	} else {
		p.log.Info("S3 gateway requires AWS Signature V4", "root", p.cfg.S3.Addressing.Root, "domain", p.cfg.S3.Addressing.Domain)
	}
}

// s3Addressed returns h behind the rewrite of root-path and virtual-hosted
// S3 requests to /s3/... (s3.Addressing.Rewrite).
func (p *Proxy) s3Addressed(h http.Handler) http.Handler {
	a := p.cfg.S3.Addressing
	if !a.Root && a.Domain == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Rewrite(r, nativePath)
		h.ServeHTTP(w, r)
	})
}

// nativePath reports whether a root path belongs to the node's own API.
func nativePath(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/") || path == server.PathMetrics || strings.HasPrefix(path, server.PathMetrics+"/")
}

// s3Request is one S3 request being served.
type s3Request struct {
	*s3.Request
	w   http.ResponseWriter
	r   *http.Request
	bck cluster.Bucket
}

// serveS3 serves every S3 request.
func (p *Proxy) serveS3(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	span := trace.SpanFromContext(ctx)
	if sc := span.SpanContext(); sc.IsValid() {
		// The request's ID, as S3 clients report it, is its trace's.
		w.Header().Set("X-Amz-Request-Id", sc.TraceID().String())
	}
	auth, err := p.cfg.S3.Verifier.Verify(r)
	if err != nil {
		p.s3Error(w, r, err, "")
		return
	}
	if auth.Body != nil {
		r.Body, r.ContentLength = auth.Body, auth.Size
	}
	req, err := s3.Parse(r, r.PathValue("bucket"), r.PathValue("key"))
	if err != nil {
		p.s3Error(w, r, err, "")
		return
	}
	if span.IsRecording() {
		span.SetName("S3 " + req.Op.Name)
		span.SetAttributes(attribute.String("aws.s3.operation", req.Op.Name), attribute.String("ais.node_id", p.cfg.ID))
		if req.Bucket != "" {
			span.SetAttributes(attribute.String("aws.s3.bucket", req.Bucket))
		}
		if req.Key != "" {
			span.SetAttributes(attribute.String("aws.s3.key", req.Key))
		}
		if req.UploadID != "" {
			span.SetAttributes(attribute.String("aws.s3.upload_id", req.UploadID))
		}
		if req.PartNumber != 0 {
			span.SetAttributes(attribute.Int("aws.s3.part_number", req.PartNumber))
		}
	}
	sr := &s3Request{Request: req, w: w, r: r, bck: cluster.NewBucket(req.Bucket)}
	if req.Op.Level == s3.LevelObject {
		// Object data streams for as long as it takes; the server's
		// deadlines are for the v1 API's small bodies.
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Time{})
		rc.SetWriteDeadline(time.Time{})
	}
	missing := s3.CodeNoSuchKey
	if req.Op.Level != s3.LevelObject {
		missing = s3.CodeNoSuchBucket
	}
	if req.UploadID != "" {
		missing = s3.CodeNoSuchUpload
	}
	if req.Op.Level != s3.LevelService && req.Op.Name != "CreateBucket" && p.bmd.Load().Get(sr.bck) == nil {
		p.s3Error(w, r, s3.Errorf(s3.CodeNoSuchBucket, "the specified bucket does not exist"), "")
		return
	}
	if err := p.s3Op(sr); err != nil {
		p.s3Error(w, r, err, missing)
	}
}

// s3Op runs the operation of sr.
func (p *Proxy) s3Op(sr *s3Request) error {
	switch sr.Op.Name {
	case "ListBuckets":
		return p.s3ListBuckets(sr)
	case "CreateBucket":
		return p.s3CreateBucket(sr)
	case "HeadBucket":
		sr.w.WriteHeader(http.StatusOK)
		return nil
	case "DeleteBucket":
		return p.s3DeleteBucket(sr)
	case "GetBucketLocation":
		s3.WriteXML(sr.w, http.StatusOK, s3.LocationConstraint{XMLNS: s3.XMLNS, Region: p.cfg.S3.Region})
		return nil
	case "ListObjects", "ListObjectsV2":
		return p.s3ListObjects(sr)
	case "ListMultipartUploads":
		return p.s3ListUploads(sr)
	case "DeleteObjects":
		return p.s3DeleteObjects(sr)
	case "PutObject", "UploadPart":
		return p.s3Put(sr)
	case "CopyObject", "UploadPartCopy":
		return p.s3Copy(sr)
	case "GetObject", "HeadObject":
		return p.s3Get(sr)
	case "DeleteObject":
		return p.s3DeleteObject(sr)
	case "CreateMultipartUpload":
		return p.s3CreateUpload(sr)
	case "CompleteMultipartUpload":
		return p.s3CompleteUpload(sr)
	case "AbortMultipartUpload":
		return p.s3AbortUpload(sr)
	case "ListParts":
		return p.s3ListParts(sr)
	}
	return s3.Errorf(s3.CodeNotImplemented, "%s is not implemented", sr.Op.Name)
}

// s3Error writes err as S3's XML error (missing: the code of
// cluster.ErrNotFound, see s3.ErrorOf).
func (p *Proxy) s3Error(w http.ResponseWriter, r *http.Request, err error, missing string) {
	e := s3.ErrorOf(err, missing)
	span := trace.SpanFromContext(r.Context())
	var id string
	if span.SpanContext().IsValid() {
		id = span.SpanContext().TraceID().String()
	}
	if e.Code.Status >= 500 && e.Code.Status != http.StatusNotImplemented {
		p.log.WarnContext(r.Context(), "S3 request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code.Name, "err", err)
	}
	if span.IsRecording() {
		span.SetAttributes(attribute.String("aws.s3.error_code", e.Code.Name))
	}
	s3.WriteError(w, r, e, id)
}

// toTarget sends the native request for object key of bck to its owner:
// method, the query q (the proxy's pid and utm are added, as on a
// redirect), the headers h, and body of size bytes (nil: none). A reply
// with status 400 or more is returned as the error (*wire.HTTPError, which
// errors.Is matches against its kind), its body closed; 304 is returned as
// a reply.
func (p *Proxy) toTarget(ctx context.Context, method string, bck cluster.Bucket, key string, q url.Values, h http.Header, body io.Reader, size int64) (*http.Response, error) {
	if method != http.MethodGet && method != http.MethodHead {
		if err := p.jobs.busy(bck, wire.KindMoveBck); err != nil {
			return nil, err
		}
	}
	t, err := p.smap.Load().Owner(bck.Uname(key))
	if err != nil {
		return nil, err
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("ais.target", t.ID))
	if q == nil {
		q = url.Values{}
	}
	q.Set(wire.QparamProxyID, p.cfg.ID)
	q.Set(wire.QparamUnixTime, strconv.FormatInt(time.Now().UnixNano(), 36))
	u := t.URL() + wire.PathObjects + "/" + url.PathEscape(bck.Name) + "/" + escapeKey(key) + "?" + q.Encode()
	var sent *bodyErr
	if body != nil && size > 0 {
		sent = &bodyErr{r: body}
		body = sent
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			// Read the empty body to its end all the same: that is where
			// its signature and digests are verified.
			if _, err := io.Copy(io.Discard, body); err != nil {
				return nil, err
			}
			req.Body = http.NoBody
		}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set(wire.HdrCallerName, p.cfg.ID)
	resp, err := p.s3.client(p).Do(req)
	if err != nil {
		if berr := sent.failed(); berr != nil {
			return nil, berr // the body failed (its digest, its length): not the target
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, cluster.Errorf(cluster.ErrUnavailable, "target %s did not answer: %v", t.ID, err)
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, targetError(resp)
}

// bodyErr remembers the error of the body it reads (io.EOF aside); the
// HTTP transport reads it in a goroutine of its own.
type bodyErr struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (b *bodyErr) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// failed returns the body's error (nil for a nil bodyErr).
func (b *bodyErr) failed() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// targetError decodes a target's error reply.
func targetError(resp *http.Response) error {
	he := &wire.HTTPError{}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if len(b) == 0 {
		b = []byte(resp.Header.Get(wire.HdrError))
	}
	if err := json.Unmarshal(b, he); err != nil || he.Message == "" {
		he = &wire.HTTPError{Message: strings.TrimSpace(string(b))}
	}
	he.Status = resp.StatusCode
	if he.Message == "" {
		he.Message = http.StatusText(resp.StatusCode)
	}
	return he
}

// escapeKey escapes each segment of an object name for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// md5Header asks the target for the MD5 ETag.
func md5Header() http.Header { return http.Header{s3.HdrETagMD5: {"1"}} }

// s3Put serves PutObject and UploadPart: the body streams to the owner.
func (p *Proxy) s3Put(sr *s3Request) error {
	r := sr.r
	size := r.ContentLength
	if size < 0 {
		return s3.Errorf(s3.CodeMissingContentLength, "you must provide the Content-Length HTTP header")
	}
	body := s3.Guard(r.Body, size)
	var q url.Values
	if sr.UploadID != "" {
		q = url.Values{wire.QparamUploadID: {sr.UploadID}, wire.QparamPartNumber: {strconv.Itoa(sr.PartNumber)}}
	}
	resp, err := p.toTarget(r.Context(), http.MethodPut, sr.bck, sr.Key, q, md5Header(), body, size)
	if err != nil {
		return err
	}
	resp.Body.Close()
	sr.w.Header().Set("Etag", resp.Header.Get("Etag"))
	sr.w.WriteHeader(http.StatusOK)
	return nil
}

// s3Get serves GetObject and HeadObject, with Range and the conditional
// headers (the target evaluates them).
func (p *Proxy) s3Get(sr *s3Request) error {
	r := sr.r
	h := http.Header{}
	for _, k := range []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := r.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	resp, err := p.toTarget(r.Context(), r.Method, sr.bck, sr.Key, nil, h, nil, 0)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out := sr.w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "Etag", "Last-Modified", "Accept-Ranges", "Content-Type"} {
		if v := resp.Header.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	if resp.StatusCode == http.StatusNotModified {
		out.Del("Content-Length")
		out.Del("Content-Type")
	}
	sr.w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	if n, err := io.Copy(sr.w, resp.Body); err != nil {
		// The status is sent: the client sees a short body. Say why.
		p.log.WarnContext(r.Context(), "S3 GET: reply cut short", "bucket", sr.Bucket, "key", sr.Key, "sent", n, "err", err)
	}
	return nil
}

// s3DeleteObject serves DeleteObject: 204 whether or not the key existed.
func (p *Proxy) s3DeleteObject(sr *s3Request) error {
	if err := p.deleteKey(sr.r.Context(), sr.bck, sr.Key); err != nil {
		return err
	}
	sr.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteKey deletes one object; a missing one is no error (S3's delete is
// idempotent).
func (p *Proxy) deleteKey(ctx context.Context, bck cluster.Bucket, key string) error {
	resp, err := p.toTarget(ctx, http.MethodDelete, bck, key, nil, nil, nil, 0)
	if err != nil {
		if wire.StatusOf(err) == http.StatusNotFound {
			return nil
		}
		return err
	}
	resp.Body.Close()
	return nil
}

// actionBody is the JSON of a native action message.
func actionBody(action string, value any) (io.Reader, int64, error) {
	msg := map[string]any{"action": action}
	if value != nil {
		msg["value"] = value
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

var jsonHeader = http.Header{"Content-Type": {wire.ContentJSON}}

// s3CreateUpload serves CreateMultipartUpload.
func (p *Proxy) s3CreateUpload(sr *s3Request) error {
	body, n, err := actionBody(wire.ActMptUpload, nil)
	if err != nil {
		return err
	}
	resp, err := p.toTarget(sr.r.Context(), http.MethodPost, sr.bck, sr.Key, nil, jsonHeader, body, n)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	id, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return err
	}
	trace.SpanFromContext(sr.r.Context()).SetAttributes(attribute.String("aws.s3.upload_id", string(id)))
	s3.WriteXML(sr.w, http.StatusOK, s3.InitiateMultipartUploadResult{XMLNS: s3.XMLNS, Bucket: sr.Bucket, Key: sr.Key, UploadID: string(id)})
	return nil
}

// s3CompleteUpload serves CompleteMultipartUpload.
func (p *Proxy) s3CompleteUpload(sr *s3Request) error {
	var in s3.CompleteMultipartUpload
	if err := s3.DecodeXML(sr.r, &in); err != nil {
		return err
	}
	if len(in.Parts) == 0 {
		return s3.Errorf(s3.CodeMalformedXML, "the XML you provided lists no parts")
	}
	parts := make([]wire.MptCompletedPart, len(in.Parts))
	for i, pt := range in.Parts {
		if i > 0 && pt.PartNumber <= in.Parts[i-1].PartNumber {
			return s3.Errorf(s3.CodeInvalidPartOrder, "the list of parts was not in ascending order; parts must be ordered by part number")
		}
		parts[i] = wire.MptCompletedPart{ETag: strings.Trim(pt.ETag, `"`), PartNumber: pt.PartNumber}
	}
	if err := p.checkPartSizes(sr, parts); err != nil {
		return err
	}
	body, n, err := actionBody(wire.ActMptComplete, parts)
	if err != nil {
		return err
	}
	h := md5Header()
	h.Set("Content-Type", wire.ContentJSON)
	q := url.Values{wire.QparamUploadID: {sr.UploadID}}
	resp, err := p.toTarget(sr.r.Context(), http.MethodPost, sr.bck, sr.Key, q, h, body, n)
	if err != nil {
		if wire.StatusOf(err) == http.StatusBadRequest {
			return s3.Errorf(s3.CodeInvalidPart, "one or more of the specified parts could not be found or its ETag did not match: %v", err)
		}
		return err
	}
	resp.Body.Close()
	s3.WriteXML(sr.w, http.StatusOK, s3.CompleteMultipartUploadResult{
		XMLNS: s3.XMLNS, Location: s3.Prefix + "/" + sr.Bucket + "/" + sr.Key, Bucket: sr.Bucket, Key: sr.Key, ETag: resp.Header.Get("Etag"),
	})
	return nil
}

// minPartSize is S3's smallest part but the last of a completed upload.
const minPartSize = 5 << 20

// checkPartSizes refuses a completion whose parts (but the last) are
// smaller than minPartSize (EntityTooSmall), or that lists a part the
// upload does not have (InvalidPart), asking the owner for the parts.
func (p *Proxy) checkPartSizes(sr *s3Request, list []wire.MptCompletedPart) error {
	parts, err := p.nativeParts(sr)
	if err != nil {
		return err
	}
	sizes := make(map[int]int64, len(parts))
	for _, pt := range parts {
		sizes[pt.Number] = pt.Size
	}
	for i, pt := range list {
		size, ok := sizes[pt.PartNumber]
		switch {
		case !ok:
			return s3.Errorf(s3.CodeInvalidPart, "part %d was not uploaded", pt.PartNumber)
		case i < len(list)-1 && size < minPartSize:
			return s3.Errorf(s3.CodeEntityTooSmall, "your proposed upload is smaller than the minimum allowed size: part %d has %d bytes, the minimum is %d", pt.PartNumber, size, minPartSize)
		}
	}
	return nil
}

// nativeParts asks the owner for the parts an upload has received.
func (p *Proxy) nativeParts(sr *s3Request) ([]s3.NativePart, error) {
	resp, err := p.toTarget(sr.r.Context(), http.MethodGet, sr.bck, sr.Key, url.Values{wire.QparamUploadID: {sr.UploadID}}, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var parts []s3.NativePart
	if err := json.NewDecoder(resp.Body).Decode(&parts); err != nil {
		return nil, fmt.Errorf("list parts: malformed reply from the target: %w", err)
	}
	return parts, nil
}

// s3AbortUpload serves AbortMultipartUpload.
func (p *Proxy) s3AbortUpload(sr *s3Request) error {
	body, n, err := actionBody(wire.ActMptAbort, nil)
	if err != nil {
		return err
	}
	q := url.Values{wire.QparamUploadID: {sr.UploadID}}
	resp, err := p.toTarget(sr.r.Context(), http.MethodDelete, sr.bck, sr.Key, q, jsonHeader, body, n)
	if err != nil {
		return err
	}
	resp.Body.Close()
	sr.w.WriteHeader(http.StatusNoContent)
	return nil
}

// s3ListParts serves ListParts.
func (p *Proxy) s3ListParts(sr *s3Request) error {
	q := sr.r.URL.Query()
	maxParts, err := intParam(q, "max-parts", 1000)
	if err != nil {
		return err
	}
	marker, err := intParam(q, "part-number-marker", 0)
	if err != nil {
		return err
	}
	parts, err := p.nativeParts(sr)
	if err != nil {
		return err
	}
	out := s3.ListPartsResult{XMLNS: s3.XMLNS, Bucket: sr.Bucket, Key: sr.Key, UploadID: sr.UploadID,
		PartNumberMarker: marker, MaxParts: maxParts, StorageClass: "STANDARD"}
	now := s3.Time(time.Now())
	for _, pt := range parts {
		if pt.Number <= marker {
			continue
		}
		if len(out.Parts) == maxParts {
			out.IsTruncated = true
			break
		}
		out.Parts = append(out.Parts, s3.Part{PartNumber: pt.Number, ETag: pt.ETag, Size: pt.Size, LastModified: now})
		out.NextPartNumberMarker = pt.Number
	}
	s3.WriteXML(sr.w, http.StatusOK, out)
	return nil
}

// intParam returns a non-negative integer query parameter (def when
// absent); a malformed one is InvalidArgument.
func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, s3.Errorf(s3.CodeInvalidArgument, "%s must be a non-negative integer, not %q", name, v)
	}
	return n, nil
}

// s3Copy serves CopyObject and UploadPartCopy: the source (a byte range
// of it, for a part) streams from its owner to the destination's owner.
func (p *Proxy) s3Copy(sr *s3Request) error {
	r := sr.r
	srcBck, srcKey, err := copySource(r.Header.Get(s3.HdrCopySource))
	if err != nil {
		return err
	}
	if p.bmd.Load().Get(srcBck) == nil {
		return s3.Errorf(s3.CodeNoSuchBucket, "the source bucket %q does not exist", srcBck.Name)
	}
	if sr.UploadID == "" && srcBck == sr.bck && srcKey == sr.Key {
		return s3.Errorf(s3.CodeInvalidRequest, "this copy request is illegal because it is trying to copy an object to itself without changing the object's metadata")
	}
	h := http.Header{}
	if rg := r.Header.Get(s3.HdrCopySourceRange); rg != "" {
		if sr.UploadID == "" {
			return s3.Errorf(s3.CodeInvalidArgument, "%s applies only to UploadPartCopy", s3.HdrCopySourceRange)
		}
		if !strings.HasPrefix(rg, "bytes=") || strings.Contains(rg, ",") {
			return s3.Errorf(s3.CodeInvalidArgument, "the x-amz-copy-source-range value must be of the form bytes=first-last")
		}
		h.Set("Range", rg)
	}
	for _, k := range []string{"X-Amz-Copy-Source-If-Match", "X-Amz-Copy-Source-If-None-Match", "X-Amz-Copy-Source-If-Modified-Since", "X-Amz-Copy-Source-If-Unmodified-Since"} {
		if v := r.Header.Get(k); v != "" {
			h.Set(strings.TrimPrefix(k, "X-Amz-Copy-Source-"), v)
		}
	}
	ctx := r.Context()
	src, err := p.toTarget(ctx, http.MethodGet, srcBck, srcKey, nil, h, nil, 0)
	if err != nil {
		if wire.StatusOf(err) == http.StatusNotFound {
			return s3.Errorf(s3.CodeNoSuchKey, "the source key %q does not exist", srcKey)
		}
		return err
	}
	defer src.Body.Close()
	if src.StatusCode == http.StatusNotModified {
		return s3.Errorf(s3.CodePreconditionFailed, "at least one of the preconditions you specified did not hold")
	}
	if src.ContentLength < 0 {
		return fmt.Errorf("copy: the source's owner sent no Content-Length")
	}
	var q url.Values
	if sr.UploadID != "" {
		q = url.Values{wire.QparamUploadID: {sr.UploadID}, wire.QparamPartNumber: {strconv.Itoa(sr.PartNumber)}}
	}
	body := s3.Guard(src.Body, src.ContentLength)
	resp, err := p.toTarget(ctx, http.MethodPut, sr.bck, sr.Key, q, md5Header(), body, src.ContentLength)
	if err != nil {
		return err
	}
	resp.Body.Close()
	etag, mod := resp.Header.Get("Etag"), s3.Time(time.Now())
	if sr.UploadID != "" {
		s3.WriteXML(sr.w, http.StatusOK, s3.CopyPartResult{XMLNS: s3.XMLNS, ETag: etag, LastModified: mod})
		return nil
	}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		mod = s3.Time(t)
	}
	s3.WriteXML(sr.w, http.StatusOK, s3.CopyObjectResult{XMLNS: s3.XMLNS, ETag: etag, LastModified: mod})
	return nil
}

// copySource parses x-amz-copy-source: "BUCKET/KEY" or "/BUCKET/KEY",
// URL-encoded; a version (?versionId=) is not implemented.
func copySource(v string) (cluster.Bucket, string, error) {
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		return cluster.Bucket{}, "", s3.Errorf(s3.CodeNotImplemented, "x-amz-copy-source with %q (object versions) is not implemented", query)
	}
	dec, err := url.PathUnescape(path)
	if err != nil {
		return cluster.Bucket{}, "", s3.Errorf(s3.CodeInvalidArgument, "malformed x-amz-copy-source %q", v)
	}
	b, k, ok := strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if !ok || b == "" || k == "" {
		return cluster.Bucket{}, "", s3.Errorf(s3.CodeInvalidArgument, "x-amz-copy-source %q must be BUCKET/KEY", v)
	}
	bck := cluster.NewBucket(b)
	if err := bck.Validate(); err != nil {
		return cluster.Bucket{}, "", s3.Errorf(s3.CodeInvalidBucketName, "x-amz-copy-source: %v", err)
	}
	if err := cluster.ValidateObjectName(k); err != nil {
		return cluster.Bucket{}, "", s3.Errorf(s3.CodeInvalidArgument, "x-amz-copy-source: %v", err)
	}
	return bck, k, nil
}

// s3ListBuckets serves ListBuckets.
func (p *Proxy) s3ListBuckets(sr *s3Request) error {
	bmd := p.bmd.Load()
	out := s3.ListAllMyBucketsResult{XMLNS: s3.XMLNS, Owner: s3Owner}
	for name, props := range bmd.Buckets {
		out.Buckets = append(out.Buckets, s3.BucketEntry{Name: name, CreationDate: s3.Time(time.Unix(0, props.Created))})
	}
	slices.SortFunc(out.Buckets, func(a, b s3.BucketEntry) int { return strings.Compare(a.Name, b.Name) })
	s3.WriteXML(sr.w, http.StatusOK, out)
	return nil
}

// s3Owner owns every bucket and object.
var s3Owner = s3.Owner{ID: "miniais", DisplayName: "miniais"}

// s3CreateBucket serves CreateBucket (any location constraint: the
// cluster has one region).
func (p *Proxy) s3CreateBucket(sr *s3Request) error {
	if sr.r.ContentLength != 0 {
		var cfg s3.CreateBucketConfiguration
		if err := s3.DecodeXML(sr.r, &cfg); err != nil {
			return err
		}
	}
	if p.bmd.Load().Get(sr.bck) != nil {
		return s3.Errorf(s3.CodeBucketAlreadyOwnedByYou, "your previous request to create the named bucket succeeded and you already own it")
	}
	if err := p.createBucket(sr.r.Context(), sr.bck, nil); err != nil {
		return err
	}
	sr.w.Header().Set("Location", "/"+sr.Bucket)
	sr.w.WriteHeader(http.StatusOK)
	return nil
}

// s3DeleteBucket serves DeleteBucket: only an empty bucket, with no job
// running on it.
func (p *Proxy) s3DeleteBucket(sr *s3Request) error {
	page, err := p.s3Page(sr.r.Context(), sr.bck, wire.ListObjsMsg{PageSize: 1, Props: "name"})
	if err != nil {
		return err
	}
	if len(page.Entries) > 0 {
		return s3.Errorf(s3.CodeBucketNotEmpty, "the bucket you tried to delete is not empty")
	}
	if err := p.jobs.busy(sr.bck); err != nil {
		return err
	}
	if err := p.destroyBucket(sr.r.Context(), sr.bck); err != nil {
		return err
	}
	sr.w.WriteHeader(http.StatusNoContent)
	return nil
}
