package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"miniais/api/wire"
)

// NodeOptions are the options of a membership action (AIStore's
// ActValRmNode); the proxy refuses those miniais does not implement.
type NodeOptions struct {
	// SkipRebalance leaves without moving the objects (refused: 501).
	SkipRebalance bool
	// RmUserData, KeepInitialConfig and NoShutdown apply to a
	// decommission.
	RmUserData, KeepInitialConfig, NoShutdown bool
	// Force lets a decommission remove a target that is down before it
	// has been down for the cluster's timeout.remove_down_after.
	Force bool
}

// StartMaintenance puts target id in maintenance (PUT /v1/cluster,
// start-maintenance) and returns the ID of the rebalance that moves its
// objects away ("" when none runs).
func (c *Client) StartMaintenance(ctx context.Context, id string) (string, error) {
	return c.NodeAction(ctx, wire.ActStartMaintenance, id, NodeOptions{})
}

// StopMaintenance brings target id back into placement and returns the ID
// of the rebalance that moves its objects back.
func (c *Client) StopMaintenance(ctx context.Context, id string) (string, error) {
	return c.NodeAction(ctx, wire.ActStopMaintenance, id, NodeOptions{})
}

// NodeAction sends membership action (wire.ActStartMaintenance,
// ActStopMaintenance, ActShutdownNode, ActDecommissionNode) for node id, as
// AIStore's CLI does, and returns the rebalance ID of the reply ("" when
// none runs).
func (c *Client) NodeAction(ctx context.Context, action, id string, opts NodeOptions) (string, error) {
	val, err := json.Marshal(wire.NodeAction{IDs: []string{id}, SkipRebalance: opts.SkipRebalance, RmUserData: opts.RmUserData,
		KeepInitialConfig: opts.KeepInitialConfig, NoShutdown: opts.NoShutdown, Force: opts.Force})
	if err != nil {
		return "", err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: action, Value: val})
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, c.hc, &request{method: http.MethodPut, path: wire.PathCluster, header: hdr, body: body, what: action + " " + id})
	if err != nil {
		return "", err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJobIDReply))
	if err != nil {
		return "", fmt.Errorf("%s %s: read the reply: %w", action, id, err)
	}
	rid := string(bytes.TrimSpace(b))
	if rid != "" && !ValidRebalanceID(rid) {
		return "", fmt.Errorf("%s %s: malformed rebalance ID %q in the reply", action, id, rid)
	}
	return rid, nil
}
