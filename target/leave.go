package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/transport"
)

// # Leaving the cluster
//
// A target in maintenance (shut down or decommissioned: see proxy's
// maintenance.go) whose objects have all moved away is told by the proxy
// to leave, with transport.KindNodeLeave (payload wire.NodeLeave) in up to
// two messages:
//
//   - Opaque "wipe" (a decommission): the target stops joining the proxy
//     for good and deletes its own state, every entry of DataDir (bucket
//     metadata, node ID); with RmUserData it also empties its mountpaths.
//     It replies once that is done.
//   - Opaque "exit": the target ends Serve, so that its process exits. The
//     reply may not make it out; the proxy does not wait for it.
//
// A target that was shut down keeps its state: when it is started again it
// rejoins, still in maintenance, until stop-maintenance.

// The rounds of a KindNodeLeave (Header.Opaque).
const (
	leaveWipe = "wipe"
	leaveExit = "exit"
)

// handleNodeLeave serves a KindNodeLeave from the proxy. It is refused
// unless this target is out of placement in its cluster map (or already
// decommissioned), so that a stray message cannot make a target that owns
// objects leave.
func (t *Target) handleNodeLeave(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	var lv wire.NodeLeave
	if err := json.Unmarshal(b, &lv); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed node-leave: %v", err)
	}
	smap := t.smap.Load()
	if !t.gone.Load() && !outOfPlacement(smap, t.cfg.ID) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "target %s is not in maintenance in cluster map v%d: it does not leave", t.cfg.ID, smap.Version)
	}
	round := string(msg.Header.Opaque)
	ctx, span := t.tracer.Start(ctx, "target.leave")
	defer span.End()
	span.SetAttributes(attribute.String("ais.action", lv.Action), attribute.String("ais.round", round),
		attribute.Bool("ais.rm_user_data", lv.RmUserData))
	switch {
	case round == leaveWipe && lv.Action == wire.ActDecommissionNode:
		if err := t.wipe(ctx, lv.RmUserData); err != nil {
			span.SetStatus(codes.Error, err.Error())
			return nil, err
		}
		return nil, nil
	case round == leaveExit:
		t.log.InfoContext(ctx, "leaving the cluster: exiting", "action", lv.Action, "smap_version", smap.Version)
		if stop := t.leave.Load(); stop != nil {
			(*stop)()
		}
		return nil, nil
	}
	return nil, cluster.Errorf(cluster.ErrBadRequest, "node-leave: round %q of %q", round, lv.Action)
}

// wipe makes this target forget the cluster: it never joins again, its
// state directory is emptied and, with userData, so are its mountpaths
// (the disabled ones too; one disabled after failing is tried, and left as
// it is when that fails).
func (t *Target) wipe(ctx context.Context, userData bool) error {
	t.gone.Store(true)
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	if userData {
		mps := t.store.Mountpaths()
		for _, mp := range mps.List() {
			errs = append(errs, emptyDir(mp.Path))
		}
		// Disabled ones too; a failed one that cannot be emptied is logged
		// (its disk is gone or broken), not a reason to stay in the cluster.
		faulted := t.store.Faulted()
		for _, mp := range mps.Disabled() {
			err := emptyDir(mp.Path)
			if _, ok := faulted[mp.Path]; ok && err != nil {
				t.log.WarnContext(ctx, "decommission: a failed mountpath is left as it is", "mountpath", mp.Path, "err", err)
				continue
			}
			errs = append(errs, err)
		}
	}
	errs = append(errs, emptyDir(t.cfg.DataDir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("target %s: decommission: %w", t.cfg.ID, err)
	}
	t.log.InfoContext(ctx, "decommissioned: state deleted", "data_dir", t.cfg.DataDir, "user_data_deleted", userData)
	return nil
}

// emptyDir removes everything inside dir (not dir itself).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}
