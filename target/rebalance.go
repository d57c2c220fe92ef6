package target

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"miniais/cluster"
	"miniais/fs"
	"miniais/transport"
)

// # Rebalance
//
// When the set of targets in the cluster map changes, HRW gives some objects
// a new owner. Every target then walks its objects and streams each one it no
// longer owns to its owner over the transport (transport.KindObjectPut),
// deleting its own copy once the owner has acknowledged it. The owner never
// overwrites an object it already has: a copy written by a client after the
// map changed is newer than the one being moved. Until an object has moved,
// its owner answers a GET or HEAD that misses locally by asking the other
// targets (see neighbor.go), so nothing disappears while objects move.

// targetSetChanged tells whether next has a target ID that prev lacks or the
// other way round (down flags do not count: HRW places on down targets too).
func targetSetChanged(prev, next *cluster.Map) bool {
	if len(prev.Targets) != len(next.Targets) {
		return true
	}
	for id := range next.Targets {
		if prev.Targets[id] == nil {
			return true
		}
	}
	return false
}

// startRebalance cancels a running rebalance and starts one for smap.
// Callers hold t.mu.
func (t *Target) startRebalance(smap *cluster.Map) {
	if t.rebCancel != nil {
		t.rebCancel()
	}
	ctx, cancel := context.WithCancel(t.runCtx)
	t.rebCancel = cancel
	t.win.open(smap, t.cfg.ID)
	t.win.setClean(0)
	go t.rebalance(ctx, smap)
}

// rebalance moves every object this target does not own under smap to its
// owner. Objects whose owner is down stay until a later map. A pass that
// could not move everything (the new owner may not have applied the map
// yet) is repeated with growing pauses, up to rebalanceRounds times.
func (t *Target) rebalance(ctx context.Context, smap *cluster.Map) {
	ctx, span := t.tracer.Start(ctx, "target.rebalance")
	defer span.End()
	start := time.Now()
	go t.exchangeClean(ctx, smap) // learn which peers hold nothing of ours
	var moved, kept, failed int
	pause := 200 * time.Millisecond
	for round := 1; ; round++ {
		var m int
		m, kept, failed = t.rebalancePass(ctx, smap)
		moved += m
		if failed == 0 || round == rebalanceRounds || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
	span.SetAttributes(attribute.Int("ais.moved", moved), attribute.Int("ais.failed", failed), attribute.Int64("ais.smap_version", smap.Version))
	if failed > 0 {
		span.SetStatus(codes.Error, "some objects did not move")
	}
	if failed == 0 && kept == 0 && ctx.Err() == nil {
		t.win.setClean(smap.Version)
		t.exchangeClean(ctx, smap) // tell the others this target is done
	}
	if moved+failed+kept > 0 && ctx.Err() == nil {
		t.log.InfoContext(ctx, "rebalance done", "smap_version", smap.Version, "moved", moved, "failed", failed,
			"kept_for_down_targets", kept, "took", time.Since(start).Round(time.Millisecond))
	}
}

// rebalanceRounds bounds the passes of one rebalance.
const rebalanceRounds = 8

// rebalancePass walks every bucket once and moves what this target does not
// own; it returns how many objects moved, stayed for a down owner, failed.
func (t *Target) rebalancePass(ctx context.Context, smap *cluster.Map) (moved, kept, failed int) {
	for name, props := range t.bmd.Load().Buckets {
		bck := cluster.Bucket{Provider: props.Provider, Name: name}
		token := ""
		for {
			entries, next, err := t.store.List(ctx, bck, fs.ListOptions{Token: token})
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, cluster.ErrNotFound) {
					t.log.WarnContext(ctx, "rebalance: list", "bucket", name, "err", err)
					failed++
				}
				break
			}
			for i := range entries {
				if ctx.Err() != nil {
					return
				}
				owner, err := smap.Owner(bck.Uname(entries[i].Name))
				switch {
				case owner == nil || owner.ID == t.cfg.ID:
					continue
				case err != nil: // the owner is down
					kept++
					continue
				}
				if err := t.move(ctx, owner, bck, &entries[i]); err != nil {
					failed++
					if ctx.Err() == nil {
						t.log.DebugContext(ctx, "rebalance: move", "bucket", name, "object", entries[i].Name, "to", owner.ID, "err", err)
					}
				} else {
					moved++
				}
			}
			if next == "" {
				break
			}
			token = next
		}
	}
	return moved, kept, failed
}

// move streams one object to its owner and removes the local copy when the
// owner has it (and the local copy did not change meanwhile).
func (t *Target) move(ctx context.Context, owner *cluster.Node, bck cluster.Bucket, a *fs.ObjectAttrs) error {
	obj, err := t.store.Open(ctx, bck, a.Name, fs.GetOptions{})
	if err != nil {
		return err
	}
	defer obj.Close()
	hdr := &transport.Header{
		Kind:     transport.KindObjectPut,
		Bucket:   bck.Name,
		Object:   a.Name,
		Checksum: obj.Attrs.Checksum,
		Version:  obj.Attrs.Version,
	}
	if _, _, err := t.client.Send(ctx, owner.TransportAddr(), hdr, obj.File(), obj.Attrs.Size); err != nil {
		return err
	}
	if cur, err := t.store.Head(ctx, bck, a.Name); err != nil || cur.Version != obj.Attrs.Version || cur.Checksum != obj.Attrs.Checksum {
		return nil // gone or rewritten meanwhile: leave it to the next rebalance
	}
	return t.store.Delete(ctx, bck, a.Name)
}

// handleObjectPut receives an object that another target moves here. It
// keeps an existing copy (never overwrites) and verifies the checksum.
func (t *Target) handleObjectPut(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	h := msg.Header
	if !slices.ContainsFunc(t.smap.Load().TargetList(), func(n *cluster.Node) bool { return n.ID == h.Sender }) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "object from %q, which is not a target of the cluster map", h.Sender)
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
	if t.win.deleted(bck.Uname(h.Object)) {
		return nil, nil // deleted here since the move began: the delete wins, the sender drops its copy
	}
	// The sender's checksum is verified, in its type, as the object arrives.
	_, err = t.store.Put(ctx, bck, h.Object, msg.Body, fs.PutOptions{Size: h.Size, ChecksumType: props.Checksum.Type,
		Checksum: h.Checksum, MaxSize: t.cfg.MaxObjectSize, IfAbsent: true})
	if errors.Is(err, cluster.ErrExists) {
		return nil, nil // ours is at least as new; the sender drops its copy
	}
	return nil, err
}
