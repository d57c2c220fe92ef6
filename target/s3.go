package target

import (
	"net/http"
	"strings"
	"time"

	"miniais/api/server"
	"miniais/fs"
	"miniais/s3"
)

// # The target's side of the S3 gateway
//
// The proxy translates each S3 object request into the native one and
// streams it to the owner itself (proxy/s3.go). What the target adds for it:
// the MD5 that S3 clients expect as the ETag, computed in the same pass as
// the checksum when the proxy asks (s3.HdrETagMD5) and kept with the object
// (fs.CustomETag); an ETag header on every object reply (the MD5 when the
// object has one, else its checksum); Last-Modified; HTTP's conditional GET
// and HEAD (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-
// Since: 412 and 304); and the parts of an upload (listParts).

// wantsMD5 reports whether the proxy asked for the MD5 ETag.
func wantsMD5(r *http.Request) bool { return r.Header.Get(s3.HdrETagMD5) != "" }

// etagOf returns the quoted ETag of an object: its MD5 (or multipart
// ETag) when it has one, else its checksum, else "".
func etagOf(a *fs.ObjectAttrs) string {
	if v := a.Custom[fs.CustomETag]; v != "" {
		return s3.Quote(v)
	}
	return s3.Quote(a.Checksum.Value)
}

// setS3Headers sets the ETag and Last-Modified of an object reply.
func setS3Headers(h http.Header, a *fs.ObjectAttrs) {
	if etag := etagOf(a); etag != "" {
		h.Set("Etag", etag)
	}
	if !a.Atime.IsZero() {
		h.Set("Last-Modified", a.Atime.UTC().Format(http.TimeFormat))
	}
}

// checkConditions evaluates r's preconditions against the object (RFC 9110
// section 13.2.2, as S3 does): it returns 412, 304 or 0 (go on).
func checkConditions(r *http.Request, a *fs.ObjectAttrs) int {
	etag := etagOf(a)
	mod := a.Atime.Truncate(time.Second)
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagListHas(im, etag) {
			return http.StatusPreconditionFailed
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && mod.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagListHas(inm, etag) {
			return http.StatusNotModified
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		// A date in the future is invalid, and ignored (RFC 9110 13.1.3).
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) && !t.After(time.Now()) {
			return http.StatusNotModified
		}
	}
	return 0
}

// etagListHas reports whether an If-Match / If-None-Match list names etag
// ("*" names any; weak ETags compare by their opaque part, quotes
// optional as S3 takes them).
func etagListHas(list, etag string) bool {
	if etag == "" {
		return false
	}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimPrefix(strings.TrimSpace(item), "W/")
		if item == "*" || strings.Trim(item, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// writeConditional answers a failed precondition (status from
// checkConditions): 304 with the validators, 412 as an error.
func writeConditional(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Type")
	w.WriteHeader(status)
}

// listParts serves GET /v1/objects/B/O?uploadId=ID: the parts the upload
// has received so far, by number, as a JSON array of s3.NativePart.
func (t *Target) listParts(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	if err := server.CheckOperation(r, "uploadId"); err != nil {
		return err
	}
	id, err := uploadID(r)
	if err != nil {
		return err
	}
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	parts, err := t.store.UploadParts(rt.Bucket, rt.Object, id)
	if err != nil {
		return err
	}
	out := make([]s3.NativePart, len(parts))
	for i, p := range parts {
		etag := p.MD5
		if etag == "" {
			etag = p.Checksum.Value
		}
		out[i] = s3.NativePart{Number: p.Number, Size: p.Size, ETag: s3.Quote(etag)}
	}
	server.WriteJSON(w, out)
	return nil
}
