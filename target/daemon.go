package target

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/transport"
)

// The node endpoints of the target: GET /v1/daemon?what=...,
// PUT /v1/daemon/set-config, and the cluster configuration the proxy pushes.

// nodeConf is the cluster configuration version the target holds.
type nodeConf struct {
	mu  sync.Mutex // serializes applying versions
	cur atomic.Pointer[cluster.Config]
}

// load returns the version held (version 0 before the first push).
func (c *nodeConf) load() *cluster.Config {
	if v := c.cur.Load(); v != nil {
		return v
	}
	return &cluster.Config{}
}

// handleConfigPush applies a cluster configuration version the proxy
// pushes (if newer than the one held), or, when Header.Opaque is
// "validate", only checks that this target can apply it. A version this
// target cannot fully apply (enabling tracing that it did not start with)
// is held anyway, with what could be applied, so that the proxy does not
// push it again.
func (t *Target) handleConfigPush(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	cfg := &cluster.Config{}
	if _, err := cfg.UnmarshalMsg(b); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed cluster configuration: %v", err)
	}
	if string(msg.Header.Opaque) == "validate" {
		if err := server.ApplyConfig(t.cfg.Tracing, cfg, true); err != nil {
			return nil, fmt.Errorf("target %s: %w", t.cfg.ID, err)
		}
		return nil, nil
	}
	t.conf.mu.Lock()
	defer t.conf.mu.Unlock()
	if cfg.Version <= t.conf.load().Version {
		return nil, nil
	}
	if err := server.ApplyConfig(t.cfg.Tracing, cfg, false); err != nil {
		t.log.WarnContext(ctx, "cluster configuration not fully applied", "config_version", cfg.Version, "err", err)
	}
	t.conf.cur.Store(cfg)
	t.log.InfoContext(ctx, "new cluster configuration", "config_version", cfg.Version)
	return nil, nil
}

// getDaemon serves GET /v1/daemon?what=smap|bmd|config|snode|node_status|
// stats|version|mountpaths. Any other what is refused with 501 naming it.
func (t *Target) getDaemon(w http.ResponseWriter, r *http.Request) {
	switch what := r.URL.Query().Get(wire.QparamWhat); what {
	case wire.WhatSmap:
		server.WriteJSON(w, t.smap.Load())
	case wire.WhatBMD:
		server.WriteJSON(w, t.bmd.Load())
	case wire.WhatConfig:
		server.WriteJSON(w, t.configReply())
	case wire.WhatSnode:
		server.WriteJSON(w, t.snode())
	case wire.WhatNodeStatus:
		smap := t.smap.Load()
		ns := server.NodeStatusOf(t.snode(), smap, t.bmd.Load(), t.conf.load(), t.started, t.stateFlags(smap, t.cfg.ID))
		ns.Capacity = t.capacity()
		maps.Copy(ns.Tracker, t.cfg.Metrics.Tracker()) // the counters /metrics serves
		server.WriteJSON(w, ns)
	case wire.WhatStats:
		tp := t.cfg.Tracing
		server.WriteJSON(w, wire.NodeStats{
			ID: t.cfg.ID, Role: cluster.RoleTarget,
			SmapVersion: t.smap.Load().Version, BMDVersion: t.bmd.Load().Version,
			SpansExported: tp.Exported(), SpansDropped: tp.Dropped(), TracingEnabled: tp.Enabled(),
			UptimeSeconds: int64(time.Since(t.started).Seconds()),
			InFlight:      t.inFlight.Load(),
		})
	case server.WhatMetrics:
		server.WriteJSON(w, t.cfg.Metrics.Kinds())
	case wire.WhatVersion:
		server.WriteJSON(w, wire.BuildInfo{Version: wire.Version})
	case wire.WhatMountpaths:
		server.WriteJSON(w, t.mountpathList())
	default:
		t.writeError(w, r, cluster.Errorf(cluster.ErrNotImplemented, "GET %s?%s=%q is not implemented", wire.PathDaemon, wire.QparamWhat, what))
	}
}

// snode returns the target as its cluster map lists it.
func (t *Target) snode() *cluster.Node {
	if n := t.smap.Load().Node(t.cfg.ID); n != nil {
		return n
	}
	return t.self
}

// configReply is the target's what=config reply: the cluster configuration
// as it holds it and runs with, and its local keys.
func (t *Target) configReply() wire.NodeConfig {
	nc := wire.NodeConfig{
		ClusterConfig: server.ClusterConfig(server.ConfigSource{
			Config: t.conf.load(), Smap: t.smap.Load(), Tracing: t.cfg.Tracing.Config(), Logger: t.log,
		}),
		LocalConfig: wire.LocalConfig{FSPaths: map[string]string{}, ConfigDir: t.cfg.DataDir, HostNet: server.HostNetOf(t.self)},
	}
	for _, mp := range t.store.Mountpaths().List() {
		nc.FSPaths[mp.Path] = ""
	}
	return nc
}

// setDaemonConfig serves PUT /v1/daemon/set-config?KEY=VALUE...: it
// changes what this target runs with, at once and until it restarts (or
// the cluster configuration sets the same key); it persists nothing,
// whatever transient says. An unknown key gets 501 naming it.
func (t *Target) setDaemonConfig(w http.ResponseWriter, r *http.Request) {
	if err := server.SetNodeConfig(t.cfg.Tracing, r.URL.Query()); err != nil {
		t.writeError(w, r, err)
		return
	}
	t.log.InfoContext(r.Context(), "node configuration changed", "set", r.URL.RawQuery)
	w.WriteHeader(http.StatusOK)
}

// capacity returns the usage of every mountpath's file system; totals and
// percentages count each file system once.
func (t *Target) capacity() wire.Capacity {
	c := wire.Capacity{Mountpaths: map[string]*wire.MountpathCapacity{}}
	mounts := fs.ReadMounts()
	seen := map[[2]int32]bool{}
	var pctSum, n int32
	var errs []string
	for _, mp := range t.store.Mountpaths().List() {
		u, err := mp.Usage()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", mp.Path, err))
			continue
		}
		used := u.Total - u.Avail
		mc := &wire.MountpathCapacity{
			Used: used, Avail: u.Avail, Disks: []string{},
			FS: wire.FSInfo{FsID: fmt.Sprintf("%d,%d", u.FsID[0], u.FsID[1])},
		}
		if u.Total > 0 {
			mc.PctUsed = int32(used * 100 / u.Total)
		}
		if m, ok := mounts.Of(mp.Path); ok {
			mc.FS.Fs, mc.FS.FsType = m.Device, m.FSType
			if d, ok := strings.CutPrefix(m.Device, "/dev/"); ok {
				mc.Disks = append(mc.Disks, d)
			}
		}
		c.Mountpaths[mp.Path] = mc
		if seen[u.FsID] {
			continue
		}
		seen[u.FsID] = true
		c.TotalUsed += used
		c.TotalAvail += u.Avail
		if n == 0 || mc.PctUsed < c.PctMin {
			c.PctMin = mc.PctUsed
		}
		c.PctMax = max(c.PctMax, mc.PctUsed)
		pctSum += mc.PctUsed
		n++
	}
	if n > 0 {
		c.PctAvg = pctSum / n
	}
	c.Err = strings.Join(errs, "; ")
	return c
}

// daemonRoutes registers the routes of daemon.go on m (the target's router
// calls it; GET /v1/daemon is among them).
func (t *Target) daemonRoutes(m *server.Mux) {
	m.HandleFunc("GET "+wire.PathDaemon, t.getDaemon)
	m.HandleFunc("PUT "+wire.PathDaemonSetConfig, t.setDaemonConfig)
}
