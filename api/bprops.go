package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"miniais/api/wire"
	"miniais/cluster"
)

// SetBucketProps changes some of bck's properties. props is marshalled to
// JSON as the partial properties: a json.RawMessage, a map such as
// {"checksum": {"validate_warm_get": true}}, or a struct with omitempty
// fields. Fields that cannot change (provider, bid, created), unknown
// fields and unsupported values fail with an error matching
// cluster.ErrBadRequest; a missing bucket with cluster.ErrNotFound. When it
// returns nil, the proxy has published a new bucket metadata version holding
// the change and pushed it to every target that is up. A change of
// mirror.copies also starts a make-n-copies job: UpdateBucketProps returns
// its ID.
func (c *Client) SetBucketProps(ctx context.Context, bck cluster.Bucket, props any) error {
	_, err := c.UpdateBucketProps(ctx, bck, props)
	return err
}

// UpdateBucketProps is SetBucketProps, returning the ID of the
// make-n-copies job the change started (a change of the number of copies,
// mirror.copies and mirror.enabled), or "" when it started none.
func (c *Client) UpdateBucketProps(ctx context.Context, bck cluster.Bucket, props any) (jobID string, err error) {
	if err := bck.Validate(); err != nil {
		return "", err
	}
	val, err := json.Marshal(props)
	if err != nil {
		return "", fmt.Errorf("set props of bucket %s: %w", bck, err)
	}
	return c.bucketPropsAction(ctx, http.MethodPatch, bck, wire.ActSetBprops, val, false)
}

// ResetBucketProps restores bck's properties to the defaults of a new
// bucket: PATCH /v1/buckets/B {"action":"reset-bprops","value":null}. It
// fails with an error matching cluster.ErrNotFound if the bucket does not
// exist. It returns the ID of the make-n-copies job the reset started when
// the bucket was mirrored (the objects go back to one copy), else "".
func (c *Client) ResetBucketProps(ctx context.Context, bck cluster.Bucket) (jobID string, err error) {
	if err := bck.Validate(); err != nil {
		return "", err
	}
	return c.bucketPropsAction(ctx, http.MethodPatch, bck, wire.ActResetBprops, json.RawMessage("null"), false)
}

// MakeNCopies sets bck's mirror.copies to n (and mirror.enabled to n > 1)
// and starts the make-n-copies job that puts every object on n mountpaths
// of its target, even when n does not change: POST /v1/buckets/B
// {"action":"make-n-copies","value":n}, what "ais job start mirror
// --copies N" sends. n must be 1 to cluster.MaxCopies and at most the
// number of available mountpaths of every target (cluster.ErrBadRequest
// otherwise). It returns the job's ID.
func (c *Client) MakeNCopies(ctx context.Context, bck cluster.Bucket, n int) (string, error) {
	if err := bck.Validate(); err != nil {
		return "", err
	}
	return c.bucketPropsAction(ctx, http.MethodPost, bck, wire.ActMakeNCopies, json.RawMessage(strconv.Itoa(n)), true)
}

// bucketPropsAction sends action with value to bck and returns the job ID
// of the reply: required with needJob, else the empty reply means none.
func (c *Client) bucketPropsAction(ctx context.Context, method string, bck cluster.Bucket, action string, value json.RawMessage, needJob bool) (string, error) {
	body, hdr, err := jsonBody(wire.ActionMsg{Action: action, Value: value})
	if err != nil {
		return "", err
	}
	what := "bucket " + bck.String()
	resp, err := c.do(ctx, c.hc, &request{
		method: method, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: what,
	})
	if err != nil {
		return "", err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJobIDReply))
	if err != nil {
		return "", fmt.Errorf("%s %s: read the reply: %w", action, what, err)
	}
	if len(bytes.TrimSpace(b)) == 0 && !needJob {
		return "", nil
	}
	return readJobID(bytes.NewReader(b), action+" "+what)
}
