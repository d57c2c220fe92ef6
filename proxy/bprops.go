package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/transport"
)

// setBucketProps serves PATCH /v1/buckets/B {"action":"set-bprops","value":
// {partial props}}: it merges the partial properties into the bucket's,
// publishes them in a new bucket metadata version (persisted first), and
// pushes that version to every target that is up. A target that misses the
// push catches up through its keepalives.
func (p *Proxy) setBucketProps(ctx context.Context, bck cluster.Bucket, msg wire.ActionMsg) error {
	if msg.Action != wire.ActSetBprops {
		return cluster.Errorf(cluster.ErrBadRequest, "PATCH bucket %s: unknown action %q (want %q)", bck, msg.Action, wire.ActSetBprops)
	}
	if len(msg.Value) == 0 {
		return cluster.Errorf(cluster.ErrBadRequest, "%s %s: no properties in the message value", wire.ActSetBprops, bck)
	}
	ctx, span := p.tracer.Start(ctx, "proxy.set_bprops")
	defer span.End()
	span.SetAttributes(attribute.String("ais.bucket", bck.String()))

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
	merged, err := mergeBucketProps(props, msg.Value)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s %s: %w", wire.ActSetBprops, bck, err)
	}
	next := cur.Clone()
	next.Buckets[bck.Name] = merged
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
	errs := p.broadcast(ctx, p.smap.Load(), transport.KindBMDPush, body, nil)
	p.log.InfoContext(ctx, "bucket properties changed", "bucket", bck.String(), "bmd_version", next.Version,
		"props", string(msg.Value), "targets_missed", len(errs))
	return nil
}

// mergeBucketProps returns a copy of cur with the fields named in the
// partial JSON properties changed. It refuses unknown fields, trailing data,
// changes of the provider, bucket ID or creation time, and features miniais
// does not have (another checksum type, mirroring, erasure coding).
func mergeBucketProps(cur *cluster.BucketProps, partial []byte) (*cluster.BucketProps, error) {
	next := *cur
	dec := json.NewDecoder(bytes.NewReader(partial))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&next); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: data after the JSON object")
	}
	switch {
	case next.Provider != cur.Provider, next.BID != cur.BID, next.Created != cur.Created:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "provider, bid and created cannot change")
	case next.Checksum.Type != cluster.ChecksumXXHash2:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "checksum type %q is not supported (only %q)", next.Checksum.Type, cluster.ChecksumXXHash2)
	case next.Mirror.Enabled || next.Mirror.Copies > 1:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "mirroring is not supported")
	case next.EC.Enabled:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "erasure coding is not supported")
	}
	return &next, nil
}
