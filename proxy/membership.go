package proxy

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
	"miniais/transport"
)

// maxControlBody bounds the body of a join or keepalive message.
const maxControlBody = 1 << 20

// handleJoin adds (or re-admits) the target described by the message body
// and replies with the current cluster map (body) and bucket metadata
// (opaque), so the target is in sync before its first request.
func (p *Proxy) handleJoin(ctx context.Context, msg *transport.Message, reply *transport.Header) ([]byte, error) {
	var n cluster.Node
	buf, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	if _, err := n.UnmarshalMsg(buf); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "join: malformed node: %v", err)
	}
	if n.ID == "" || n.Role != cluster.RoleTarget || n.ID != msg.Header.Sender {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "join: node %q (role %q) sent by %q", n.ID, n.Role, msg.Header.Sender)
	}
	n.IDDigest = cluster.Digest(n.ID)
	n.Unresponsive = false
	p.touch(n.ID)

	smap, changed, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
		old := m.Targets[n.ID]
		// A target that was down stays flagged down until a keepalive
		// reports that it runs with the current bucket metadata (see
		// handleKeepalive): until then it could serve a bucket destroyed
		// while it was away.
		n.Unresponsive = old != nil && old.Down()
		if old != nil {
			n.Flags = old.Flags // one in maintenance rejoins in maintenance (maintenance.go)
		}
		if old != nil && *old == n {
			return false
		}
		m.Targets[n.ID] = &n
		return true
	})
	if err != nil {
		return nil, err
	}
	if changed {
		p.log.InfoContext(ctx, "target joined", "target", n.ID, "public", n.URL(), "smap_version", smap.Version)
	}
	bmd, err := p.bmd.Load().MarshalMsg(nil)
	if err != nil {
		return nil, err
	}
	reply.Opaque = bmd
	return smap.MarshalMsg(nil)
}

// handleKeepalive records that the sender is alive and clears its down flag
// once the sender reports the current bucket metadata version (before that
// it is pushed the metadata and stays down). The body carries the target's
// versions (cluster.Versions); when they lag, the proxy pushes the newer
// map, bucket metadata or cluster configuration to that target. An unknown
// sender is told so (not found), and re-joins.
func (p *Proxy) handleKeepalive(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	id := msg.Header.Sender
	t := p.smap.Load().Targets[id]
	if t == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "target %s is not in the cluster map: join first", id)
	}
	p.touch(id)
	var have cluster.Versions
	if b, err := msg.ReadBody(maxControlBody); err != nil {
		return nil, err
	} else if _, err := have.UnmarshalMsg(b); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "keepalive: malformed versions: %v", err)
	}
	if t.Down() {
		if bmd := p.bmd.Load(); have.BMD < bmd.Version {
			// Bring it up to date first: it comes back only once a
			// keepalive reports the current version (its buckets then
			// match the BMD: none destroyed meanwhile is left, none
			// created is missing; target.applyBMD).
			p.log.InfoContext(ctx, "target is back: pushing the bucket metadata before it returns to the map",
				"target", id, "its_bmd_version", have.BMD, "bmd_version", bmd.Version)
			p.pushMarshaled(ctx, t, transport.KindBMDPush, bmd.Version, bmd)
			return nil, nil
		}
		smap, changed, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
			n := m.Targets[id]
			if n == nil || !n.Down() {
				return false
			}
			n.Unresponsive = false
			return true
		})
		if err != nil {
			return nil, err
		}
		if changed {
			p.log.InfoContext(ctx, "target is back", "target", id, "smap_version", smap.Version)
			return nil, nil // the update was pushed to it
		}
	}
	// Catch-up pushes: one in flight to a target at a time (push.go), so
	// keepalives from a slow target do not stack them.
	if smap := p.smap.Load(); have.Smap < smap.Version {
		p.pushMarshaled(ctx, t, transport.KindMapPush, smap.Version, smap)
	}
	if bmd := p.bmd.Load(); have.BMD < bmd.Version {
		p.pushMarshaled(ctx, t, transport.KindBMDPush, bmd.Version, bmd)
	}
	if cfg := p.clusterConfig(); have.Config < cfg.Version {
		p.pushMarshaled(ctx, t, transport.KindConfigPush, cfg.Version, cfg)
	}
	return nil, nil
}

// pushMarshaled queues version v of kind (value m) for target t (pushTo).
func (p *Proxy) pushMarshaled(ctx context.Context, t *cluster.Node, kind transport.Kind, v int64, m interface{ MarshalMsg([]byte) ([]byte, error) }) {
	body, err := m.MarshalMsg(nil)
	if err != nil {
		p.log.ErrorContext(ctx, "cannot encode a push", "kind", kind.String(), "err", err)
		return
	}
	p.pushTo(ctx, t, kind, v, body)
}

func (p *Proxy) touch(id string) {
	p.seenMu.Lock()
	p.lastSeen[id] = time.Now().UnixNano()
	p.seenMu.Unlock()
}

// monitor flags down every target whose keepalives stopped.
func (p *Proxy) monitor(ctx context.Context) {
	tick := time.NewTicker(p.cfg.KeepaliveTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		deadline := time.Now().Add(-p.cfg.KeepaliveTimeout).UnixNano()
		var silent []string
		p.seenMu.Lock()
		for _, n := range p.smap.Load().Targets {
			if !n.Down() && p.lastSeen[n.ID] < deadline {
				silent = append(silent, n.ID)
			}
		}
		p.seenMu.Unlock()
		if len(silent) == 0 {
			continue
		}
		smap, changed, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
			for _, id := range silent {
				if n := m.Targets[id]; n != nil {
					n.Unresponsive = true
				}
			}
			return true
		})
		if err != nil {
			p.log.Error("cannot flag targets down", "targets", silent, "err", err)
		} else if changed {
			p.log.Warn("targets missed their keepalives: flagged down", "targets", silent, "smap_version", smap.Version)
		}
	}
}

// updateSmap applies change to a clone of the current map under p.mu; when
// change reports a modification, the clone gets the next version, is
// persisted, published and pushed to every target that is up.
func (p *Proxy) updateSmap(ctx context.Context, change func(*cluster.Map) bool) (*cluster.Map, bool, error) {
	p.mu.Lock()
	cur := p.smap.Load()
	next := cur.Clone()
	if !change(next) {
		p.mu.Unlock()
		return cur, false, nil
	}
	next.Version = cur.Version + 1
	if err := p.persist(smapFile, next); err != nil {
		p.mu.Unlock()
		return nil, false, fmt.Errorf("persist cluster map: %w", err)
	}
	p.smap.Store(next)
	p.mu.Unlock()
	body, err := next.MarshalMsg(nil)
	if err != nil {
		return nil, false, err
	}
	p.pushAll(ctx, next, transport.KindMapPush, next.Version, body)
	return next, true, nil
}

// broadcast sends one message to every target of smap that is up, in
// parallel, each bounded by PushTimeout, and returns the errors by target ID.
// The caller's span covers the whole round.
func (p *Proxy) broadcast(ctx context.Context, smap *cluster.Map, kind transport.Kind, body, opaque []byte) map[string]error {
	ctx, span := p.tracer.Start(ctx, "proxy.broadcast")
	defer span.End()
	span.SetAttributes(attribute.String("ais.msg_kind", kind.String()), attribute.Int64("ais.smap_version", smap.Version))
	targets := smap.ActiveTargets()
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, p.cfg.PushTimeout)
			defer cancel()
			hdr := &transport.Header{Kind: kind, Opaque: opaque}
			if _, _, err := p.client.Call(cctx, t.TransportAddr(), hdr, body); err != nil {
				mu.Lock()
				errs[t.ID] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for id, err := range errs {
		p.log.WarnContext(ctx, "push to target failed", "kind", kind.String(), "target", id, "err", err)
	}
	if len(errs) > 0 {
		span.SetStatus(codes.Error, fmt.Sprintf("%d of %d targets failed", len(errs), len(targets)))
	}
	return errs
}

// removeDownTarget removes target id, which is down, from the cluster map
// (decommission-node of a target that is down, cluster action dispatch):
// the targets that remain then rebalance (each starts the rebalance named
// by the new map version, whose ID it returns), so that every object they
// hold is at its owner among them. The objects only the removed target
// held are lost.
//
// It is refused before anything changes (ErrBadRequest naming the
// reason) when id is not a target of the map, is not down, is the last
// target, or has been down (silent) for less than the cluster
// configuration's timeout.remove_down_after, unless force is set.
func (p *Proxy) removeDownTarget(ctx context.Context, id string, force bool) (string, error) {
	ctx, span := p.tracer.Start(ctx, "proxy.remove_target")
	defer span.End()
	span.SetAttributes(attribute.String("ais.target", id), attribute.Bool("ais.force", force))
	var downFor time.Duration
	check := func(m *cluster.Map) error {
		t := m.Targets[id]
		switch {
		case t == nil:
			return cluster.Errorf(cluster.ErrNotFound, "remove %s: no such target in the cluster map (version %d)", id, m.Version)
		case !t.Down():
			return cluster.Errorf(cluster.ErrBadRequest, "remove %s: the target is up (not flagged down): only a target that is down can be removed this way", id)
		case len(m.Targets) == 1:
			return cluster.Errorf(cluster.ErrBadRequest, "remove %s: it is the last target of the cluster", id)
		}
		p.seenMu.Lock()
		downFor = time.Since(time.Unix(0, p.lastSeen[id]))
		p.seenMu.Unlock()
		if after := p.clusterConfig().RemoveDownAfter(); downFor < after && !force {
			return cluster.Errorf(cluster.ErrBadRequest, "remove %s: down (silent) for %s, less than %s=%s: wait, or force it",
				id, downFor.Round(time.Second), cluster.KeyTimeoutRemoveDownAfter, after)
		}
		return nil
	}
	if err := check(p.smap.Load()); err != nil {
		span.SetStatus(codes.Error, err.Error())
		return "", err
	}
	var cerr error
	var prev *cluster.Map
	smap, changed, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
		prev = m.Clone()
		if cerr = check(m); cerr != nil { // the map may have changed meanwhile
			return false
		}
		delete(m.Targets, id)
		return true
	})
	if err == nil {
		err = cerr
	}
	if err != nil || !changed {
		span.SetStatus(codes.Error, fmt.Sprint(err))
		return "", err
	}
	p.seenMu.Lock()
	delete(p.lastSeen, id)
	p.seenMu.Unlock()
	rebID := job.RebalanceID(smap.Version)
	if placementOf(smap) == placementOf(prev) {
		rebID = "" // it was out of placement (maintenance.go): nothing moves
	}
	span.SetAttributes(attribute.String("ais.job_id", rebID))
	p.log.WarnContext(ctx, "removed a down target from the cluster map: the objects only it held are lost",
		"target", id, "down_for", downFor.Round(time.Second), "forced", force, "smap_version", smap.Version, "rebalance", rebID)
	return rebID, nil
}

// decommissionDown serves decommission-node for target id, which is down
// (membershipAction sends it here): it is removed from the map at once
// (removeDownTarget) and the reply is the rebalance ID, as text. The
// options that need the target to act (rm_user_data, keep_initial_config,
// no_shutdown) are refused with 501, and so is any membership change in
// progress (409).
func (p *Proxy) decommissionDown(w http.ResponseWriter, r *http.Request, id string, args wire.NodeAction) error {
	if args.RmUserData || args.KeepInitialConfig || args.NoShutdown {
		return cluster.Errorf(cluster.ErrNotImplemented,
			"%s of target %s, which is down: rm_user_data, keep_initial_config and no_shutdown need the target to act", wire.ActDecommissionNode, id)
	}
	mb := &p.members
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if op := mb.running; op != nil {
		return cluster.Errorf(cluster.ErrBusy, "%s of target %s is in progress", op.action, op.node.ID)
	}
	rebID, err := p.removeDownTarget(r.Context(), id, args.Force)
	if err != nil {
		return err
	}
	writeJobID(w, rebID)
	return nil
}
