package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"miniais/cluster"
	"miniais/transport"
)

// Pushes of the cluster map, the bucket metadata and the cluster
// configuration to the targets. Each target has one pusher: at most one
// push is in flight to it at a time, and of each kind only the newest
// version waits behind that push (an older one still waiting is replaced),
// so a slow target gets the latest state as soon as it answers, and never
// a pile of goroutines or of stale versions.

// pushKinds are the kinds a pusher sends, in the order it sends them when
// several wait.
var pushKinds = [...]transport.Kind{transport.KindMapPush, transport.KindBMDPush, transport.KindConfigPush}

// errProxyStopped fails the pushes still waiting when the proxy stops.
var errProxyStopped = errors.New("proxy: stopped")

// pushers holds the pusher of each target, by ID.
type pushers struct {
	mu sync.Mutex
	by map[string]*pusher
}

// pusher sends to one target. Its fields are guarded by pushers.mu.
type pusher struct {
	id      string
	running bool // a goroutine is sending
	// next is the version of each kind waiting to be sent, inFlight the
	// version being sent, done the last version sent and its outcome.
	next     map[transport.Kind]*push
	inFlight map[transport.Kind]int64
	done     map[transport.Kind]pushResult
	// changed is closed (and replaced) whenever a push completes.
	changed chan struct{}
}

// push is one version to send.
type push struct {
	ctx     context.Context // the requester's (its span and values; not its cancellation)
	addr    string
	version int64
	body    []byte
}

type pushResult struct {
	version int64
	err     error
}

// pushTo queues version v of kind (body: its msgpack encoding) for target
// t and returns at once; it is sent when the push in flight to t, if any,
// is answered. A version no newer than the one in flight or waiting is
// dropped. The push continues ctx's trace, and is bounded by PushTimeout.
func (p *Proxy) pushTo(ctx context.Context, t *cluster.Node, kind transport.Kind, v int64, body []byte) {
	ps := &p.pushes
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.by == nil {
		ps.by = map[string]*pusher{}
	}
	pu := ps.by[t.ID]
	if pu == nil {
		pu = &pusher{id: t.ID, next: map[transport.Kind]*push{}, inFlight: map[transport.Kind]int64{},
			done: map[transport.Kind]pushResult{}, changed: make(chan struct{})}
		ps.by[t.ID] = pu
	}
	if n := pu.next[kind]; v <= pu.inFlight[kind] || (n != nil && v <= n.version) {
		return
	}
	pu.next[kind] = &push{ctx: context.WithoutCancel(ctx), addr: t.TransportAddr(), version: v, body: body}
	if pu.running {
		return
	}
	pu.running = true
	if !p.bg.Go(func(stop context.Context) { p.sendPushes(stop, pu) }) {
		pu.running = false
		for kind, n := range pu.next {
			pu.done[kind] = pushResult{n.version, errProxyStopped}
		}
		clear(pu.next)
		pu.notify()
	}
}

// sendPushes sends what waits for pu, one push at a time, until nothing
// does; stop ends it (the proxy stops).
func (p *Proxy) sendPushes(stop context.Context, pu *pusher) {
	ps := &p.pushes
	for {
		ps.mu.Lock()
		var kind transport.Kind
		var n *push
		for _, k := range pushKinds {
			if n = pu.next[k]; n != nil {
				kind = k
				break
			}
		}
		if n == nil || stop.Err() != nil {
			for k, n := range pu.next {
				pu.done[k] = pushResult{n.version, errProxyStopped}
			}
			clear(pu.next)
			pu.running = false
			pu.notify()
			ps.mu.Unlock()
			return
		}
		delete(pu.next, kind)
		pu.inFlight[kind] = n.version
		ps.mu.Unlock()

		err := p.sendPush(stop, n, kind)

		ps.mu.Lock()
		pu.inFlight[kind] = 0
		pu.done[kind] = pushResult{n.version, err}
		pu.notify()
		ps.mu.Unlock()
		if err != nil && stop.Err() == nil {
			p.log.WarnContext(n.ctx, "push to target failed", "kind", kind.String(), "target", pu.id, "version", n.version, "err", err)
		}
	}
}

// sendPush sends one push, bounded by PushTimeout and cut short by stop.
func (p *Proxy) sendPush(stop context.Context, n *push, kind transport.Kind) error {
	ctx, cancel := context.WithTimeout(n.ctx, p.cfg.PushTimeout)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	_, _, err := p.client.Call(ctx, n.addr, &transport.Header{Kind: kind}, n.body)
	return err
}

// notify wakes the waiters of pu. The caller holds pushers.mu.
func (pu *pusher) notify() {
	close(pu.changed)
	pu.changed = make(chan struct{})
}

// waitPush waits until target id has answered a push of kind at version
// v or newer, and returns that push's error; or returns ctx's.
func (p *Proxy) waitPush(ctx context.Context, id string, kind transport.Kind, v int64) error {
	ps := &p.pushes
	for {
		ps.mu.Lock()
		pu := ps.by[id]
		if pu == nil {
			ps.mu.Unlock()
			return fmt.Errorf("no push to target %s", id)
		}
		if r := pu.done[kind]; r.version >= v {
			ps.mu.Unlock()
			return r.err
		}
		changed := pu.changed
		ps.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pushAll queues version v of kind for every target of smap that is up
// and waits until each has answered it (or a newer version), each wait
// bounded by PushTimeout after the push in flight before it; it returns
// the errors by target ID. The caller's span covers the round.
func (p *Proxy) pushAll(ctx context.Context, smap *cluster.Map, kind transport.Kind, v int64, body []byte) map[string]error {
	ctx, span := p.tracer.Start(ctx, "proxy.broadcast")
	defer span.End()
	span.SetAttributes(attribute.String("ais.msg_kind", kind.String()), attribute.Int64("ais.smap_version", smap.Version),
		attribute.Int64("ais.version", v))
	targets := smap.ActiveTargets()
	for _, t := range targets {
		p.pushTo(ctx, t, kind, v, body)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*p.cfg.PushTimeout)
	defer cancel()
	errs := map[string]error{}
	for _, t := range targets {
		if err := p.waitPush(wctx, t.ID, kind, v); err != nil {
			errs[t.ID] = err
		}
	}
	if len(errs) > 0 {
		span.SetStatus(codes.Error, fmt.Sprintf("%d of %d targets failed", len(errs), len(targets)))
	}
	return errs
}
