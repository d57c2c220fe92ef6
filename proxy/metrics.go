package proxy

import (
	"maps"
	"net/http"
	"slices"

	"miniais/api/server"
	"miniais/cluster"
	"miniais/metrics"
)

// initMetrics makes the proxy's registry when the configuration has none,
// and gives it what only the proxy knows: its state flags, the primary, the
// buckets (which bucket names may label a series) and its span counts.
func (p *Proxy) initMetrics() {
	if p.cfg.Metrics == nil {
		p.cfg.Metrics = metrics.New(metrics.Config{Role: cluster.RoleProxy, NodeID: p.cfg.ID, Started: p.started})
	}
	m := p.cfg.Metrics
	m.SetStateFlags(func() uint64 { return server.StateFlags(p.smap.Load(), p.cfg.ID) })
	m.SetPrimary(func() string {
		if pr := p.smap.Load().Primary; pr != nil {
			return pr.ID
		}
		return ""
	})
	m.SetKnownBucket(func(b cluster.Bucket) bool { return p.bmd.Load().Get(b) != nil })
	m.RegisterTracing(p.cfg.Tracing)
}

// sdGroup is one target group of Prometheus' HTTP service discovery.
type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// metricsTargets serves GET /metrics/targets: every node of the cluster
// map (down ones too: Prometheus then records them as down), one group per
// node, labelled with its role and ID.
func (p *Proxy) metricsTargets(w http.ResponseWriter, _ *http.Request) {
	smap := p.smap.Load()
	groups := []sdGroup{}
	add := func(n *cluster.Node) {
		groups = append(groups, sdGroup{Targets: []string{n.PublicNet.HostPort()},
			Labels: map[string]string{"role": n.Role, "ais_node": n.ID}})
	}
	for _, id := range sortedIDs(smap.Proxies) {
		add(smap.Proxies[id])
	}
	for _, n := range smap.TargetList() {
		add(n)
	}
	server.WriteJSON(w, groups)
}

// sortedIDs returns the keys of m, sorted.
func sortedIDs(m map[string]*cluster.Node) []string {
	return slices.Sorted(maps.Keys(m))
}
