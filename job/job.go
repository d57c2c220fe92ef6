package job

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
)

// Reasons a job is aborted with (wrapped by the error Abort records).
var (
	// ErrStopped means a user stopped the job (PUT /v1/cluster "stop").
	ErrStopped = errors.New("stopped by the user")
	// ErrSuperseded means a newer job of the same kind replaced it (a
	// rebalance started by a newer cluster map).
	ErrSuperseded = errors.New("superseded by a newer job")
	// ErrShutdown means the node running it is shutting down.
	ErrShutdown = errors.New("the node is shutting down")
)

// State is where a job is in its life (see the package doc).
type State int

// The states of a job.
const (
	Running State = iota + 1
	Finished
	Aborted
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Finished:
		return "finished"
	case Aborted:
		return "aborted"
	}
	return "unknown"
}

// Desc describes a job when it is created.
type Desc struct {
	// ID is the job's ID (NewID, or RebalanceID for a rebalance).
	ID string
	// Kind is AIStore's kind (wire.KindCopyBck, ...).
	Kind string
	// Bck is the bucket the job is about; Src and Dst are set for a copy
	// or rename.
	Bck, Src, Dst cluster.Bucket
	// CtlMsg is free text shown with the job (AIStore's ctlmsg).
	CtlMsg string
}

// Stats are a job's counters (AIStore's loc/out/in objects and bytes). They
// are safe for concurrent use.
type Stats struct {
	locObjs, locBytes atomic.Int64
	outObjs, outBytes atomic.Int64
	inObjs, inBytes   atomic.Int64
}

// AddLoc counts one object of size bytes processed locally.
func (s *Stats) AddLoc(size int64) { s.locObjs.Add(1); s.locBytes.Add(size) }

// AddOut counts one object of size bytes sent to another target.
func (s *Stats) AddOut(size int64) { s.outObjs.Add(1); s.outBytes.Add(size) }

// AddIn counts one object of size bytes received from another target.
func (s *Stats) AddIn(size int64) { s.inObjs.Add(1); s.inBytes.Add(size) }

// Load returns the counters in their wire form.
func (s *Stats) Load() wire.JobStats {
	return wire.JobStats{
		LocObjs: s.locObjs.Load(), LocBytes: s.locBytes.Load(),
		OutObjs: s.outObjs.Load(), OutBytes: s.outBytes.Load(),
		InObjs: s.inObjs.Load(), InBytes: s.inBytes.Load(),
	}
}

// Job is one job on one node. Its methods are safe for concurrent use.
type Job struct {
	desc  Desc
	start time.Time
	// Stats are the job's counters; the work adds to them directly.
	Stats Stats

	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu    sync.Mutex
	state State
	end   time.Time
	err   error // the abort reason, or the errors of a finished job
}

// New returns a running job described by d. Its context (Context) is a
// child of parent: cancelling parent cancels the work, and ending the job
// cancels it too.
func New(parent context.Context, d Desc) *Job {
	ctx, cancel := context.WithCancelCause(parent)
	return &Job{desc: d, start: time.Now(), ctx: ctx, cancel: cancel, done: make(chan struct{}), state: Running}
}

// ID returns the job's ID.
func (j *Job) ID() string { return j.desc.ID }

// Kind returns the job's kind.
func (j *Job) Kind() string { return j.desc.Kind }

// Desc returns the job's description.
func (j *Job) Desc() Desc { return j.desc }

// StartTime returns when the job was created.
func (j *Job) StartTime() time.Time { return j.start }

// Context returns the job's context: done once the job has ended, or its
// parent is done (context.Cause then tells why).
func (j *Job) Context() context.Context { return j.ctx }

// Done returns a channel closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Finish ends a running job as finished; a non-nil err records what failed
// along the way (the job still counts as finished). It reports whether it
// ended the job.
func (j *Job) Finish(err error) bool { return j.end1(Finished, err) }

// Abort ends a running job as aborted for reason (nil stands for
// ErrStopped) and cancels its context. It reports whether it ended the job.
func (j *Job) Abort(reason error) bool {
	if reason == nil {
		reason = ErrStopped
	}
	return j.end1(Aborted, reason)
}

func (j *Job) end1(st State, err error) bool {
	j.mu.Lock()
	if j.state != Running {
		j.mu.Unlock()
		return false
	}
	j.state, j.err, j.end = st, err, time.Now()
	j.mu.Unlock()
	cause := err
	if cause == nil {
		cause = context.Canceled
	}
	j.cancel(cause)
	close(j.done)
	return true
}

// State returns the job's state, when it ended (zero while running) and its
// error (the abort reason, or what failed in a finished job).
func (j *Job) State() (State, time.Time, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state, j.end, j.err
}

// Running reports whether the job has not ended.
func (j *Job) Running() bool {
	st, _, _ := j.State()
	return st == Running
}

// Touches reports whether the job is about bucket b (its bucket, source or
// destination).
func (j *Job) Touches(b cluster.Bucket) bool {
	d := &j.desc
	return b.Name != "" && (sameBucket(d.Bck, b) || sameBucket(d.Src, b) || sameBucket(d.Dst, b))
}

func sameBucket(a, b cluster.Bucket) bool {
	return a.Name == b.Name && a.Name != "" && a.String() == b.String()
}

// Snap returns the job's snapshot on this node, AIStore's shape.
func (j *Job) Snap() wire.JobSnap {
	st, end, err := j.State()
	s := wire.JobSnap{
		StartTime: j.start.UTC(),
		Bck:       bucketEntry(j.desc.Bck),
		SrcBck:    bucketEntry(j.desc.Src),
		DstBck:    bucketEntry(j.desc.Dst),
		ID:        j.desc.ID,
		Kind:      j.desc.Kind,
		CtlMsg:    j.desc.CtlMsg,
		Stats:     j.Stats.Load(),
	}
	if !end.IsZero() {
		s.EndTime = end.UTC()
	}
	switch {
	case st == Aborted:
		s.Aborted = true
		s.AbortErr = err.Error()
		s.Err = s.AbortErr
	case err != nil:
		s.Err = err.Error()
	}
	return s
}

// Status returns the job's status, AIStore's shape (end_time in Unix
// nanoseconds, 0 while running).
func (j *Job) Status() wire.JobStatus {
	st, end, err := j.State()
	s := wire.JobStatus{Kind: j.desc.Kind, UUID: j.desc.ID, Aborted: st == Aborted}
	if !end.IsZero() {
		s.EndTime = end.UnixNano()
	}
	if err != nil {
		s.Err = err.Error()
	}
	return s
}

// bucketEntry returns b in AIStore's cmn.Bck JSON shape (all empty for no
// bucket).
func bucketEntry(b cluster.Bucket) wire.BucketEntry {
	if b.Name == "" {
		return wire.BucketEntry{}
	}
	p := b.Provider
	if p == "" {
		p = cluster.ProviderAIS
	}
	return wire.BucketEntry{Name: b.Name, Provider: p}
}

// StatusOf aggregates the snapshots of one job on every target into its
// cluster-wide status: it has ended when it has ended on every target
// (end_time is the last end), it is aborted when it was aborted on any, and
// err is the first error reported. It returns false when snaps is empty.
func StatusOf(snaps []wire.JobSnap) (wire.JobStatus, bool) {
	if len(snaps) == 0 {
		return wire.JobStatus{}, false
	}
	s := wire.JobStatus{Kind: snaps[0].Kind, UUID: snaps[0].ID}
	var last time.Time
	ended := true
	for i := range snaps {
		sn := &snaps[i]
		s.Aborted = s.Aborted || sn.Aborted
		if s.Err == "" {
			s.Err = firstNonEmpty(sn.AbortErr, sn.Err)
		}
		if sn.EndTime.IsZero() {
			ended = false
		} else if sn.EndTime.After(last) {
			last = sn.EndTime
		}
	}
	if ended || s.Aborted {
		if last.IsZero() {
			last = time.Now()
		}
		s.EndTime = last.UnixNano()
	}
	return s, true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
