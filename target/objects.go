package target

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api"
	"miniais/cluster"
	"miniais/fs"
)

// objects serves /v1/objects/B/NAME.
func (t *Target) objects(w http.ResponseWriter, r *http.Request, rt api.Route) {
	var err error
	switch r.Method {
	case http.MethodGet:
		err = t.getObject(w, r, rt)
	case http.MethodHead:
		err = t.headObject(w, r, rt)
	case http.MethodPut:
		err = t.putObject(w, r, rt)
	case http.MethodDelete:
		err = t.deleteObject(w, r, rt)
	default:
		err = methodNotAllowed(r)
	}
	if err != nil {
		t.writeError(w, r, err)
	}
}

// bucketProps returns the props of an existing bucket.
func (t *Target) bucketProps(bck cluster.Bucket) (*cluster.BucketProps, error) {
	props := t.bmd.Load().Get(bck)
	if props == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	return props, nil
}

// redirected refuses a PUT or DELETE that did not come through the proxy.
func redirected(r *http.Request) error {
	q := r.URL.Query()
	if q.Get(api.QparamProxyID) == "" || q.Get(api.QparamUnixTime) == "" {
		return cluster.Errorf(cluster.ErrBadRequest, "%s %s: expected to be redirected by the proxy (no %s/%s)", r.Method, r.URL.Path, api.QparamProxyID, api.QparamUnixTime)
	}
	return nil
}

func setAttrHeaders(h http.Header, a *fs.ObjectAttrs) {
	h.Set(api.HdrChecksumType, a.Checksum.Type)
	h.Set(api.HdrChecksumValue, a.Checksum.Value)
	h.Set(api.HdrVersion, a.Version)
	h.Set(api.HdrAtime, strconv.FormatInt(a.Atime.UnixNano(), 10))
}

func (t *Target) putObject(w http.ResponseWriter, r *http.Request, rt api.Route) error {
	if err := redirected(r); err != nil {
		return err
	}
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	opts := fs.PutOptions{
		Size:     r.ContentLength,
		Checksum: cluster.Checksum{Type: r.Header.Get(api.HdrChecksumType), Value: r.Header.Get(api.HdrChecksumValue)},
		MaxSize:  t.cfg.MaxObjectSize,
	}
	if opts.Checksum.Value != "" && opts.Checksum.Type == "" {
		opts.Checksum.Type = cluster.ChecksumXXHash2
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

func (t *Target) getObject(w http.ResponseWriter, r *http.Request, rt api.Route) error {
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	obj, err := t.store.Open(r.Context(), rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
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
	// ServeContent answers Range requests with 206 and streams the file
	// with sendfile where the platform has it.
	http.ServeContent(w, r, "", time.Time{}, obj.File())
	return nil
}

func (t *Target) headObject(w http.ResponseWriter, r *http.Request, rt api.Route) error {
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	attrs, err := t.store.Head(r.Context(), rt.Bucket, rt.Object)
	if err != nil {
		return err
	}
	h := w.Header()
	setAttrHeaders(h, &attrs)
	h.Set("Content-Length", strconv.FormatInt(attrs.Size, 10))
	h.Set(api.HdrName, rt.Object)
	h.Set(api.HdrBucketName, rt.Bucket.Name)
	h.Set(api.HdrBucketProvider, rt.Bucket.Provider)
	h.Set(api.HdrPresent, "true")
	h.Set(api.HdrLocation, location(t.cfg.ID, attrs.Mountpath))
	w.WriteHeader(http.StatusOK)
	return nil
}

func (t *Target) deleteObject(w http.ResponseWriter, r *http.Request, rt api.Route) error {
	if err := redirected(r); err != nil {
		return err
	}
	if _, err := t.bucketProps(rt.Bucket); err != nil {
		return err
	}
	if err := t.store.Delete(r.Context(), rt.Bucket, rt.Object); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
