package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/job"
)

// The HTTP side of jobs: the actions that start and stop them
// (delete-listrange, copy-bck, move-bck, start, stop) and the queries
// (GET /v1/cluster?what=qryxstats|status|status_all), with AIStore's
// request and reply shapes (shared/aistore-clients.md sections 5 and 6).

// jobRoutes registers the job lists of AIStore's downloader and dsort,
// which "ais show job" asks for: miniais runs neither, so both are [].
func (p *Proxy) jobRoutes(m *server.Mux) {
	empty := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, io.LimitReader(r.Body, maxQueryBody))
		server.WriteJSON(w, []struct{}{})
	}
	m.HandleFunc("GET "+wire.PathDownload, empty)
	m.HandleFunc("GET "+wire.PathSort, empty)
}

// writeJobID answers a started job's ID as plain text (AIStore's shape).
func writeJobID(w http.ResponseWriter, id string) { writeText(w, http.StatusOK, id) }

// deleteObjects serves DELETE /v1/buckets/B with delete-listrange: a job
// that deletes the listed objects, or those the template selects (a
// template with no range is a prefix). It answers the job's ID.
func (p *Proxy) deleteObjects(w http.ResponseWriter, r *http.Request, bck cluster.Bucket, msg wire.ActionMsg) error {
	if p.bmd.Load().Get(bck) == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	var lr wire.ListRangeMsg
	if err := strictJSON(msg.Value, &lr); err != nil {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed %s value: %v", msg.Action, err)
	}
	spec := &job.Spec{ID: job.NewID(), Kind: wire.KindDeleteListRange, Bck: bck, Template: lr.Template, ObjNames: lr.ObjNames}
	switch {
	case lr.Template != "" && len(lr.ObjNames) > 0:
		return cluster.Errorf(cluster.ErrBadRequest, "%s: give a template or object names, not both", msg.Action)
	case lr.Template == "" && len(lr.ObjNames) == 0:
		return cluster.Errorf(cluster.ErrBadRequest, "%s: %v; to delete every object, destroy the bucket", msg.Action, job.ErrEmptyTemplate)
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	cj, err := p.startJob(r.Context(), spec, nil)
	if err != nil {
		return err
	}
	writeJobID(w, cj.ID())
	return nil
}

// strictJSON decodes b (nothing or null: the zero value) refusing unknown
// keys.
func strictJSON(b []byte, v any) error {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// parseBckTo parses the bck_to query parameter: AIStore's bucket uname
// "provider/@#/name/" (the global namespace; the trailing '/' optional).
// Other namespaces and providers are refused with 501.
func parseBckTo(r *http.Request) (cluster.Bucket, error) {
	v := r.URL.Query().Get(wire.QparamBckTo)
	if v == "" {
		return cluster.Bucket{}, cluster.Errorf(cluster.ErrBadRequest, "%s %s: no destination (%s)", r.Method, r.URL.Path, wire.QparamBckTo)
	}
	parts := strings.Split(strings.TrimSuffix(v, "/"), "/")
	if len(parts) != 3 {
		return cluster.Bucket{}, cluster.Errorf(cluster.ErrBadRequest, "%s=%q: expecting provider/@#/bucket/", wire.QparamBckTo, v)
	}
	provider, ns, name := parts[0], parts[1], parts[2]
	if provider == "" {
		provider = cluster.ProviderAIS
	}
	if provider != cluster.ProviderAIS {
		return cluster.Bucket{}, cluster.Errorf(cluster.ErrNotImplemented, "%s=%q: provider %q: only ais:// buckets are implemented", wire.QparamBckTo, v, provider)
	}
	if ns != "@#" && ns != "@" && ns != "" {
		return cluster.Bucket{}, cluster.Errorf(cluster.ErrNotImplemented, "%s=%q: namespace %q: only the global namespace is implemented", wire.QparamBckTo, v, ns)
	}
	bck := cluster.Bucket{Provider: provider, Name: name}
	return bck, bck.Validate()
}

// copyOptions decodes a copy-bck value: prefix and dry_run are
// implemented; any other option that is set is refused with 501 (naming
// it) rather than ignored.
func copyOptions(value []byte) (wire.CopyBckMsg, error) {
	var m wire.CopyBckMsg
	if len(value) == 0 || string(value) == "null" {
		return m, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(value, &raw); err != nil {
		return m, cluster.Errorf(cluster.ErrBadRequest, "malformed %s value: %v", wire.ActCopyBck, err)
	}
	for k, v := range raw {
		switch k {
		case "prefix":
			if err := json.Unmarshal(v, &m.Prefix); err != nil {
				return m, cluster.Errorf(cluster.ErrBadRequest, "%s: prefix: %v", wire.ActCopyBck, err)
			}
		case "dry_run":
			if err := json.Unmarshal(v, &m.DryRun); err != nil {
				return m, cluster.Errorf(cluster.ErrBadRequest, "%s: dry_run: %v", wire.ActCopyBck, err)
			}
		default:
			if !zeroJSON(v) {
				return m, cluster.Errorf(cluster.ErrNotImplemented, "%s option %q (%s) is not implemented", wire.ActCopyBck, k, v)
			}
		}
	}
	return m, nil
}

// zeroJSON reports whether v is a JSON zero value: null, false, 0, "", {}
// or [].
func zeroJSON(v json.RawMessage) bool {
	switch strings.TrimSpace(string(v)) {
	case "null", "false", "0", `""`, "{}", "[]":
		return true
	}
	return false
}

// copyBucket serves POST /v1/buckets/SRC?bck_to=DST with copy-bck: a job
// that copies every object of SRC (under the prefix) into DST, which is
// created with SRC's properties when missing (not for a dry run). It
// answers the job's ID.
func (p *Proxy) copyBucket(w http.ResponseWriter, r *http.Request, src cluster.Bucket, msg wire.ActionMsg) error {
	dst, err := parseBckTo(r)
	if err != nil {
		return err
	}
	opts, err := copyOptions(msg.Value)
	if err != nil {
		return err
	}
	spec := &job.Spec{ID: job.NewID(), Kind: wire.KindCopyBck, Bck: src, Dst: dst, Prefix: opts.Prefix, DryRun: opts.DryRun}
	if err := p.prepareCopy(r.Context(), spec, false); err != nil {
		return err
	}
	cj, err := p.startJob(r.Context(), spec, nil)
	if err != nil {
		return err
	}
	writeJobID(w, cj.ID())
	return nil
}

// moveBucket serves POST /v1/buckets/SRC?bck_to=DST with move-bck (no
// value): DST, which must not exist, is created with SRC's properties,
// every object is copied into it, and SRC is destroyed once every target
// has finished. While it runs, SRC takes no writes and no other job
// (409). It answers the job's ID.
func (p *Proxy) moveBucket(w http.ResponseWriter, r *http.Request, src cluster.Bucket, msg wire.ActionMsg) error {
	dst, err := parseBckTo(r)
	if err != nil {
		return err
	}
	if len(msg.Value) > 0 && !zeroJSON(msg.Value) {
		return cluster.Errorf(cluster.ErrNotImplemented, "%s options (%s) are not implemented", wire.ActMoveBck, msg.Value)
	}
	spec := &job.Spec{ID: job.NewID(), Kind: wire.KindMoveBck, Bck: src, Dst: dst}
	if err := p.prepareCopy(r.Context(), spec, true); err != nil {
		return err
	}
	finalize := func(ctx context.Context) error {
		if err := p.destroyBucket(ctx, src); err != nil {
			return err
		}
		p.log.InfoContext(ctx, "bucket renamed", "from", src.String(), "to", dst.String(), "job", spec.ID)
		return nil
	}
	cj, err := p.startJob(r.Context(), spec, finalize)
	if err != nil {
		return err
	}
	writeJobID(w, cj.ID())
	return nil
}

// prepareCopy checks a copy or rename and creates its destination:
// the source must exist, a rename's destination must not, and neither may
// be busy with a conflicting job.
func (p *Proxy) prepareCopy(ctx context.Context, spec *job.Spec, rename bool) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	bmd := p.bmd.Load()
	props := bmd.Get(spec.Bck)
	if props == nil {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", spec.Bck)
	}
	exists := bmd.Get(spec.Dst) != nil
	if rename && exists {
		return cluster.Errorf(cluster.ErrExists, "%s: bucket %s already exists", spec.Kind, spec.Dst)
	}
	p.jobs.mu.Lock()
	err := p.jobs.conflict(spec)
	p.jobs.mu.Unlock()
	if err != nil {
		return err
	}
	if !exists && !spec.DryRun {
		if err := p.createBucketLike(ctx, spec.Dst, props); err != nil {
			return err
		}
	}
	spec.BMDVersion = p.bmd.Load().Version
	return nil
}

// createBucketLike creates bck with the properties of another bucket
// (its own ID and creation time).
func (p *Proxy) createBucketLike(ctx context.Context, bck cluster.Bucket, like *cluster.BucketProps) error {
	props := *like
	props.Created = time.Now().UnixNano()
	txn := cluster.Txn{ID: newUUID(), Action: cluster.TxnCreateBucket, Bucket: bck, Props: &props}
	return p.runTxn(ctx, &txn, func(bmd *cluster.BMD) error {
		if bmd.Get(bck) != nil {
			return cluster.Errorf(cluster.ErrExists, "bucket %s already exists", bck)
		}
		props.BID = cluster.AISBucketID(bmd.Version + 1)
		bmd.Buckets[bck.Name] = &props
		return nil
	})
}

// clusterAction serves PUT /v1/cluster: start and stop jobs, and the
// membership actions of maintenance.go (the others are refused by
// CheckAction with 501).
func (p *Proxy) clusterAction(w http.ResponseWriter, r *http.Request) {
	msg, err := server.ReadActionFor(r, append([]string{wire.ActXactStart, wire.ActXactStop}, membershipActions...)...)
	switch {
	case err != nil:
	case slices.Contains(membershipActions, msg.Action):
		err = p.membershipAction(w, r, msg)
	default:
		err = p.jobAction(w, r, msg)
	}
	if err != nil {
		p.writeError(w, r, err)
	}
}

// jobAction runs a start or stop action; its value is AIStore's ArgsMsg.
// Options miniais does not implement are refused with 501 naming them.
func (p *Proxy) jobAction(w http.ResponseWriter, r *http.Request, msg wire.ActionMsg) error {
	var args wire.JobArgs
	if len(msg.Value) > 0 {
		if err := json.Unmarshal(msg.Value, &args); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "malformed %s value: %v", msg.Action, err)
		}
	}
	switch {
	case args.DaemonID != "":
		return cluster.Errorf(cluster.ErrNotImplemented, "%s: DaemonID %q (a job on one node) is not implemented", msg.Action, args.DaemonID)
	case len(args.Buckets) > 0:
		return cluster.Errorf(cluster.ErrNotImplemented, "%s: Buckets is not implemented", msg.Action)
	case args.Force:
		return cluster.Errorf(cluster.ErrNotImplemented, "%s: Force is not implemented", msg.Action)
	case args.Flags != 0:
		return cluster.Errorf(cluster.ErrNotImplemented, "%s: flags %#x are not implemented", msg.Action, args.Flags)
	}
	kind := kindOf(args.Kind)
	if msg.Action == wire.ActXactStop {
		if args.ID == "" && kind == "" {
			return cluster.Errorf(cluster.ErrBadRequest, "stop: give a job ID or kind")
		}
		if args.ID != "" && !job.ValidID(args.ID) {
			return cluster.Errorf(cluster.ErrBadRequest, "stop: malformed job ID %q", args.ID)
		}
		q := &wire.JobQuery{ID: args.ID, Kind: kind, Bck: args.Bck}
		if err := p.stopJobs(r.Context(), q); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	switch {
	case kind == "":
		return cluster.Errorf(cluster.ErrBadRequest, "start: no job kind")
	case kind != wire.KindRebalance:
		return cluster.Errorf(cluster.ErrNotImplemented, "start: starting %q jobs is not implemented (only %s)", args.Kind, wire.KindRebalance)
	case args.Bck.Name != "" || args.ID != "":
		return cluster.Errorf(cluster.ErrNotImplemented, "start %s: Bck and ID are not implemented", kind)
	}
	id, err := p.startRebalance(r.Context())
	if err != nil {
		return err
	}
	writeJobID(w, id)
	return nil
}

// kindOf maps AIStore's display names of the kinds miniais runs to kinds
// ("rename-bucket" is move-bck); anything else is returned as is.
func kindOf(name string) string {
	switch name {
	case "copy-bucket":
		return wire.KindCopyBck
	case "rename-bucket":
		return wire.KindMoveBck
	case "delete-objects":
		return wire.KindDeleteListRange
	}
	return name
}

// maxQueryBody bounds the JSON body of a job query.
const maxQueryBody = 64 << 10

// readJobQuery reads the JSON body of a job query (none or null: every
// job). Node selects one target; Buckets is refused (501).
func readJobQuery(r *http.Request) (*wire.JobQuery, error) {
	q := &wire.JobQuery{}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBody+1))
	switch {
	case err != nil:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "read job query: %v", err)
	case len(b) > maxQueryBody:
		return nil, cluster.Errorf(cluster.ErrTooLarge, "job query over %d bytes", maxQueryBody)
	case len(b) > 0 && string(b) != "null":
		if err := json.Unmarshal(b, q); err != nil {
			return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed job query: %v", err)
		}
	}
	if len(q.Buckets) > 0 {
		return nil, cluster.Errorf(cluster.ErrNotImplemented, "job query by a list of buckets is not implemented")
	}
	q.Kind = kindOf(q.Kind)
	return q, nil
}

// queryJobs answers the job queries:
//   - qryxstats: target ID -> that target's snapshots of the selected
//     jobs (an empty array when none matches; every kind gets 200), or 404
//     for an ID no node knows;
//   - status: the status of the job with the ID (404 when unknown), or
//     without an ID of the latest running job of the kind (404 when none
//     runs: AIStore's client takes that as "nothing running");
//   - status_all: the status of every selected job, oldest first.
func (p *Proxy) queryJobs(w http.ResponseWriter, r *http.Request, what string) {
	if err := p.queryJobs1(w, r, what); err != nil {
		p.writeError(w, r, err)
	}
}

func (p *Proxy) queryJobs1(w http.ResponseWriter, r *http.Request, what string) error {
	q, err := readJobQuery(r)
	if err != nil {
		return err
	}
	if what == wire.WhatStatus && q.ID != "" {
		// The proxy's own jobs need no target: their status is the
		// proxy's (a target that does not answer cannot delay it).
		if cj := p.jobs.get(q.ID); cj != nil {
			server.WriteJSON(w, cj.Status())
			return nil
		}
	}
	snaps, err := p.collectSnaps(r.Context(), q)
	if err != nil {
		return err
	}
	p.overlay(snaps)
	onlyRunning := q.ShowActive != nil && *q.ShowActive
	f := queryFilter(q)
	switch what {
	case wire.WhatQueryXactStat:
		found := false
		for tid, list := range snaps {
			if onlyRunning {
				list = slices.DeleteFunc(list, func(s wire.JobSnap) bool { return !s.Running() })
			}
			snaps[tid] = list
			found = found || len(list) > 0
		}
		if q.ID != "" && !found && p.jobs.get(q.ID) == nil {
			return errNoJob(q)
		}
		server.WriteJSON(w, snaps)
		return nil
	case wire.WhatStatus:
		all := p.statuses(snaps, f)
		if q.ID == "" {
			all = slices.DeleteFunc(all, func(s wire.JobStatus) bool { return s.Finished() })
		}
		if len(all) == 0 {
			return errNoJob(q)
		}
		server.WriteJSON(w, all[len(all)-1])
		return nil
	}
	all := p.statuses(snaps, f)
	if onlyRunning {
		all = slices.DeleteFunc(all, func(s wire.JobStatus) bool { return s.Finished() })
	}
	server.WriteJSON(w, all)
	return nil
}
