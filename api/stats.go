package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"miniais/api/wire"
)

// NodeStatus returns the node_status of node id, through the proxy's relay
// (GET /v1/reverse/daemon?what=node_status with Ais-Node-Id), as AIStore's
// CLI asks for it. Its Tracker holds the node's counters ("get.n",
// "put.size", "get.ns.total", ...), the same values its /metrics serves.
func (c *Client) NodeStatus(ctx context.Context, id string) (*wire.NodeStatus, error) {
	ns := &wire.NodeStatus{}
	if err := c.reverseGet(ctx, id, wire.WhatNodeStatus, ns); err != nil {
		return nil, err
	}
	return ns, nil
}

// NodeMetrics returns the kind of every tracker value of node id (GET
// /v1/reverse/daemon?what=metrics): "counter", "size", "total", "latency",
// "bw" or "special".
func (c *Client) NodeMetrics(ctx context.Context, id string) (map[string]string, error) {
	kinds := map[string]string{}
	if err := c.reverseGet(ctx, id, "metrics", &kinds); err != nil {
		return nil, err
	}
	return kinds, nil
}

// Mountpaths returns target id's mountpaths (GET /v1/reverse/daemon?
// what=mountpaths): available, leaving (waiting_dd) and disabled.
func (c *Client) Mountpaths(ctx context.Context, id string) (*wire.MountpathList, error) {
	ml := &wire.MountpathList{}
	if err := c.reverseGet(ctx, id, wire.WhatMountpaths, ml); err != nil {
		return nil, err
	}
	return ml, nil
}

// reverseGet GETs /v1/reverse/daemon?what=what for node id and decodes the
// JSON reply into v.
func (c *Client) reverseGet(ctx context.Context, id, what string, v any) error {
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: wire.PathReverseDaemon,
		query:  url.Values{wire.QparamWhat: {what}},
		header: http.Header{wire.HdrNodeID: {id}},
		what:   what + " of node " + id,
	})
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s of node %s: %w", what, id, err)
	}
	return nil
}
