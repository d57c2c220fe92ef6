package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
	"miniais/tracing"
	"miniais/transport"
)

// # Jobs
//
// The proxy starts a job (delete-listrange, copy-bck, move-bck,
// make-n-copies) by
// registering it, opening its root span ("job KIND", a child of the
// client's request span, ended when the job ends) and sending its spec to
// every target (transport.KindJobStart, under that span): each runs its
// share (target/jobs.go). The proxy then watches the job until every
// share has ended: a target reports its end (transport.KindJobDone); every
// jobPollInterval the proxy also asks the targets it has not heard from
// (unsampled: polls are no part of the trace). A share that is aborted, a
// target that goes down or restarts (it answers without the job), aborts
// the whole job with that reason, and the other shares are stopped. When
// every share has finished, a move destroys its source bucket (only then),
// and the job ends.
//
// A rebalance is not the proxy's: every target starts one when the set of
// targets changes (target/rebalance.go). The queries (qryxstats, status,
// status_all) ask every target for its snapshots and lay the proxy's own
// view of the jobs it started over them: while such a job runs (a move
// destroying its source, shares still to report) its shares show as
// running, and an aborted job shows aborted everywhere.

const (
	// jobPollInterval is how often the proxy asks the targets whose share
	// of a running job has not reported its end.
	jobPollInterval = time.Second
	// jobQueryTimeout bounds one target's answer to a job message (a
	// target that does not answer within it is left out of a query).
	jobQueryTimeout = 3 * time.Second
)

// clusterJob is a job the proxy started on every target. The embedded Job
// is the cluster-wide state; shares holds the final snapshots of the
// shares that have ended.
type clusterJob struct {
	*job.Job
	spec    *job.Spec
	span    trace.Span
	targets []*cluster.Node
	// finalize runs once every share has finished (a move destroys its
	// source); nil for none.
	finalize func(ctx context.Context) error

	mu     sync.Mutex
	shares map[string]*wire.JobSnap
	notify chan struct{} // poked when a share reports
}

// proxyJobs are the jobs the proxy started.
type proxyJobs struct {
	// mu serializes starts against their conflict checks.
	mu   sync.Mutex
	reg  job.Registry
	byID sync.Map // ID -> *clusterJob, pruned with reg
	// stop is closed when the proxy shuts down (nil: never); the job
	// watchers, which end then, run in the proxy's node.Group.
	stop atomic.Pointer[<-chan struct{}]
}

// run makes the job watchers end when ctx does (Proxy.New).
func (pj *proxyJobs) run(ctx context.Context) {
	done := ctx.Done()
	pj.stop.Store(&done)
}

// stopped returns a channel closed when the proxy shuts down.
func (pj *proxyJobs) stopped() <-chan struct{} {
	if c := pj.stop.Load(); c != nil {
		return *c
	}
	return nil
}

// get returns the job with id, or nil.
func (pj *proxyJobs) get(id string) *clusterJob {
	if pj.reg.Get(id) == nil {
		pj.byID.Delete(id)
		return nil
	}
	v, _ := pj.byID.Load(id)
	cj, _ := v.(*clusterJob)
	return cj
}

// selectJobs returns the jobs f selects, oldest first.
func (pj *proxyJobs) selectJobs(f job.Filter) []*clusterJob {
	var out []*clusterJob
	for _, j := range pj.reg.Select(f) {
		if cj := pj.get(j.ID()); cj != nil {
			out = append(out, cj)
		}
	}
	return out
}

// add registers cj and forgets the jobs the registry has dropped.
func (pj *proxyJobs) add(cj *clusterJob) error {
	if err := pj.reg.Add(cj.Job); err != nil {
		return err
	}
	pj.byID.Store(cj.ID(), cj)
	pj.byID.Range(func(k, _ any) bool {
		if pj.reg.Get(k.(string)) == nil {
			pj.byID.Delete(k)
		}
		return true
	})
	return nil
}

// conflict returns an error wrapping cluster.ErrBusy when spec may not run
// alongside a running job: a bucket being renamed takes part in no other
// job, and a rename waits for every job on either of its buckets. Callers
// hold pj.mu.
func (pj *proxyJobs) conflict(spec *job.Spec) error {
	mine := []cluster.Bucket{spec.Bck, spec.Dst}
	for _, cj := range pj.selectJobs(job.Filter{OnlyRunning: true}) {
		for _, b := range mine {
			if b.Name == "" || !cj.Touches(b) {
				continue
			}
			if spec.Kind == wire.KindMoveBck || cj.Kind() == wire.KindMoveBck {
				return cluster.Errorf(cluster.ErrBusy, "bucket %s: job %s (%s) is running on it", b, cj.ID(), cj.Kind())
			}
		}
	}
	return nil
}

// busy returns an error wrapping cluster.ErrBusy when a job started by the
// proxy runs on bck (kinds, when given, restricts the check to them).
func (pj *proxyJobs) busy(bck cluster.Bucket, kinds ...string) error {
	for _, cj := range pj.selectJobs(job.Filter{Bucket: bck, OnlyRunning: true}) {
		if len(kinds) == 0 || slices.Contains(kinds, cj.Kind()) {
			return cluster.Errorf(cluster.ErrBusy, "bucket %s: job %s (%s) is running on it", bck, cj.ID(), cj.Kind())
		}
	}
	return nil
}

// jobSpanAttrs are the attributes of a job's root span.
func jobSpanAttrs(spec *job.Spec) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("ais.job_id", spec.ID), attribute.String("ais.job_kind", spec.Kind)}
	if spec.Bck.Name != "" {
		attrs = append(attrs, attribute.String("ais.bucket", spec.Bck.String()))
	}
	if spec.Dst.Name != "" {
		attrs = append(attrs, attribute.String("ais.bucket_to", spec.Dst.String()))
	}
	return attrs
}

// startJob starts spec on every target and returns the job; a target that
// refuses fails the start (the job is registered, aborted, so that its ID
// tells what happened). Every target must be up. finalize, when set, runs
// once every share has finished.
func (p *Proxy) startJob(rctx context.Context, spec *job.Spec, finalize func(context.Context) error) (*clusterJob, error) {
	pj := &p.jobs
	pj.mu.Lock()
	if err := pj.conflict(spec); err != nil {
		pj.mu.Unlock()
		return nil, err
	}
	smap := p.smap.Load()
	targets, err := jobTargets(smap, spec.Kind)
	if err != nil {
		pj.mu.Unlock()
		return nil, err
	}
	ctx, span := p.tracer.Start(context.WithoutCancel(rctx), "job "+spec.Kind, trace.WithAttributes(jobSpanAttrs(spec)...))
	cj := &clusterJob{
		Job: job.New(ctx, spec.Desc()), spec: spec, span: span, targets: targets, finalize: finalize,
		shares: map[string]*wire.JobSnap{}, notify: make(chan struct{}, 1),
	}
	if err := pj.add(cj); err != nil {
		pj.mu.Unlock()
		span.End()
		return nil, err
	}
	pj.mu.Unlock()

	// Two rounds: every target registers the job (so that it takes the
	// others' objects), then every target runs its share.
	body, err := spec.Encode()
	if err == nil {
		err = startRound(spec, jobPrepare, p.broadcast(ctx, smap, transport.KindJobStart, body, []byte(jobPrepare)))
	}
	if err == nil {
		err = startRound(spec, jobRun, p.broadcast(ctx, smap, transport.KindJobStart, []byte(spec.ID), []byte(jobRun)))
	}
	if err != nil {
		cj.Abort(err)
		p.stopShares(context.WithoutCancel(ctx), cj)
		p.endJobSpan(cj)
		return nil, err
	}
	p.log.InfoContext(ctx, "job started", "job", spec.ID, "kind", spec.Kind, "bucket", spec.Bck.String(), "to", spec.Dst.String(), "targets", len(targets))
	if !p.bg.Go(func(context.Context) { p.watchJob(ctx, cj) }) {
		cj.Abort(job.ErrShutdown) // the proxy is stopping
		p.endJobSpan(cj)
	}
	return cj, nil
}

// jobTargets returns the targets of smap that run a share of a job of
// kind: all of them, which must be up (an error wrapping
// cluster.ErrUnavailable otherwise).
func jobTargets(smap *cluster.Map, kind string) ([]*cluster.Node, error) {
	targets := smap.TargetList()
	if len(targets) == 0 {
		return nil, cluster.Errorf(cluster.ErrUnavailable, "%s: no targets in the cluster", kind)
	}
	for _, t := range targets {
		if t.Down() {
			return nil, cluster.Errorf(cluster.ErrUnavailable, "%s: target %s is down", kind, t.ID)
		}
	}
	return targets, nil
}

// The rounds of a job start (transport.KindJobStart's Opaque).
const (
	jobPrepare = "prepare"
	jobRun     = "run"
)

// startRound returns the error of a round of a start that failed on some
// targets (the first by ID), or nil.
func startRound(spec *job.Spec, round string, errs map[string]error) error {
	if len(errs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(errs))
	for id := range errs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return fmt.Errorf("%s: %s on target %s failed: %w", spec.Kind, round, ids[0], errs[ids[0]])
}

// watchJob waits for every share of cj to end (or for cj to be stopped,
// or the proxy to shut down), finalizes it and ends its span.
func (p *Proxy) watchJob(ctx context.Context, cj *clusterJob) {
	// ctx carries the job's span; it is not cancelled when the job ends
	// (the last messages still go out under the span).
	ctx = context.WithoutCancel(ctx)
	tick := time.NewTicker(jobPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-cj.Done(): // stopped
			p.stopShares(ctx, cj)
			p.endJobSpan(cj)
			return
		case <-p.jobs.stopped():
			// The shares run on; a restarted proxy reads their state
			// from the targets (a rename then keeps its source).
			cj.Abort(job.ErrShutdown)
			p.endJobSpan(cj)
			return
		case <-cj.notify:
		case <-tick.C:
			p.pollShares(ctx, cj)
		}
		if p.advance(ctx, cj) {
			p.endJobSpan(cj)
			return
		}
	}
}

// advance looks at the shares of cj and ends the job when it is time;
// it reports whether the job has ended.
func (p *Proxy) advance(ctx context.Context, cj *clusterJob) bool {
	smap := p.smap.Load()
	cj.mu.Lock()
	var running []string
	var aborted, failed *wire.JobSnap
	var abortedOn, failedOn string
	for _, t := range cj.targets {
		s := cj.shares[t.ID]
		switch {
		case s == nil:
			if n := smap.Targets[t.ID]; n == nil || n.Down() {
				s = &wire.JobSnap{ID: cj.ID(), Kind: cj.Kind(), Aborted: true,
					AbortErr: fmt.Sprintf("target %s is down: its share of the job is lost", t.ID), EndTime: time.Now().UTC()}
				cj.shares[t.ID] = s
			} else {
				running = append(running, t.ID)
				continue
			}
		}
		if s.Aborted && aborted == nil {
			aborted, abortedOn = s, t.ID
		}
		if !s.Aborted && s.Err != "" && failed == nil {
			failed, failedOn = s, t.ID
		}
	}
	cj.mu.Unlock()
	switch {
	case aborted != nil:
		cj.Abort(fmt.Errorf("aborted on target %s: %s", abortedOn, aborted.AbortErr))
		p.stopShares(ctx, cj)
		return true
	case len(running) > 0:
		return false
	case failed != nil && cj.Kind() == wire.KindMoveBck:
		cj.Abort(fmt.Errorf("target %s: %s; the source %s is kept", failedOn, failed.Err, cj.spec.Bck))
		return true
	case failed != nil:
		cj.Finish(fmt.Errorf("target %s: %s", failedOn, failed.Err))
		return true
	}
	if cj.finalize != nil {
		if err := cj.finalize(ctx); err != nil {
			cj.Abort(fmt.Errorf("every object was copied, but: %w", err))
			return true
		}
	}
	cj.Finish(nil)
	return true
}

// endJobSpan records cj's outcome and totals on its span and ends it.
func (p *Proxy) endJobSpan(cj *clusterJob) {
	st, _, err := cj.State()
	var total wire.JobStats
	cj.mu.Lock()
	for _, s := range cj.shares {
		total.LocObjs += s.Stats.LocObjs
		total.LocBytes += s.Stats.LocBytes
		total.OutObjs += s.Stats.OutObjs
		total.InObjs += s.Stats.InObjs
	}
	cj.mu.Unlock()
	cj.span.SetAttributes(attribute.String("ais.job_state", st.String()), attribute.Int64("ais.loc_objs", total.LocObjs),
		attribute.Int64("ais.loc_bytes", total.LocBytes), attribute.Int64("ais.out_objs", total.OutObjs), attribute.Int64("ais.in_objs", total.InObjs))
	if err != nil {
		cj.span.RecordError(err)
		cj.span.SetStatus(codes.Error, err.Error())
	}
	cj.span.End()
	p.log.Info("job ended", "job", cj.ID(), "kind", cj.Kind(), "state", st.String(), "objects", total.LocObjs, "err", err)
}

// recordShare records the final snapshot of target tid's share of cj.
func (cj *clusterJob) recordShare(tid string, s *wire.JobSnap) {
	if s.Running() {
		return
	}
	cj.mu.Lock()
	if !slices.ContainsFunc(cj.targets, func(n *cluster.Node) bool { return n.ID == tid }) {
		cj.mu.Unlock()
		return
	}
	cj.shares[tid] = s
	cj.mu.Unlock()
	select {
	case cj.notify <- struct{}{}:
	default:
	}
}

// handleJobDone records the end of a target's share.
func (p *Proxy) handleJobDone(_ context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if p.smap.Load().Targets[msg.Header.Sender] == nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "job report from %q, which is not a target", msg.Header.Sender)
	}
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	var s wire.JobSnap
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed job snapshot: %v", err)
	}
	if cj := p.jobs.get(s.ID); cj != nil {
		cj.recordShare(msg.Header.Sender, &s)
	}
	return nil, nil
}

// pollShares asks the targets that have not reported the end of their
// share of cj for its state. A target that no longer knows the job
// restarted: its share is lost.
func (p *Proxy) pollShares(ctx context.Context, cj *clusterJob) {
	cj.mu.Lock()
	var ask []*cluster.Node
	for _, t := range cj.targets {
		if cj.shares[t.ID] == nil {
			ask = append(ask, t)
		}
	}
	cj.mu.Unlock()
	if len(ask) == 0 {
		return
	}
	q, _ := json.Marshal(wire.JobQuery{ID: cj.ID()})
	replies, _ := p.callTargets(tracing.Unsampled(ctx), ask, transport.KindJobStatus, q)
	for tid, b := range replies {
		var snaps []wire.JobSnap
		if json.Unmarshal(b, &snaps) != nil {
			continue
		}
		if len(snaps) == 0 {
			cj.recordShare(tid, &wire.JobSnap{ID: cj.ID(), Kind: cj.Kind(), Aborted: true, EndTime: time.Now().UTC(),
				AbortErr: fmt.Sprintf("target %s restarted: its share of the job is lost", tid)})
			continue
		}
		cj.recordShare(tid, &snaps[0])
	}
}

// stopShares asks every target of cj that is up to stop its share.
func (p *Proxy) stopShares(ctx context.Context, cj *clusterJob) {
	q, _ := json.Marshal(wire.JobQuery{ID: cj.ID()})
	var up []*cluster.Node
	smap := p.smap.Load()
	for _, t := range cj.targets {
		if n := smap.Targets[t.ID]; n != nil && !n.Down() {
			up = append(up, n)
		}
	}
	p.callTargets(ctx, up, transport.KindJobStop, q)
}

// callTargets sends one message to each of targets in parallel (each
// bounded by jobQueryTimeout) and returns the reply bodies and the errors
// by target ID.
func (p *Proxy) callTargets(ctx context.Context, targets []*cluster.Node, kind transport.Kind, body []byte) (map[string][]byte, map[string]error) {
	replies, errs := map[string][]byte{}, map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, jobQueryTimeout)
			defer cancel()
			_, rb, err := p.client.Call(cctx, t.TransportAddr(), &transport.Header{Kind: kind}, body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[t.ID] = err
				return
			}
			replies[t.ID] = rb
		})
	}
	wg.Wait()
	for id, err := range errs {
		p.log.DebugContext(ctx, "job message to a target failed", "kind", kind.String(), "target", id, "err", err)
	}
	return replies, errs
}

// startRebalance starts a rebalance on every target (AIStore's "ais job
// start rebalance"): the cluster map gets a new version, whose number names
// the rebalance, and every target is asked to run it. It returns the ID.
func (p *Proxy) startRebalance(ctx context.Context) (string, error) {
	ctx, span := p.tracer.Start(ctx, "job "+wire.KindRebalance)
	defer span.End()
	smap, _, err := p.updateSmap(ctx, func(*cluster.Map) bool { return true })
	if err != nil {
		return "", err
	}
	if len(smap.ActiveTargets()) == 0 {
		return "", cluster.Errorf(cluster.ErrUnavailable, "rebalance: no targets in the cluster")
	}
	spec := &job.Spec{ID: job.RebalanceID(smap.Version), Kind: wire.KindRebalance}
	span.SetAttributes(jobSpanAttrs(spec)...)
	body, err := spec.Encode()
	if err != nil {
		return "", err
	}
	if errs := p.broadcast(ctx, smap, transport.KindJobStart, body, nil); len(errs) == len(smap.ActiveTargets()) {
		return "", cluster.Errorf(cluster.ErrUnavailable, "rebalance %s: no target could start it", spec.ID)
	}
	p.log.InfoContext(ctx, "rebalance started", "job", spec.ID, "smap_version", smap.Version)
	return spec.ID, nil
}

// stopJobs stops the running jobs q selects (by ID, else by kind): those
// the proxy started (their watchers stop the shares), and every target's
// shares of the others (a rebalance). An ID that no node knows is
// cluster.ErrNotFound; a job that has ended already is no error.
func (p *Proxy) stopJobs(ctx context.Context, q *wire.JobQuery) error {
	if q.ID != "" {
		if cj := p.jobs.get(q.ID); cj != nil {
			// The job's watcher stops the shares (a target that does not
			// answer cannot delay the reply).
			cj.Abort(job.ErrStopped)
			return nil
		}
	}
	f := queryFilter(q)
	f.OnlyRunning = true
	stopped := 0
	for _, cj := range p.jobs.selectJobs(f) {
		if cj.Abort(job.ErrStopped) {
			stopped++
		}
	}
	body, err := json.Marshal(q)
	if err != nil {
		return err
	}
	replies, _ := p.callTargets(ctx, p.smap.Load().ActiveTargets(), transport.KindJobStop, body)
	for _, b := range replies {
		n, _ := strconv.Atoi(string(b))
		stopped += n
	}
	p.log.InfoContext(ctx, "jobs stopped", "id", q.ID, "kind", q.Kind, "shares", stopped)
	if stopped > 0 || q.ID == "" {
		return nil
	}
	snaps, err := p.collectSnaps(ctx, &wire.JobQuery{ID: q.ID})
	if err != nil {
		return err
	}
	for _, list := range snaps {
		if len(list) > 0 {
			return nil
		}
	}
	return cluster.Errorf(cluster.ErrNotFound, "job %q not found", q.ID)
}

// queryFilter turns a job query into a registry filter.
func queryFilter(q *wire.JobQuery) job.Filter {
	f := job.Filter{ID: q.ID, Kind: q.Kind, OnlyRunning: q.ShowActive != nil && *q.ShowActive}
	if q.Bck.Name != "" {
		f.Bucket = cluster.Bucket{Provider: q.Bck.Provider, Name: q.Bck.Name}
		if f.Bucket.Provider == "" {
			f.Bucket.Provider = cluster.ProviderAIS
		}
	}
	return f
}

// collectSnaps asks every target that is up (or only q.Node) for its
// snapshots of the jobs q selects, ended ones included (ShowActive is
// applied later, after the proxy's view is laid over them). A target that
// does not answer is left out of the reply.
func (p *Proxy) collectSnaps(ctx context.Context, q *wire.JobQuery) (wire.JobSnaps, error) {
	targets := p.smap.Load().ActiveTargets()
	if q.Node != "" {
		n := p.smap.Load().Targets[q.Node]
		if n == nil {
			return nil, cluster.Errorf(cluster.ErrNotFound, "target %q is not in the cluster map", q.Node)
		}
		targets = []*cluster.Node{n}
	}
	all := *q
	all.ShowActive, all.Node = nil, ""
	body, err := json.Marshal(&all)
	if err != nil {
		return nil, err
	}
	replies, errs := p.callTargets(ctx, targets, transport.KindJobStatus, body)
	out := make(wire.JobSnaps, len(replies))
	for tid, b := range replies {
		var snaps []wire.JobSnap
		if err := json.Unmarshal(b, &snaps); err != nil {
			errs[tid] = err
			continue
		}
		out[tid] = snaps
	}
	for tid, err := range errs {
		p.log.WarnContext(ctx, "job query: a target did not answer", "target", tid, "err", err)
	}
	return out, nil
}

// overlay lays the proxy's view of the jobs it started over the targets'
// snapshots: while such a job runs, its ended shares show as running;
// once it is aborted, it shows aborted everywhere, with the job's reason.
// A rename the proxy no longer knows (it restarted) whose source still
// exists shows aborted.
func (p *Proxy) overlay(snaps wire.JobSnaps) {
	bmd := p.bmd.Load()
	for _, list := range snaps {
		for i := range list {
			cj := p.jobs.get(list[i].ID)
			if cj == nil {
				// A rename whose shares ended under a proxy that has
				// restarted since: nobody destroyed the source, so it did
				// not happen.
				s := &list[i]
				if s.Kind == wire.KindMoveBck && !s.Running() && !s.Aborted &&
					bmd.Get(cluster.Bucket{Provider: cluster.ProviderAIS, Name: s.SrcBck.Name}) != nil {
					s.Aborted = true
					s.AbortErr = fmt.Sprintf("the proxy restarted before the rename ended: the source %s is kept", s.SrcBck.Name)
					s.Err = s.AbortErr
				}
				continue
			}
			st, end, err := cj.State()
			switch st {
			case job.Running:
				list[i].EndTime = time.Time{}
			case job.Aborted:
				list[i].Aborted = true
				if list[i].AbortErr == "" {
					list[i].AbortErr = err.Error()
					list[i].Err = list[i].AbortErr
				}
				if list[i].EndTime.IsZero() {
					list[i].EndTime = end.UTC()
				}
			}
		}
	}
}

// statuses returns the status of every job in snaps and of the proxy's
// jobs f selects (the proxy's own view wins for those), oldest first.
func (p *Proxy) statuses(snaps wire.JobSnaps, f job.Filter) []wire.JobStatus {
	byID := map[string][]wire.JobSnap{}
	start := map[string]time.Time{}
	for _, list := range snaps {
		for _, s := range list {
			byID[s.ID] = append(byID[s.ID], s)
			if t, ok := start[s.ID]; !ok || s.StartTime.Before(t) {
				start[s.ID] = s.StartTime
			}
		}
	}
	out := map[string]wire.JobStatus{}
	for id, list := range byID {
		if cj := p.jobs.get(id); cj != nil {
			out[id] = cj.Status()
			continue
		}
		if st, ok := job.StatusOf(list); ok {
			out[id] = st
		}
	}
	f.OnlyRunning = false
	for _, cj := range p.jobs.selectJobs(f) {
		out[cj.ID()] = cj.Status()
		start[cj.ID()] = cj.StartTime()
	}
	res := make([]wire.JobStatus, 0, len(out))
	for _, st := range out {
		res = append(res, st)
	}
	sort.Slice(res, func(i, j int) bool {
		if a, b := start[res[i].UUID], start[res[j].UUID]; !a.Equal(b) {
			return a.Before(b)
		}
		return res[i].UUID < res[j].UUID
	})
	return res
}

// errNoJob is the error of a query for a job nobody knows.
func errNoJob(q *wire.JobQuery) error {
	if q.ID != "" {
		return cluster.Errorf(cluster.ErrNotFound, "job %q not found", q.ID)
	}
	return cluster.Errorf(cluster.ErrNotFound, "no %q job is running", q.Kind)
}
