package target

import (
	"context"
	"sync"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
	"miniais/metrics"
)

// initMetrics makes the target's registry when the configuration has none,
// binds it to the target's map and bucket metadata, and gives it what only
// a target has: its span counts, its mountpaths' content and capacity and
// its jobs.
func (t *Target) initMetrics() {
	if t.cfg.Metrics == nil {
		t.cfg.Metrics = metrics.New(metrics.Config{Role: cluster.RoleTarget, NodeID: t.cfg.ID, Started: t.started})
	}
	m := t.cfg.Metrics
	m.Bind(metrics.View{Smap: t.smap.Load, BMD: t.bmd.Load, Flags: t.stateFlags})
	m.RegisterTracing(t.cfg.Tracing)
	m.RegisterMountpaths(t.mpStats.get(t))
	m.RegisterJobs(t.jobCounts)
}

// stateFlags are the target's AIStore state flags: those of its place in
// smap (server.StateFlags), and wire.StateRebalancing and
// wire.StateResilvering while such a job of its runs and
// wire.StateDiskFault while a mountpath of its is disabled after failing
// (fs.Store.Faulted).
func (t *Target) stateFlags(smap *cluster.Map, id string) uint64 {
	f := server.StateFlags(smap, id)
	for _, kind := range []struct {
		name string
		flag uint64
	}{{wire.KindRebalance, wire.StateRebalancing}, {wire.KindResilver, wire.StateResilvering}} {
		if len(t.jobs.Select(job.Filter{Kind: kind.name, OnlyRunning: true})) > 0 {
			f |= kind.flag
		}
	}
	if len(t.store.Faulted()) > 0 {
		f |= wire.StateDiskFault
	}
	return f
}

// jobCounts counts this target's jobs by kind and state.
func (t *Target) jobCounts() []metrics.JobCount {
	by := map[string]*metrics.JobCount{}
	for _, j := range t.jobs.Select(job.Filter{}) {
		c := by[j.Kind()]
		if c == nil {
			c = &metrics.JobCount{Kind: j.Kind()}
			by[j.Kind()] = c
		}
		switch st, _, err := j.State(); {
		case st == job.Running:
			c.Running++
		case st == job.Aborted:
			c.Aborted++
		case err != nil:
			c.Failed++
		default:
			c.Finished++
		}
	}
	out := make([]metrics.JobCount, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	return out
}

// mountpathCountEvery is the least time between two walks of the
// mountpaths for the object counts of /metrics.
const mountpathCountEvery = 15 * time.Second

// mpStats caches the mountpath statistics of /metrics: counting objects
// walks every mountpath, so a scrape answers from the last walk and starts
// a new one in the background when that is older than
// mountpathCountEvery. Capacity is read at every scrape (one statfs).
type mpStats struct {
	mu      sync.Mutex
	counts  map[string][2]int64 // path -> objects, bytes
	at      time.Time
	walking bool
}

// get returns the collector's source of statistics.
func (s *mpStats) get(t *Target) func() []metrics.MountpathStat {
	return func() []metrics.MountpathStat {
		s.mu.Lock()
		if !s.walking && time.Since(s.at) > mountpathCountEvery {
			s.walking = t.bg.Go(func(ctx context.Context) { s.walk(ctx, t) })
		}
		counts := s.counts
		s.mu.Unlock()
		var out []metrics.MountpathStat
		for _, mp := range t.store.Mountpaths().List() {
			st := metrics.MountpathStat{Path: mp.Path, Objects: counts[mp.Path][0], Bytes: counts[mp.Path][1]}
			if u, err := mp.Usage(); err == nil {
				st.Capacity, st.Avail = u.Total, u.Avail
			}
			out = append(out, st)
		}
		return out
	}
}

// walk counts every mountpath's objects.
func (s *mpStats) walk(ctx context.Context, t *Target) {
	counts := map[string][2]int64{}
	for _, mp := range t.store.Mountpaths().List() {
		n, b, err := mp.CountObjects(ctx)
		if err != nil {
			t.log.Debug("metrics: count objects", "mountpath", mp.Path, "err", err)
		}
		counts[mp.Path] = [2]int64{n, b}
	}
	s.mu.Lock()
	s.counts, s.at, s.walking = counts, time.Now(), false
	s.mu.Unlock()
}
