package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/checksum"
	"miniais/cluster"
	"miniais/transport"
)

// patchBucket serves PATCH /v1/buckets/B: set-bprops {"value": {partial
// props}} merges the partial properties into the bucket's; reset-bprops
// puts back the defaults (keeping the bucket's ID and creation time). The
// result is published in a new bucket metadata version (persisted first)
// and pushed to every target that is up; a target that misses the push
// catches up through its keepalives.
func (p *Proxy) patchBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	msg, err := server.ReadActionFor(r, wire.ActSetBprops, wire.ActResetBprops)
	if err != nil {
		return err
	}
	bck := rt.Bucket
	var change func(*cluster.BucketProps) (*cluster.BucketProps, error)
	switch msg.Action {
	case wire.ActSetBprops:
		if len(msg.Value) == 0 {
			return cluster.Errorf(cluster.ErrBadRequest, "%s %s: no properties in the message value", wire.ActSetBprops, bck)
		}
		change = func(cur *cluster.BucketProps) (*cluster.BucketProps, error) { return mergeBucketProps(cur, msg.Value) }
	case wire.ActResetBprops:
		change = func(cur *cluster.BucketProps) (*cluster.BucketProps, error) {
			def := p.clusterConfig().BucketProps(cur.BID, time.Unix(0, cur.Created))
			def.BID, def.Created = cur.BID, cur.Created
			return def, nil
		}
	}
	return p.updateBucketProps(r.Context(), bck, msg.Action, change)
}

// updateBucketProps replaces the properties of bck with change(current) in a
// new bucket metadata version, persisted and then pushed to the targets.
func (p *Proxy) updateBucketProps(ctx context.Context, bck cluster.Bucket, action string, change func(*cluster.BucketProps) (*cluster.BucketProps, error)) error {
	ctx, span := p.tracer.Start(ctx, "proxy.set_bprops")
	defer span.End()
	span.SetAttributes(attribute.String("ais.bucket", bck.String()), attribute.String("ais.action", action))

	// Bucket transactions replace whole BMD versions too: serialize with them.
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	p.mu.Lock()
	cur := p.bmd.Load()
	props := cur.Get(bck)
	if props == nil {
		p.mu.Unlock()
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	changed, err := change(props)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s %s: %w", action, bck, err)
	}
	next := cur.Clone()
	next.Buckets[bck.Name] = changed
	next.Version = cur.Version + 1
	if err := p.persist(bmdFile, next); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("persist bucket metadata: %w", err)
	}
	p.bmd.Store(next)
	p.mu.Unlock()

	body, err := next.MarshalMsg(nil)
	if err != nil {
		return err
	}
	errs := p.pushAll(ctx, p.smap.Load(), transport.KindBMDPush, next.Version, body)
	p.log.InfoContext(ctx, "bucket properties changed", "bucket", bck.String(), "action", action, "bmd_version", next.Version,
		"targets_missed", len(errs))
	return nil
}

// mergeBucketProps returns a copy of cur with the fields named in the
// partial JSON properties changed. It refuses unknown fields, trailing data,
// changes of the provider, bucket ID or creation time, and features miniais
// does not have (mirroring, erasure coding: 501).
func mergeBucketProps(cur *cluster.BucketProps, partial []byte) (*cluster.BucketProps, error) {
	next := *cur
	dec := json.NewDecoder(bytes.NewReader(partial))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&next); err != nil {
		if cluster.KindOf(err) != nil { // e.g. a section that can only be off: 501
			return nil, fmt.Errorf("bucket properties: %w", err)
		}
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: data after the JSON object")
	}
	switch {
	case next.Provider != cur.Provider, next.BID != cur.BID, next.Created != cur.Created:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "provider, bid and created cannot change")
	case !checksum.Valid(next.Checksum.Type):
		return nil, cluster.Errorf(cluster.ErrBadRequest, "checksum type %q is not one of %s", next.Checksum.Type, strings.Join(checksum.Types(), ", "))
	case next.Mirror.Enabled || next.Mirror.Copies > 1:
		return nil, cluster.Errorf(cluster.ErrNotImplemented, "mirroring (mirror.enabled, mirror.copies) is not implemented")
	case next.EC.Enabled:
		return nil, cluster.Errorf(cluster.ErrNotImplemented, "erasure coding (ec.enabled) is not implemented")
	}
	return &next, nil
}
