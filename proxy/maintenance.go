package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
	"miniais/tracing"
	"miniais/transport"
)

// # Maintenance, shutdown and decommission of a target
//
// AIStore's membership actions (PUT /v1/cluster, shared/aistore-clients.md
// section 9), one at a time:
//
//   - start-maintenance: the target is flagged cluster.FlagMaintenance in a
//     new map version. It then owns nothing (cluster.Map.Owner skips it), so
//     new writes go elsewhere, and the rebalance that the map starts on every
//     target moves its objects to their new owners; until they have moved,
//     it keeps serving reads, and the new owners find what they miss on it
//     (the rebalance window, target/window.go). When the rebalance has
//     finished everywhere, cluster.FlagMaintenancePostRebalance is added.
//   - stop-maintenance: the flags are cleared; the rebalance brings its
//     objects back.
//   - shutdown-node: maintenance, then the target is told to exit
//     (transport.KindNodeLeave). It stays in the map (down, in
//     maintenance); restarted, it rejoins in maintenance.
//   - decommission-node: cluster.FlagDecommission and the rebalance; then
//     the target deletes its state (and with rm_user_data its mountpaths'
//     contents), is removed from the map and exits (unless no_shutdown).
//
// The reply is the rebalance's ID ("g<map version>"), or empty when the
// change moves nothing; the rebalance is the job that "ais show job"
// reports with its progress. Everything is refused before anything
// changes when it cannot be done: an unknown node, a proxy, the last
// target in placement, a target down (its objects cannot move) or another
// target down (they would have nowhere to go), a target already in the
// state asked for, another membership change or a rebalance in progress
// (409, cluster.ErrBusy); skip_rebalance is not implemented (501).
//
// The whole operation is one trace: its span ("cluster ACTION", a child of
// the request's) stays open until the operation has ended, the map pushes
// are its children, and the targets' rebalance joins the trace of that push
// (target/rebalance.go). The proxy watches the rebalance with unsampled
// polls; stop-maintenance has nothing to do after its rebalance, so it
// ends with its request (while the rebalance runs, no other change starts). A proxy that restarts in the middle does not resume the operation:
// the flags stay as they are.

// membership serializes the membership changes.
type membership struct {
	mu      sync.Mutex
	running *memberOp // guarded by mu
}

// memberOp is one membership change in progress.
type memberOp struct {
	action string
	node   *cluster.Node // as in the map before the change
	args   wire.NodeAction
	// version is the map version of the change, rebID its rebalance ("":
	// none).
	version int64
	rebID   string
	span    trace.Span
}

// membershipActions are the actions membershipAction serves.
var membershipActions = []string{wire.ActStartMaintenance, wire.ActStopMaintenance, wire.ActShutdownNode, wire.ActDecommissionNode}

// membershipAction serves a membership action of PUT /v1/cluster: it
// answers the rebalance's ID as text (or nothing when no object moves).
func (p *Proxy) membershipAction(w http.ResponseWriter, r *http.Request, msg wire.ActionMsg) error {
	var args wire.NodeAction
	if len(msg.Value) == 0 || string(msg.Value) == "null" {
		return cluster.Errorf(cluster.ErrBadRequest, "%s: no node given", msg.Action)
	}
	if err := json.Unmarshal(msg.Value, &args); err != nil {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed %s value: %v", msg.Action, err)
	}
	id, err := nodeOfAction(msg.Action, &args)
	if err != nil {
		return err
	}
	if n := p.smap.Load().Targets[id]; n != nil && n.Down() && msg.Action == wire.ActDecommissionNode {
		return p.decommissionDown(w, r, id, args) // membership.go: removal of a dead target
	}
	rebID, err := p.startMembership(r.Context(), msg.Action, id, args)
	if err != nil {
		return err
	}
	if rebID == "" {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	writeJobID(w, rebID)
	return nil
}

// nodeOfAction checks the options of a membership action and returns the
// one node it names.
func nodeOfAction(action string, args *wire.NodeAction) (string, error) {
	ids := args.IDs
	if args.DaemonID != "" {
		ids = append([]string{args.DaemonID}, ids...)
	}
	switch {
	case len(ids) == 0 || ids[0] == "":
		return "", cluster.Errorf(cluster.ErrBadRequest, "%s: no node given (sid or sids)", action)
	case len(ids) > 1 && (len(ids) != 2 || ids[0] != ids[1]):
		return "", cluster.Errorf(cluster.ErrNotImplemented, "%s of %d nodes at once is not implemented", action, len(ids))
	case args.SkipRebalance:
		return "", cluster.Errorf(cluster.ErrNotImplemented, "%s: skip_rebalance (leaving without moving the objects) is not implemented", action)
	case action != wire.ActDecommissionNode && (args.RmUserData || args.NoShutdown || args.KeepInitialConfig):
		return "", cluster.Errorf(cluster.ErrBadRequest, "%s: rm_user_data, keep_initial_config and no_shutdown apply to %s only", action, wire.ActDecommissionNode)
	}
	return ids[0], nil
}

// startMembership checks and starts one membership change and returns its
// rebalance's ID ("" when nothing moves).
func (p *Proxy) startMembership(rctx context.Context, action, id string, args wire.NodeAction) (string, error) {
	if args.Force {
		return "", cluster.Errorf(cluster.ErrBadRequest, "%s of %s: miniais_force applies to the decommission of a target that is down", action, id)
	}
	mb := &p.members
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if op := mb.running; op != nil {
		return "", cluster.Errorf(cluster.ErrBusy, "%s of target %s is in progress", op.action, op.node.ID)
	}
	smap := p.smap.Load()
	n, flags, err := checkMembership(smap, action, id)
	if err != nil {
		return "", err
	}
	if reb, err := p.runningRebalance(rctx); err != nil {
		return "", err
	} else if reb != "" {
		return "", cluster.Errorf(cluster.ErrBusy, "%s of target %s: rebalance %s is running", action, id, reb)
	}

	ctx, span := p.tracer.Start(context.WithoutCancel(rctx), "cluster "+action, trace.WithAttributes(
		attribute.String("ais.node", id), attribute.String("ais.action", action)))
	op := &memberOp{action: action, node: n.Clone(), args: args, span: span}
	next, _, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
		t := m.Targets[id]
		if t == nil || t.Flags != n.Flags {
			return false // changed meanwhile: refused below
		}
		t.Flags = flags
		return true
	})
	if err == nil && next.Targets[id].Flags != flags {
		err = cluster.Errorf(cluster.ErrBusy, "%s: target %s changed meanwhile", action, id)
	}
	if err != nil {
		endSpan(span, err)
		return "", err
	}
	op.version = next.Version
	if placementOf(smap) != placementOf(next) {
		op.rebID = job.RebalanceID(next.Version)
	}
	span.SetAttributes(attribute.Int64("ais.smap_version", next.Version), attribute.String("ais.job_id", op.rebID))
	p.log.InfoContext(ctx, "membership change started", "action", action, "target", id, "smap_version", next.Version, "rebalance", op.rebID)
	if op.action == wire.ActStopMaintenance {
		// Nothing follows the rebalance (and no other change starts while
		// it runs: runningRebalance above).
		err := p.completeMembership(ctx, op)
		endSpan(span, err)
		return op.rebID, err
	}
	mb.running = op
	if !p.bg.Go(func(stop context.Context) { p.finishMembership(ctx, stop, op) }) {
		mb.running = nil
		endSpan(span, errProxyStopped)
		return "", cluster.Errorf(cluster.ErrUnavailable, "%s: the proxy is stopping", action)
	}
	return op.rebID, nil
}

// checkMembership checks that action may be done to node id under smap and
// returns the node and its flags after the action.
func checkMembership(smap *cluster.Map, action, id string) (*cluster.Node, uint64, error) {
	n := smap.Node(id)
	switch {
	case n == nil:
		return nil, 0, cluster.Errorf(cluster.ErrNotFound, "%s: node %q is not in the cluster map (v%d)", action, id, smap.Version)
	case smap.Primary != nil && n.ID == smap.Primary.ID:
		return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: %s is the primary proxy", action, id)
	case n.Role != cluster.RoleTarget:
		return nil, 0, cluster.Errorf(cluster.ErrNotImplemented, "%s of proxy %s is not implemented (targets only)", action, id)
	case n.Down():
		return nil, 0, cluster.Errorf(cluster.ErrUnavailable, "%s: target %s is down (start it first)", action, id)
	}
	const inMaint = cluster.FlagMaintenance | cluster.FlagMaintenancePostRebalance
	flags := n.Flags
	switch action {
	case wire.ActStopMaintenance:
		switch {
		case n.Flags&cluster.FlagDecommission != 0:
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: target %s is being decommissioned", action, id)
		case !n.InMaintenance():
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: target %s is not in maintenance", action, id)
		}
		flags &^= inMaint
	case wire.ActStartMaintenance, wire.ActShutdownNode:
		switch {
		case n.Flags&cluster.FlagDecommission != 0:
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: target %s is being decommissioned", action, id)
		case action == wire.ActStartMaintenance && n.InMaintenance():
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: target %s is already in maintenance", action, id)
		case n.Flags&cluster.FlagMaintenance != 0 && n.Flags&cluster.FlagMaintenancePostRebalance == 0:
			return nil, 0, cluster.Errorf(cluster.ErrBusy, "%s: target %s is entering maintenance", action, id)
		}
		flags |= cluster.FlagMaintenance
	case wire.ActDecommissionNode:
		if n.Flags&cluster.FlagDecommission != 0 {
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: target %s is already being decommissioned", action, id)
		}
		flags |= cluster.FlagDecommission
	default:
		return nil, 0, cluster.Errorf(cluster.ErrNotImplemented, "membership action %q is not implemented", action)
	}
	if action != wire.ActStopMaintenance && !n.InMaintenance() {
		others := 0
		for _, t := range smap.PlacementTargets() {
			if t.ID == id {
				continue
			}
			if t.Down() {
				return nil, 0, cluster.Errorf(cluster.ErrUnavailable, "%s of %s: target %s is down, so objects that would move to it cannot", action, id, t.ID)
			}
			others++
		}
		if others == 0 {
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "%s: %s is the last target in placement: its objects would have nowhere to go", action, id)
		}
	}
	return n, flags, nil
}

// placementOf names the targets in placement under smap, in ID order.
func placementOf(smap *cluster.Map) string {
	var b strings.Builder
	for _, t := range smap.PlacementTargets() {
		b.WriteString(t.ID)
		b.WriteByte(0)
	}
	return b.String()
}

// runningRebalance returns the ID of a rebalance running on a target that
// is up ("" for none).
func (p *Proxy) runningRebalance(ctx context.Context) (string, error) {
	snaps, err := p.collectSnaps(tracing.Unsampled(ctx), &wire.JobQuery{Kind: wire.KindRebalance})
	if err != nil {
		return "", err
	}
	for _, list := range snaps {
		for _, s := range list {
			if s.Running() {
				return s.ID, nil
			}
		}
	}
	return "", nil
}

// finishMembership waits for op's rebalance and ends op: it adds the flag
// of a completed maintenance, tells a target that shuts down to exit, or
// wipes and removes a decommissioned one. stop is done when the proxy
// stops (op is then left as it is).
func (p *Proxy) finishMembership(ctx, stop context.Context, op *memberOp) {
	err := p.awaitRebalance(ctx, stop, op)
	// The end is published under p.members.mu: a request that sees it
	// (the flag, the removal) finds the change over, never busy.
	p.members.mu.Lock()
	defer p.members.mu.Unlock()
	if err == nil {
		err = p.completeMembership(ctx, op)
	}
	if err != nil {
		p.log.ErrorContext(ctx, "membership change failed", "action", op.action, "target", op.node.ID, "err", err)
	} else {
		p.log.InfoContext(ctx, "membership change done", "action", op.action, "target", op.node.ID, "smap_version", p.smap.Load().Version)
	}
	endSpan(op.span, err)
	p.members.running = nil
}

// completeMembership does what follows op's rebalance. Callers hold
// p.members.mu.
func (p *Proxy) completeMembership(ctx context.Context, op *memberOp) error {
	id := op.node.ID
	switch op.action {
	case wire.ActStopMaintenance:
		return nil
	case wire.ActStartMaintenance, wire.ActShutdownNode:
		if _, _, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
			t := m.Targets[id]
			if t == nil || t.Flags&cluster.FlagMaintenance == 0 || t.Flags&cluster.FlagMaintenancePostRebalance != 0 {
				return false
			}
			t.Flags |= cluster.FlagMaintenancePostRebalance
			return true
		}); err != nil {
			return err
		}
		if op.action == wire.ActShutdownNode {
			p.tellLeave(ctx, op, leaveExit)
		}
		return nil
	}
	// A decommission: the target deletes its state and stops joining, then
	// leaves the map, then exits.
	if err := p.tellLeave(ctx, op, leaveWipe); err != nil {
		return fmt.Errorf("target %s did not delete its state (it stays in the map, flagged): %w", id, err)
	}
	if _, _, err := p.updateSmap(ctx, func(m *cluster.Map) bool {
		if m.Targets[id] == nil {
			return false
		}
		delete(m.Targets, id)
		return true
	}); err != nil {
		return err
	}
	p.seenMu.Lock()
	delete(p.lastSeen, id)
	p.seenMu.Unlock()
	if !op.args.NoShutdown {
		p.tellLeave(ctx, op, leaveExit)
	}
	return nil
}

// The rounds of a KindNodeLeave (target/leave.go).
const (
	leaveWipe = "wipe"
	leaveExit = "exit"
)

// tellLeave sends one round of KindNodeLeave to op's target. The reply to
// "exit" may be lost as the target goes: its error is only logged.
func (p *Proxy) tellLeave(ctx context.Context, op *memberOp, round string) error {
	body, err := json.Marshal(wire.NodeLeave{Action: op.action, RmUserData: op.args.RmUserData, NoShutdown: op.args.NoShutdown})
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, p.cfg.PushTimeout)
	defer cancel()
	_, _, err = p.client.Call(cctx, op.node.TransportAddr(), &transport.Header{Kind: transport.KindNodeLeave, Opaque: []byte(round)}, body)
	if err != nil && round == leaveExit {
		p.log.DebugContext(ctx, "exit message: no reply (the target is leaving)", "target", op.node.ID, "err", err)
		return nil
	}
	return err
}

// awaitRebalance waits until op's rebalance has ended on every target that
// is up, following a newer rebalance that superseded it (a later map
// change). It fails when the rebalance failed or was stopped on a target,
// or when op's target went down; nil when op starts no rebalance.
func (p *Proxy) awaitRebalance(ctx, stop context.Context, op *memberOp) error {
	if op.rebID == "" {
		return nil
	}
	tick := time.NewTicker(jobPollInterval / 2)
	defer tick.Stop()
	want := op.version
	for {
		select {
		case <-stop.Done():
			return errProxyStopped
		case <-tick.C:
		}
		smap := p.smap.Load()
		if t := smap.Targets[op.node.ID]; t == nil || t.Down() {
			return fmt.Errorf("target %s went down during rebalance %s", op.node.ID, job.RebalanceID(want))
		}
		snaps, err := p.collectSnaps(tracing.Unsampled(ctx), &wire.JobQuery{Kind: wire.KindRebalance})
		if err != nil {
			continue
		}
		// The newest rebalance at or after the change is the one to wait for.
		for _, list := range snaps {
			for _, s := range list {
				if v := rebalanceVersion(s.ID); v > want {
					want = v
				}
			}
		}
		done, err := rebalanceDone(smap, snaps, job.RebalanceID(want))
		if err != nil {
			return err
		}
		if done {
			op.span.SetAttributes(attribute.String("ais.rebalance", job.RebalanceID(want)))
			return nil
		}
	}
}

// rebalanceDone reports whether rebalance id has finished on every target
// of smap; an error when it was aborted or failed on one, or a target is
// down (what should have moved to it may not have).
func rebalanceDone(smap *cluster.Map, snaps wire.JobSnaps, id string) (bool, error) {
	for _, t := range smap.TargetList() {
		if t.Down() {
			return false, fmt.Errorf("target %s went down during rebalance %s: objects may not have moved", t.ID, id)
		}
	}
	for _, t := range smap.ActiveTargets() {
		var s *wire.JobSnap
		for i := range snaps[t.ID] {
			if snaps[t.ID][i].ID == id {
				s = &snaps[t.ID][i]
			}
		}
		switch {
		case s == nil, s.Running():
			return false, nil
		case s.Aborted && strings.Contains(s.AbortErr, job.ErrSuperseded.Error()):
			return false, nil // a newer one runs: the caller follows it
		case s.Aborted:
			return false, fmt.Errorf("rebalance %s was aborted on target %s: %s", id, t.ID, s.AbortErr)
		case s.Err != "":
			return false, fmt.Errorf("rebalance %s failed on target %s: %s", id, t.ID, s.Err)
		}
	}
	return true, nil
}

// rebalanceVersion returns N of a rebalance ID "gN" (0 for another ID).
func rebalanceVersion(id string) int64 {
	rest, ok := strings.CutPrefix(id, "g")
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(rest, 10, 64)
	return v
}

// maintenanceStatus answers a node_status query for a node in maintenance
// (as AIStore's primary does: status "maintenance", the node as the map
// lists it, little else), so that "ais show cluster" shows a target that
// is shut down. It reports whether it answered.
func (p *Proxy) maintenanceStatus(w http.ResponseWriter, r *http.Request, n *cluster.Node) bool {
	if n == nil || !n.InMaintenance() || r.Method != http.MethodGet || r.URL.Query().Get(wire.QparamWhat) != wire.WhatNodeStatus {
		return false
	}
	status := "maintenance"
	if n.Flags&cluster.FlagDecommission != 0 {
		status = "decommission"
	}
	server.WriteJSON(w, &wire.NodeStatus{Status: status, Node: n, SmapVersion: p.smap.Load().Version, Tracker: map[string]int64{}})
	return true
}

// endSpan records err (if any) on span and ends it.
func endSpan(span trace.Span, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
