package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

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
// the change and pushed it to every target that is up.
func (c *Client) SetBucketProps(ctx context.Context, bck cluster.Bucket, props any) error {
	if err := bck.Validate(); err != nil {
		return err
	}
	val, err := json.Marshal(props)
	if err != nil {
		return fmt.Errorf("set props of bucket %s: %w", bck, err)
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: wire.ActSetBprops, Value: val})
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodPatch, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: "bucket " + bck.String(),
	})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}

// ResetBucketProps restores bck's properties to the defaults of a new
// bucket: PATCH /v1/buckets/B {"action":"reset-bprops","value":null}. It
// fails with an error matching cluster.ErrNotFound if the bucket does not
// exist.
func (c *Client) ResetBucketProps(ctx context.Context, bck cluster.Bucket) error {
	if err := bck.Validate(); err != nil {
		return err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: wire.ActResetBprops, Value: json.RawMessage("null")})
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodPatch, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: "bucket " + bck.String(),
	})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}
