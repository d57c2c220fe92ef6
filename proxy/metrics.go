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
// and binds it to the proxy's map and bucket metadata and its span counts.
func (p *Proxy) initMetrics() {
	if p.cfg.Metrics == nil {
		p.cfg.Metrics = metrics.New(metrics.Config{Role: cluster.RoleProxy, NodeID: p.cfg.ID, Started: p.started})
	}
	p.cfg.Metrics.Bind(metrics.View{Smap: p.smap.Load, BMD: p.bmd.Load, Flags: server.StateFlags})
	p.cfg.Metrics.RegisterTracing(p.cfg.Tracing)
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
