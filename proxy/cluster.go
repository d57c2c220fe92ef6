package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/transport"
)

// The cluster endpoints of the proxy: GET /v1/cluster?what=... and
// PUT /v1/cluster/set-config (shared/aistore-clients.md sections 1, 2, 6).

// clusterConf is the proxy's cluster configuration (cluster.Config).
type clusterConf struct {
	// mu serializes changes; readers load cur without it.
	mu sync.Mutex
	// cur is the version in force (published versions are immutable).
	cur atomic.Pointer[cluster.Config]
	// durable is what configFile holds: cur's version number with the
	// values of the last change that was not transient (guarded by mu).
	durable cluster.Config
}

const configFile = "config.msgp"

// validateConfig is the Opaque of the first, checking round of a
// KindConfigPush.
var validateConfig = []byte("validate")

// loadConfig reads the persisted cluster configuration (none: version 0)
// and applies it to the proxy's own tracing.
func (p *Proxy) loadConfig() error {
	cfg := cluster.Config{UUID: p.smap.Load().UUID}
	if b, err := os.ReadFile(filepath.Join(p.cfg.DataDir, configFile)); err == nil {
		if _, err := cfg.UnmarshalMsg(b); err != nil {
			return fmt.Errorf("proxy: corrupt %s: %w", configFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("proxy: %w", err)
	}
	p.conf.durable = cfg
	p.conf.cur.Store(&cfg)
	if err := server.ApplyConfig(p.cfg.Tracing, &cfg, false); err != nil {
		p.log.Warn("persisted cluster configuration not fully applied", "config_version", cfg.Version, "err", err)
	}
	return nil
}

// clusterConfig returns the cluster configuration in force.
func (p *Proxy) clusterConfig() *cluster.Config {
	if c := p.conf.cur.Load(); c != nil {
		return c
	}
	return &cluster.Config{UUID: p.smap.Load().UUID}
}

// getCluster serves GET /v1/cluster?what=...: smap, bmd, cluster_config,
// backends, sysinfo, remote, and the job queries qryxstats, status and
// status_all (jobhttp.go). Any other what is refused with 501 naming it.
func (p *Proxy) getCluster(w http.ResponseWriter, r *http.Request) {
	switch what := r.URL.Query().Get(wire.QparamWhat); what {
	case wire.WhatSmap:
		server.WriteJSON(w, p.smap.Load())
	case wire.WhatBMD:
		server.WriteJSON(w, p.bmd.Load())
	case wire.WhatClusterConfig:
		server.WriteJSON(w, p.clusterConfigReply())
	case wire.WhatBackends:
		server.WriteJSON(w, []string{})
	case wire.WhatRemote:
		server.WriteJSON(w, wire.RemoteClusters{})
	case wire.WhatSysInfo:
		server.WriteJSON(w, p.sysInfo(r.Context()))
	case wire.WhatQueryXactStat, wire.WhatStatus, wire.WhatStatusAll:
		p.queryJobs(w, r, what)
	default:
		p.writeError(w, r, cluster.Errorf(cluster.ErrNotImplemented, "GET %s?%s=%q is not implemented", wire.PathCluster, wire.QparamWhat, what))
	}
}

// clusterConfigReply is the proxy's cluster_config reply.
func (p *Proxy) clusterConfigReply() wire.ClusterConfig {
	return server.ClusterConfig(server.ConfigSource{
		Config: p.clusterConfig(), Smap: p.smap.Load(), Tracing: p.cfg.Tracing.Config(), Logger: p.log,
		CplaneTimeout: p.cfg.PushTimeout, MaxKeepalive: p.cfg.KeepaliveTimeout,
	})
}

// sysInfo gathers the sysinfo reply: the proxy's own and, from each target
// that is up, its node_status (memory, CPU and file system totals). A
// target that does not answer within PushTimeout is left out.
func (p *Proxy) sysInfo(ctx context.Context) wire.ClusterSysInfo {
	own := server.ReadSysInfo(p.started)
	out := wire.ClusterSysInfo{Proxy: map[string]*wire.SysInfo{p.cfg.ID: &own}, Target: map[string]*wire.TargetSysInfo{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range p.smap.Load().ActiveTargets() {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, p.cfg.PushTimeout)
			defer cancel()
			ns, err := p.nodeStatus(cctx, t)
			if err != nil {
				p.log.WarnContext(ctx, "sysinfo: target did not answer", "target", t.ID, "err", err)
				return
			}
			ts := &wire.TargetSysInfo{SysInfo: ns.SysInfo, FSUsed: ns.Capacity.TotalUsed, FSCapacity: ns.Capacity.TotalUsed + ns.Capacity.TotalAvail}
			if ts.FSCapacity > 0 {
				ts.PctFSUsed = float64(ts.FSUsed) * 100 / float64(ts.FSCapacity)
			}
			mu.Lock()
			out.Target[t.ID] = ts
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// nodeStatus asks node n for its node_status.
func (p *Proxy) nodeStatus(ctx context.Context, n *cluster.Node) (*wire.NodeStatus, error) {
	var ns wire.NodeStatus
	if err := p.daemonQuery(ctx, n, wire.WhatNodeStatus, &ns); err != nil {
		return nil, err
	}
	return &ns, nil
}

// mountpaths asks target n for its mountpaths (what=mountpaths, the query
// the proxy relays for "ais storage mountpath show").
func (p *Proxy) mountpaths(ctx context.Context, n *cluster.Node) (*wire.MountpathList, error) {
	var ml wire.MountpathList
	if err := p.daemonQuery(ctx, n, wire.WhatMountpaths, &ml); err != nil {
		return nil, err
	}
	return &ml, nil
}

// daemonQuery asks node n for GET /v1/daemon?what=what and decodes the
// JSON reply into v.
func (p *Proxy) daemonQuery(ctx context.Context, n *cluster.Node, what string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL()+wire.PathDaemon+"?"+wire.QparamWhat+"="+what, nil)
	if err != nil {
		return err
	}
	req.Header.Set(wire.HdrCallerName, p.cfg.ID)
	resp, err := p.rev.client(p).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("%s of %s: %s", what, n.ID, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s of %s: %w", what, n.ID, err)
	}
	return nil
}

// setClusterConfig serves PUT /v1/cluster/set-config?KEY=VALUE...
// [&transient=true] (no body): it changes the cluster configuration and
// answers 200 with an empty body once every node runs with the change.
//
// Three things can happen:
//   - a key miniais cannot set gets 501 naming it, a malformed value 400,
//     and nothing changes;
//   - a node that cannot apply the change (enabling tracing on a node that
//     started without it) makes it 400 naming the node, and nothing
//     changes: every target that is up checks the change first;
//   - otherwise the change becomes the next configuration version: it is
//     persisted (unless transient), applied to the proxy, and pushed to
//     every target that is up. A target that misses the push catches up
//     through its keepalives.
//
// A transient change is applied and pushed like the others but not
// written: after a restart the proxy runs with the last persisted values.
func (p *Proxy) setClusterConfig(w http.ResponseWriter, r *http.Request) {
	if err := p.changeClusterConfig(r.Context(), r); err != nil {
		p.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (p *Proxy) changeClusterConfig(ctx context.Context, r *http.Request) error {
	kvs, transient, err := server.SetConfigQuery(r.URL.Query())
	if err != nil {
		return err
	}
	ctx, span := p.tracer.Start(ctx, "proxy.set_config")
	defer span.End()
	p.conf.mu.Lock()
	defer p.conf.mu.Unlock()
	cur := p.clusterConfig()
	next, err := cur.With(kvs)
	if err != nil {
		return err
	}
	next.Version, next.LastUpdated = cur.Version+1, time.Now().UnixNano()
	if next.UUID == "" {
		next.UUID = p.smap.Load().UUID
	}
	span.SetAttributes(attribute.Int64("ais.config_version", next.Version), attribute.Bool("ais.transient", transient))

	if err := server.ApplyConfig(p.cfg.Tracing, &next, true); err != nil {
		return fmt.Errorf("proxy %s: %w", p.cfg.ID, err)
	}
	body, err := next.MarshalMsg(nil)
	if err != nil {
		return err
	}
	smap := p.smap.Load()
	if err := refusals(p.broadcast(ctx, smap, transport.KindConfigPush, body, validateConfig)); err != nil {
		return err
	}

	durable := p.conf.durable
	if !transient {
		if durable, err = durable.With(kvs); err != nil {
			return err // cannot happen: the same keys passed above
		}
	}
	durable.Version, durable.LastUpdated, durable.UUID = next.Version, next.LastUpdated, next.UUID
	if err := p.persist(configFile, &durable); err != nil {
		return fmt.Errorf("persist cluster configuration: %w", err)
	}
	p.conf.durable = durable
	p.conf.cur.Store(&next)
	if err := server.ApplyConfig(p.cfg.Tracing, &next, false); err != nil {
		return fmt.Errorf("proxy %s: %w", p.cfg.ID, err)
	}
	errs := p.pushAll(ctx, smap, transport.KindConfigPush, next.Version, body)
	p.log.InfoContext(ctx, "cluster configuration changed", "config_version", next.Version, "transient", transient,
		"set", kvs, "targets_missed", len(errs))
	return nil
}

// refusals turns the targets' answers to the checking round into one error
// naming the targets that refused (sorted by ID); targets that could not be
// reached do not count (they catch up later).
func refusals(errs map[string]error) error {
	var ids []string
	for id, err := range errs {
		if errors.Is(err, transport.ErrRemote) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	first := errs[ids[0]]
	kind := cluster.ErrBadRequest
	if k := cluster.KindOf(first); k != nil {
		kind = k.Err
	}
	return cluster.Errorf(kind, "target %s refused the change: %v (%d of the targets refused)", ids[0], first, len(ids))
}

// clusterRoutes registers the routes of cluster.go and daemon.go on m (the
// proxy's router calls it; GET /v1/daemon is among them).
func (p *Proxy) clusterRoutes(m *server.Mux) {
	m.HandleFunc("GET "+wire.PathCluster, p.getCluster)
	m.HandleFunc("PUT "+wire.PathClusterSetConfig, p.setClusterConfig)
	m.HandleFunc("GET "+wire.PathDaemon, p.getDaemon)
	m.HandleFunc("PUT "+wire.PathDaemonSetConfig, p.setDaemonConfig)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
		m.HandleFunc(method+" "+wire.PathReverseDaemon, p.reverseDaemon)
		m.HandleFunc(method+" "+wire.PathReverseDaemon+"/{path...}", p.reverseDaemon)
	}
}
