package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"miniais/api/wire"
	"miniais/cluster"
)

// BucketMetadata returns the bucket metadata (BMD) of the proxy: every
// bucket and its properties (GET /v1/daemon?what=bmd).
func (c *Client) BucketMetadata(ctx context.Context) (*cluster.BMD, error) {
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: wire.PathDaemon,
		query: url.Values{wire.QparamWhat: {wire.WhatBMD}}, what: "bucket metadata",
	})
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	bmd := &cluster.BMD{}
	if err := json.NewDecoder(resp.Body).Decode(bmd); err != nil {
		return nil, fmt.Errorf("decode bucket metadata: %w", err)
	}
	return bmd, nil
}

// ClusterConfig returns the cluster configuration
// (GET /v1/cluster?what=cluster_config) as generic JSON: sections are
// map[string]any, numbers json.Number (so that large integers survive), and
// strings, bools and arrays as encoding/json decodes them. The result
// belongs to the caller.
//
// It is untyped on purpose: AIStore's configuration has some 35 sections,
// and a client that only shows or filters keys (the CLI) needs none of
// their types.
func (c *Client) ClusterConfig(ctx context.Context) (map[string]any, error) {
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: wire.PathCluster,
		query: url.Values{wire.QparamWhat: {wire.WhatClusterConfig}}, what: "cluster configuration",
	})
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	return decodeObject(resp.Body, "cluster configuration")
}

// decodeObject decodes one JSON object, keeping numbers as json.Number.
func decodeObject(r io.Reader, what string) (map[string]any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	if m == nil {
		return nil, fmt.Errorf("decode %s: got null, want a JSON object", what)
	}
	return m, nil
}

// SetConfigOptions modify SetClusterConfig.
type SetConfigOptions struct {
	// Transient makes the change last until the nodes restart (AIStore's
	// transient=true); by default it is persisted.
	Transient bool
}

// SetClusterConfig changes cluster configuration values, each named by its
// dotted key ("checksum.type", "log.level") and given as text, in one
// request: PUT /v1/cluster/set-config?KEY=VALUE&... with no body. The
// cluster checks and converts the values; an unknown key or a malformed
// value fails with an error matching cluster.ErrBadRequest. An empty kvs
// is refused before anything is sent.
func (c *Client) SetClusterConfig(ctx context.Context, kvs map[string]string, opts SetConfigOptions) error {
	if len(kvs) == 0 {
		return cluster.Errorf(cluster.ErrBadRequest, "set cluster configuration: no values to set")
	}
	q := url.Values{}
	for k, v := range kvs {
		if k == "" {
			return cluster.Errorf(cluster.ErrBadRequest, "set cluster configuration: empty key")
		}
		q.Set(k, v)
	}
	if opts.Transient {
		q.Set(wire.QparamTransient, "true")
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodPut, path: wire.PathClusterSetConfig, query: q, what: "cluster configuration",
	})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}
