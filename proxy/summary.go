package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/transport"
)

// # Bucket summary
//
// AIStore's summary is a job: the first request starts it and gets 202 with
// its ID; the client polls with the ID, getting 202 while it runs and 200
// with the result when it is done. The proxy runs a summary by asking every
// target for its part over the transport (transport.KindBucketSummary) and
// adding them up. Finished summaries are kept for summaryTTL, at most
// maxSummaries of them.

const (
	summaryTTL     = 5 * time.Minute
	maxSummaries   = 256
	summaryTimeout = 10 * time.Minute
)

// summaryJob is one running or finished summary.
type summaryJob struct {
	bck     cluster.Bucket
	prefix  string
	started time.Time
	done    chan struct{} // closed when res and err are set
	res     wire.BucketSummary
	err     error
}

// summaries holds the proxy's summary jobs by ID.
type summaries struct {
	mu   sync.Mutex
	jobs map[string]*summaryJob
}

// start registers a new job for bck and prefix and runs it; it returns the
// job's ID.
func (p *Proxy) startSummary(ctx context.Context, bck cluster.Bucket, prefix string) string {
	job := &summaryJob{bck: bck, prefix: prefix, started: time.Now(), done: make(chan struct{})}
	id := newUUID()
	s := &p.summaries
	s.mu.Lock()
	if s.jobs == nil {
		s.jobs = map[string]*summaryJob{}
	}
	for jid, j := range s.jobs { // drop expired jobs, and the oldest beyond the bound
		if time.Since(j.started) > summaryTTL || len(s.jobs) >= maxSummaries {
			delete(s.jobs, jid)
		}
	}
	s.jobs[id] = job
	s.mu.Unlock()
	run := func(stop context.Context) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), summaryTimeout)
		defer cancel()
		defer context.AfterFunc(stop, cancel)() // the proxy stops
		job.res, job.err = p.summarize(ctx, bck, prefix)
		close(job.done)
	}
	if !p.bg.Go(run) {
		job.err = errProxyStopped
		close(job.done)
	}
	return id
}

// summaryJobOf returns the job with id for bck, or an error wrapping
// cluster.ErrNotFound.
func (p *Proxy) summaryJobOf(id string, bck cluster.Bucket) (*summaryJob, error) {
	p.summaries.mu.Lock()
	job := p.summaries.jobs[id]
	p.summaries.mu.Unlock()
	if job == nil || job.bck != bck {
		return nil, cluster.Errorf(cluster.ErrNotFound, "no summary job %q for %s", id, bck)
	}
	return job, nil
}

// finished reports whether job is done; on a failure it returns the error.
func (job *summaryJob) finished() (bool, error) {
	select {
	case <-job.done:
		return true, job.err
	default:
		return false, nil
	}
}

// summaryGet serves GET /v1/buckets/B with action summary-bck.
func (p *Proxy) summaryGet(w http.ResponseWriter, r *http.Request, bck cluster.Bucket, msg wire.ActionMsg) error {
	if p.bmd.Load().Get(bck) == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	var sm wire.SummaryMsg
	if len(msg.Value) > 0 {
		if err := json.Unmarshal(msg.Value, &sm); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "malformed %s message: %v", wire.ActSummaryBck, err)
		}
	}
	if sm.UUID == "" {
		writeText(w, http.StatusAccepted, p.startSummary(r.Context(), bck, sm.Prefix))
		return nil
	}
	job, err := p.summaryJobOf(sm.UUID, bck)
	if err != nil {
		return err
	}
	done, err := job.finished()
	switch {
	case err != nil:
		return err
	case !done:
		writeText(w, http.StatusAccepted, sm.UUID)
		return nil
	}
	setIncomplete(w, job.res.Incomplete)
	server.WriteJSON(w, []wire.BucketSummary{job.res})
	return nil
}

// summaryHead serves HEAD /v1/buckets/B[/PREFIX]?bsumm_remote=...[&uuid=ID].
func (p *Proxy) summaryHead(w http.ResponseWriter, r *http.Request, bck cluster.Bucket, prefix string) error {
	id := r.URL.Query().Get(wire.QparamUUID)
	if id == "" {
		w.Header().Set(wire.HdrXactionID, p.startSummary(r.Context(), bck, prefix))
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	job, err := p.summaryJobOf(id, bck)
	if err != nil {
		return err
	}
	done, err := job.finished()
	switch {
	case err != nil:
		return err
	case !done:
		w.Header().Set(wire.HdrXactionID, id)
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	b, err := json.Marshal(job.res)
	if err != nil {
		return err
	}
	w.Header().Set(wire.HdrBucketSumm, string(b))
	setIncomplete(w, job.res.Incomplete)
	w.WriteHeader(http.StatusOK)
	return nil
}

// setIncomplete sets the Ais-Incomplete header of a reply that lacks the
// part of the targets named by ids (none: no header).
func setIncomplete(w http.ResponseWriter, ids []string) {
	if len(ids) > 0 {
		w.Header().Set(wire.HdrIncomplete, strings.Join(ids, ","))
	}
}

// writeText writes a plain-text reply (AIStore's job IDs).
func writeText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(s))
}

// summarize asks every target that is up for its part of the summary of
// bck and adds them up. The parts of targets that are down or do not
// answer are missing: the result names them (Incomplete).
func (p *Proxy) summarize(ctx context.Context, bck cluster.Bucket, prefix string) (wire.BucketSummary, error) {
	var res wire.BucketSummary
	res.Name, res.Provider, res.IsPresent = bck.Name, bck.Provider, true
	parts, missing, err := fromLiveTargets(p, ctx, "summary of "+bck.String(), func(ctx context.Context, t *cluster.Node) (wire.TargetSummary, error) {
		var part wire.TargetSummary
		hdr := &transport.Header{Kind: transport.KindBucketSummary, Bucket: bck.Name, Opaque: []byte(prefix)}
		_, body, err := p.client.Call(ctx, t.TransportAddr(), hdr, nil)
		if err == nil {
			err = json.Unmarshal(body, &part)
		}
		return part, err
	})
	if err != nil {
		return res, err
	}
	res.Incomplete = missing
	first := true
	for _, pt := range parts {
		res.ObjCount.Present += pt.Objects
		res.TotalSize.PresentObjs += pt.Bytes
		res.TotalSize.OnDisk += pt.OnDisk
		res.TotalSize.Disks += pt.Disks
		if pt.Objects == 0 {
			continue
		}
		if first || pt.Min < res.ObjSize.Min {
			res.ObjSize.Min = pt.Min
		}
		res.ObjSize.Max = max(res.ObjSize.Max, pt.Max)
		first = false
	}
	if n := res.ObjCount.Present; n > 0 {
		res.ObjSize.Avg = int64(res.TotalSize.PresentObjs / n)
	}
	if res.TotalSize.Disks > 0 {
		res.UsedPct = res.TotalSize.OnDisk * 100 / res.TotalSize.Disks
	}
	return res, nil
}
