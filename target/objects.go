package target

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
)

// bucketProps returns the props of an existing bucket.
func (t *Target) bucketProps(bck cluster.Bucket) (*cluster.BucketProps, error) {
	props := t.bmd.Load().Get(bck)
	if props == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	return props, nil
}

func setAttrHeaders(h http.Header, a *fs.ObjectAttrs) {
	h.Set(wire.HdrChecksumType, a.Checksum.Type)
	h.Set(wire.HdrChecksumValue, a.Checksum.Value)
	h.Set(wire.HdrVersion, a.Version)
	h.Set(wire.HdrAtime, strconv.FormatInt(a.Atime.UnixNano(), 10))
	setS3Headers(h, a)
}

// putPlain stores the request body as the object (a plain PUT).
func (t *Target) putPlain(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	opts := fs.PutOptions{
		Size:         r.ContentLength,
		ChecksumType: props.Checksum.Type,
		Checksum:     cluster.Checksum{Type: r.Header.Get(wire.HdrChecksumType), Value: r.Header.Get(wire.HdrChecksumValue)},
		MaxSize:      t.cfg.MaxObjectSize,
		MD5:          wantsMD5(r),
	}
	if v := r.URL.Query().Get(wire.QparamSkipVC); v != "" {
		if opts.SkipVerify, err = strconv.ParseBool(v); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "malformed %s=%q", wire.QparamSkipVC, v)
		}
	}
	body := newStallReader(w, r.Body, t.cfg.StallTimeout)
	attrs, err := t.store.Put(r.Context(), rt.Bucket, rt.Object, body, opts)
	if err != nil {
		return err
	}
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.Int64("ais.size", attrs.Size), attribute.String("ais.checksum", attrs.Checksum.Value))
	}
	setAttrHeaders(w.Header(), &attrs)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (t *Target) getObject(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	if r.URL.Query().Has(wire.QparamArchpath) {
		return t.getArchived(w, r, rt)
	}
	if r.URL.Query().Has(wire.QparamUploadID) {
		return t.listParts(w, r, rt)
	}
	if err := server.CheckOperation(r); err != nil {
		return err
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	obj, err := t.store.Open(r.Context(), rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
	if errors.Is(err, cluster.ErrNotFound) {
		moving := t.win.isOpen()
		if t.fromNeighbors(w, r, rt) {
			return nil
		}
		if moving {
			// Moved here between the two lookups (window.go).
			obj, err = t.store.Open(r.Context(), rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
		}
	}
	if err != nil {
		if errors.Is(err, cluster.ErrChecksum) {
			t.log.ErrorContext(r.Context(), "stored object failed checksum validation", "bucket", rt.Bucket.String(), "object", rt.Object, "err", err)
		}
		return err
	}
	defer obj.Close()
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.Int64("ais.size", obj.Attrs.Size))
	}
	http.NewResponseController(w).SetWriteDeadline(writeDeadline(obj.Attrs.Size, t.cfg.StallTimeout))
	h := w.Header()
	setAttrHeaders(h, &obj.Attrs)
	h.Set("Content-Type", "application/octet-stream")
	if status := checkConditions(r, &obj.Attrs); status != 0 {
		writeConditional(w, status)
		return nil
	}
	if r.Header.Get("Range") != "" {
		// ServeContent answers Range requests with 206 (or 416) and
		// streams the file with sendfile where the platform has it.
		http.ServeContent(w, r, "", time.Time{}, obj.File())
		return nil
	}
	// The whole object: the size is known from Open, so skip
	// ServeContent's two seeks. obj.WriteTo sends a small object with one
	// read and one write, a larger one through the ResponseWriter's
	// ReadFrom (the headers with the first 512 bytes, then sendfile).
	h.Set("Content-Length", strconv.FormatInt(obj.Attrs.Size, 10))
	h.Set("Accept-Ranges", "bytes")
	w.WriteHeader(http.StatusOK)
	if n, err := obj.WriteTo(w); err != nil {
		// The status is sent: the client sees a short body. Say why.
		t.log.WarnContext(r.Context(), "GET: reply cut short", "bucket", rt.Bucket.String(), "object", rt.Object,
			"sent", n, "size", obj.Attrs.Size, "err", err)
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetStatus(codes.Error, "reply cut short")
			span.RecordError(err)
		}
	}
	return nil
}

func (t *Target) headObject(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	if r.URL.Query().Has(wire.QparamArchpath) {
		return t.getArchived(w, r, rt)
	}
	if err := server.CheckOperation(r); err != nil {
		return err
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	attrs, err := t.store.Head(r.Context(), rt.Bucket, rt.Object)
	if errors.Is(err, cluster.ErrNotFound) {
		moving := t.win.isOpen()
		if t.fromNeighbors(w, r, rt) {
			return nil
		}
		if moving {
			// Moved here between the two lookups (window.go).
			attrs, err = t.store.Head(r.Context(), rt.Bucket, rt.Object)
		}
	}
	if err != nil {
		return err
	}
	h := w.Header()
	setAttrHeaders(h, &attrs)
	if status := checkConditions(r, &attrs); status != 0 {
		writeConditional(w, status)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(attrs.Size, 10))
	h.Set(wire.HdrName, rt.Object)
	h.Set(wire.HdrBucketName, rt.Bucket.Name)
	h.Set(wire.HdrBucketProvider, rt.Bucket.Provider)
	h.Set(wire.HdrPresent, "true")
	h.Set(wire.HdrLocation, location(t.cfg.ID, attrs.Mountpath))
	paths := []string{attrs.Mountpath}
	if props.Copies() > 1 {
		if paths, err = t.store.Copies(r.Context(), rt.Bucket, rt.Object); err != nil {
			return err // deleted since the Head
		}
	}
	h.Set(wire.HdrMirrorCopies, strconv.Itoa(len(paths)))
	h.Set(wire.HdrMirrorPaths, strings.Join(paths, ","))
	w.WriteHeader(http.StatusOK)
	return nil
}

func (t *Target) deleteObject(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	if server.HasBody(r) || r.URL.Query().Has(wire.QparamUploadID) {
		// AIStore's DELETE with an action message aborts a multipart
		// upload: never take it as a plain delete.
		return t.abortUpload(w, r, rt)
	}
	if err := server.CheckOperation(r); err != nil {
		return err
	}
	err := t.store.Delete(r.Context(), rt.Bucket, rt.Object)
	if r.Header.Get(hdrLocalOnly) == "" {
		// A move of this object that is in flight must not bring it back.
		t.win.tomb(rt.Bucket.Uname(rt.Object))
	}
	if errors.Is(err, cluster.ErrNotFound) && t.fromNeighbors(w, r, rt) {
		return nil
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
