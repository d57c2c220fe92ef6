package target

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/job"
	"miniais/tracing"
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
//
// A rebalance is a job (kind rebalance, ID "g<map version>", the same on
// every target): "ais show rebalance" lists it on every target with what it
// moved (out) and received (in). One started by a map change is a trace of
// its own per target, linked to the change; a newer map supersedes (aborts)
// a running one.

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

// placementChanged tells whether HRW places objects differently under next
// than under prev: the targets in placement (cluster.Map.PlacementTargets,
// those not in maintenance) are not the same. A target that leaves the map
// once it is out of placement (a decommission) changes nothing.
func placementChanged(prev, next *cluster.Map) bool {
	a, b := prev.PlacementTargets(), next.PlacementTargets()
	return !slices.EqualFunc(a, b, func(x, y *cluster.Node) bool { return x.ID == y.ID })
}

// maintenanceChanged tells whether a target of both maps entered or left
// maintenance: the rebalance it starts belongs to the operator's request
// that did it (the map push carries that request's trace).
func maintenanceChanged(prev, next *cluster.Map) bool {
	for id, n := range next.Targets {
		if o := prev.Targets[id]; o != nil && o.InMaintenance() != n.InMaintenance() {
			return true
		}
	}
	return false
}

// startRebalance aborts a running rebalance (job.ErrSuperseded) and starts
// job id for smap: a rebalance the map change started is a new trace
// linked to the change (ctx is the map push's or the join's), one the proxy
// asked for (auto false: "ais job start rebalance", or a target entering or
// leaving maintenance) is in the trace of its request. Callers hold t.mu.
func (t *Target) startRebalance(ctx context.Context, smap *cluster.Map, id string, auto bool) (*job.Job, error) {
	j := job.New(t.runCtx, job.Desc{ID: id, Kind: wire.KindRebalance, CtlMsg: fmt.Sprintf("cluster map v%d", smap.Version)})
	if err := t.jobs.Add(j); err != nil {
		return nil, err
	}
	if t.rebJob != nil {
		t.rebJob.Abort(fmt.Errorf("%w (%s)", job.ErrSuperseded, id))
	}
	t.rebJob = j
	t.win.open(smap, t.cfg.ID)
	t.win.setClean(0)
	opts := []trace.SpanStartOption{trace.WithAttributes(t.jobAttrs(j)...), trace.WithAttributes(attribute.Int64("ais.smap_version", smap.Version))}
	// One trace for the cluster's rebalance: when a map change started it,
	// the same trace ID on every target (derived from the map and the job
	// ID), else the requester's trace. In it every batch is a root, the
	// summary span links to what started it, and no span stays open for
	// the whole run (tracing.JoinTrace).
	sc := trace.SpanContextFromContext(ctx)
	tid, why := tracing.TraceIDOf("rebalance", smap.UUID, id), "cluster map change"
	if !auto && sc.IsValid() {
		tid, why = sc.TraceID(), "requested by"
	}
	parent := tracing.JoinTrace(j.Context(), tid, sc.IsSampled())
	opts = append(opts, trace.WithLinks(trace.LinkFromContext(ctx, attribute.String("ais.link", why))))
	if !t.bg.Go(func(context.Context) { t.rebalance(parent, j, smap, opts) }) {
		j.Abort(job.ErrShutdown) // the target is stopping
	}
	return j, nil
}

// rebalance moves every object this target does not own under smap to its
// owner, as job j. Objects whose owner is down stay until a later map. A
// pass that could not move everything (the new owner may not have applied
// the map yet), or on a target in maintenance one that moved anything, is
// repeated with growing pauses, up to rebalanceRounds times.
func (t *Target) rebalance(ctx context.Context, j *job.Job, smap *cluster.Map, opts []trace.SpanStartOption) {
	start := time.Now()
	t.bg.Go(func(context.Context) { t.exchangeClean(ctx, smap) }) // learn which peers hold nothing of ours
	var moved, kept, failed int
	pause := 200 * time.Millisecond
	for round := 1; ; round++ {
		var m int
		m, kept, failed = t.rebalancePass(ctx, j, smap, round)
		moved += m
		// A target leaving placement walks once more after a pass that
		// moved something: a write routed to it by the previous map may
		// have landed behind the walk.
		again := failed > 0 || (m > 0 && outOfPlacement(smap, t.cfg.ID))
		if !again || round == rebalanceRounds || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
	// The summary span, made once the run is over (it spans the run's time
	// but was never open: the batches are roots of their own).
	_, span := t.tracer.Start(ctx, "job.share rebalance", append(opts, trace.WithTimestamp(start))...)
	defer span.End()
	span.SetAttributes(attribute.Int("ais.moved", moved), attribute.Int("ais.failed", failed), attribute.Int("ais.kept", kept))
	if failed == 0 && kept == 0 && ctx.Err() == nil {
		t.win.setClean(smap.Version)
		t.exchangeClean(ctx, smap) // tell the others this target is done
	}
	switch {
	case ctx.Err() != nil:
		if t.runCtxDone() {
			j.Abort(job.ErrShutdown)
		}
		j.Abort(context.Cause(ctx)) // no change when superseded or stopped
	case failed > 0:
		j.Finish(fmt.Errorf("%d object(s) did not move", failed))
	case kept > 0 && outOfPlacement(smap, t.cfg.ID):
		// A target leaving placement is not done while it holds objects.
		j.Finish(fmt.Errorf("%d object(s) stay on this target in maintenance: their owners are down", kept))
	default:
		j.Finish(nil)
	}
	snap := j.Snap()
	span.SetAttributes(snapAttrs(&snap)...)
	if snap.Aborted || snap.Err != "" {
		span.SetStatus(codes.Error, snap.Err)
	}
	if moved+failed+kept > 0 && ctx.Err() == nil {
		t.log.InfoContext(ctx, "rebalance done", "job", j.ID(), "smap_version", smap.Version, "moved", moved, "failed", failed,
			"kept_for_down_targets", kept, "took", time.Since(start).Round(time.Millisecond))
	}
}

// rebalanceRounds bounds the passes of one rebalance.
const rebalanceRounds = 8

// rebalancePass walks every bucket once, a page at a time (one batch span
// each), and moves what this target does not own; it returns how many
// objects moved, stayed for a down owner, failed.
func (t *Target) rebalancePass(ctx context.Context, j *job.Job, smap *cluster.Map, round int) (moved, kept, failed int) {
	th := t.throttle()
	for name, props := range t.bmd.Load().Buckets {
		bck := cluster.Bucket{Provider: props.Provider, Name: name}
		err := t.walk(ctx, j, bck, "", true, func(ctx context.Context, page []fs.ObjectAttrs) error {
			for i := range page {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				owner, err := smap.Owner(bck.Uname(page[i].Name))
				switch {
				case owner == nil || owner.ID == t.cfg.ID:
					continue
				case err != nil: // the owner is down
					kept++
					continue
				}
				start := time.Now()
				if err := t.move(ctx, j, owner, bck, &page[i]); err != nil {
					failed++
					if ctx.Err() == nil {
						t.log.DebugContext(ctx, "rebalance: move", "bucket", name, "object", page[i].Name, "to", owner.ID, "err", err)
					}
				} else {
					moved++
				}
				if err := th.Wait(ctx, time.Since(start), false); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && ctx.Err() == nil && !errors.Is(err, cluster.ErrNotFound) {
			t.log.WarnContext(ctx, "rebalance: list", "bucket", name, "round", round, "err", err)
			failed++
		}
		if ctx.Err() != nil {
			return
		}
	}
	return moved, kept, failed
}

// move streams one object to its owner and removes the local copy when the
// owner has it (and the local copy did not change meanwhile).
func (t *Target) move(ctx context.Context, j *job.Job, owner *cluster.Node, bck cluster.Bucket, a *fs.ObjectAttrs) error {
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
		Custom:   obj.Attrs.Custom,
		Opaque:   []byte(j.ID()),
	}
	if _, _, err := t.client.Send(ctx, owner.TransportAddr(), hdr, obj.File(), obj.Attrs.Size); err != nil {
		return err
	}
	j.Stats.AddLoc(obj.Attrs.Size)
	j.Stats.AddOut(obj.Attrs.Size)
	if cur, err := t.store.Head(ctx, bck, a.Name); err != nil || cur.Version != obj.Attrs.Version || cur.Checksum != obj.Attrs.Checksum {
		return nil // gone or rewritten meanwhile: leave it to the next rebalance
	}
	return t.store.Delete(ctx, bck, a.Name)
}

// handleObjectPut receives an object that another target moves here. It
// keeps an existing copy (never overwrites) and verifies the checksum.
func (t *Target) handleObjectPut(ctx context.Context, msg *transport.Message, reply *transport.Header) ([]byte, error) {
	if string(msg.Header.Opaque) == putCopy {
		return t.handleObjectCopy(ctx, msg, reply) // a copy or rename, not a move (objops.go)
	}
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
		Checksum: h.Checksum, Custom: h.Custom, MaxSize: t.cfg.MaxObjectSize, IfAbsent: true})
	if errors.Is(err, cluster.ErrExists) {
		return nil, nil // ours is at least as new; the sender drops its copy
	}
	if err == nil {
		if j := t.jobs.Get(string(h.Opaque)); j != nil {
			j.Stats.AddIn(h.Size)
		}
	}
	return nil, err
}
