package metrics

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"miniais/cluster"
)

// The series that Middleware counts a request in are resolved once, on
// first use, and kept: a request then costs no label hashing and no
// WithLabelValues lookup. Both caches are copy-on-write maps (readers load
// them without a lock) keyed by what is bounded: the route patterns of the
// node's Mux, and the buckets the node knows.

// routeSeries are the series of one route (a ServeMux pattern, or
// "unmatched").
type routeSeries struct {
	route    string
	latency  prometheus.Observer
	requests [len(statusClasses) + 1]lazyCounter // by statusIndex
	received lazyCounter
	sent     lazyCounter
	// op is the route's AIStore operation (get, put, del, lst), or nil.
	op *opSeries
}

// opSeries indexes aisOps (and bucketSeries.ops) for one operation: -1
// where the node's role has no such counter.
type opSeries struct {
	name                             string // "get", "put", "del", "lst"
	count, bytes, ns, errs, errCksum int
}

// bucketSeries are the operation counters of one bucket label ("" for a
// request whose bucket the node does not know), by aisOps index.
type bucketSeries struct {
	label string
	ops   []lazyCounter // len(aisOps)
}

// seriesCache holds the resolved series of a Node.
type seriesCache struct {
	mu      sync.Mutex // serializes writers
	routes  atomic.Pointer[map[string]*routeSeries]
	buckets atomic.Pointer[map[string]*bucketSeries]
}

// lazyCounter is a counter child resolved on first use. Two requests may
// resolve it at once: both get the same child from the vector.
type lazyCounter struct {
	p atomic.Pointer[prometheus.Counter]
}

// add adds v to the child of vec with label values a (and b, when two is
// set), resolving it first if need be.
func (l *lazyCounter) add(v float64, vec *prometheus.CounterVec, a, b string, two bool) {
	if c := l.p.Load(); c != nil {
		(*c).Add(v)
		return
	}
	l.resolve(vec, a, b, two).Add(v)
}

func (l *lazyCounter) resolve(vec *prometheus.CounterVec, a, b string, two bool) prometheus.Counter {
	var c prometheus.Counter
	if two {
		c = vec.WithLabelValues(a, b)
	} else {
		c = vec.WithLabelValues(a)
	}
	l.p.Store(&c)
	return c
}

// statusIndex is the index of statusClass(status) in routeSeries.requests.
func statusIndex(status int) int {
	if status < 100 || status > 599 {
		return len(statusClasses)
	}
	return status/100 - 1
}

// routeOps are the routes that count AIStore's operation counters.
var routeOps = map[string]string{
	"GET /v1/objects/{bucket}/{object...}":    "get",
	"PUT /v1/objects/{bucket}/{object...}":    "put",
	"DELETE /v1/objects/{bucket}/{object...}": "del",
	"GET /v1/buckets/{bucket}":                "lst",
}

// route returns the series of route, resolving them on first use.
func (n *Node) route(route string) *routeSeries {
	if m := n.series.routes.Load(); m != nil {
		if s := (*m)[route]; s != nil {
			return s
		}
	}
	n.series.mu.Lock()
	defer n.series.mu.Unlock()
	var next map[string]*routeSeries
	if m := n.series.routes.Load(); m != nil {
		if s := (*m)[route]; s != nil {
			return s
		}
		next = maps.Clone(*m)
	} else {
		next = map[string]*routeSeries{}
	}
	s := &routeSeries{route: route, latency: n.latency.WithLabelValues(route)}
	if op, ok := routeOps[route]; ok {
		s.op = &opSeries{name: op, count: n.opIndex(op + "_count"), bytes: n.opIndex(op + "_bytes"),
			ns: n.opIndex(op + "_ns_total"), errs: n.opIndex("err_" + op + "_count"), errCksum: -1}
		if op == "put" {
			s.op.errCksum = n.opIndex("err_put_cksum_count")
		}
	}
	next[route] = s
	n.series.routes.Store(&next)
	return s
}

// opIndex returns the index in aisOps of the counter name if this node
// has it, else -1.
func (n *Node) opIndex(name string) int {
	if n.ops[name] == nil {
		return -1
	}
	for i, op := range aisOps {
		if op.name == name {
			return i
		}
	}
	return -1
}

// bucket returns the operation series of the bucket named name (its label
// is "" when the node does not know it), resolving them on first use.
func (n *Node) bucket(name string) *bucketSeries {
	bck := cluster.Bucket{Provider: cluster.ProviderAIS, Name: name}
	if name != "" && !n.known(bck) {
		name = ""
	}
	if m := n.series.buckets.Load(); m != nil {
		if s := (*m)[name]; s != nil {
			return s
		}
	}
	n.series.mu.Lock()
	defer n.series.mu.Unlock()
	var next map[string]*bucketSeries
	if m := n.series.buckets.Load(); m != nil {
		if s := (*m)[name]; s != nil {
			return s
		}
		next = maps.Clone(*m)
	} else {
		next = map[string]*bucketSeries{}
	}
	s := &bucketSeries{ops: make([]lazyCounter, len(aisOps))}
	if name != "" {
		s.label = bck.String()
	}
	next[name] = s
	n.series.buckets.Store(&next)
	return s
}

// known tells whether bck is in the node's bucket metadata (Bind).
func (n *Node) known(bck cluster.Bucket) bool {
	v := n.current()
	if v.BMD == nil {
		return false
	}
	bmd := v.BMD()
	return bmd != nil && bmd.Get(bck) != nil
}

// inc adds v to aisOps[i] of bucket b (i < 0: the node has no such
// counter).
func (n *Node) inc(b *bucketSeries, i int, v float64) {
	if i < 0 {
		return
	}
	// A target's PUT counters carry AIStore's xkind label (empty here).
	if c := b.ops[i].p.Load(); c != nil {
		(*c).Add(v)
		return
	}
	two := aisOps[i].xkind && n.cfg.Role == cluster.RoleTarget
	b.ops[i].resolve(n.ops[aisOps[i].name], b.label, "", two).Add(v)
}
