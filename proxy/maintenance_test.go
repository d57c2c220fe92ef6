package proxy

import (
	"errors"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
)

// TestCheckMembership: what each membership action may be done to, and
// the flags it leaves; every refusal wraps its documented kind.
func TestCheckMembership(t *testing.T) {
	const (
		maint = cluster.FlagMaintenance
		post  = cluster.FlagMaintenancePostRebalance
		decom = cluster.FlagDecommission
	)
	smapOf := func(flags map[string]uint64, down ...string) *cluster.Map {
		p := cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:1", "127.0.0.1:2")
		m := cluster.NewMap("u", p)
		m.Proxies["p2"] = cluster.NewNode("p2", cluster.RoleProxy, "127.0.0.1:3", "127.0.0.1:4")
		for _, id := range []string{"ta", "tb", "tc"} {
			m.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:5", "127.0.0.1:6")
			m.Targets[id].Flags = flags[id]
		}
		for _, id := range down {
			m.Targets[id].Unresponsive = true
		}
		return m
	}
	tests := []struct {
		name   string
		smap   *cluster.Map
		action string
		id     string
		flags  uint64
		want   error
	}{
		{"maintenance", smapOf(nil), wire.ActStartMaintenance, "ta", maint, nil},
		{"shutdown", smapOf(nil), wire.ActShutdownNode, "ta", maint, nil},
		{"shutdown in maintenance", smapOf(map[string]uint64{"ta": maint | post}), wire.ActShutdownNode, "ta", maint | post, nil},
		{"decommission", smapOf(nil), wire.ActDecommissionNode, "ta", decom, nil},
		{"decommission in maintenance", smapOf(map[string]uint64{"ta": maint | post}), wire.ActDecommissionNode, "ta", maint | post | decom, nil},
		{"stop", smapOf(map[string]uint64{"ta": maint | post}), wire.ActStopMaintenance, "ta", 0, nil},
		{"unknown node", smapOf(nil), wire.ActStartMaintenance, "zz", 0, cluster.ErrNotFound},
		{"primary", smapOf(nil), wire.ActStartMaintenance, "p1", 0, cluster.ErrBadRequest},
		{"other proxy", smapOf(nil), wire.ActStartMaintenance, "p2", 0, cluster.ErrNotImplemented},
		{"down", smapOf(nil, "ta"), wire.ActStartMaintenance, "ta", 0, cluster.ErrUnavailable},
		{"another target down", smapOf(nil, "tb"), wire.ActDecommissionNode, "ta", 0, cluster.ErrUnavailable},
		{"already in maintenance", smapOf(map[string]uint64{"ta": maint | post}), wire.ActStartMaintenance, "ta", 0, cluster.ErrBadRequest},
		{"entering maintenance", smapOf(map[string]uint64{"ta": maint}), wire.ActShutdownNode, "ta", 0, cluster.ErrBusy},
		{"already decommissioning", smapOf(map[string]uint64{"ta": decom}), wire.ActDecommissionNode, "ta", 0, cluster.ErrBadRequest},
		{"stop decommission", smapOf(map[string]uint64{"ta": decom}), wire.ActStopMaintenance, "ta", 0, cluster.ErrBadRequest},
		{"stop not in maintenance", smapOf(nil), wire.ActStopMaintenance, "ta", 0, cluster.ErrBadRequest},
		{"last in placement", smapOf(map[string]uint64{"tb": maint | post, "tc": maint | post}), wire.ActStartMaintenance, "ta", 0, cluster.ErrBadRequest},
		{"unknown action", smapOf(nil), "rm-unsafe", "ta", 0, cluster.ErrNotImplemented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, flags, err := checkMembership(tc.smap, tc.action, tc.id)
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("%s %s: %v, want %v", tc.action, tc.id, err, tc.want)
			case tc.want == nil && err != nil:
				t.Fatalf("%s %s: %v", tc.action, tc.id, err)
			case tc.want == nil && (n.ID != tc.id || flags != tc.flags):
				t.Fatalf("%s %s: node %s flags %#x, want %#x", tc.action, tc.id, n.ID, flags, tc.flags)
			}
		})
	}
}

// TestNodeOfAction: the node a membership value names, and the options
// refused before anything is looked at.
func TestNodeOfAction(t *testing.T) {
	tests := []struct {
		name   string
		action string
		args   wire.NodeAction
		id     string
		want   error
	}{
		{"sids", wire.ActStartMaintenance, wire.NodeAction{IDs: []string{"ta"}}, "ta", nil},
		{"sid", wire.ActStartMaintenance, wire.NodeAction{DaemonID: "ta"}, "ta", nil},
		{"both the same", wire.ActStartMaintenance, wire.NodeAction{DaemonID: "ta", IDs: []string{"ta"}}, "ta", nil},
		{"none", wire.ActStartMaintenance, wire.NodeAction{}, "", cluster.ErrBadRequest},
		{"two", wire.ActStartMaintenance, wire.NodeAction{IDs: []string{"ta", "tb"}}, "", cluster.ErrNotImplemented},
		{"skip_rebalance", wire.ActDecommissionNode, wire.NodeAction{IDs: []string{"ta"}, SkipRebalance: true}, "", cluster.ErrNotImplemented},
		{"rm_user_data on decommission", wire.ActDecommissionNode, wire.NodeAction{IDs: []string{"ta"}, RmUserData: true}, "ta", nil},
		{"rm_user_data on shutdown", wire.ActShutdownNode, wire.NodeAction{IDs: []string{"ta"}, RmUserData: true}, "", cluster.ErrBadRequest},
		{"no_shutdown on maintenance", wire.ActStartMaintenance, wire.NodeAction{IDs: []string{"ta"}, NoShutdown: true}, "", cluster.ErrBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := nodeOfAction(tc.action, &tc.args)
			if !errors.Is(err, tc.want) || (err == nil && tc.want != nil) || id != tc.id {
				t.Fatalf("nodeOfAction = %q, %v; want %q, %v", id, err, tc.id, tc.want)
			}
		})
	}
}

// TestRebalanceDone: a maintenance waits for the rebalance on every target,
// follows a newer one that superseded it, and fails when it failed, was
// stopped, or a target is down.
func TestRebalanceDone(t *testing.T) {
	m := cluster.NewMap("u", cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:1", "127.0.0.1:2"))
	for _, id := range []string{"ta", "tb"} {
		m.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:5", "127.0.0.1:6")
	}
	down := m.Clone()
	down.Targets["tb"].Unresponsive = true
	ended := func(mod func(*wire.JobSnap)) wire.JobSnap {
		s := wire.JobSnap{ID: "g4", Kind: wire.KindRebalance, StartTime: time.Now(), EndTime: time.Now()}
		if mod != nil {
			mod(&s)
		}
		return s
	}
	running := func(s *wire.JobSnap) { s.EndTime = time.Time{} }
	tests := []struct {
		name    string
		smap    *cluster.Map
		snaps   wire.JobSnaps
		done    bool
		wantErr bool
	}{
		{"done everywhere", m, wire.JobSnaps{"ta": {ended(nil)}, "tb": {ended(nil)}}, true, false},
		{"running on one", m, wire.JobSnaps{"ta": {ended(nil)}, "tb": {ended(running)}}, false, false},
		{"not started on one", m, wire.JobSnaps{"ta": {ended(nil)}, "tb": {}}, false, false},
		{"superseded", m, wire.JobSnaps{"ta": {ended(func(s *wire.JobSnap) { s.Aborted, s.AbortErr = true, job.ErrSuperseded.Error()+" (g5)" })}, "tb": {ended(nil)}}, false, false},
		{"stopped", m, wire.JobSnaps{"ta": {ended(func(s *wire.JobSnap) { s.Aborted, s.AbortErr = true, "stopped" })}, "tb": {ended(nil)}}, false, true},
		{"failed", m, wire.JobSnaps{"ta": {ended(func(s *wire.JobSnap) { s.Err = "3 object(s) did not move" })}, "tb": {ended(nil)}}, false, true},
		{"a target down", down, wire.JobSnaps{"ta": {ended(nil)}}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done, err := rebalanceDone(tc.smap, tc.snaps, "g4")
			if done != tc.done || (err != nil) != tc.wantErr {
				t.Fatalf("rebalanceDone = %v, %v; want %v, error %v", done, err, tc.done, tc.wantErr)
			}
		})
	}
	if v := rebalanceVersion("g17"); v != 17 || rebalanceVersion("Xy12") != 0 {
		t.Fatalf("rebalanceVersion(g17) = %d", v)
	}
}
