package metrics

import (
	"strings"
	"time"
)

// AIStore's kinds of tracker values (GET /v1/daemon?what=metrics).
const (
	KindCounter = "counter" // a count (".n")
	KindSize    = "size"    // bytes (".size")
	KindTotal   = "total"   // accumulated nanoseconds (".ns.total")
	KindLatency = "latency" // an average in nanoseconds (".ns")
	KindBW      = "bw"      // cumulative bytes of a throughput (".bps"); clients work out rates
	KindSpecial = "special" // uptime, state flags
)

// trackerName maps a Prometheus name of the node's own AIStore-named
// counters to AIStore's tracker name, by AIStore's rule: the
// "ais_<role>_" prefix goes, "_count" is ".n", "_bytes" is ".size",
// "_ns_total" is ".ns.total", and '_' is '.' ("err_put_cksum_count" is
// "err.put.cksum.n"). It answers false for a name that is not one.
func (n *Node) trackerName(prom string) (string, string, bool) {
	rest, ok := strings.CutPrefix(prom, n.prefix)
	if !ok {
		return "", "", false
	}
	if _, ais := n.ops[rest]; !ais && !strings.HasPrefix(rest, "stream_") {
		return "", "", false
	}
	kind := KindCounter
	switch {
	case strings.HasSuffix(rest, "_ns_total"):
		rest, kind = strings.TrimSuffix(rest, "_ns_total")+".ns.total", KindTotal
	case strings.HasSuffix(rest, "_count"):
		rest = strings.TrimSuffix(rest, "_count") + ".n"
	case strings.HasSuffix(rest, "_bytes"):
		rest, kind = strings.TrimSuffix(rest, "_bytes")+".size", KindSize
	default:
		return "", "", false
	}
	return strings.ReplaceAll(rest, "_", "."), kind, true
}

// Tracker returns the node_status tracker values that come from the
// node's counters, each summed over its labels: "get.n", "get.size",
// "get.ns.total", "put.n", ..., "err.get.n", ..., "stream.in.n", and
// AIStore's derived "get.ns"/"put.ns" (average latency since start, ns) and
// "get.bps"/"put.bps" (cumulative bytes; clients work out the rate from
// two samples). Uptime ("up.ns.time") and state flags ("state.flags") are
// the caller's. Values are what /metrics serves at the same moment.
func (n *Node) Tracker() map[string]int64 {
	out := map[string]int64{}
	fams, _ := n.gather()
	for _, f := range fams {
		if name, _, ok := n.trackerName(f.Name); ok {
			out[name] = int64(f.Sum)
		}
	}
	for _, op := range []string{"get", "put"} {
		if c, ok := out[op+".n"]; ok && c > 0 {
			out[op+".ns"] = out[op+".ns.total"] / c
		}
		if b, ok := out[op+".size"]; ok {
			out[op+".bps"] = b
		}
	}
	return out
}

// Kinds returns the kind of every tracker name the node reports (the
// GET /v1/daemon?what=metrics reply): Tracker's names, whether or not they
// have been incremented yet, plus "up.ns.time" and "state.flags".
func (n *Node) Kinds() map[string]string {
	out := map[string]string{"up.ns.time": KindSpecial, "state.flags": KindSpecial}
	for name := range n.ops {
		if t, kind, ok := n.trackerName(n.prefix + name); ok {
			out[t] = kind
		}
	}
	if n.streamIn[0] != nil {
		for _, s := range []string{"stream.in", "stream.out"} {
			out[s+".n"], out[s+".size"] = KindCounter, KindSize
		}
	}
	for _, op := range []string{"get", "put"} {
		if _, ok := out[op+".ns.total"]; ok {
			out[op+".ns"] = KindLatency
		}
		if _, ok := out[op+".size"]; ok {
			out[op+".bps"] = KindBW
		}
	}
	return out
}

// Uptime returns how long the node has run.
func (n *Node) Uptime() time.Duration { return time.Since(n.cfg.Started) }
