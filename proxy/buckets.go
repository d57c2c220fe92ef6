package proxy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/transport"
)

// getBuckets serves GET /v1/buckets: the list of buckets, filtered by the
// action message's name (AIStore's existence check). Every presence value
// means the buckets of the BMD: miniais has only ais:// buckets.
func (p *Proxy) getBuckets(w http.ResponseWriter, r *http.Request, _ server.Route) error {
	msg, err := server.ReadActionFor(r, "", wire.ActList)
	if err != nil {
		return err
	}
	return p.listBuckets(w, r, msg.Name)
}

// listBuckets writes the buckets of the BMD, or only the one named name.
func (p *Proxy) listBuckets(w http.ResponseWriter, r *http.Request, name string) error {
	if pr := r.URL.Query().Get(wire.QparamProvider); pr != "" && pr != cluster.ProviderAIS {
		return cluster.Errorf(cluster.ErrNotImplemented, "provider %q: only ais:// buckets are implemented", pr)
	}
	bmd := p.bmd.Load()
	out := make([]wire.BucketEntry, 0, len(bmd.Buckets))
	for bname, props := range bmd.Buckets {
		if name == "" || name == bname {
			out = append(out, wire.BucketEntry{Name: bname, Provider: props.Provider})
		}
	}
	slices.SortFunc(out, func(a, b wire.BucketEntry) int { return cmp.Compare(a.Name, b.Name) })
	server.WriteJSON(w, out)
	return nil
}

// getBucket serves GET /v1/buckets/B: an object listing (action list with a
// value, or no message), the list of buckets (action list with no value,
// api-v1.md) or a bucket summary (summary-bck).
func (p *Proxy) getBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	msg, err := server.ReadActionFor(r, "", wire.ActList, wire.ActSummaryBck)
	switch {
	case err != nil:
		return err
	case msg.Action == wire.ActSummaryBck:
		return p.summaryGet(w, r, rt.Bucket, msg)
	case msg.Action == wire.ActList && len(msg.Value) == 0:
		return p.listBuckets(w, r, msg.Name)
	}
	return p.listObjects(w, r, rt.Bucket, msg)
}

// headBucket serves HEAD /v1/buckets/B: the bucket's properties in
// Ais-Bucket-Props, or with bsumm_remote in the query AIStore's summary
// protocol (HEAD /v1/buckets/B[/PREFIX]).
func (p *Proxy) headBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	props := p.bmd.Load().Get(rt.Bucket)
	if props == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", rt.Bucket)
	}
	b, err := json.Marshal(props)
	if err != nil {
		return err
	}
	w.Header().Set(wire.HdrBucketProps, string(b))
	q := r.URL.Query()
	if q.Has(wire.QparamBsummRemote) {
		return p.summaryHead(w, r, rt.Bucket, r.PathValue("prefix"))
	}
	if r.PathValue("prefix") != "" {
		return cluster.Errorf(cluster.ErrBadRequest, "HEAD %s: a prefix applies only to a summary (%s)", r.URL.Path, wire.QparamBsummRemote)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// postBucket serves POST /v1/buckets/B: create-bck, the jobs copy-bck
// and move-bck (jobhttp.go) and make-n-copies (bprops.go; AIStore's other
// POST actions are refused by CheckAction).
func (p *Proxy) postBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	msg, err := server.ReadActionFor(r, wire.ActCreateBck, wire.ActCopyBck, wire.ActMoveBck, wire.ActMakeNCopies)
	switch {
	case err != nil:
		return err
	case msg.Action == wire.ActMakeNCopies:
		return p.makeNCopies(w, r, rt.Bucket, msg)
	case msg.Action == wire.ActCopyBck:
		return p.copyBucket(w, r, rt.Bucket, msg)
	case msg.Action == wire.ActMoveBck:
		return p.moveBucket(w, r, rt.Bucket, msg)
	case r.URL.Query().Has(wire.QparamBckTo):
		return cluster.Errorf(cluster.ErrBadRequest, "%s takes no %s", msg.Action, wire.QparamBckTo)
	}
	return p.createBucket(r.Context(), rt.Bucket, msg.Value)
}

// putBucket serves PUT /v1/buckets/B, where AIStore takes the archive
// action; none is implemented.
func (p *Proxy) putBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	_, err := server.ReadActionFor(r)
	return err
}

// deleteBucket serves DELETE /v1/buckets/B: destroy-bck (refused with 409
// while a job runs on the bucket), and the job delete-listrange
// (jobhttp.go).
func (p *Proxy) deleteBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	msg, err := server.ReadActionFor(r, wire.ActDestroyBck, wire.ActDeleteListRange)
	switch {
	case err != nil:
		return err
	case msg.Action == wire.ActDeleteListRange:
		return p.deleteObjects(w, r, rt.Bucket, msg)
	}
	if err := p.jobs.busy(rt.Bucket); err != nil {
		return err
	}
	return p.destroyBucket(r.Context(), rt.Bucket)
}

// createBucket creates bck with the cluster configuration's default
// properties, changed by the partial properties of the create-bck value
// when it has any ("ais bucket create --props"; the rules of set-bprops,
// mergeBucketProps, and with more than one copy every target that is up
// must have that many available mountpaths). The bucket is empty: no
// make-n-copies job is needed.
func (p *Proxy) createBucket(ctx context.Context, bck cluster.Bucket, value json.RawMessage) error {
	if p.bmd.Load().Get(bck) != nil {
		return cluster.Errorf(cluster.ErrExists, "bucket %s already exists", bck)
	}
	now := time.Now()
	// The cluster config's defaults; AIStore's bucket ID: the top bit and
	// the bucket metadata version that adds the bucket.
	props := p.clusterConfig().BucketProps(cluster.AISBucketID(p.bmd.Load().Version+1), now)
	if len(value) > 0 && !zeroJSON(value) {
		var err error
		if props, err = mergeBucketProps(props, value); err != nil {
			return fmt.Errorf("%s %s: %w", wire.ActCreateBck, bck, err)
		}
		if n := props.Copies(); n > 1 {
			if err := p.checkMountpaths(ctx, p.smap.Load().ActiveTargets(), n); err != nil {
				return fmt.Errorf("%s %s: %w", wire.ActCreateBck, bck, err)
			}
		}
	}
	txn := cluster.Txn{ID: newUUID(), Action: cluster.TxnCreateBucket, Bucket: bck, Props: props}
	return p.runTxn(ctx, &txn, func(bmd *cluster.BMD) error {
		if bmd.Get(bck) != nil {
			return cluster.Errorf(cluster.ErrExists, "bucket %s already exists", bck)
		}
		props.BID = cluster.AISBucketID(bmd.Version + 1)
		bmd.Buckets[bck.Name] = props
		return nil
	})
}

func (p *Proxy) destroyBucket(ctx context.Context, bck cluster.Bucket) error {
	if p.bmd.Load().Get(bck) == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	txn := cluster.Txn{ID: newUUID(), Action: cluster.TxnDestroyBucket, Bucket: bck}
	return p.runTxn(ctx, &txn, func(bmd *cluster.BMD) error {
		if bmd.Get(bck) == nil {
			return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
		}
		delete(bmd.Buckets, bck.Name)
		return nil
	})
}

// runTxn runs a two-phase bucket transaction on every target that is up
// (at least one must be): prepare everywhere; if all agree, apply the
// change to a new bucket metadata version, persist and publish it, and
// commit everywhere (the commit carries the new metadata); otherwise abort
// everywhere. Transactions are serialized.
func (p *Proxy) runTxn(ctx context.Context, txn *cluster.Txn, apply func(*cluster.BMD) error) error {
	ctx, span := p.tracer.Start(ctx, "proxy.txn")
	defer span.End()
	span.SetAttributes(attribute.String("ais.txn", txn.Action), attribute.String("ais.bucket", txn.Bucket.String()))

	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	smap := p.smap.Load()
	if len(smap.Targets) == 0 {
		return cluster.Errorf(cluster.ErrUnavailable, "%s %s: no targets in the cluster", txn.Action, txn.Bucket)
	}
	// The targets that are down take no part: each is brought up to date
	// when it returns (handleKeepalive), before it is back in the map.
	if down := downTargets(smap); len(down) == len(smap.Targets) {
		return cluster.Errorf(cluster.ErrUnavailable, "%s %s: every target is down (%s)", txn.Action, txn.Bucket, strings.Join(down, ", "))
	} else if len(down) > 0 {
		span.SetAttributes(attribute.StringSlice("ais.down_targets", down))
	}
	opaque, err := txn.MarshalMsg(nil)
	if err != nil {
		return err
	}
	if errs := p.broadcast(ctx, smap, transport.KindTxnPrepare, nil, opaque); len(errs) > 0 {
		p.broadcast(ctx, smap, transport.KindTxnAbort, nil, opaque)
		return txnError(txn, errs)
	}

	p.mu.Lock()
	cur := p.bmd.Load()
	next := cur.Clone()
	if err := apply(next); err != nil {
		p.mu.Unlock()
		p.broadcast(ctx, smap, transport.KindTxnAbort, nil, opaque)
		return err
	}
	next.Version = cur.Version + 1
	if err := p.persist(bmdFile, next); err != nil {
		p.mu.Unlock()
		p.broadcast(ctx, smap, transport.KindTxnAbort, nil, opaque)
		return fmt.Errorf("persist bucket metadata: %w", err)
	}
	p.bmd.Store(next)
	p.mu.Unlock()

	txn.BMDVersion = next.Version
	if opaque, err = txn.MarshalMsg(nil); err != nil {
		return err
	}
	body, err := next.MarshalMsg(nil)
	if err != nil {
		return err
	}
	// A target that misses the commit catches up: its keepalives report its
	// metadata version, and the proxy pushes the newer one.
	p.broadcast(ctx, smap, transport.KindTxnCommit, body, opaque)
	p.log.InfoContext(ctx, "bucket transaction committed", "action", txn.Action, "bucket", txn.Bucket.String(), "bmd_version", next.Version)
	return nil
}

// txnError summarizes failed prepares, keeping the kind of the first one so
// that, e.g., "already exists" stays a 409.
func txnError(txn *cluster.Txn, errs map[string]error) error {
	ids := make([]string, 0, len(errs))
	for id := range errs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	first := errs[ids[0]]
	if errors.Is(first, context.DeadlineExceeded) || !isKindError(first) {
		return cluster.Errorf(cluster.ErrUnavailable, "%s %s aborted: prepare failed on target %s: %v", txn.Action, txn.Bucket, ids[0], first)
	}
	return fmt.Errorf("%s %s aborted: prepare failed on %d target(s), first %s: %w", txn.Action, txn.Bucket, len(ids), ids[0], first)
}

func isKindError(err error) bool { return cluster.KindOf(err) != nil }

// defaultPageSize is the page size of an object listing that asks for none.
const defaultPageSize = 1000

// listObjects merges one sorted page from every target that is up. A page
// that lacks the objects of targets that are down or do not answer says
// so: their IDs are in its Incomplete field and the Ais-Incomplete header,
// and AIStore's "may be incomplete" flag is set. Paging stays correct: the
// continuation token is the last name returned, and every later page asks
// each target that answers for the names after it.
func (p *Proxy) listObjects(w http.ResponseWriter, r *http.Request, bck cluster.Bucket, msg wire.ActionMsg) error {
	if p.bmd.Load().Get(bck) == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	lso, err := msg.ListMsg()
	if err != nil {
		return err
	}
	res, missing, err := p.listPage(r.Context(), bck, lso)
	if err != nil {
		return err
	}
	res.UUID = lso.UUID // AIStore's listing ID: made on page 1, echoed back after
	if res.UUID == "" {
		res.UUID = newUUID()
	}
	if len(missing) > 0 {
		res.Incomplete = missing
		res.Flags |= wire.LsoIncomplete
		w.Header().Set(wire.HdrIncomplete, strings.Join(missing, ","))
	}
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.Int("ais.entries", len(res.Entries)))
	return server.WriteListing(w, r, res)
}

// listPage returns one page of bck's listing merged from the targets that
// answer (lso.PageSize bounded by defaultPageSize), and the IDs of the
// targets whose objects it lacks because they are down or did not answer.
func (p *Proxy) listPage(ctx context.Context, bck cluster.Bucket, lso wire.ListObjsMsg) (*wire.LsoResult, []string, error) {
	if lso.PageSize <= 0 || lso.PageSize > defaultPageSize {
		lso.PageSize = defaultPageSize
	}
	opaque, err := json.Marshal(lso)
	if err != nil {
		return nil, nil, err
	}
	pages, missing, err := fromLiveTargets(p, ctx, "list "+bck.String(), func(ctx context.Context, t *cluster.Node) (*wire.LsoResult, error) {
		cctx, cancel := context.WithTimeout(ctx, p.cfg.PushTimeout)
		defer cancel()
		hdr := &transport.Header{Kind: transport.KindListObjects, Bucket: bck.Name, Opaque: opaque}
		_, body, err := p.client.Call(cctx, t.TransportAddr(), hdr, nil)
		if err != nil {
			return nil, err
		}
		page := &wire.LsoResult{}
		if _, err := page.UnmarshalMsg(body); err != nil {
			return nil, fmt.Errorf("malformed page: %w", err)
		}
		return page, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return mergePages(pages, int(lso.PageSize)), missing, nil
}

// downTargets returns the IDs of the targets of smap flagged down, sorted.
func downTargets(smap *cluster.Map) []string {
	var ids []string
	for _, t := range smap.TargetList() {
		if t.Down() {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// errWentDown cancels the call to a target that is flagged down while
// fromLiveTargets waits for it.
var errWentDown = errors.New("the target was flagged down")

// fromLiveTargets runs ask on every target that is up, in parallel, and
// returns the answers of those that answered (in target ID order) and the
// IDs of the targets without an answer (sorted): those flagged down and
// those whose call failed on the network or timed out (logged). Any other
// failure (a target's refusal) fails the whole call, as does having no
// answer at all (ErrUnavailable naming the targets). what names the
// operation in errors.
func fromLiveTargets[T any](p *Proxy, ctx context.Context, what string, ask func(context.Context, *cluster.Node) (T, error)) ([]T, []string, error) {
	smap := p.smap.Load()
	targets := smap.ActiveTargets()
	missing := downTargets(smap)
	if len(smap.Targets) == 0 {
		return nil, nil, cluster.Errorf(cluster.ErrUnavailable, "%s: no targets in the cluster", what)
	}
	answers := make([]T, len(targets))
	errs := make([]error, len(targets))
	tctxs := make([]context.Context, len(targets))
	cancels := make([]context.CancelCauseFunc, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		tctxs[i], cancels[i] = context.WithCancelCause(ctx)
		wg.Go(func() { answers[i], errs[i] = ask(tctxs[i], t) })
	}
	// A target flagged down meanwhile is not waited for (a long summary
	// would otherwise wait on a cut-off target for as long as TCP does).
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(p.cfg.KeepaliveTimeout / 4)
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			now := p.smap.Load()
			for i, t := range targets {
				if n := now.Targets[t.ID]; n == nil || n.Down() {
					cancels[i](errWentDown)
				}
			}
		}
	}
	tick.Stop()
	var out []T
	var failed []error
	for i, t := range targets {
		cancels[i](nil)
		switch err := errs[i]; {
		case err == nil:
			out = append(out, answers[i])
		case ctx.Err() == nil && (errors.Is(err, transport.ErrConnection) || errors.Is(err, context.DeadlineExceeded) ||
			errors.Is(context.Cause(tctxs[i]), errWentDown)):
			p.log.WarnContext(ctx, "target did not answer: its part is missing", "op", what, "target", t.ID, "err", err)
			missing = append(missing, t.ID)
		default:
			failed = append(failed, fmt.Errorf("%s on target %s: %w", what, t.ID, err))
		}
	}
	if err := errors.Join(failed...); err != nil {
		return nil, nil, err
	}
	slices.Sort(missing)
	if len(out) == 0 {
		return nil, nil, cluster.Errorf(cluster.ErrUnavailable, "%s: no target answered (down or unreachable: %s)", what, strings.Join(missing, ", "))
	}
	if len(missing) > 0 {
		trace.SpanFromContext(ctx).SetAttributes(attribute.StringSlice("ais.missing_targets", missing))
	}
	return out, missing, nil
}

// mergePages merges sorted pages into one page of at most size entries,
// each name once. The continuation token is the last name returned whenever any target may have
// more.
func mergePages(pages []*wire.LsoResult, size int) *wire.LsoResult {
	var all []*wire.LsoEntry
	more := false
	var flags uint32
	for _, pg := range pages {
		flags |= pg.Flags // 1: a target's rebalance window is open
		all = append(all, pg.Entries...)
		if pg.ContinuationToken != "" {
			more = true
		}
	}
	slices.SortFunc(all, func(a, b *wire.LsoEntry) int { return cmp.Compare(a.Name, b.Name) })
	// While a rebalance moves an object, two targets may list it.
	all = slices.CompactFunc(all, func(a, b *wire.LsoEntry) bool { return a.Name == b.Name })
	if len(all) > size {
		all, more = all[:size], true
	}
	res := &wire.LsoResult{Entries: all, Flags: flags}
	if all == nil {
		res.Entries = []*wire.LsoEntry{}
	}
	if more && len(all) > 0 {
		res.ContinuationToken = all[len(all)-1].Name
	}
	return res
}
