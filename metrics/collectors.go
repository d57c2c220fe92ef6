package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// SpanStats is what the tracing collector reads (tracing.Provider).
type SpanStats interface {
	Exported() uint64
	Dropped() uint64
	Queued() int
	TailKept() uint64
	TailOverflow() uint64
	TailHeld() int
}

// RegisterTracing adds the node's span counts: spans exported, dropped,
// queued, and the tail rule's kept, overflowed and held.
func (n *Node) RegisterTracing(s SpanStats) {
	p := n.prefix + "tracing_"
	cf := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: p + name, Help: help}, f)
	}
	gf := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: p + name, Help: help}, f)
	}
	n.Registerer().MustRegister(
		cf("spans_exported_total", "Spans the collector accepted.", func() float64 { return float64(s.Exported()) }),
		cf("spans_dropped_total", "Sampled spans dropped (queue full, collector down or slow).", func() float64 { return float64(s.Dropped()) }),
		gf("spans_queued", "Ended spans waiting for export.", func() float64 { return float64(s.Queued()) }),
		cf("tail_kept_total", "Spans of failed or slow requests that the tail rule exported.", func() float64 { return float64(s.TailKept()) }),
		cf("tail_overflow_total", "Spans the tail rule could not hold (its memory bound).", func() float64 { return float64(s.TailOverflow()) }),
		gf("tail_held", "Spans the tail rule holds until their requests end.", func() float64 { return float64(s.TailHeld()) }),
	)
}

// MountpathStat is one mountpath's content and capacity.
type MountpathStat struct {
	Path           string
	Objects, Bytes int64  // objects stored and their bytes
	Capacity       uint64 // the filesystem's size
	Avail          uint64 // what may still be written
}

// RegisterMountpaths adds ais_target_mountpath_objects, _bytes,
// _capacity_bytes and _avail_bytes, from stats, called at every scrape
// (it should answer from a cache: walking a mountpath is slow).
func (n *Node) RegisterMountpaths(stats func() []MountpathStat) {
	n.Registerer().MustRegister(&mountpathCollector{stats: stats,
		objects: prometheus.NewDesc(n.prefix+"mountpath_objects", "Objects stored on the mountpath.", []string{"mountpath"}, nil),
		bytes:   prometheus.NewDesc(n.prefix+"mountpath_bytes", "Bytes of the objects stored on the mountpath.", []string{"mountpath"}, nil),
		cap:     prometheus.NewDesc(n.prefix+"mountpath_capacity_bytes", "Size of the mountpath's filesystem.", []string{"mountpath"}, nil),
		avail:   prometheus.NewDesc(n.prefix+"mountpath_avail_bytes", "Bytes that may still be written on the mountpath's filesystem.", []string{"mountpath"}, nil),
	})
}

type mountpathCollector struct {
	stats                      func() []MountpathStat
	objects, bytes, cap, avail *prometheus.Desc
}

func (c *mountpathCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.objects
	ch <- c.bytes
	ch <- c.cap
	ch <- c.avail
}

func (c *mountpathCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.objects, prometheus.GaugeValue, float64(s.Objects), s.Path)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes), s.Path)
		ch <- prometheus.MustNewConstMetric(c.cap, prometheus.GaugeValue, float64(s.Capacity), s.Path)
		ch <- prometheus.MustNewConstMetric(c.avail, prometheus.GaugeValue, float64(s.Avail), s.Path)
	}
}

// JobCount is how many jobs of one kind run, and how many that have ended
// the node still lists (by outcome).
type JobCount struct {
	Kind                      string
	Running                   int
	Finished, Failed, Aborted int
}

// RegisterJobs adds ais_<role>_jobs_running{kind} and
// ais_<role>_jobs_ended{kind,outcome} (the ended jobs the node still lists:
// a gauge, since the node forgets old ones) from counts, called at every
// scrape (the job engine's registry).
func (n *Node) RegisterJobs(counts func() []JobCount) {
	n.Registerer().MustRegister(&jobCollector{counts: counts,
		running: prometheus.NewDesc(n.prefix+"jobs_running", "Jobs running, by kind.", []string{"kind"}, nil),
		ended:   prometheus.NewDesc(n.prefix+"jobs_ended", "Ended jobs the node still lists, by kind and outcome (ok, failed, aborted).", []string{"kind", "outcome"}, nil),
	})
}

type jobCollector struct {
	counts         func() []JobCount
	running, ended *prometheus.Desc
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.running; ch <- c.ended }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	for _, j := range c.counts() {
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(j.Running), j.Kind)
		ch <- prometheus.MustNewConstMetric(c.ended, prometheus.GaugeValue, float64(j.Finished), j.Kind, "ok")
		ch <- prometheus.MustNewConstMetric(c.ended, prometheus.GaugeValue, float64(j.Failed), j.Kind, "failed")
		ch <- prometheus.MustNewConstMetric(c.ended, prometheus.GaugeValue, float64(j.Aborted), j.Kind, "aborted")
	}
}
