package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/checksum"
	"miniais/cluster"
	"miniais/job"
	"miniais/transport"
)

// patchBucket serves PATCH /v1/buckets/B: set-bprops {"value": {partial
// props}} merges the partial properties into the bucket's; reset-bprops
// puts back the defaults (keeping the bucket's ID and creation time). The
// result is published in a new bucket metadata version (persisted first)
// and pushed to every target that is up; a target that misses the push
// catches up through its keepalives. A change of the number of copies
// starts a make-n-copies job, whose ID is the reply (text, AIStore's
// shape); any other change answers an empty 200.
func (p *Proxy) patchBucket(w http.ResponseWriter, r *http.Request, rt server.Route) error {
	msg, err := server.ReadActionFor(r, wire.ActSetBprops, wire.ActResetBprops)
	if err != nil {
		return err
	}
	bck := rt.Bucket
	var change func(*cluster.BucketProps) (*cluster.BucketProps, error)
	switch msg.Action {
	case wire.ActSetBprops:
		if len(msg.Value) == 0 {
			return cluster.Errorf(cluster.ErrBadRequest, "%s %s: no properties in the message value", wire.ActSetBprops, bck)
		}
		change = func(cur *cluster.BucketProps) (*cluster.BucketProps, error) { return mergeBucketProps(cur, msg.Value) }
	case wire.ActResetBprops:
		change = func(cur *cluster.BucketProps) (*cluster.BucketProps, error) {
			def := p.clusterConfig().BucketProps(cur.BID, time.Unix(0, cur.Created))
			def.BID, def.Created = cur.BID, cur.Created
			return def, nil
		}
	}
	id, err := p.updateBucketProps(r.Context(), bck, msg.Action, change, false)
	if err != nil {
		return err
	}
	if id != "" {
		writeJobID(w, id)
	}
	return nil
}

// makeNCopies serves POST /v1/buckets/B with make-n-copies (value: the
// number N; "ais job start mirror --copies N B"): the same change as
// set-bprops {"mirror":{"copies":N}} (mirror.enabled = N > 1, the same
// checks), and a make-n-copies job even when the number does not change
// (it puts every object back on exactly N mountpaths). It answers the
// job's ID.
func (p *Proxy) makeNCopies(w http.ResponseWriter, r *http.Request, bck cluster.Bucket, msg wire.ActionMsg) error {
	var n int64
	if err := json.Unmarshal(msg.Value, &n); err != nil {
		return cluster.Errorf(cluster.ErrBadRequest, "%s %s: the value must be the number of copies (%s)", msg.Action, bck, msg.Value)
	}
	partial := []byte(`{"mirror":{"copies":` + strconv.FormatInt(n, 10) + `}}`)
	change := func(cur *cluster.BucketProps) (*cluster.BucketProps, error) { return mergeBucketProps(cur, partial) }
	id, err := p.updateBucketProps(r.Context(), bck, msg.Action, change, true)
	if err != nil {
		return err
	}
	writeJobID(w, id)
	return nil
}

// updateBucketProps replaces the properties of bck with change(current) in a
// new bucket metadata version, persisted and then pushed to the targets, and
// returns the ID of the make-n-copies job it started ("" for none).
//
// A change of the number of copies (BucketProps.Copies), or any change with
// forceJob, is checked first, and a failed check changes nothing: every
// target must be up (cluster.ErrUnavailable), no rename may run on the
// bucket (cluster.ErrBusy), and when the number grows every target must
// have that many available mountpaths (cluster.ErrBadRequest, as AIStore
// refuses it). Then the new version is published and a make-n-copies job
// starts on every target (Spec.BMDVersion the new version, which each
// waits for), superseding the one that runs on the bucket, if any. Bucket
// property changes are serialized, so that their jobs start in order.
func (p *Proxy) updateBucketProps(ctx context.Context, bck cluster.Bucket, action string, change func(*cluster.BucketProps) (*cluster.BucketProps, error), forceJob bool) (string, error) {
	ctx, span := p.tracer.Start(ctx, "proxy.set_bprops")
	defer span.End()
	span.SetAttributes(attribute.String("ais.bucket", bck.String()), attribute.String("ais.action", action))

	// Bucket transactions replace whole BMD versions too: serialize with
	// them (the BMD does not change while txnMu is held).
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	cur := p.bmd.Load()
	props := cur.Get(bck)
	if props == nil {
		return "", cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	changed, err := change(props)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", action, bck, err)
	}
	var spec *job.Spec
	if forceJob || changed.Copies() != props.Copies() {
		spec = &job.Spec{ID: job.NewID(), Kind: wire.KindMakeNCopies, Bck: bck}
		if err := p.checkCopies(ctx, spec, changed.Copies(), props.Copies()); err != nil {
			return "", fmt.Errorf("%s %s: %w", action, bck, err)
		}
		span.SetAttributes(attribute.Int("ais.copies", changed.Copies()))
	}
	next := cur.Clone()
	next.Buckets[bck.Name] = changed
	next.Version = cur.Version + 1
	p.mu.Lock()
	if err := p.persist(bmdFile, next); err != nil {
		p.mu.Unlock()
		return "", fmt.Errorf("persist bucket metadata: %w", err)
	}
	p.bmd.Store(next)
	p.mu.Unlock()

	body, err := next.MarshalMsg(nil)
	if err != nil {
		return "", err
	}
	errs := p.pushAll(ctx, p.smap.Load(), transport.KindBMDPush, next.Version, body)
	p.log.InfoContext(ctx, "bucket properties changed", "bucket", bck.String(), "action", action, "bmd_version", next.Version,
		"targets_missed", len(errs))
	if spec == nil {
		return "", nil
	}
	spec.BMDVersion = next.Version
	for _, cj := range p.jobs.selectJobs(job.Filter{Kind: wire.KindMakeNCopies, Bucket: bck, OnlyRunning: true}) {
		cj.Abort(fmt.Errorf("%w (%s: %d copies)", job.ErrSuperseded, spec.ID, changed.Copies()))
	}
	cj, err := p.startJob(ctx, spec, nil)
	if err != nil {
		return "", fmt.Errorf("%s %s: the properties changed (bucket metadata v%d) but the %s job did not start: %w; "+
			"'ais job start mirror --copies %d %s' starts it again", action, bck, next.Version, spec.Kind, err, changed.Copies(), bck)
	}
	return cj.ID(), nil
}

// checkCopies checks that the make-n-copies job spec, for a bucket whose
// objects have had copies and are to have want, can start (see
// updateBucketProps): every target is up, no conflicting job runs on the
// bucket, and when want grows every target has want available mountpaths.
func (p *Proxy) checkCopies(ctx context.Context, spec *job.Spec, want, had int) error {
	targets, err := jobTargets(p.smap.Load(), spec.Kind)
	if err != nil {
		return err
	}
	p.jobs.mu.Lock()
	err = p.jobs.conflict(spec)
	p.jobs.mu.Unlock()
	if err != nil || want <= had || want < 2 {
		return err
	}
	return p.checkMountpaths(ctx, targets, want)
}

// checkMountpaths returns an error wrapping cluster.ErrBadRequest when one
// of targets has fewer than want available mountpaths (what=mountpaths),
// and one wrapping cluster.ErrUnavailable when one cannot tell.
func (p *Proxy) checkMountpaths(ctx context.Context, targets []*cluster.Node, want int) error {
	avail := make([]int, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, p.cfg.PushTimeout)
			defer cancel()
			ml, err := p.mountpaths(cctx, t)
			if err != nil {
				errs[i] = cluster.Errorf(cluster.ErrUnavailable, "cannot learn the mountpaths of target %s: %v", t.ID, err)
				return
			}
			avail[i] = len(ml.Available)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, t := range targets {
		if avail[i] < want {
			return cluster.Errorf(cluster.ErrBadRequest, "%d copies: target %s has %d available mountpaths (a target keeps at most one copy per mountpath)",
				want, t.ID, avail[i])
		}
	}
	return nil
}

// mergeBucketProps returns a copy of cur with the fields named in the
// partial JSON properties changed. It refuses unknown fields, trailing data,
// changes of the provider, bucket ID or creation time, and features miniais
// does not have (erasure coding: 501).
//
// # Mirroring
//
// The mirror section follows AIStore's rules (cluster.BucketProps.Copies
// is what the targets keep):
//   - copies must be 1..cluster.MaxCopies; burst_buffer >= 0 (400), and
//     changing it is refused (501: copies are made within the PUT, there
//     is no queue for it to size);
//   - naming only copies sets enabled = copies > 1;
//   - naming only enabled: false sets copies to 1; true with fewer than 2
//     copies sets 2 (more are kept);
//   - naming both, they must agree: enabled with copies 1, or disabled
//     with copies above 1, is refused.
//
// Every refusal wraps cluster.ErrBadRequest (400). Whether the targets have
// mountpaths enough is updateBucketProps's check (it needs the cluster).
func mergeBucketProps(cur *cluster.BucketProps, partial []byte) (*cluster.BucketProps, error) {
	next := *cur
	dec := json.NewDecoder(bytes.NewReader(partial))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&next); err != nil {
		if cluster.KindOf(err) != nil { // e.g. a section that can only be off: 501
			return nil, fmt.Errorf("bucket properties: %w", err)
		}
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: data after the JSON object")
	}
	switch {
	case next.Provider != cur.Provider, next.BID != cur.BID, next.Created != cur.Created:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "provider, bid and created cannot change")
	case !checksum.Valid(next.Checksum.Type):
		return nil, cluster.Errorf(cluster.ErrBadRequest, "checksum type %q is not one of %s", next.Checksum.Type, strings.Join(checksum.Types(), ", "))
	case next.EC.Enabled:
		return nil, cluster.Errorf(cluster.ErrNotImplemented, "erasure coding (ec.enabled) is not implemented")
	}
	if err := mergeMirror(&next, cur.Mirror, partial); err != nil {
		return nil, err
	}
	return &next, nil
}

// mergeMirror applies the rules of mergeBucketProps's Mirroring to next,
// which holds the partial properties decoded over the current ones.
func mergeMirror(next *cluster.BucketProps, cur cluster.MirrorConf, partial []byte) error {
	var top struct {
		Mirror map[string]json.RawMessage `json:"mirror"`
	}
	if err := json.Unmarshal(partial, &top); err != nil {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed bucket properties: %v", err)
	}
	if top.Mirror == nil {
		return nil // no mirror section: nothing of it changes
	}
	_, hasCopies := top.Mirror["copies"]
	_, hasEnabled := top.Mirror["enabled"]
	m := &next.Mirror
	switch {
	case hasCopies && hasEnabled:
		if m.Enabled != (m.Copies > 1) {
			return cluster.Errorf(cluster.ErrBadRequest, "mirror.enabled=%t contradicts mirror.copies=%d (mirroring means 2 copies or more)",
				m.Enabled, m.Copies)
		}
	case hasCopies:
		m.Enabled = m.Copies > 1
	case hasEnabled && !m.Enabled:
		m.Copies = 1
	case hasEnabled && m.Copies < 2:
		m.Copies = 2
	}
	switch {
	case m.Copies < 1 || m.Copies > cluster.MaxCopies:
		return cluster.Errorf(cluster.ErrBadRequest, "mirror.copies=%d: must be 1 to %d", m.Copies, cluster.MaxCopies)
	case m.Burst < 0:
		return cluster.Errorf(cluster.ErrBadRequest, "mirror.burst_buffer=%d: must not be negative", m.Burst)
	case m.Burst != cur.Burst:
		// AIStore's queue for copies made after the PUT: miniais makes them
		// within it, so a burst_buffer would be ignored.
		return cluster.Errorf(cluster.ErrNotImplemented, "mirror.burst_buffer: copies are made within the PUT (no queue to size); it stays %d", cur.Burst)
	}
	return nil
}
