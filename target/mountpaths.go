package target

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
)

// # Mountpaths at run time
//
// AIStore's "ais storage mountpath attach|detach|enable|disable" reach the
// target as PUT|DELETE|POST /v1/daemon/mountpaths (relayed by the proxy
// from /v1/reverse/daemon/mountpaths) with {"action":A,"value":"/abs/path"}.
// The change is made at once (fs.Store.Attach, Detach, Enable, Disable)
// and, unless dntres=true, a resilver job (kind resilver, "ais show job")
// moves the objects to their HRW mountpaths; a detached or disabled
// mountpath stays readable (waiting_dd) until its objects have moved off,
// then leaves. A newer resilver supersedes a running one and finishes its
// work. A mountpath that fails I/O is disabled by fs on its own; the
// health loop below also checks every mountpath every fshcInterval (a
// directory removed under the target is only seen so). Either way fs tells
// the target (faulted), which starts a resilver: a mirrored bucket's
// objects get back to their number of copies on the mountpaths left. The
// set is not persisted: a restart uses the command line's mountpaths.

// fshcInterval is how often every mountpath's health is checked.
const fshcInterval = time.Second

// resilverRounds bounds the passes of a resilver while mountpaths leave.
const resilverRounds = 3

// resilvers holds the latest resilver job.
type resilvers struct {
	mu  sync.Mutex
	cur *job.Job
}

// mountpathAction serves PUT (attach-mp), DELETE (detach-mp) and POST
// (enable-mp, disable-mp) /v1/daemon/mountpaths; the reply is 200 with an
// empty body.
func (t *Target) mountpathAction(w http.ResponseWriter, r *http.Request) {
	err := t.mountpathChange(r)
	if err != nil {
		t.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (t *Target) mountpathChange(r *http.Request) error {
	var takes []string
	switch r.Method {
	case http.MethodPut:
		takes = []string{wire.ActAttachMountpath}
	case http.MethodDelete:
		takes = []string{wire.ActDetachMountpath}
	default:
		takes = []string{wire.ActEnableMountpath, wire.ActDisableMountpath}
	}
	msg, err := server.ReadActionFor(r, takes...)
	if err != nil {
		return err
	}
	if msg.Action == "" {
		return cluster.Errorf(cluster.ErrBadRequest, "the request has no action message")
	}
	var path string
	if err := json.Unmarshal(msg.Value, &path); err != nil || path == "" {
		return cluster.Errorf(cluster.ErrBadRequest, "action %q: value must be the mountpath (a JSON string)", msg.Action)
	}
	if !filepath.IsAbs(path) {
		return cluster.Errorf(cluster.ErrBadRequest, "action %q: mountpath %q is not absolute", msg.Action, path)
	}
	path = filepath.Clean(path)
	noRes := false
	if v := r.URL.Query().Get(wire.QparamDontResilver); v != "" {
		if noRes, err = strconv.ParseBool(v); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "%s=%q is not a boolean", wire.QparamDontResilver, v)
		}
	}
	st := t.store
	switch msg.Action {
	case wire.ActAttachMountpath:
		_, err = st.Attach(path)
	case wire.ActDetachMountpath:
		err = st.Detach(path, !noRes)
	case wire.ActEnableMountpath:
		err = st.Enable(path)
	case wire.ActDisableMountpath:
		err = st.Disable(path, !noRes)
	}
	if err != nil {
		return err
	}
	t.log.InfoContext(r.Context(), "mountpath changed", "action", msg.Action, "mountpath", path, "resilver", !noRes)
	if noRes {
		return nil
	}
	_, err = t.startResilver(r.Context(), msg.Action+" "+path)
	return err
}

// startResilver aborts a running resilver (job.ErrSuperseded) and starts a
// new one, a child span of ctx's (the request's) trace.
func (t *Target) startResilver(ctx context.Context, why string) (*job.Job, error) {
	j := job.New(t.runCtx, job.Desc{ID: job.NewID(), Kind: wire.KindResilver, CtlMsg: why})
	if err := t.jobs.Add(j); err != nil {
		return nil, err
	}
	t.res.mu.Lock()
	if t.res.cur != nil {
		t.res.cur.Abort(fmt.Errorf("%w (%s)", job.ErrSuperseded, j.ID()))
	}
	t.res.cur = j
	t.res.mu.Unlock()
	parent := trace.ContextWithSpanContext(j.Context(), trace.SpanContextFromContext(ctx))
	if !t.bg.Go(func(context.Context) { t.resilver(parent, j) }) {
		j.Abort(job.ErrShutdown)
	}
	return j, nil
}

// resilver runs job j: fs.Store.Resilver, then the leaving mountpaths that
// are empty leave.
func (t *Target) resilver(ctx context.Context, j *job.Job) {
	ctx, span := t.tracer.Start(ctx, "job resilver", trace.WithAttributes(t.jobAttrs(j)...))
	defer span.End()
	var err error
	// A Put that chose a leaving mountpath before it left placement may
	// commit there after the pass went by: a few more passes move it.
	for round := 0; round < resilverRounds; round++ {
		if err = t.store.Resilver(ctx, nil, func(size int64) { j.Stats.AddLoc(size) }); err != nil {
			break
		}
		if left := t.store.FinishLeaving(); len(left) > 0 {
			t.log.InfoContext(ctx, "mountpaths emptied", "mountpaths", left)
		}
		if len(t.store.Mountpaths().Leaving()) == 0 {
			break
		}
	}
	stats := j.Stats.Load()
	span.SetAttributes(attribute.Int64("ais.objects", stats.LocObjs))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		j.Abort(err)
		t.log.WarnContext(ctx, "resilver ended", "job", j.ID(), "err", err, "objects", stats.LocObjs)
		return
	}
	j.Finish(nil)
	t.log.InfoContext(ctx, "resilver finished", "job", j.ID(), "objects", stats.LocObjs)
}

// faulted is fs's OnFault: mountpath path failed its health check and was
// disabled. A resilver job starts in the background (fs may call this
// holding an object's lock, so nothing here waits or calls the store): it
// brings the objects of mirrored buckets back to their number of copies
// on the mountpaths left, and the others to their HRW mountpaths.
func (t *Target) faulted(path string) {
	t.bg.Go(func(ctx context.Context) {
		if _, err := t.startResilver(ctx, "mountpath fault "+path); err != nil {
			t.log.ErrorContext(ctx, "cannot start a resilver after a mountpath fault", "mountpath", path, "err", err)
		}
	})
}

// fshc checks the health of every mountpath every fshcInterval until ctx
// is done (untraced: background chatter).
func (t *Target) fshc(ctx context.Context) {
	tick := time.NewTicker(fshcInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.store.CheckMountpaths() // logs what it disables
	}
}

// mountpathList is the what=mountpaths reply.
func (t *Target) mountpathList() wire.MountpathList {
	ml := wire.MountpathList{Available: []string{}, WaitingDD: []string{}, Disabled: []string{}}
	mps := t.store.Mountpaths()
	for _, mp := range mps.Available() {
		ml.Available = append(ml.Available, mp.Path)
	}
	for _, mp := range mps.Leaving() {
		ml.WaitingDD = append(ml.WaitingDD, mp.Path)
	}
	for _, mp := range mps.Disabled() {
		ml.Disabled = append(ml.Disabled, mp.Path)
	}
	return ml
}
