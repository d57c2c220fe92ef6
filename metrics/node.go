package metrics

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"miniais/cluster"
	"miniais/transport"
)

// Config describes the node whose metrics a Node keeps.
type Config struct {
	// Role is cluster.RoleProxy or cluster.RoleTarget (the "proxy" or
	// "target" in every ais_<role>_ name).
	Role string
	// NodeID is the value of every series' node_id label.
	NodeID string
	// Started is when the node started (uptime); zero means now.
	Started time.Time
	// Off counts nothing per request or message: Middleware returns the
	// handler itself and ObserveMessage does nothing (the cost baseline of
	// `make bench`'s "metrics off" row). /metrics still answers, with the
	// collectors that read state at scrape time.
	Off bool
}

// Node is one node's registry and its metrics. Its methods are safe for
// concurrent use. The funcs that Set* install are called at every scrape.
type Node struct {
	cfg    Config
	reg    *prometheus.Registry
	prefix string // "ais_target_"

	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	received  *prometheus.CounterVec
	sent      *prometheus.CounterVec
	errs      *prometheus.CounterVec
	msgs      *prometheus.CounterVec
	msgBytes  *prometheus.CounterVec
	streamIn  [2]prometheus.Counter // count, bytes
	streamOut [2]prometheus.Counter

	// ops are AIStore's operation counters by name ("get_count").
	ops map[string]*prometheus.CounterVec

	// series caches the children Middleware counts in (series.go).
	series seriesCache

	mu   sync.RWMutex
	view View // set by Bind
}

// View is what a node's metrics read of its state, at every scrape and
// request: its current cluster map and bucket metadata, and how AIStore's
// state flags follow from the map (api/server.StateFlags). Any of them may
// be nil until the node has them.
type View struct {
	Smap  func() *cluster.Map
	BMD   func() *cluster.BMD
	Flags func(smap *cluster.Map, nodeID string) uint64
}

// aisOps are AIStore's operation counters: name suffix, and whether it
// has the xkind label (the target's PUTs). The _ns_total ones count
// nanoseconds.
var aisOps = []struct {
	name  string
	xkind bool
	role  string // "" for both roles
}{
	{"get_count", false, ""},
	{"get_bytes", false, cluster.RoleTarget},
	{"get_ns_total", false, cluster.RoleTarget},
	{"put_count", true, ""},
	{"put_bytes", true, cluster.RoleTarget},
	{"put_ns_total", true, cluster.RoleTarget},
	{"del_count", false, ""},
	{"lst_count", false, ""},
	{"err_get_count", false, ""},
	{"err_put_count", true, ""},
	{"err_del_count", false, ""},
	{"err_lst_count", false, ""},
	{"err_put_cksum_count", true, cluster.RoleTarget},
}

// New returns the metrics of a node, registered in a registry of its own
// together with the Go runtime and process collectors.
func New(cfg Config) *Node {
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	n := &Node{cfg: cfg, reg: prometheus.NewRegistry(), prefix: "ais_" + cfg.Role + "_", ops: map[string]*prometheus.CounterVec{}}
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ais := prometheus.WrapRegistererWith(prometheus.Labels{"node_id": cfg.NodeID}, n.reg)
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: n.prefix + name, Help: help}, labels)
		ais.MustRegister(c)
		return c
	}
	n.requests = counter("http_requests_total", "HTTP requests served, by route (ServeMux pattern) and status class.", "route", "status")
	n.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: n.prefix + "http_request_duration_seconds",
		Help: "Time to serve an HTTP request, by route; exemplars carry the trace_id of recorded requests.",
		// 100us to about 13 s.
		Buckets: prometheus.ExponentialBuckets(100e-6, 2.5, 14),
	}, []string{"route"})
	ais.MustRegister(n.latency)
	n.received = counter("http_received_bytes_total", "Request body bytes read, by route.", "route")
	n.sent = counter("http_sent_bytes_total", "Response body bytes written, by route.", "route")
	n.errs = counter("errors_total", "Failed requests by error kind (cluster.Kinds' wire name; \"other\" for none).", "kind")
	n.msgs = counter("transport_messages_total", "Intra-cluster transport requests, by kind, direction (in: served, out: sent) and outcome.", "kind", "direction", "outcome")
	n.msgBytes = counter("transport_bytes_total", "Payload bytes of intra-cluster transport requests, by kind and direction.", "kind", "direction")
	for _, op := range aisOps {
		if op.role != "" && op.role != cfg.Role {
			continue
		}
		labels := []string{"bucket"}
		if op.xkind && cfg.Role == cluster.RoleTarget {
			labels = append(labels, "xkind")
		}
		n.ops[op.name] = counter(op.name, "AIStore's "+strings.ReplaceAll(op.name, "_", ".")+" (see shared/aistore-clients.md, section 11).", labels...)
	}
	if cfg.Role == cluster.RoleTarget {
		mk := func(name, help string) prometheus.Counter {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: n.prefix + name, Help: help})
			ais.MustRegister(c)
			return c
		}
		n.streamIn = [2]prometheus.Counter{mk("stream_in_count", "Objects received from other targets (rebalance, jobs)."),
			mk("stream_in_bytes", "Bytes of objects received from other targets.")}
		n.streamOut = [2]prometheus.Counter{mk("stream_out_count", "Objects sent to other targets (rebalance, jobs)."),
			mk("stream_out_bytes", "Bytes of objects sent to other targets.")}
	}
	ais.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: n.prefix + "uptime", Help: "Seconds since the node started."},
			func() float64 { return time.Since(n.cfg.Started).Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: n.prefix + "state_flags", Help: "AIStore's node state bitmask (6: ok)."},
			func() float64 { return float64(n.flags()) }),
		&primaryCollector{n: n, desc: prometheus.NewDesc("ais_node_primary_info", "1, labelled with the primary proxy's ID.", []string{"primary_id"}, nil)},
	)
	return n
}

// Registry returns the node's registry, for collectors of its own
// (mountpaths, tracing, jobs).
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Registerer returns the registerer that adds node_id to what it
// registers.
func (n *Node) Registerer() prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"node_id": n.cfg.NodeID}, n.reg)
}

// Prefix returns "ais_<role>_", the start of the node's own metric names.
func (n *Node) Prefix() string { return n.prefix }

// Bind makes the node's metrics read v: ais_<role>_state_flags from
// v.Flags of the map, ais_node_primary_info from the map's primary, and
// which buckets may label a series from the bucket metadata (only a bucket
// in it names one).
func (n *Node) Bind(v View) { n.mu.Lock(); n.view = v; n.mu.Unlock() }

func (n *Node) current() View {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.view
}

func (n *Node) flags() uint64 {
	v := n.current()
	if v.Flags == nil || v.Smap == nil {
		return 0
	}
	return v.Flags(v.Smap(), n.cfg.NodeID)
}

// primaryCollector is ais_node_primary_info.
type primaryCollector struct {
	n    *Node
	desc *prometheus.Desc
}

func (c *primaryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *primaryCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.n.current()
	if v.Smap == nil {
		return
	}
	if smap := v.Smap(); smap != nil && smap.Primary != nil {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, smap.Primary.ID)
	}
}

// Handler serves the registry: the Prometheus text format, or OpenMetrics
// (with exemplars) when the scraper's Accept header asks for it.
func (n *Node) Handler() http.Handler {
	return promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{EnableOpenMetrics: true, ProcessStartTime: n.cfg.Started})
}

// ObserveMessage counts one transport request (transport.Observer), and,
// for a streamed object (a rebalance's or a job's), AIStore's
// stream_in/stream_out counters.
func (n *Node) ObserveMessage(dir transport.Direction, kind transport.Kind, size int64, _ time.Duration, err error) {
	if n.cfg.Off {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	k, d := kind.String(), dir.String()
	n.msgs.WithLabelValues(k, d, outcome).Inc()
	if size > 0 {
		n.msgBytes.WithLabelValues(k, d).Add(float64(size))
	}
	if err == nil && (kind == transport.KindObjectPut || kind == transport.KindJobObject) && n.streamIn[0] != nil {
		s := &n.streamOut
		if dir == transport.In {
			s = &n.streamIn
		}
		s[0].Inc()
		s[1].Add(float64(max(size, 0)))
	}
}

var _ transport.Observer = (*Node)(nil)

// gather returns the registry's metric families, each summed over its
// labels (for Tracker).
func (n *Node) gather() ([]*familySnapshot, error) {
	mfs, err := n.reg.Gather()
	if err != nil && len(mfs) == 0 {
		return nil, err
	}
	out := make([]*familySnapshot, 0, len(mfs))
	for _, mf := range mfs {
		fs := &familySnapshot{Name: mf.GetName()}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				fs.Sum += m.Counter.GetValue()
			case m.Gauge != nil:
				fs.Sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				fs.Sum += m.Histogram.GetSampleSum()
				fs.Count += m.Histogram.GetSampleCount()
			}
		}
		out = append(out, fs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// familySnapshot is one metric family summed over its labels.
type familySnapshot struct {
	Name  string
	Sum   float64
	Count uint64 // histograms
}
