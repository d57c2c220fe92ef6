package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/job"
	"miniais/tracing"
	"miniais/transport"
)

// # Jobs
//
// The proxy starts a job by sending its spec to every target
// (transport.KindJobStart) in two rounds: every target prepares its share
// (registers the job, so that it takes the others' objects), then runs it
// once every target has prepared. A share walks its own
// objects of the bucket page by page (fs.List with a token, jobPage names
// at a time, never the whole listing) and acts on each:
//
//   - delete-listrange deletes the listed names, or the names under the
//     template's prefix that match it, from its own disks;
//   - make-n-copies puts each object of the bucket on exactly its number
//     of copies (runMirror: fs.Store.Resilver of the bucket, no batch
//     spans);
//   - copy-bck and move-bck store each object into the destination bucket:
//     on its own disks when it owns the name there, else by streaming it to
//     the owner (transport.KindJobObject), which stores it with a work file
//     and a rename, overwriting what it has (a reader sees the old object
//     or the whole new one, never part of one). A move's share only copies:
//     the proxy destroys the source once every share has finished.
//
// A share is one span ("job.share KIND", a child of the proxy's job span
// through the start message) with one span per page ("job.batch", counters
// as attributes); the work on each object runs unsampled, so a job of a
// million objects is a few thousand spans, not millions. When its share
// ends, the target tells the proxy (transport.KindJobDone) with its final
// snapshot.
//
// Between objects a share paces itself (job.Throttle): while this target,
// or the target an object went to, serves foreground requests, the share
// works at most a twentieth of the time (job.DefaultDuty).
//
// A share that loses its peer (the receiver restarted and no longer knows
// the job, or cannot be reached three times in a row), its bucket, or its
// context is aborted with the reason; one whose objects failed one by one
// finishes with the count and the first error. A target that restarts
// forgets its shares: the proxy sees that and aborts the job.

// jobPage is how many names a job takes from a listing at a time: one
// batch, one span.
const jobPage = 256

// Timeouts of a share's messages.
const (
	jobNotifyTimeout = 5 * time.Second
	// jobBMDWait bounds the wait for the bucket metadata that created a
	// copy's destination, when its push has not arrived yet.
	jobBMDWait = 3 * time.Second
	// fgQuiet is how long after a foreground request the target still
	// counts as busy (the next request of a sequential client is coming).
	fgQuiet = 20 * time.Millisecond
	// maxPeerFailures is how many sends in a row to one peer may fail at
	// the connection before the share gives up.
	maxPeerFailures = 3
)

// busyReply is the Opaque of a job-object reply from a busy receiver.
var busyReply = []byte("busy")

// registerJobs installs the transport handlers of jobs.
func (t *Target) registerJobs(srv *transport.Server) {
	srv.Handle(transport.KindJobStart, t.handleJobStart)
	srv.Handle(transport.KindJobStatus, t.handleJobStatus)
	srv.Handle(transport.KindJobStop, t.handleJobStop)
	srv.Handle(transport.KindJobObject, t.handleJobObject)
}

// foregroundBusy reports whether the target is serving HTTP requests or
// served one within fgQuiet.
func (t *Target) foregroundBusy() bool {
	return t.inFlight.Load() > 0 || time.Now().UnixNano()-t.fgLast.Load() < int64(fgQuiet)
}

// throttle returns the pacing of this target's shares.
func (t *Target) throttle() *job.Throttle { return &job.Throttle{Busy: t.foregroundBusy} }

// jobAttrs are the attributes of a job's spans on this target.
func (t *Target) jobAttrs(j *job.Job) []attribute.KeyValue {
	d := j.Desc()
	attrs := []attribute.KeyValue{
		attribute.String("ais.job_id", d.ID), attribute.String("ais.job_kind", d.Kind),
		attribute.String("ais.node_id", t.cfg.ID),
	}
	if d.Bck.Name != "" {
		attrs = append(attrs, attribute.String("ais.bucket", d.Bck.String()))
	}
	if d.Dst.Name != "" {
		attrs = append(attrs, attribute.String("ais.bucket_to", d.Dst.String()))
	}
	return attrs
}

// The rounds of a job start (transport.KindJobStart's Opaque).
const (
	jobPrepare = "prepare"
	jobRun     = "run"
)

// jobStartTimeout is how long a prepared share waits for the proxy's "run"
// before it gives up (the proxy went away between the two rounds).
const jobStartTimeout = 30 * time.Second

// handleJobStart prepares this target's share of the job the proxy sent,
// or runs a prepared one (see transport.KindJobStart); a rebalance starts
// at once.
func (t *Target) handleJobStart(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	if string(msg.Header.Opaque) == jobRun {
		return nil, t.runPrepared(ctx, string(b))
	}
	spec, err := job.DecodeSpec(b)
	if err != nil {
		return nil, err
	}
	if spec.Kind == wire.KindRebalance {
		t.mu.Lock()
		defer t.mu.Unlock()
		_, err := t.startRebalance(ctx, t.smap.Load(), spec.ID, false)
		return nil, err
	}
	if string(msg.Header.Opaque) != jobPrepare {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "job start of %s without a round (%q)", spec.Kind, msg.Header.Opaque)
	}
	if err := t.checkJobBuckets(ctx, spec); err != nil {
		return nil, err
	}
	t.mu.Lock()
	parent := t.runCtx
	t.mu.Unlock()
	j := job.New(parent, spec.Desc())
	if err := t.jobs.Add(j); err != nil {
		return nil, err
	}
	run := make(chan context.Context, 1)
	t.prepared.Store(j.ID(), run)
	started := t.bg.Go(func(context.Context) {
		defer t.prepared.Delete(j.ID())
		timer := time.NewTimer(jobStartTimeout)
		defer timer.Stop()
		select {
		case rctx := <-run:
			// The share's span is a child of the run message's (and so
			// of the proxy's job span); it outlives the message.
			t.runShare(trace.ContextWithSpanContext(j.Context(), trace.SpanContextFromContext(rctx)), j, spec)
		case <-timer.C:
			j.Abort(fmt.Errorf("the proxy did not run the job within %v of preparing it", jobStartTimeout))
		case <-j.Done(): // stopped before it ran
		}
	})
	if !started {
		t.prepared.Delete(j.ID())
		j.Abort(job.ErrShutdown)
		return nil, cluster.Errorf(cluster.ErrUnavailable, "target %s is stopping", t.cfg.ID)
	}
	return nil, nil
}

// runPrepared starts the prepared share of job id.
func (t *Target) runPrepared(ctx context.Context, id string) error {
	v, ok := t.prepared.LoadAndDelete(id)
	if !ok {
		return cluster.Errorf(cluster.ErrNotFound, "target %s has no prepared job %q", t.cfg.ID, id)
	}
	v.(chan context.Context) <- ctx
	return nil
}

// checkJobBuckets checks that the buckets of spec exist here, waiting
// briefly for the bucket metadata that created a destination.
func (t *Target) checkJobBuckets(ctx context.Context, spec *job.Spec) error {
	deadline := time.Now().Add(jobBMDWait)
	for t.bmd.Load().Version < spec.BMDVersion && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	bmd := t.bmd.Load()
	if bmd.Get(spec.Bck) == nil {
		return cluster.Errorf(cluster.ErrNotFound, "target %s: bucket %s does not exist", t.cfg.ID, spec.Bck)
	}
	if spec.Kind == wire.KindMakeNCopies && bmd.Version < spec.BMDVersion {
		// Placing by older mirror properties would undo the change.
		return cluster.Errorf(cluster.ErrUnavailable, "target %s: the bucket metadata v%d that changed the copies of %s has not arrived (it holds v%d)",
			t.cfg.ID, spec.BMDVersion, spec.Bck, bmd.Version)
	}
	if spec.Dst.Name != "" && !spec.DryRun && bmd.Get(spec.Dst) == nil {
		return cluster.Errorf(cluster.ErrUnavailable, "target %s: bucket %s is not in its bucket metadata v%d (need v%d)",
			t.cfg.ID, spec.Dst, bmd.Version, spec.BMDVersion)
	}
	return nil
}

// objectErrors is what a share returns when it went through all its
// objects but some failed: it finishes (with the error), it is not
// aborted.
type objectErrors struct {
	n     int
	first error
}

func (e *objectErrors) add(name string, err error) {
	if e.n == 0 {
		e.first = fmt.Errorf("%s: %w", name, err)
	}
	e.n++
}

func (e *objectErrors) Error() string {
	return fmt.Sprintf("%d object(s) failed, the first %v", e.n, e.first)
}

func (e *objectErrors) Unwrap() error { return e.first }

// orNil returns e as an error, or nil when nothing failed.
func (e *objectErrors) orNil() error {
	if e.n == 0 {
		return nil
	}
	return e
}

// runShare runs this target's share of a job and reports its end.
func (t *Target) runShare(ctx context.Context, j *job.Job, spec *job.Spec) {
	ctx, span := t.tracer.Start(ctx, "job.share "+spec.Kind, trace.WithAttributes(t.jobAttrs(j)...))
	var err error
	switch spec.Kind {
	case wire.KindDeleteListRange:
		err = t.runDelete(ctx, j, spec)
	case wire.KindCopyBck, wire.KindMoveBck:
		err = t.runCopy(ctx, j, spec)
	case wire.KindMakeNCopies:
		err = t.runMirror(ctx, j, spec)
	default:
		err = cluster.Errorf(cluster.ErrNotImplemented, "job kind %q", spec.Kind)
	}
	t.endShare(ctx, span, j, err)
	if st, _, _ := j.State(); st == job.Aborted || err != nil {
		t.log.WarnContext(ctx, "job share ended", "job", j.ID(), "kind", j.Kind(), "state", st.String(), "err", j.Snap().Err)
	} else {
		t.log.InfoContext(ctx, "job share finished", "job", j.ID(), "kind", j.Kind(), "objects", j.Stats.Load().LocObjs)
	}
}

// endShare ends j for err (an *objectErrors finishes it, any other error
// aborts it), records the outcome on span, tells the proxy and ends span.
func (t *Target) endShare(ctx context.Context, span trace.Span, j *job.Job, err error) {
	var oe *objectErrors
	switch {
	case err == nil:
		j.Finish(nil)
	case errors.As(err, &oe):
		j.Finish(err)
	default:
		if t.runCtxDone() {
			err = job.ErrShutdown
		}
		j.Abort(err) // no change when it was stopped already
	}
	snap := j.Snap()
	span.SetAttributes(snapAttrs(&snap)...)
	if snap.Aborted {
		span.SetStatus(codes.Error, snap.AbortErr)
	} else if snap.Err != "" {
		span.SetStatus(codes.Error, snap.Err)
	}
	t.notifyDone(context.WithoutCancel(ctx), &snap)
	span.End()
}

func (t *Target) runCtxDone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.runCtx.Err() != nil
}

// snapAttrs are a snapshot's counters and state as span attributes.
func snapAttrs(s *wire.JobSnap) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.Int64("ais.loc_objs", s.Stats.LocObjs), attribute.Int64("ais.loc_bytes", s.Stats.LocBytes),
		attribute.Int64("ais.out_objs", s.Stats.OutObjs), attribute.Int64("ais.out_bytes", s.Stats.OutBytes),
		attribute.Int64("ais.in_objs", s.Stats.InObjs), attribute.Int64("ais.in_bytes", s.Stats.InBytes),
		attribute.Bool("ais.aborted", s.Aborted),
	}
}

// notifyDone sends this target's final snapshot of a share to the proxy.
// A lost notification costs only time: the proxy also polls.
func (t *Target) notifyDone(ctx context.Context, snap *wire.JobSnap) {
	body, err := json.Marshal(snap)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, jobNotifyTimeout)
	defer cancel()
	if _, _, err := t.client.Call(ctx, t.cfg.ProxyAddr, &transport.Header{Kind: transport.KindJobDone}, body); err != nil {
		t.log.WarnContext(ctx, "job: cannot report the end of a share to the proxy", "job", snap.ID, "err", err)
	}
}

// batchFunc works on one page of a share's objects; ctx is unsampled.
type batchFunc func(ctx context.Context, page []fs.ObjectAttrs) error

// walk lists the objects of bck whose names start with prefix, one page of
// jobPage at a time (only that page is in memory), and runs fn on each page
// as one batch (see batch).
func (t *Target) walk(ctx context.Context, j *job.Job, bck cluster.Bucket, prefix string, namesOnly bool, fn batchFunc) error {
	token := ""
	for seq := 0; ; seq++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, next, err := t.store.List(tracing.Unsampled(ctx), bck, fs.ListOptions{Prefix: prefix, Token: token, PageSize: jobPage, NamesOnly: namesOnly})
		if err != nil {
			return err
		}
		if len(page) > 0 {
			if err := t.batch(ctx, j, seq, len(page), func(ctx context.Context) error { return fn(ctx, page) }); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// batch runs fn as one batch of a job: one span "job.batch" whose
// attributes are what the batch added to the job's counters; fn's context
// is unsampled (no span per object).
func (t *Target) batch(ctx context.Context, j *job.Job, seq, size int, fn func(ctx context.Context) error) error {
	ctx, span := t.tracer.Start(ctx, "job.batch", trace.WithAttributes(
		attribute.String("ais.job_id", j.ID()), attribute.Int("ais.batch", seq), attribute.Int("ais.batch_size", size)))
	defer span.End()
	before := j.Stats.Load()
	err := fn(tracing.Unsampled(ctx))
	after := j.Stats.Load()
	span.SetAttributes(
		attribute.Int64("ais.objects", after.LocObjs-before.LocObjs), attribute.Int64("ais.bytes", after.LocBytes-before.LocBytes),
		attribute.Int64("ais.out_objs", after.OutObjs-before.OutObjs), attribute.Int64("ais.out_bytes", after.OutBytes-before.OutBytes))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// runDelete is a delete-listrange share: the listed names, or those under
// the template's prefix that match it, are removed from this target's
// disks. A name that is not here is no failure (another target has it, or
// none does).
func (t *Target) runDelete(ctx context.Context, j *job.Job, spec *job.Spec) error {
	var failed objectErrors
	th := t.throttle()
	del := func(ctx context.Context, name string, size int64) error {
		start := time.Now()
		err := t.store.Delete(ctx, spec.Bck, name)
		// A move of the object in flight must not bring it back.
		t.win.tomb(spec.Bck.Uname(name))
		switch {
		case err == nil:
			j.Stats.AddLoc(size)
		case errors.Is(err, cluster.ErrNotFound):
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			failed.add(name, err)
		}
		return th.Wait(ctx, time.Since(start), false)
	}
	if len(spec.ObjNames) > 0 {
		for seq, i := 0, 0; i < len(spec.ObjNames); seq, i = seq+1, i+jobPage {
			names := spec.ObjNames[i:min(i+jobPage, len(spec.ObjNames))]
			err := t.batch(ctx, j, seq, len(names), func(ctx context.Context) error {
				for _, name := range names {
					// Even a name that is not here: a move of it to this
					// target may be in flight.
					t.win.tomb(spec.Bck.Uname(name))
					a, err := t.store.Head(ctx, spec.Bck, name)
					if errors.Is(err, cluster.ErrNotFound) {
						continue
					}
					if err := del(ctx, name, a.Size); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return failed.orNil()
	}
	tmpl, err := job.ParseTemplate(spec.Template)
	if err != nil {
		return err
	}
	err = t.walk(ctx, j, spec.Bck, tmpl.Prefix, false, func(ctx context.Context, page []fs.ObjectAttrs) error {
		for i := range page {
			if !tmpl.Match(page[i].Name) {
				continue
			}
			if err := del(ctx, page[i].Name, page[i].Size); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return failed.orNil()
}

// runMirror is a make-n-copies share: every object of the bucket on this
// target's disks goes on exactly as many mountpaths as the bucket's mirror
// properties ask for, in the bucket metadata the job was started with or a
// newer one (fs.Store.Resilver of the bucket: missing copies are made,
// extra ones removed). Each object that needed a copy counts in the
// share's stats with the bytes copied. A failed placing aborts the share
// with the first error once every other object has been placed.
func (t *Target) runMirror(ctx context.Context, j *job.Job, spec *job.Spec) error {
	if t.bmd.Load().Get(spec.Bck) == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", spec.Bck)
	}
	// The work on each object is untraced: the share's span carries the
	// totals (endShare).
	return t.store.Resilver(tracing.Unsampled(ctx), &spec.Bck, func(size int64) { j.Stats.AddLoc(size) })
}

// fatalError marks an error that ends a share at once (aborted).
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// runCopy is a copy-bck or move-bck share: every object of the source
// under the prefix goes to the destination bucket (see copyOne). A dry run
// counts them and writes nothing.
func (t *Target) runCopy(ctx context.Context, j *job.Job, spec *job.Spec) error {
	var props *cluster.BucketProps
	if !spec.DryRun {
		if props = t.bmd.Load().Get(spec.Dst); props == nil {
			return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", spec.Dst)
		}
	}
	var failed objectErrors
	peerFailures := map[string]int{}
	th := t.throttle()
	err := t.walk(ctx, j, spec.Bck, spec.Prefix, !spec.DryRun, func(ctx context.Context, page []fs.ObjectAttrs) error {
		for i := range page {
			if spec.DryRun {
				j.Stats.AddLoc(page[i].Size)
				continue
			}
			start := time.Now()
			busy, peer, err := t.copyOne(ctx, j, spec.Bck, spec.Dst, props, page[i].Name)
			var fe *fatalError
			switch {
			case err == nil:
				delete(peerFailures, peer)
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.As(err, &fe):
				return fe.err
			case errors.Is(err, transport.ErrConnection):
				peerFailures[peer]++
				if peerFailures[peer] >= maxPeerFailures {
					return fmt.Errorf("target %s cannot be reached (%d sends in a row failed): %w", peer, peerFailures[peer], err)
				}
				failed.add(page[i].Name, err)
			default:
				failed.add(page[i].Name, err)
			}
			if err := th.Wait(ctx, time.Since(start), busy); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return failed.orNil()
}

// copyOne stores object name of src into dst: on this target's disks when
// it owns the name in dst, else by streaming it to the owner. It returns
// whether the receiver is busy and the receiver's ID. A *fatalError means
// the share cannot go on (the destination is gone, the receiver lost the
// job, the owner is down).
func (t *Target) copyOne(ctx context.Context, j *job.Job, src, dst cluster.Bucket, props *cluster.BucketProps, name string) (busy bool, peer string, err error) {
	obj, err := t.store.Open(ctx, src, name, fs.GetOptions{})
	if errors.Is(err, cluster.ErrNotFound) {
		return false, "", nil // deleted since the listing
	}
	if err != nil {
		return false, "", err
	}
	defer obj.Close()
	size := obj.Attrs.Size
	owner, err := t.smap.Load().Owner(dst.Uname(name))
	if err != nil {
		return false, "", &fatalError{fmt.Errorf("copy to %s: %w", dst, err)}
	}
	if owner.ID == t.cfg.ID {
		// The source's checksum is verified (in its type) as the copy is
		// written with the destination's type.
		_, err := t.store.Put(ctx, dst, name, obj, fs.PutOptions{Size: size, ChecksumType: props.Checksum.Type,
			Checksum: obj.Attrs.Checksum, Custom: obj.Attrs.Custom, MaxSize: t.cfg.MaxObjectSize})
		if errors.Is(err, cluster.ErrNotFound) {
			return false, owner.ID, &fatalError{err}
		}
		if err == nil {
			j.Stats.AddLoc(size)
		}
		return false, owner.ID, err
	}
	hdr := &transport.Header{Kind: transport.KindJobObject, Bucket: dst.Name, Object: name,
		Checksum: obj.Attrs.Checksum, Custom: obj.Attrs.Custom, Opaque: []byte(j.ID())}
	rh, _, err := t.client.Send(ctx, owner.TransportAddr(), hdr, obj.File(), size)
	if errors.Is(err, cluster.ErrNotFound) && errors.Is(err, transport.ErrRemote) {
		return false, owner.ID, &fatalError{fmt.Errorf("target %s: %w", owner.ID, err)}
	}
	if err != nil {
		return false, owner.ID, err
	}
	j.Stats.AddLoc(size)
	j.Stats.AddOut(size)
	return string(rh.Opaque) == string(busyReply), owner.ID, nil
}

// handleJobObject stores an object that another target's share of a copy
// or rename sends here, replacing any copy this target has. The job must
// be known here and not aborted (a target that restarted has forgotten
// it: the sender's share is then aborted), and the bucket must be its
// destination.
func (t *Target) handleJobObject(ctx context.Context, msg *transport.Message, reply *transport.Header) ([]byte, error) {
	h := msg.Header
	if t.smap.Load().Targets[h.Sender] == nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "job object from %q, which is not a target of the cluster map", h.Sender)
	}
	id := string(h.Opaque)
	j := t.jobs.Get(id)
	if j == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "job %q is unknown on target %s (did it restart?)", id, t.cfg.ID)
	}
	// A share that has finished its own objects still receives the
	// others'; one that was aborted (stopped) takes no more.
	if st, _, err := j.State(); st == job.Aborted {
		return nil, cluster.Errorf(cluster.ErrNotFound, "job %q was aborted on target %s: %v", id, t.cfg.ID, err)
	}
	bck := cluster.NewBucket(h.Bucket)
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	if err := cluster.ValidateObjectName(h.Object); err != nil {
		return nil, err
	}
	if d := j.Desc(); d.Dst != bck {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "job %s writes to %s, not %s", id, d.Dst, bck)
	}
	props, err := t.bucketProps(bck)
	if err != nil {
		return nil, err
	}
	_, err = t.store.Put(ctx, bck, h.Object, msg.Body, fs.PutOptions{Size: h.Size, ChecksumType: props.Checksum.Type,
		Checksum: h.Checksum, Custom: h.Custom, MaxSize: t.cfg.MaxObjectSize})
	if err != nil {
		return nil, err
	}
	j.Stats.AddIn(h.Size)
	if t.foregroundBusy() {
		reply.Opaque = busyReply
	}
	return nil, nil
}

// jobFilter turns a job query into a registry filter.
func jobFilter(q *wire.JobQuery) job.Filter {
	f := job.Filter{ID: q.ID, Kind: q.Kind, OnlyRunning: q.ShowActive != nil && *q.ShowActive}
	if q.Bck.Name != "" {
		f.Bucket = cluster.Bucket{Provider: q.Bck.Provider, Name: q.Bck.Name}
		if f.Bucket.Provider == "" {
			f.Bucket.Provider = cluster.ProviderAIS
		}
	}
	return f
}

func decodeJobQuery(msg *transport.Message) (*wire.JobQuery, error) {
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	q := &wire.JobQuery{}
	if err := json.Unmarshal(b, q); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed job query: %v", err)
	}
	return q, nil
}

// handleJobStatus returns this target's snapshots of the jobs the query
// selects, oldest first.
func (t *Target) handleJobStatus(_ context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	q, err := decodeJobQuery(msg)
	if err != nil {
		return nil, err
	}
	jobs := t.jobs.Select(jobFilter(q))
	snaps := make([]wire.JobSnap, 0, len(jobs))
	for _, j := range jobs {
		snaps = append(snaps, j.Snap())
	}
	return json.Marshal(snaps)
}

// handleJobStop aborts the running jobs the query selects (ErrStopped) and
// replies with how many it stopped, in decimal.
func (t *Target) handleJobStop(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	q, err := decodeJobQuery(msg)
	if err != nil {
		return nil, err
	}
	f := jobFilter(q)
	f.OnlyRunning = true
	n := 0
	for _, j := range t.jobs.Select(f) {
		if j.Abort(job.ErrStopped) {
			n++
			t.log.InfoContext(ctx, "job stopped", "job", j.ID(), "kind", j.Kind())
		}
	}
	return []byte(strconv.Itoa(n)), nil
}
