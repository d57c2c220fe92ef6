package wire

// Membership actions (PUT /v1/cluster, shared/aistore-clients.md section 9):
// a target leaves placement (maintenance, shutdown) or the cluster
// (decommission). The value of each is NodeAction.
const (
	// ActStartMaintenance puts a target in maintenance: its objects move to
	// the others and it owns none until ActStopMaintenance.
	ActStartMaintenance = "start-maintenance"
	// ActStopMaintenance brings a target in maintenance (or one shut down
	// and restarted) back into placement.
	ActStopMaintenance = "stop-maintenance"
	// ActShutdownNode is maintenance followed by the node's exit; the node
	// stays in the cluster map.
	ActShutdownNode = "shutdown-node"
	// ActDecommissionNode moves a target's objects to the others, removes it
	// from the cluster map and wipes its state.
	ActDecommissionNode = "decommission-node"
)

// NodeAction is the value of a membership action (AIStore's
// apc.ActValRmNode). DaemonID names the node; AIStore's CLI sends it as
// the only element of IDs, with DaemonID empty.
type NodeAction struct {
	DaemonID string   `json:"sid"`
	IDs      []string `json:"sids"`
	// SkipRebalance removes the node without moving its objects.
	SkipRebalance bool `json:"skip_rebalance"`
	// RmUserData (decommission) also deletes the node's object data.
	RmUserData bool `json:"rm_user_data"`
	// KeepInitialConfig (decommission) keeps the configuration the node was
	// started with.
	KeepInitialConfig bool `json:"keep_initial_config"`
	// NoShutdown (decommission) keeps the node running once it is out of
	// the cluster.
	NoShutdown bool `json:"no_shutdown"`
	// Force, miniais's own (AIStore's CLI never sends it), lets a
	// decommission remove a target that is down before it has been down
	// for the cluster's timeout.remove_down_after.
	Force bool `json:"miniais_force,omitempty"`
}

// NodeLeave is what the proxy tells a target that leaves when its objects
// have moved (transport.KindNodeLeave, JSON): Action is ActShutdownNode or
// ActDecommissionNode; for a decommission, RmUserData and NoShutdown as in
// NodeAction.
type NodeLeave struct {
	Action     string `json:"action"`
	RmUserData bool   `json:"rm_user_data,omitempty"`
	NoShutdown bool   `json:"no_shutdown,omitempty"`
}
