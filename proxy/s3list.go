package proxy

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/s3"
)

// The listings of the S3 gateway: ListObjects(V2) over the proxy's merged
// listing (fromLiveTargets, mergePages), ListMultipartUploads over every
// target's uploads, and DeleteObjects.

// s3Page returns one merged page of bck's listing. A listing that would
// lack the objects of a target that is down is refused (503): S3 clients
// cannot be told that a page is incomplete.
func (p *Proxy) s3Page(ctx context.Context, bck cluster.Bucket, lso wire.ListObjsMsg) (*wire.LsoResult, error) {
	res, missing, err := p.listPage(ctx, bck, lso)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, s3.Errorf(s3.CodeServiceUnavailable, "cannot list %s: targets %s are down", bck, strings.Join(missing, ","))
	}
	return res, nil
}

// maxRune sorts after every name that has a prefix, when appended to it:
// the listing resumes after all of a common prefix.
const maxRune = "\U0010FFFF"

// s3ListObjects serves ListObjects and ListObjectsV2: prefix, delimiter
// (any string) rolled up into CommonPrefixes, max-keys (at most 1000),
// marker / continuation-token / start-after, and encoding-type=url.
func (p *Proxy) s3ListObjects(sr *s3Request) error {
	q := sr.r.URL.Query()
	v2 := sr.Op.Name == "ListObjectsV2"
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys, err := intParam(q, "max-keys", defaultPageSize)
	if err != nil {
		return err
	}
	maxKeys = min(maxKeys, defaultPageSize)
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return s3.Errorf(s3.CodeInvalidArgument, "invalid encoding method specified in request: %q", enc)
	}
	out := s3.ListBucketResult{XMLNS: s3.XMLNS, Name: sr.Bucket, MaxKeys: maxKeys, EncodingType: enc}
	after := ""
	if v2 {
		out.StartAfter = q.Get("start-after")
		after = out.StartAfter
		if tok := q.Get("continuation-token"); tok != "" {
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return s3.Errorf(s3.CodeInvalidArgument, "the continuation token provided is incorrect")
			}
			out.ContinuationToken, after = tok, string(b)
		}
	} else {
		marker := q.Get("marker")
		out.Marker = &marker
		after = marker
	}
	owner := (*s3.Owner)(nil)
	if !v2 || q.Get("fetch-owner") == "true" {
		owner = &s3Owner
	}
	ctx := sr.r.Context()
	last, lastCP := "", ""
	count := 0
	for done := maxKeys == 0; !done; {
		page, err := p.s3Page(ctx, sr.bck, wire.ListObjsMsg{Prefix: prefix, ContinuationToken: after, Props: "size,checksum,atime,custom",
			PageSize: int64(maxKeys - count + 1)})
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			if e.Flags&wire.EntryIsDir != 0 {
				continue
			}
			if delim != "" {
				if i := strings.Index(e.Name[len(prefix):], delim); i >= 0 {
					cp := e.Name[:len(prefix)+i+len(delim)]
					if cp == lastCP || cp <= after {
						continue
					}
					if count == maxKeys {
						out.IsTruncated = true
						break
					}
					out.CommonPrefixes = append(out.CommonPrefixes, s3.CommonPrefix{Prefix: cp})
					lastCP, last = cp, cp
					count++
					continue
				}
			}
			if count == maxKeys {
				out.IsTruncated = true
				break
			}
			out.Contents = append(out.Contents, s3Object(e, owner))
			last = e.Name
			count++
		}
		switch {
		case out.IsTruncated:
			done = true
		case page.ContinuationToken == "":
			done = true
		default:
			after = page.ContinuationToken
			if lastCP != "" && lastCP+maxRune > after {
				after = lastCP + maxRune
			}
		}
	}
	if out.IsTruncated {
		next := last
		if next == lastCP {
			next = lastCP + maxRune
		}
		if v2 {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(next))
		} else {
			out.NextMarker = last
		}
	}
	if v2 {
		out.KeyCount = &count
	}
	if delim != "" {
		out.Delimiter = delim
	}
	out.Prefix = prefix
	if enc == "url" {
		encodeListing(&out)
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("ais.entries", count))
	s3.WriteXML(sr.w, http.StatusOK, out)
	return nil
}

// s3Object is one key of a listing.
func s3Object(e *wire.LsoEntry, owner *s3.Owner) s3.Object {
	o := s3.Object{Key: e.Name, Size: e.Size, StorageClass: "STANDARD", Owner: owner, ETag: s3.Quote(e.Checksum)}
	for kv := range strings.SplitSeq(e.Custom, ",") {
		if v, ok := strings.CutPrefix(kv, fs.CustomETag+"="); ok && v != "" {
			o.ETag = s3.Quote(v)
		}
	}
	if t, err := time.Parse(time.RFC822, e.Atime); err == nil {
		o.LastModified = s3.Time(t)
	} else {
		o.LastModified = s3.Time(time.Unix(0, 0))
	}
	return o
}

// urlEncode is S3's encoding-type=url of a name ('/' stays as it is).
func urlEncode(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }

func encodeListing(out *s3.ListBucketResult) {
	out.Prefix, out.Delimiter, out.StartAfter = urlEncode(out.Prefix), urlEncode(out.Delimiter), urlEncode(out.StartAfter)
	if out.NextMarker != "" {
		out.NextMarker = urlEncode(out.NextMarker)
	}
	for i := range out.Contents {
		out.Contents[i].Key = urlEncode(out.Contents[i].Key)
	}
	for i := range out.CommonPrefixes {
		out.CommonPrefixes[i].Prefix = urlEncode(out.CommonPrefixes[i].Prefix)
	}
}

// s3ListUploads serves ListMultipartUploads: every target's uploads of
// the bucket, by key and then creation time.
func (p *Proxy) s3ListUploads(sr *s3Request) error {
	q := sr.r.URL.Query()
	maxUploads, err := intParam(q, "max-uploads", defaultPageSize)
	if err != nil {
		return err
	}
	maxUploads = min(maxUploads, defaultPageSize)
	if enc := q.Get("encoding-type"); enc != "" && enc != "url" {
		return s3.Errorf(s3.CodeInvalidArgument, "invalid encoding method specified in request: %q", enc)
	}
	ctx := sr.r.Context()
	lists, missing, err := fromLiveTargets(p, ctx, "list uploads of "+sr.bck.String(), func(ctx context.Context, t *cluster.Node) ([]wire.MptUpload, error) {
		u := t.URL() + wire.PathBuckets + "/" + url.PathEscape(sr.Bucket) + "?" + wire.QparamUploads + "=true"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := p.s3.client(p).Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 400 {
			return nil, targetError(resp)
		}
		var ups []wire.MptUpload
		if err := json.NewDecoder(resp.Body).Decode(&ups); err != nil {
			return nil, fmt.Errorf("malformed list of uploads: %w", err)
		}
		return ups, nil
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return s3.Errorf(s3.CodeServiceUnavailable, "cannot list uploads of %s: targets %s are down", sr.bck, strings.Join(missing, ","))
	}
	all := slices.Concat(lists...)
	slices.SortFunc(all, func(a, b wire.MptUpload) int {
		return cmp.Or(cmp.Compare(a.Object, b.Object), cmp.Compare(a.Created, b.Created))
	})
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	out := s3.ListMultipartUploadsResult{XMLNS: s3.XMLNS, Bucket: sr.Bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: maxUploads}
	passed := idMarker == ""
	for _, u := range all {
		if !strings.HasPrefix(u.Object, prefix) || u.Object < keyMarker {
			continue
		}
		if u.Object == keyMarker {
			if idMarker == "" {
				continue // key-marker alone: keys after it
			}
			if !passed {
				passed = u.ID == idMarker
				continue
			}
		}
		if len(out.Uploads) == maxUploads {
			out.IsTruncated = true
			break
		}
		out.Uploads = append(out.Uploads, s3.Upload{Key: u.Object, UploadID: u.ID, Initiated: s3.Time(time.Unix(0, u.Created)), StorageClass: "STANDARD"})
		out.NextKeyMarker, out.NextUploadIDMarker = u.Object, u.ID
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = "", ""
	}
	if q.Get("encoding-type") == "url" {
		for i := range out.Uploads {
			out.Uploads[i].Key = urlEncode(out.Uploads[i].Key)
		}
	}
	s3.WriteXML(sr.w, http.StatusOK, out)
	return nil
}

// maxDeleteKeys is the most keys of one DeleteObjects (S3's limit).
const maxDeleteKeys = 1000

// s3DeleteObjects serves DeleteObjects: each key is deleted on its owner
// (a few at once); the reply says, key by key, what happened.
func (p *Proxy) s3DeleteObjects(sr *s3Request) error {
	r := sr.r
	if r.ContentLength < 0 {
		return s3.Errorf(s3.CodeMissingContentLength, "you must provide the Content-Length HTTP header")
	}
	body := s3.Guard(r.Body, r.ContentLength)
	var in s3.Delete
	r.Body = readCloser{body, r.Body}
	if err := s3.DecodeXML(r, &in); err != nil {
		return err
	}
	if len(in.Objects) > maxDeleteKeys {
		return s3.Errorf(s3.CodeMalformedXML, "a DeleteObjects request may name at most %d keys, not %d", maxDeleteKeys, len(in.Objects))
	}
	errs := make([]error, len(in.Objects))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, o := range in.Objects {
		switch {
		case o.VersionID != "":
			errs[i] = s3.Errorf(s3.CodeNotImplemented, "object versions are not implemented")
			continue
		case cluster.ValidateObjectName(o.Key) != nil:
			errs[i] = s3.Errorf(s3.CodeInvalidArgument, "invalid key %q", o.Key)
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = p.deleteKey(r.Context(), sr.bck, o.Key)
		})
	}
	wg.Wait()
	out := s3.DeleteResult{XMLNS: s3.XMLNS}
	for i, o := range in.Objects {
		if errs[i] != nil {
			e := s3.ErrorOf(errs[i], s3.CodeNoSuchKey)
			out.Errors = append(out.Errors, s3.DeleteError{Key: o.Key, Code: e.Code.Name, Message: e.Message})
		} else if !in.Quiet {
			out.Deleted = append(out.Deleted, s3.Deleted{Key: o.Key})
		}
	}
	s3.WriteXML(sr.w, http.StatusOK, out)
	return nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	r interface{ Read([]byte) (int, error) }
	c interface{ Close() error }
}

func (rc readCloser) Read(p []byte) (int, error) { return rc.r.Read(p) }
func (rc readCloser) Close() error               { return rc.c.Close() }
