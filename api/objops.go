package api

import (
	"bytes"
	"cmp"
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

	"miniais/api/wire"
	"miniais/cluster"
)

// The synchronous object operations beyond PUT, GET, HEAD and DELETE, spelled
// as AIStore's own clients send them (shared/aistore-clients.md section 5):
// copy, rename, append and flush, multipart upload, and TAR archive members.
// Each goes to the proxy, which redirects it to the owner of the object in
// the path (with WithDirectRouting, straight to the owner).

// uname is AIStore's unique name of an object, as object_to carries it:
// "ais/@#/BUCKET/OBJECT".
func uname(bck cluster.Bucket, name string) string { return bck.Uname(name) }

// putOp sends a PUT of the object with the extra query and headers of an
// operation and body r (nil: none), following the proxy's redirect, and
// returns the target's reply headers and attributes.
func (c *Client) putOp(ctx context.Context, bck cluster.Bucket, name string, extra url.Values, hdr http.Header, r io.Reader, size int64, opts PutOptions) (*ObjectAttrs, http.Header, error) {
	if err := validateObject(bck, name); err != nil {
		return nil, nil, err
	}
	body, err := newPutBody(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("PUT %s: %w", objectWhat(bck, name), err)
	}
	var attrs *ObjectAttrs
	var rh http.Header
	err = c.routed(ctx, bck, name, func(rt route) error {
		q := bucketQuery(bck)
		for k, v := range extra {
			q[k] = v
		}
		loc := rt.base + ObjectPath(bck.Name, name) + "?" + rt.query(q).Encode()
		attrs, rh, err = c.putHops(ctx, bck, name, loc, body, opts, hdr, rt.direct())
		return err
	})
	return attrs, rh, err
}

// objectAction sends an action message on an object (POST, or DELETE for
// the abort) with the extra query, following the redirect, and returns the
// reply's body (at most 64 KiB: an upload ID). Like AIStore's client it
// sends no Content-Type with the JSON body.
func (c *Client) objectAction(ctx context.Context, method string, bck cluster.Bucket, name string, extra url.Values, msg wire.ActionMsg) ([]byte, *ObjectAttrs, error) {
	if err := validateObject(bck, name); err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, nil, err
	}
	var out []byte
	var attrs *ObjectAttrs
	err = c.routed(ctx, bck, name, func(rt route) error {
		q := bucketQuery(bck)
		for k, v := range extra {
			q[k] = v
		}
		resp, err := c.do(ctx, c.hc, &request{
			method: method, base: rt.base, path: ObjectPath(bck.Name, name), query: rt.query(q),
			body: bytes.NewReader(b), what: objectWhat(bck, name),
		})
		if err != nil {
			return err
		}
		defer drainClose(resp.Body)
		out, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		attrs = attrsFromHeader(bck, name, resp.Header)
		return err
	})
	return out, attrs, err
}

// CopyObject copies object name of bck to object dstName of dst (AIStore's
// "ais object cp"): PUT /v1/objects/B/O?object_to=ais%2F%40%23%2FB2%2FO2
// with no body. The source's owner reads it and writes the copy on the
// destination's owner, which verifies its checksum and makes it appear
// atomically; the source is not touched. It returns the copy's checksum,
// version and atime as the cluster reports them (Size -1: not reported).
func (c *Client) CopyObject(ctx context.Context, bck cluster.Bucket, name string, dst cluster.Bucket, dstName string) (*ObjectAttrs, error) {
	if err := validateObject(dst, dstName); err != nil {
		return nil, err
	}
	a, _, err := c.putOp(ctx, bck, name, url.Values{wire.QparamObjectTo: {uname(dst, dstName)}}, nil, nil, 0, PutOptions{})
	if a != nil {
		a.Bucket, a.Name, a.Size = dst, dstName, -1 // the reply does not say
	}
	return a, err
}

// RenameObject renames object name of bck to newName in the same bucket
// (AIStore's "ais object mv"): POST /v1/objects/B/O
// {"action":"rename-obj","name":NEW}. A reader finds the object under one
// of the two names while it runs, and only under newName once it returns.
func (c *Client) RenameObject(ctx context.Context, bck cluster.Bucket, name, newName string) error {
	if err := cluster.ValidateObjectName(newName); err != nil {
		return err
	}
	_, _, err := c.objectAction(ctx, http.MethodPost, bck, name, nil, wire.ActionMsg{Action: wire.ActRenameObj, Name: newName})
	return err
}

// AppendObject adds the content of r to a pending new version of object
// name of bck and returns the handle to pass to the next AppendObject or to
// FlushObject: PUT ?append_type=append&append_handle=H. An empty handle
// starts a pending version, from the object's current content if it
// exists. opts.Size is the piece's length (-1 or 0 when unknown, as for
// PutObject); opts.Checksum, when set, is the piece's checksum, which the
// target verifies. Nothing is visible until FlushObject. A failed append
// changes nothing: the same handle may be used again.
func (c *Client) AppendObject(ctx context.Context, bck cluster.Bucket, name, handle string, r io.Reader, opts PutOptions) (string, error) {
	q := url.Values{wire.QparamAppendType: {wire.AppendOp}, wire.QparamAppendHandle: {handle}}
	if r == nil {
		r = strings.NewReader("")
	}
	_, rh, err := c.putOp(ctx, bck, name, q, nil, r, opts.Size, opts)
	if err != nil {
		return "", err
	}
	h := rh.Get(wire.HdrAppendHandle)
	if h == "" {
		return "", fmt.Errorf("append to %s: the reply has no %s", objectWhat(bck, name), wire.HdrAppendHandle)
	}
	return h, nil
}

// FlushObject makes the pending version that handle names the object (PUT
// ?append_type=flush&append_handle=H), atomically. With a non-empty
// checksum the cluster first compares it with what was appended and
// refuses a mismatch (cluster.ErrChecksum), making nothing visible (the
// pending version is then dropped: start again with an empty handle). It
// returns the object's checksum, version and atime (Size -1: not
// reported).
func (c *Client) FlushObject(ctx context.Context, bck cluster.Bucket, name, handle string, cksum cluster.Checksum) (*ObjectAttrs, error) {
	q := url.Values{wire.QparamAppendType: {wire.FlushOp}, wire.QparamAppendHandle: {handle}}
	a, _, err := c.putOp(ctx, bck, name, q, nil, nil, 0, PutOptions{Checksum: cksum})
	if a != nil {
		a.Size = -1 // the reply does not say
	}
	return a, err
}

// CreateMultipartUpload starts a multipart upload of object name of bck
// (POST {"action":"mpt-upload"}) and returns its ID.
func (c *Client) CreateMultipartUpload(ctx context.Context, bck cluster.Bucket, name string) (string, error) {
	b, _, err := c.objectAction(ctx, http.MethodPost, bck, name, nil, wire.ActionMsg{Action: wire.ActMptUpload})
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("multipart upload of %s: empty upload ID", objectWhat(bck, name))
	}
	return id, nil
}

// UploadPart sends part number (1 to 10000) of upload id: PUT
// ?uploadId=ID&partNumber=N with the content of r (size bytes, or -1).
// Parts may be sent in any order and concurrently; sending a number again
// replaces that part. It returns the part's ETag (its checksum, of the
// bucket's type, in double quotes).
func (c *Client) UploadPart(ctx context.Context, bck cluster.Bucket, name, id string, number int, r io.Reader, size int64) (string, error) {
	q := url.Values{wire.QparamUploadID: {id}, wire.QparamPartNumber: {strconv.Itoa(number)}}
	if r == nil {
		r = strings.NewReader("")
	}
	_, rh, err := c.putOp(ctx, bck, name, q, nil, r, size, PutOptions{Size: size})
	if err != nil {
		return "", err
	}
	return rh.Get("Etag"), nil
}

// CompleteMultipartUpload assembles the given parts of upload id into the
// object (POST ?uploadId=ID {"action":"mpt-complete","value":[{"etag":"",
// "part-number":N},...]}), in part-number order, atomically, with one
// checksum of the bucket's type; parts not listed are dropped.
func (c *Client) CompleteMultipartUpload(ctx context.Context, bck cluster.Bucket, name, id string, parts []int) (*ObjectAttrs, error) {
	list := make([]wire.MptCompletedPart, len(parts))
	for i, n := range parts {
		list[i] = wire.MptCompletedPart{PartNumber: n}
	}
	val, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	_, a, err := c.objectAction(ctx, http.MethodPost, bck, name, url.Values{wire.QparamUploadID: {id}}, wire.ActionMsg{Action: wire.ActMptComplete, Value: val})
	return a, err
}

// AbortMultipartUpload ends upload id and removes its parts: DELETE
// ?uploadId=ID {"action":"mpt-abort"}.
func (c *Client) AbortMultipartUpload(ctx context.Context, bck cluster.Bucket, name, id string) error {
	_, _, err := c.objectAction(ctx, http.MethodDelete, bck, name, url.Values{wire.QparamUploadID: {id}}, wire.ActionMsg{Action: wire.ActMptAbort})
	return err
}

// ListMultipartUploads returns the multipart uploads in progress of bck,
// sorted by object name and creation. AIStore's API has no such listing:
// the client asks every target of the cluster map (GET
// /v1/buckets/B?uploads=true on its public URL) and merges the answers.
func (c *Client) ListMultipartUploads(ctx context.Context, bck cluster.Bucket) ([]wire.MptUpload, error) {
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	m, err := c.ClusterMap(ctx)
	if err != nil {
		return nil, err
	}
	targets := m.TargetList()
	results := make([][]wire.MptUpload, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			q := bucketQuery(bck)
			q.Set(wire.QparamUploads, "true")
			resp, err := c.do(ctx, c.hc, &request{method: http.MethodGet, base: t.URL(), path: BucketPath(bck.Name), query: q,
				what: "multipart uploads of " + bck.String() + " on target " + t.ID})
			if err != nil {
				errs[i] = err
				return
			}
			defer drainClose(resp.Body)
			errs[i] = json.NewDecoder(resp.Body).Decode(&results[i])
		})
	}
	wg.Wait()
	var out []wire.MptUpload
	for i := range targets {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	slices.SortFunc(out, func(a, b wire.MptUpload) int {
		return cmp.Or(cmp.Compare(a.Object, b.Object), cmp.Compare(a.Created, b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ArchiveOptions qualify a PutArchiveMember.
type ArchiveOptions struct {
	// Size is the member's length, or -1 when unknown (the target then
	// stages the body to learn it).
	Size int64
	// Mime is the archive format (archmime; "" means by the archive's
	// name, which must then end in .tar).
	Mime string
	// Append appends to an existing archive, which must exist (Ais-Pine:
	// 1); AppendOrPut appends if it exists and creates it otherwise
	// (Ais-Pine: 2). With neither, the archive is made anew with the one
	// member, replacing any object of that name (as AIStore does).
	Append, AppendOrPut bool
}

// PutArchiveMember adds the content of r as file member of the TAR archive
// object arch of bck (AIStore's "ais archive put"): PUT
// /v1/objects/B/A.tar?archpath=P&archmime=M, with Ais-Pine as opts say.
// The new archive replaces the old one atomically.
func (c *Client) PutArchiveMember(ctx context.Context, bck cluster.Bucket, arch, member string, r io.Reader, opts ArchiveOptions) (*ObjectAttrs, error) {
	if member == "" {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "archive member name is empty")
	}
	if opts.Append && opts.AppendOrPut {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "Append and AppendOrPut do not combine")
	}
	var hdr http.Header
	switch {
	case opts.Append:
		hdr = http.Header{wire.HdrPine: {wire.PineAppend}}
	case opts.AppendOrPut:
		hdr = http.Header{wire.HdrPine: {wire.PineAppendIfExists}}
	}
	q := url.Values{wire.QparamArchpath: {member}, wire.QparamArchmime: {opts.Mime}}
	if r == nil {
		r = strings.NewReader("")
	}
	a, _, err := c.putOp(ctx, bck, arch, q, hdr, r, opts.Size, PutOptions{Size: opts.Size})
	return a, err
}

// GetArchiveMemberReader starts reading file member of archive arch of bck
// (GET ?archpath=P; opts may select a byte range of the member) and
// returns its content, which the caller must close, and its size.
func (c *Client) GetArchiveMemberReader(ctx context.Context, bck cluster.Bucket, arch, member string, opts GetOptions) (io.ReadCloser, int64, error) {
	if err := validateObject(bck, arch); err != nil {
		return nil, 0, err
	}
	hdr := http.Header{}
	switch {
	case opts.Length > 0:
		hdr.Set("Range", fmt.Sprintf("bytes=%d-%d", opts.Offset, opts.Offset+opts.Length-1))
	case opts.Offset > 0:
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", opts.Offset))
	}
	var resp *http.Response
	err := c.routed(ctx, bck, arch, func(rt route) (err error) {
		q := bucketQuery(bck)
		q.Set(wire.QparamArchpath, member)
		resp, err = c.do(ctx, c.hc, &request{
			method: http.MethodGet, base: rt.base, path: ObjectPath(bck.Name, arch), query: rt.query(q),
			header: hdr, what: objectWhat(bck, arch) + " file " + member,
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, sizeOf(resp), nil
}

// GetArchiveMember copies file member of archive arch of bck (or the range
// opts selects) to w and returns its size.
func (c *Client) GetArchiveMember(ctx context.Context, bck cluster.Bucket, arch, member string, w io.Writer, opts GetOptions) (int64, error) {
	rc, size, err := c.GetArchiveMemberReader(ctx, bck, arch, member, opts)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.Copy(w, rc)
	if err != nil {
		return n, fmt.Errorf("GET %s file %s: after %d bytes: %w", objectWhat(bck, arch), member, n, err)
	}
	return size, nil
}
