package target

import (
	"context"
	"strconv"
	"sync"
	"time"

	"miniais/cluster"
	"miniais/transport"
)

// # The rebalance window
//
// While other targets may still hold objects that this target owns (they
// have not finished moving them since the target set changed), a local miss
// is not final: the owner asks those targets (neighbor.go), and a DELETE
// leaves a tombstone so that a move already in flight cannot bring the
// object back. A GET or HEAD that neither finds locally nor on the peers
// looks locally once more: the object may have moved here in between (the
// sender deletes its copy only once the owner has it). Outside the window a
// miss is a miss, answered at once.
//
// Each target has a clean version: its map version when it holds nothing
// misplaced (no rebalance running, the last one moved everything), else 0.
// Targets tell each other their clean version with transport.
// KindRebalanceDone: a target whose rebalance finishes sends it to every
// other target, and a target whose window opens asks every other target for
// theirs (a peer that did not need to rebalance will not send on its own).
// A peer leaves the window once its clean version reaches the window's map
// version.

// window is a target's rebalance window. Its methods are safe for
// concurrent use.
type window struct {
	mu      sync.Mutex
	version int64           // map version that opened the window
	pending map[string]bool // peers that may still hold objects of ours
	tombs   map[string]bool // unames deleted while the window is open
	early   map[string]int64
	// clean is this target's clean version (see above).
	clean int64
}

// open starts a window for smap: every other target is pending.
func (w *window) open(smap *cluster.Map, self string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.version = smap.Version
	w.pending = map[string]bool{}
	for id := range smap.Targets {
		if id != self && w.early[id] < smap.Version {
			w.pending[id] = true
		}
	}
	w.tombs = nil
	w.clean = 0
}

// peers returns the pending peers; none means the window is closed.
func (w *window) peers() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	out := make([]string, 0, len(w.pending))
	for id := range w.pending {
		out = append(out, id)
	}
	return out
}

// isOpen reports whether some peer may still hold objects of ours.
func (w *window) isOpen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending) > 0
}

// noteClean records a peer's clean version.
func (w *window) noteClean(peer string, v int64) {
	if v <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if v >= w.version && w.pending[peer] {
		delete(w.pending, peer)
		if len(w.pending) == 0 {
			w.tombs = nil
		}
	}
	if w.early == nil {
		w.early = map[string]int64{}
	}
	w.early[peer] = max(w.early[peer], v)
}

// tomb records the deletion of uname if the window is open.
func (w *window) tomb(uname string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return
	}
	if w.tombs == nil {
		w.tombs = map[string]bool{}
	}
	w.tombs[uname] = true
}

// deleted reports whether uname was deleted while the window is open.
func (w *window) deleted(uname string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tombs[uname]
}

// setClean sets this target's clean version (0: it holds misplaced objects).
func (w *window) setClean(v int64) {
	w.mu.Lock()
	w.clean = v
	w.mu.Unlock()
}

// cleanVersion returns this target's clean version.
func (w *window) cleanVersion() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clean
}

// exchangeClean sends this target's clean version to every other target of
// smap and records theirs from the replies. Failures are left pending.
func (t *Target) exchangeClean(ctx context.Context, smap *cluster.Map) {
	mine := []byte(strconv.FormatInt(t.win.cleanVersion(), 10))
	var wg sync.WaitGroup
	for _, n := range smap.TargetList() {
		if n.ID == t.cfg.ID || n.Down() {
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, body, err := t.client.Call(cctx, n.TransportAddr(), &transport.Header{Kind: transport.KindRebalanceDone, Opaque: mine}, nil)
			if err != nil {
				t.log.DebugContext(ctx, "rebalance window: exchange", "peer", n.ID, "err", err)
				return
			}
			v, _ := strconv.ParseInt(string(body), 10, 64)
			t.win.noteClean(n.ID, v)
		})
	}
	wg.Wait()
}

// handleRebalanceDone records the sender's clean version and replies with
// this target's. The sender proved the cluster secret; it may be a target
// of a newer map than this one's (its version is then remembered for when
// this target's window opens).
func (t *Target) handleRebalanceDone(_ context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	h := msg.Header
	v, err := strconv.ParseInt(string(h.Opaque), 10, 64)
	if err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed clean version %q", h.Opaque)
	}
	t.win.noteClean(h.Sender, v)
	return []byte(strconv.FormatInt(t.win.cleanVersion(), 10)), nil
}
