package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tinylib/msgp/msgp"

	"miniais/api/wire"
	"miniais/cluster"
)

func (c *Client) bucketAction(ctx context.Context, method string, bck cluster.Bucket, action string) error {
	if err := bck.Validate(); err != nil {
		return err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: action})
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: method, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: "bucket " + bck.String(),
	})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}

// CreateBucket creates bck. It fails with an error matching
// cluster.ErrExists if the bucket exists.
func (c *Client) CreateBucket(ctx context.Context, bck cluster.Bucket) error {
	return c.bucketAction(ctx, http.MethodPost, bck, wire.ActCreateBck)
}

// DestroyBucket destroys bck and every object in it. It fails with an error
// matching cluster.ErrNotFound if the bucket does not exist.
func (c *Client) DestroyBucket(ctx context.Context, bck cluster.Bucket) error {
	return c.bucketAction(ctx, http.MethodDelete, bck, wire.ActDestroyBck)
}

// HeadBucket returns bck's properties, or an error matching
// cluster.ErrNotFound.
func (c *Client) HeadBucket(ctx context.Context, bck cluster.Bucket) (*cluster.BucketProps, error) {
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodHead, path: BucketPath(bck.Name), query: bucketQuery(bck),
		what: "bucket " + bck.String(),
	})
	if err != nil {
		return nil, err
	}
	drainClose(resp.Body)
	props := &cluster.BucketProps{}
	h := resp.Header.Get(wire.HdrBucketProps)
	if h == "" {
		return nil, fmt.Errorf("bucket %s: reply has no %s header", bck, wire.HdrBucketProps)
	}
	if err := json.Unmarshal([]byte(h), props); err != nil {
		return nil, fmt.Errorf("bucket %s: decode %s: %w", bck, wire.HdrBucketProps, err)
	}
	return props, nil
}

// ListBuckets returns every bucket of the cluster.
func (c *Client) ListBuckets(ctx context.Context) ([]cluster.Bucket, error) {
	body, hdr, err := jsonBody(wire.ActionMsg{Action: wire.ActList})
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: wire.PathBuckets,
		query:  url.Values{wire.QparamPresence: {wire.PresenceAll}},
		header: hdr, body: body, what: "buckets",
	})
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	var entries []wire.BucketEntry
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		return nil, fmt.Errorf("decode bucket list: %w", err)
	}
	out := make([]cluster.Bucket, 0, len(entries))
	for _, e := range entries {
		p := e.Provider
		if p == "" {
			p = cluster.ProviderAIS
		}
		out = append(out, cluster.Bucket{Provider: p, Name: e.Name})
	}
	return out, nil
}

// ListOptions selects and pages an object listing.
type ListOptions struct {
	// Prefix keeps only the objects whose names start with it.
	Prefix string
	// PageSize is the number of entries per page; 0 means the server's default.
	PageSize int64
	// Token is the continuation token of the page to get ("" = the first).
	Token string
	// Props lists the entry properties wanted, comma-separated; "" means
	// DefaultListProps.
	Props string
	// Msgpack asks for the reply in msgpack instead of JSON.
	Msgpack bool
	// Flags are AIStore's listing flags (wire.LsNoRecursion, ...), sent as
	// a decimal string; 0 lists every object.
	Flags uint64
	// UUID is the listing's ID, "" on the first page; ListObjects echoes
	// the one the first reply carries on every later page, as AIStore's
	// clients do.
	UUID string
	// Limit, when positive, makes ListObjects stop after that many entries:
	// no page asks for more than the entries still wanted. ListObjectsPage
	// ignores it.
	Limit int64
	// OnIncomplete, when not nil, is called by ListObjects for every page
	// that lacks the objects of some targets (down, or not answering), with
	// their IDs (wire.LsoResult.Incomplete).
	OnIncomplete func(targets []string)
}

// DefaultListProps are the entry properties a listing asks for by default.
const DefaultListProps = "name,size,checksum,atime,version"

// ListPropsAll are every entry property AIStore's CLI asks for with
// "--props all".
const ListPropsAll = "name,size,checksum,atime,version,cached,status,copies,custom,location"

// ListObjectsPage returns one page of the objects of bck. The result's
// ContinuationToken, when not empty, is the Token of the next page.
func (c *Client) ListObjectsPage(ctx context.Context, bck cluster.Bucket, opts ListOptions) (*wire.LsoResult, error) {
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	props := opts.Props
	if props == "" {
		props = DefaultListProps
	}
	val, err := json.Marshal(wire.ListObjsMsg{
		Prefix: opts.Prefix, Props: props, ContinuationToken: opts.Token, PageSize: opts.PageSize,
		UUID: opts.UUID, Flags: opts.Flags,
	})
	if err != nil {
		return nil, err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: wire.ActList, Value: val})
	if err != nil {
		return nil, err
	}
	if opts.Msgpack {
		hdr.Set("Accept", wire.ContentMsgpack)
	} else {
		hdr.Set("Accept", wire.ContentJSON)
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: "bucket " + bck.String(),
	})
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	res := &wire.LsoResult{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), wire.ContentMsgpack) {
		err = msgp.Decode(resp.Body, res)
	} else {
		err = json.NewDecoder(resp.Body).Decode(res)
	}
	if err != nil {
		return nil, fmt.Errorf("decode listing of %s: %w", bck, err)
	}
	return res, nil
}

// maxListPages bounds ListObjects against a server that never stops paging.
const maxListPages = 1 << 20

// ListObjects returns every object of bck matching opts.Prefix, following
// continuation tokens from opts.Token until the last page, or the first
// opts.Limit of them when it is positive.
func (c *Client) ListObjects(ctx context.Context, bck cluster.Bucket, opts ListOptions) ([]*wire.LsoEntry, error) {
	var out []*wire.LsoEntry
	pageSize := opts.PageSize
	for range maxListPages {
		if opts.Limit > 0 {
			remain := opts.Limit - int64(len(out))
			opts.PageSize = pageSize
			if pageSize <= 0 || pageSize > remain {
				opts.PageSize = remain
			}
		}
		page, err := c.ListObjectsPage(ctx, bck, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Entries...)
		if len(page.Incomplete) > 0 && opts.OnIncomplete != nil {
			opts.OnIncomplete(page.Incomplete)
		}
		if opts.Limit > 0 && int64(len(out)) >= opts.Limit {
			return out[:opts.Limit], nil
		}
		if page.ContinuationToken == "" {
			return out, nil
		}
		if opts.UUID == "" {
			opts.UUID = page.UUID
		}
		if page.ContinuationToken == opts.Token {
			return nil, fmt.Errorf("listing %s: server repeated continuation token %q", bck, opts.Token)
		}
		opts.Token = page.ContinuationToken
	}
	return nil, fmt.Errorf("listing %s: more than %d pages", bck, maxListPages)
}

// ObjectSelection names the objects of a multi-object operation: a list of
// names or a template, exactly one of them.
type ObjectSelection struct {
	// Names lists the objects by name.
	Names []string
	// Template is AIStore's name template: a prefix followed by zero or more
	// ranges ("shard-{000..999}.tar"); a template without ranges is a prefix
	// and selects every object whose name starts with it.
	Template string
}

// listRangeMsg is the value of a multi-object action (AIStore's
// apc.ListRange): both keys always present, "objnames" null for a template.
type listRangeMsg struct {
	Template string   `json:"template"`
	ObjNames []string `json:"objnames"`
}

// DeleteObjects starts a job that deletes the selected objects of bck:
// DELETE /v1/buckets/B {"action":"delete-listrange","value":{"template":
// ...,"objnames":[...]}}. It returns the job's ID, which the cluster sends
// as plain text. A selection with both or neither of names and template is
// refused before anything is sent (cluster.ErrBadRequest); a cluster that
// does not run multi-object jobs answers 501 (cluster.ErrNotImplemented).
func (c *Client) DeleteObjects(ctx context.Context, bck cluster.Bucket, sel ObjectSelection) (string, error) {
	if err := bck.Validate(); err != nil {
		return "", err
	}
	if (len(sel.Names) > 0) == (sel.Template != "") {
		return "", cluster.Errorf(cluster.ErrBadRequest, "delete objects of %s: give either names or a template", bck)
	}
	for _, n := range sel.Names {
		if err := cluster.ValidateObjectName(n); err != nil {
			return "", err
		}
	}
	val, err := json.Marshal(listRangeMsg{Template: sel.Template, ObjNames: sel.Names})
	if err != nil {
		return "", err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: wire.ActDeleteListRange, Value: val})
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodDelete, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: "bucket " + bck.String(),
	})
	if err != nil {
		return "", err
	}
	defer drainClose(resp.Body)
	return readJobID(resp.Body, "delete objects of "+bck.String())
}
