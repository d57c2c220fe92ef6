package server

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tracing"
)

// Builders of the daemon and cluster replies (api/wire/daemon.go and
// config.go) that proxy and target share.

// ConfigSource is what a node runs with, for its configuration replies.
type ConfigSource struct {
	// Config is the cluster configuration version the node holds.
	Config *cluster.Config
	// Smap is the node's cluster map (for the primary's URL).
	Smap *cluster.Map
	// Tracing is the node's tracing as it runs now (tracing.Provider.Config).
	Tracing tracing.Config
	// Logger is the node's logger (for the log level).
	Logger *slog.Logger
	// CplaneTimeout and MaxKeepalive are the proxy's push timeout and
	// keepalive timeout (zero on a target, which does not know them).
	CplaneTimeout, MaxKeepalive time.Duration
}

// ClusterConfig returns the cluster configuration reply of src.
func ClusterConfig(src ConfigSource) wire.ClusterConfig {
	cc := wire.ClusterConfig{
		Backend:     map[string]any{},
		WritePolicy: wire.WritePolicyConf{Data: "immediate", MD: "immediate"},
		Checksum:    wire.ChecksumConf{Type: cluster.ChecksumXXHash2},
		Tracing:     TracingConf(src.Tracing),
		Rebalance:   wire.EnabledConf{Enabled: true}, // targets rebalance on every membership change
		Log:         wire.LogConf{Level: LogLevel(src.Logger), ToStderr: true},
		Net:         wire.NetConf{L4: wire.L4Conf{Proto: "tcp"}},
		Mirror:      cluster.MirrorConf{Copies: 1},
		Features:    "0",
		Versioning:  wire.VersioningConf{Enabled: true},
	}
	if c := src.Config; c != nil {
		if v := c.Checksum.ValidateWarmGet; v != nil {
			cc.Checksum.ValidateWarmGet = *v
		}
		cc.UUID = c.UUID
		cc.Version = cluster.MetaVersion(c.Version)
		if c.LastUpdated != 0 {
			cc.LastUpdated = time.Unix(0, c.LastUpdated).Format(time.RFC3339Nano)
		}
	}
	if m := src.Smap; m != nil {
		if cc.UUID == "" {
			cc.UUID = m.UUID
		}
		if m.Primary != nil {
			cc.Proxy.PrimaryURL = m.Primary.URL()
			cc.Proxy.OriginalURL = m.Primary.URL()
		}
	}
	if src.CplaneTimeout > 0 {
		cc.Timeout.CplaneOperation = src.CplaneTimeout.String()
	}
	if src.MaxKeepalive > 0 { // the proxy, which removes down targets
		cc.Timeout.MaxKeepalive = src.MaxKeepalive.String()
		cc.Timeout.RemoveDownAfter = src.Config.RemoveDownAfter().String()
	}
	return cc
}

// TracingConf returns the tracing section of c; the sampler probability is
// a string, as AIStore keeps it.
func TracingConf(c tracing.Config) wire.TracingConf {
	return wire.TracingConf{
		Enabled:            c.Enabled,
		ExporterEndpoint:   c.ExporterEndpoint,
		ExporterAuth:       wire.TraceExporterAuth{TokenHeader: c.ExporterAuth.TokenHeader, TokenFile: c.ExporterAuth.TokenFile},
		ServiceNamePrefix:  c.ServiceNamePrefix,
		Attributes:         c.Attributes,
		SamplerProbability: strconv.FormatFloat(float64(c.SamplerProbability), 'f', -1, 64),
		SkipVerify:         c.SkipVerify,
	}
}

// LogLevel returns AIStore's verbosity level for the lowest level l logs:
// "4" for debug, "3" for info, "2" for warnings, "1" for errors only.
func LogLevel(l *slog.Logger) string {
	if l == nil {
		return "3"
	}
	ctx := context.Background()
	switch {
	case l.Enabled(ctx, slog.LevelDebug):
		return "4"
	case l.Enabled(ctx, slog.LevelInfo):
		return "3"
	case l.Enabled(ctx, slog.LevelWarn):
		return "2"
	}
	return "1"
}

// HostNetOf returns the local network section of a node listening on its
// public and transport "host:port" addresses.
func HostNetOf(n *cluster.Node) wire.HostNet {
	return wire.HostNet{
		Hostname: n.PublicNet.Hostname, Port: n.PublicNet.Port,
		HostnameIntraControl: n.ControlNet.Hostname, PortIntraControl: n.ControlNet.Port,
		HostnameIntraData: n.DataNet.Hostname, PortIntraData: n.DataNet.Port,
	}
}

// procDir is where ReadSysInfo reads the process and host statistics.
const procDir = "/proc"

// clockTicks is the kernel's USER_HZ, the unit of /proc/self/stat times
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// ReadSysInfo returns the process's memory and CPU use and the host's
// available memory and load, from /proc. started is when the process
// started: the CPU percentage is the average since then (of one CPU). On a
// system without /proc the values are zero.
func ReadSysInfo(started time.Time) wire.SysInfo {
	var si wire.SysInfo
	if b, err := os.ReadFile(procDir + "/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			si.MemUsed = pages * uint64(os.Getpagesize())
		}
	}
	total, avail := memInfo()
	si.MemAvail = avail
	if total > 0 {
		si.PctMemUsed = float64(si.MemUsed) * 100 / float64(total)
	}
	if b, err := os.ReadFile(procDir + "/self/stat"); err == nil {
		// The command name in parentheses may hold spaces: fields count
		// from the closing one. utime and stime are fields 14 and 15.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 12 {
				ut, _ := strconv.ParseUint(f[11], 10, 64)
				st, _ := strconv.ParseUint(f[12], 10, 64)
				if el := time.Since(started).Seconds(); el > 0 {
					si.PctCPUUsed = float64(ut+st) / clockTicks / el * 100
				}
			}
		}
	}
	if b, err := os.ReadFile(procDir + "/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			si.LoadAvg.One, _ = strconv.ParseFloat(f[0], 64)
			si.LoadAvg.Five, _ = strconv.ParseFloat(f[1], 64)
			si.LoadAvg.Fifteen, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	return si
}

// memInfo returns MemTotal and MemAvailable of /proc/meminfo in bytes.
func memInfo() (total, avail uint64) {
	f, err := os.Open(procDir + "/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && fields[1] == "kB" {
			n *= 1024
		}
		switch k {
		case "MemTotal":
			total = n
		case "MemAvailable":
			avail = n
		}
	}
	return total, avail
}

// NodeStatusOf returns the node_status reply fields every node fills the
// same way: identity, version, uptime, cluster state (flags: the node's
// state flags, StateFlags and what the node adds) and system info. The
// caller adds the capacity (targets) and further tracker values.
func NodeStatusOf(self *cluster.Node, smap *cluster.Map, bmd *cluster.BMD, cfg *cluster.Config, started time.Time, flags uint64) *wire.NodeStatus {
	ns := &wire.NodeStatus{
		Deployment: "dev",
		Version:    wire.Version,
		Node:       self,
		Tracker: map[string]int64{
			wire.TrackerUptime: time.Since(started).Nanoseconds(),
			wire.TrackerFlags:  int64(flags),
		},
		Capacity:    wire.Capacity{Mountpaths: map[string]*wire.MountpathCapacity{}},
		SysInfo:     ReadSysInfo(started),
		SmapVersion: smap.Version,
	}
	if n := smap.Node(self.ID); n != nil {
		ns.Node = n // as the map lists it (flags)
	}
	ns.Cluster.Flags = flags
	ns.Cluster.Smap = wire.SmapState{UUID: smap.UUID, Version: cluster.MetaVersion(smap.Version)}
	if p := smap.Primary; p != nil {
		ns.Cluster.Smap.Primary = wire.PrimaryInfo{PubURL: p.URL(), CtrlURL: p.URL(), ID: p.ID}
	}
	if bmd != nil {
		ns.Cluster.BMD = wire.MetaState{UUID: bmd.UUID, Version: cluster.MetaVersion(bmd.Version)}
	}
	if cfg != nil {
		ns.Cluster.Config = wire.MetaState{UUID: cfg.UUID, Version: cluster.MetaVersion(cfg.Version)}
	}
	return ns
}

// StateFlags returns the node state flags of node id under smap:
// wire.StateOK once the node is in the map, only wire.StateNodeStarted
// before it has joined, plus wire.StateMaintenance for a node in
// maintenance.
func StateFlags(smap *cluster.Map, id string) uint64 {
	n := smap.Node(id)
	if n == nil {
		return wire.StateNodeStarted
	}
	f := wire.StateOK
	if n.Flags&cluster.FlagMaintenance != 0 {
		f |= wire.StateMaintenance
	}
	return f
}

// ApplyConfig applies the tracing part of cfg (a cluster configuration
// version, or a node's own set-config overrides) to tp: each field that cfg
// sets replaces what tp runs with, the others stay. With validateOnly it
// only checks and changes nothing.
//
// Enabling tracing on a node that started without it is refused with an
// error wrapping cluster.ErrBadRequest (and tracing.ErrNotStarted's text);
// when not validateOnly, the rest (the ratio) is applied anyway, so that a
// node catching up with a cluster configuration takes what it can.
func ApplyConfig(tp *tracing.Provider, cfg *cluster.Config, validateOnly bool) error {
	cur := tp.Config()
	on, ratio := cur.Enabled, float64(cur.SamplerProbability)
	if e := cfg.Tracing.Enabled; e != nil {
		on = *e
	}
	if r := cfg.Tracing.SamplerProbability; r != nil {
		ratio = *r
	}
	var err error
	if on && !tp.CanEnable() {
		err = cluster.Errorf(cluster.ErrBadRequest, "%s=true: %v", cluster.KeyTracingEnabled, tracing.ErrNotStarted)
		if validateOnly {
			return err
		}
		on = false
	}
	if validateOnly {
		return nil
	}
	if serr := tp.SetSampling(on, ratio); serr != nil {
		return cluster.Errorf(cluster.ErrBadRequest, "%v", serr)
	}
	return err
}

// SetConfigQuery splits the query of a set-config request into the
// settings (key -> value) and the transient flag. A malformed transient
// value or a key given twice is refused (cluster.ErrBadRequest).
func SetConfigQuery(q url.Values) (kvs map[string]string, transient bool, err error) {
	kvs = make(map[string]string, len(q))
	for k, vs := range q {
		if k == wire.QparamTransient {
			if transient, err = strconv.ParseBool(q.Get(k)); err != nil {
				return nil, false, cluster.Errorf(cluster.ErrBadRequest, "%s=%q is not a boolean", k, q.Get(k))
			}
			continue
		}
		if len(vs) != 1 {
			return nil, false, cluster.Errorf(cluster.ErrBadRequest, "set-config: key %q given %d times", k, len(vs))
		}
		kvs[k] = vs[0]
	}
	return kvs, transient, nil
}

// SetNodeConfig applies the settings of a node's own set-config query
// (PUT /v1/daemon/set-config?KEY=VALUE...) to tp, at once and without
// persisting anything. Keys are those of cluster.Config.With: another key
// is refused with cluster.ErrNotImplemented naming it, a malformed value or
// enabling tracing on a node that started without it with
// cluster.ErrBadRequest; a refused request changes nothing.
func SetNodeConfig(tp *tracing.Provider, q url.Values) error {
	kvs, _, err := SetConfigQuery(q)
	if err != nil {
		return err
	}
	delta, err := cluster.Config{}.With(kvs)
	if err != nil {
		return err
	}
	if err := ApplyConfig(tp, &delta, true); err != nil {
		return err
	}
	return ApplyConfig(tp, &delta, false)
}
