package target

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/s3"
)

// # Multipart upload
//
// The HTTP side of fs's multipart uploads (fs/multipart.go holds the
// design): an upload lives on the owner of its object, its parts are work
// files there, and completing it commits one object atomically with one
// checksum of the bucket's type. An upload that receives nothing for
// Config.UploadTimeout is aborted by the janitor. Uploads do not move with
// a rebalance: once another target owns the object, its parts go there and
// are refused (404, no such upload), and the client starts again. (The
// object a completed upload made moves like any other, as a plain object:
// the chunked flag stays behind.)

// uploadID returns the request's upload ID, checked for form.
func uploadID(r *http.Request) (string, error) {
	id := r.URL.Query().Get(wire.QparamUploadID)
	if id == "" {
		return "", cluster.Errorf(cluster.ErrBadRequest, "no %s", wire.QparamUploadID)
	}
	return id, fs.ParseUploadID(id)
}

// createUpload serves POST mpt-upload: the reply is the upload ID as text.
func (t *Target) createUpload(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if err := server.CheckOperation(r); err != nil {
		return err
	}
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.mpt.create", rt)
	defer func() { endOp(span, err) }()
	info, err := t.store.CreateUpload(ctx, rt.Bucket, rt.Object)
	if err != nil {
		return err
	}
	span.SetAttributes(attribute.String("ais.upload_id", info.ID))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(info.ID)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, info.ID)
	return nil
}

// putPart serves PUT ?uploadId=ID&partNumber=N. The reply carries the
// part's checksum (of the bucket's type) as its ETag and Ais-Checksum-*.
func (t *Target) putPart(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if err := server.CheckOperation(r, wire.QparamUploadID, wire.QparamPartNumber); err != nil {
		return err
	}
	id, err := uploadID(r)
	if err != nil {
		return err
	}
	ns := r.URL.Query().Get(wire.QparamPartNumber)
	n, perr := strconv.Atoi(ns)
	if perr != nil || strconv.Itoa(n) != ns {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed %s=%q", wire.QparamPartNumber, ns)
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	skip, err := skipVerify(r)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.mpt.part", rt, attribute.String("ais.upload_id", id), attribute.Int("ais.part_number", n))
	defer func() { endOp(span, err) }()
	part, err := t.store.PutPart(ctx, rt.Bucket, rt.Object, id, n, newStallReader(w, r.Body, t.cfg.StallTimeout), fs.PartOptions{
		Size: r.ContentLength, ChecksumType: props.Checksum.Type, Checksum: requestChecksum(r), SkipVerify: skip, MaxSize: t.cfg.MaxObjectSize,
		MD5: wantsMD5(r),
	})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set(wire.HdrChecksumType, part.Checksum.Type)
	h.Set(wire.HdrChecksumValue, part.Checksum.Value)
	if etag := part.Checksum.Value; part.MD5 != "" {
		h.Set("Etag", s3.Quote(part.MD5))
	} else if etag != "" {
		h.Set("Etag", s3.Quote(etag))
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// completeUpload serves POST ?uploadId=ID mpt-complete.
func (t *Target) completeUpload(w http.ResponseWriter, r *http.Request, rt server.Route, msg wire.ActionMsg) (err error) {
	if err := server.CheckOperation(r, wire.QparamUploadID); err != nil {
		return err
	}
	id, err := uploadID(r)
	if err != nil {
		return err
	}
	var parts []wire.MptCompletedPart
	if err := json.Unmarshal(msg.Value, &parts); err != nil || len(msg.Value) == 0 {
		return cluster.Errorf(cluster.ErrBadRequest, "%s: the value must be a list of {\"etag\",\"part-number\"}: %v", wire.ActMptComplete, err)
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	skip, err := skipVerify(r)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.mpt.complete", rt, attribute.String("ais.upload_id", id), attribute.Int("ais.parts", len(parts)))
	defer func() { endOp(span, err) }()
	list := make([]fs.CompletedPart, len(parts))
	for i, p := range parts {
		list[i] = fs.CompletedPart{Number: p.PartNumber, ETag: p.ETag}
	}
	attrs, err := t.store.CompleteUpload(ctx, rt.Bucket, rt.Object, id, list, fs.CompleteOptions{
		ChecksumType: props.Checksum.Type, Checksum: requestChecksum(r), SkipVerify: skip, MaxSize: t.cfg.MaxObjectSize,
		MD5: wantsMD5(r),
	})
	if err != nil {
		return err
	}
	setAttrHeaders(w.Header(), &attrs)
	w.WriteHeader(http.StatusOK)
	return nil
}

// abortUpload serves DELETE ?uploadId=ID {"action":"mpt-abort"}.
func (t *Target) abortUpload(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if _, err := server.ReadActionFor(r, wire.ActMptAbort); err != nil {
		return err
	}
	if err := server.CheckOperation(r, wire.QparamUploadID); err != nil {
		return err
	}
	id, err := uploadID(r)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.mpt.abort", rt, attribute.String("ais.upload_id", id))
	defer func() { endOp(span, err) }()
	if err := t.store.AbortUpload(ctx, rt.Bucket, rt.Object, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// listUploads serves GET /v1/buckets/B?uploads: this target's uploads in
// progress of the bucket, as a JSON array of wire.MptUpload (the client
// asks every target and merges).
func (t *Target) listUploads(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	if err := server.CheckOperation(r, wire.QparamUploads); err != nil {
		return err
	}
	if _, err := server.ReadActionFor(r, ""); err != nil {
		return err
	}
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	ups := t.store.Uploads(rt.Bucket)
	out := make([]wire.MptUpload, len(ups))
	for i, u := range ups {
		out[i] = wire.MptUpload{ID: u.ID, Bucket: u.Bucket.Name, Object: u.Object, Target: t.cfg.ID,
			Created: u.Created.UnixNano(), Parts: u.Parts, Size: u.Size}
	}
	server.WriteJSON(w, out)
	return nil
}

// cleanupInterval is how often the janitor looks for abandoned appends
// and uploads: a quarter of the timeout, within [100ms, 1m].
func cleanupInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/4, 100*time.Millisecond), time.Minute)
}

// janitor drops pending appends and multipart uploads idle for longer than
// Config.UploadTimeout, until ctx is done (Serve then drops every pending
// append, after the last request).
func (t *Target) janitor(ctx context.Context) {
	tick := time.NewTicker(cleanupInterval(t.cfg.UploadTimeout))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := t.apps.expire(t.cfg.UploadTimeout)
		ups := t.store.ExpireUploads(t.cfg.UploadTimeout)
		if n > 0 || len(ups) > 0 {
			t.log.Info("removed abandoned appends and multipart uploads", "appends", n, "uploads", len(ups), "timeout", t.cfg.UploadTimeout)
		}
	}
}
