package proxy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"miniais/cluster"
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
		if old := m.Targets[n.ID]; old != nil && *old == n {
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

// handleKeepalive records that the sender is alive and clears its down flag.
// The body carries the target's versions (cluster.Versions); when they lag,
// the proxy pushes the newer map, bucket metadata or cluster configuration
// to that target. An
// unknown sender is told so (not found), and re-joins.
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
	if smap := p.smap.Load(); have.Smap < smap.Version {
		go p.pushTo(context.WithoutCancel(ctx), t, transport.KindMapPush, smap)
	}
	if bmd := p.bmd.Load(); have.BMD < bmd.Version {
		go p.pushTo(context.WithoutCancel(ctx), t, transport.KindBMDPush, bmd)
	}
	if cfg := p.clusterConfig(); have.Config < cfg.Version {
		go p.pushTo(context.WithoutCancel(ctx), t, transport.KindConfigPush, cfg)
	}
	return nil, nil
}

// pushTo sends one map or bucket metadata version to one target.
func (p *Proxy) pushTo(ctx context.Context, t *cluster.Node, kind transport.Kind, v interface{ MarshalMsg([]byte) ([]byte, error) }) {
	body, err := v.MarshalMsg(nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.PushTimeout)
	defer cancel()
	if _, _, err := p.client.Call(ctx, t.TransportAddr(), &transport.Header{Kind: kind}, body); err != nil {
		p.log.WarnContext(ctx, "catch-up push failed", "kind", kind.String(), "target", t.ID, "err", err)
	}
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
	p.broadcast(ctx, next, transport.KindMapPush, body, nil)
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
