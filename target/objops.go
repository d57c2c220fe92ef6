package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/transport"
)

// # Object operations
//
// Besides plain PUT, GET, HEAD and DELETE, an object request may be one of
// AIStore's synchronous operations (shared/aistore-clients.md section 5):
//
//   - copy: PUT ?object_to=ais/@#/B2/O2 with no body (copyObject);
//   - rename: POST {"action":"rename-obj","name":NEW} (renameObject);
//   - append and flush: PUT ?append_type=append|flush&append_handle=H
//     (append.go);
//   - multipart: POST mpt-upload, PUT ?uploadId&partNumber, POST
//     mpt-complete, DELETE mpt-abort (multipart.go);
//   - TAR members: PUT and GET ?archpath=P, listing flag 8 (archive.go).
//
// The proxy redirects each to the owner of the object in the path, which
// checks how the request got there (checkRoute) as for any write. Each
// operation takes exactly its own parameters (server.CheckOperation): one
// that does not apply is refused, never ignored. Each runs in a span of the
// request's trace ("target.copy", "target.append", ...) with the bucket,
// object and, where there is one, the upload ID and part number as
// attributes; the fs and transport spans are its children.
//
// An operation that must read an object that misses locally while the
// rebalance window is open answers 503 (retry): the object may still be on
// its way here, and acting on "absent" (an append that starts empty, a
// copy that says 404) would be wrong.

// putCopy is the transport.Header.Opaque of a KindObjectPut that is a copy
// (or the first half of a rename to another target), not a rebalance move.
const putCopy = "copy"

// putObject serves PUT /v1/objects/B/O: a plain PUT, or the operation its
// query names.
func (t *Target) putObject(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	q := r.URL.Query()
	switch {
	case q.Has(wire.QparamObjectTo):
		return t.copyObject(w, r, rt)
	case q.Has(wire.QparamAppendType), q.Has(wire.QparamAppendHandle):
		return t.appendObject(w, r, rt)
	case q.Has(wire.QparamUploadID), q.Has(wire.QparamPartNumber):
		return t.putPart(w, r, rt)
	case q.Has(wire.QparamArchpath), q.Has(wire.QparamArchmime):
		return t.putArchive(w, r, rt)
	}
	if err := server.CheckOperation(r); err != nil {
		return err
	}
	return t.putPlain(w, r, rt)
}

// postObject serves POST /v1/objects/B/O: AIStore's object actions, rename
// and the multipart ones.
func (t *Target) postObject(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	msg, err := server.ReadActionFor(r, wire.ActRenameObj, wire.ActMptUpload, wire.ActMptComplete)
	if err != nil {
		return err
	}
	switch msg.Action {
	case wire.ActRenameObj:
		return t.renameObject(w, r, rt, msg.Name)
	case wire.ActMptUpload:
		return t.createUpload(w, r, rt)
	default:
		return t.completeUpload(w, r, rt, msg)
	}
}

// opSpan starts the span of an object operation.
func (t *Target) opSpan(ctx context.Context, name string, rt server.Route, kv ...attribute.KeyValue) (context.Context, trace.Span) {
	kv = append(kv, attribute.String("ais.bucket", rt.Bucket.String()), attribute.String("ais.object", rt.Object))
	return t.tracer.Start(ctx, name, trace.WithAttributes(kv...))
}

// endOp ends an operation's span, marking a failure (not a 4xx one).
func endOp(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		if s := wire.StatusOf(err); s >= 500 && s != http.StatusNotImplemented {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}

// readMiss turns a local miss into 503 while the rebalance window is open
// (the object may still be moving here); other errors pass.
func (t *Target) readMiss(err error) error {
	if errors.Is(err, cluster.ErrNotFound) && len(t.win.peers()) > 0 {
		return cluster.Errorf(cluster.ErrUnavailable, "%v, and it may still be moving to this target (rebalance in progress): retry", err)
	}
	return err
}

// parseObjectTo parses object_to, AIStore's unique name of the
// destination: "ais/@#/BUCKET/OBJECT" (provider, the global namespace,
// bucket, object; as url.QueryUnescape gave it).
func parseObjectTo(s string) (cluster.Bucket, string, error) {
	provider, rest, ok1 := strings.Cut(s, "/")
	ns, rest, ok2 := strings.Cut(rest, "/")
	name, obj, ok3 := strings.Cut(rest, "/")
	switch {
	case !ok1 || !ok2 || !ok3:
		return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrBadRequest, "%s=%q: expected provider/@#/bucket/object", wire.QparamObjectTo, s)
	case provider != cluster.ProviderAIS:
		return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrNotImplemented, "%s=%q: provider %q (only ais:// buckets are implemented)", wire.QparamObjectTo, s, provider)
	case ns != "@#":
		return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrNotImplemented, "%s=%q: namespace %q (only the global namespace @# is implemented)", wire.QparamObjectTo, s, ns)
	}
	bck := cluster.Bucket{Provider: provider, Name: name}
	if err := bck.Validate(); err != nil {
		return cluster.Bucket{}, "", err
	}
	if err := cluster.ValidateObjectName(obj); err != nil {
		return cluster.Bucket{}, "", err
	}
	return bck, obj, nil
}

// copyObject serves PUT ?object_to=: it copies the object (never touching
// it) to the object object_to names, on that object's owner.
func (t *Target) copyObject(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if err := server.CheckOperation(r, wire.QparamObjectTo); err != nil {
		return err
	}
	if server.HasBody(r) {
		return cluster.Errorf(cluster.ErrBadRequest, "a copy (%s) takes no body", wire.QparamObjectTo)
	}
	dst, dstName, err := parseObjectTo(r.URL.Query().Get(wire.QparamObjectTo))
	if err != nil {
		return err
	}
	if dst == rt.Bucket && dstName == rt.Object {
		return cluster.Errorf(cluster.ErrBadRequest, "copy of %s/%s onto itself", rt.Bucket, rt.Object)
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	dstProps, err := t.bucketProps(dst)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.copy", rt,
		attribute.String("ais.dst_bucket", dst.String()), attribute.String("ais.dst_object", dstName))
	defer func() { endOp(span, err) }()
	obj, err := t.store.Open(ctx, rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
	if err != nil {
		return t.readMiss(err)
	}
	defer obj.Close()
	attrs, err := t.copyTo(ctx, obj, dst, dstName, dstProps)
	if err != nil {
		return err
	}
	setAttrHeaders(w.Header(), &attrs)
	w.WriteHeader(http.StatusOK)
	return nil
}

// copyTo stores the content of obj as object name of dst on its owner
// under this target's map: here (fs.Store.Put from the open file), or on
// another target, streamed over the transport (KindObjectPut, Opaque
// putCopy), where it is verified against obj's checksum as it arrives and
// committed with a work file and a rename. It returns the new object's
// attributes as the owner reports them.
func (t *Target) copyTo(ctx context.Context, obj *fs.Object, dst cluster.Bucket, name string, props *cluster.BucketProps) (fs.ObjectAttrs, error) {
	smap := t.smap.Load()
	owner, err := smap.Owner(dst.Uname(name))
	if owner == nil || err != nil {
		return fs.ObjectAttrs{}, err
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("ais.dst_target", owner.ID))
	if owner.ID == t.cfg.ID {
		return t.store.Put(ctx, dst, name, obj, fs.PutOptions{
			Size: obj.Attrs.Size, ChecksumType: props.Checksum.Type, Checksum: obj.Attrs.Checksum, Custom: obj.Attrs.Custom,
			MaxSize: t.cfg.MaxObjectSize,
		})
	}
	hdr := &transport.Header{
		Kind:     transport.KindObjectPut,
		Bucket:   dst.Name,
		Object:   name,
		Checksum: obj.Attrs.Checksum,
		Version:  obj.Attrs.Version,
		Custom:   obj.Attrs.Custom,
		Opaque:   []byte(putCopy),
	}
	reply, _, err := t.client.Send(ctx, owner.TransportAddr(), hdr, obj.File(), obj.Attrs.Size)
	if errors.Is(err, cluster.ErrNotOwner) {
		return fs.ObjectAttrs{}, cluster.Errorf(cluster.ErrUnavailable, "copy to %s/%s: target %s does not own it under its cluster map (the map is changing): retry", dst, name, owner.ID)
	}
	if err != nil {
		return fs.ObjectAttrs{}, fmt.Errorf("copy to %s/%s on target %s: %w", dst, name, owner.ID, err)
	}
	// The owner stored it just now: its atime is the commit's, about now.
	return fs.ObjectAttrs{Bucket: dst, Name: name, Size: obj.Attrs.Size, Checksum: reply.Checksum, Version: reply.Version, Atime: time.Now()}, nil
}

// handleObjectCopy receives a copy (KindObjectPut with Opaque putCopy)
// from another target. Unlike a client's write, it comes over the
// authenticated transport from a target of the cluster map, and this
// target stores it only as the object's owner under its own map (else
// cluster.ErrNotOwner, which the sender turns into "retry"). The content is
// verified against the sender's checksum as it arrives and overwrites what
// is there, atomically.
func (t *Target) handleObjectCopy(ctx context.Context, msg *transport.Message, reply *transport.Header) ([]byte, error) {
	h := msg.Header
	smap := t.smap.Load()
	if h.Sender == t.cfg.ID || !slices.ContainsFunc(smap.TargetList(), func(n *cluster.Node) bool { return n.ID == h.Sender }) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "object copy from %q, which is not another target of the cluster map", h.Sender)
	}
	bck := cluster.NewBucket(h.Bucket)
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	if err := cluster.ValidateObjectName(h.Object); err != nil {
		return nil, err
	}
	props, err := t.bucketProps(bck)
	if err != nil {
		return nil, err
	}
	if owner, _ := smap.Owner(bck.Uname(h.Object)); owner == nil || owner.ID != t.cfg.ID {
		return nil, cluster.Errorf(cluster.ErrNotOwner, "target %s does not own %s/%s under cluster map v%d", t.cfg.ID, bck, h.Object, smap.Version)
	}
	attrs, err := t.store.Put(ctx, bck, h.Object, msg.Body, fs.PutOptions{Size: h.Size, ChecksumType: props.Checksum.Type,
		Checksum: h.Checksum, Custom: h.Custom, MaxSize: t.cfg.MaxObjectSize})
	if err != nil {
		return nil, err
	}
	reply.Checksum, reply.Version = attrs.Checksum, attrs.Version
	return nil, nil
}

// renameObject serves POST rename-obj: the object takes the name newName
// in its bucket.
//
// Readers (through any proxy, to either name's owner) see the object under
// the old name or the new one, never neither while the rename runs, and
// only under the new one once it has returned:
//
//   - When this target owns both names, fs.Store.Rename does it (one
//     rename(2) when both names live on one mountpath; otherwise the new
//     name is written whole first and the old one deleted after).
//   - When another target owns the new name, the object is first copied
//     there (copyTo: verified, committed atomically by the owner), and only
//     once the owner has acknowledged it is the old name deleted here. From
//     the owner's commit to the local delete, a few milliseconds, both
//     names exist. That meets the rule: at no instant is the object under
//     neither name, and the request does not return until the old name is
//     gone. A crash in that window leaves both; a later rename or delete
//     of the old name settles it (nothing is lost).
//
// If the old name was rewritten by a client while the rename ran, that
// newer object is kept (fs.Store.DeleteIf): the rename moved the version it
// read. Deleting the old name leaves a tombstone while the rebalance
// window is open, as a DELETE does, so that a move in flight cannot bring
// it back.
func (t *Target) renameObject(w http.ResponseWriter, r *http.Request, rt server.Route, newName string) (err error) {
	if err := server.CheckOperation(r); err != nil {
		return err
	}
	if newName == "" {
		return cluster.Errorf(cluster.ErrBadRequest, "%s: no new name (the action message's \"name\")", wire.ActRenameObj)
	}
	if err := cluster.ValidateObjectName(newName); err != nil {
		return err
	}
	if newName == rt.Object {
		return cluster.Errorf(cluster.ErrBadRequest, "rename of %s/%s to itself", rt.Bucket, rt.Object)
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.rename", rt, attribute.String("ais.new_object", newName))
	defer func() { endOp(span, err) }()
	owner, err := t.smap.Load().Owner(rt.Bucket.Uname(newName))
	if owner == nil || err != nil {
		return err
	}
	var attrs fs.ObjectAttrs
	if owner.ID == t.cfg.ID {
		attrs, err = t.store.Rename(ctx, rt.Bucket, rt.Object, newName)
		if err != nil {
			return t.readMiss(err)
		}
	} else {
		obj, err := t.store.Open(ctx, rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
		if err != nil {
			return t.readMiss(err)
		}
		defer obj.Close()
		if attrs, err = t.copyTo(ctx, obj, rt.Bucket, newName, props); err != nil {
			return err
		}
		if err := t.store.DeleteIf(ctx, rt.Bucket, rt.Object, obj.Attrs); err != nil {
			return fmt.Errorf("rename: %s/%s is stored as %s, but the old name could not be removed: %w", rt.Bucket, rt.Object, newName, err)
		}
	}
	t.win.tomb(rt.Bucket.Uname(rt.Object))
	setAttrHeaders(w.Header(), &attrs)
	w.WriteHeader(http.StatusOK)
	return nil
}
