package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
)

// Jobs ("xactions", shared/aistore-clients.md section 6): starting,
// querying, waiting for and stopping them, with the requests AIStore's
// clients send.

// ErrJobAborted is wrapped by WaitJob's error when the job was aborted; the
// error's text carries the job's reason.
var ErrJobAborted = errors.New("job aborted")

// ValidRebalanceID reports whether id is a rebalance ID: "g" followed by a
// positive decimal number without leading zeros ("g12").
func ValidRebalanceID(id string) bool {
	rest, ok := strings.CutPrefix(id, "g")
	if !ok || rest == "" || rest[0] == '0' || len(rest) > 18 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	return true
}

// BucketUname returns AIStore's name of bucket bck in a bck_to query
// parameter: "provider/@#/name/" (the global namespace, a trailing '/').
func BucketUname(bck cluster.Bucket) string {
	p := bck.Provider
	if p == "" {
		p = cluster.ProviderAIS
	}
	return p + "/@#/" + bck.Name + "/"
}

// CopyBucketOptions qualify CopyBucket.
type CopyBucketOptions struct {
	// Prefix copies only the objects whose names start with it.
	Prefix string
	// DryRun counts what would be copied and writes nothing (the
	// destination is not created).
	DryRun bool
}

// CopyBucket starts a job that copies every object of src (under
// opts.Prefix) into dst, which the cluster creates with src's properties
// when it does not exist: POST /v1/buckets/SRC?bck_to=DST with AIStore's
// copy-bck message. It returns the job's ID.
func (c *Client) CopyBucket(ctx context.Context, src, dst cluster.Bucket, opts CopyBucketOptions) (string, error) {
	msg := wire.CopyBckMsg{Prefix: opts.Prefix, DryRun: opts.DryRun}
	return c.bucketJob(ctx, src, dst, wire.ActCopyBck, msg)
}

// MoveBucket starts a job that renames src to dst, which must not exist:
// every object is copied into dst, and src is destroyed once every target
// has copied its objects (POST /v1/buckets/SRC?bck_to=DST, move-bck). While
// it runs, writes to src and other jobs on either bucket are refused
// (cluster.ErrBusy). It returns the job's ID.
func (c *Client) MoveBucket(ctx context.Context, src, dst cluster.Bucket) (string, error) {
	return c.bucketJob(ctx, src, dst, wire.ActMoveBck, nil)
}

func (c *Client) bucketJob(ctx context.Context, src, dst cluster.Bucket, action string, value any) (string, error) {
	if err := src.Validate(); err != nil {
		return "", err
	}
	if err := dst.Validate(); err != nil {
		return "", err
	}
	var val json.RawMessage
	if value != nil {
		b, err := json.Marshal(value)
		if err != nil {
			return "", err
		}
		val = b
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: action, Value: val})
	if err != nil {
		return "", err
	}
	q := bucketQuery(src)
	q.Set(wire.QparamBckTo, BucketUname(dst))
	what := fmt.Sprintf("%s %s to %s", action, src, dst)
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodPost, path: BucketPath(src.Name), query: q,
		header: hdr, body: body, what: what,
	})
	if err != nil {
		return "", err
	}
	defer drainClose(resp.Body)
	return readJobID(resp.Body, what)
}

// JobQuery selects jobs (an alias of the wire type, for callers that do not
// import api/wire).
type JobQuery = wire.JobQuery

// OnlyRunning returns a query of the running jobs of kind ("" for every
// kind).
func OnlyRunning(kind string) JobQuery {
	t := true
	return JobQuery{ShowActive: &t, Kind: kind}
}

// QueryJobs returns, for every target, its snapshots of the jobs q selects
// (GET /v1/cluster?what=qryxstats with q as the JSON body): an empty list
// for a target that runs none. A query for an ID no node knows fails with
// an error matching cluster.ErrNotFound.
func (c *Client) QueryJobs(ctx context.Context, q JobQuery) (wire.JobSnaps, error) {
	var out wire.JobSnaps
	if err := c.jobQuery(ctx, wire.WhatQueryXactStat, q, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = wire.JobSnaps{}
	}
	return out, nil
}

// JobStatus returns the cluster-wide status of job id (what=status): it
// has ended when EndTime is set. An unknown ID fails with an error matching
// cluster.ErrNotFound.
func (c *Client) JobStatus(ctx context.Context, id string) (*wire.JobStatus, error) {
	if !ValidJobID(id) && !ValidRebalanceID(id) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed job ID %q", id)
	}
	st := &wire.JobStatus{}
	if err := c.jobQuery(ctx, wire.WhatStatus, JobQuery{ID: id}, st); err != nil {
		return nil, err
	}
	return st, nil
}

// JobStatuses returns the status of every job q selects, oldest first
// (what=status_all).
func (c *Client) JobStatuses(ctx context.Context, q JobQuery) ([]wire.JobStatus, error) {
	var out []wire.JobStatus
	if err := c.jobQuery(ctx, wire.WhatStatusAll, q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// maxJobReply bounds the size of a job query's reply.
const maxJobReply = 64 << 20

func (c *Client) jobQuery(ctx context.Context, what string, q JobQuery, into any) error {
	body, hdr, err := jsonBody(q)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: wire.PathCluster, query: url.Values{wire.QparamWhat: {what}},
		header: hdr, body: body, what: "jobs",
	})
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJobReply+1))
	if err != nil {
		return fmt.Errorf("job query (%s): read reply: %w", what, err)
	}
	if len(b) > maxJobReply {
		return fmt.Errorf("job query (%s): reply over %d bytes", what, maxJobReply)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("job query (%s): decode reply: %w", what, err)
	}
	return nil
}

// StartJob starts a job of kind on every target (PUT /v1/cluster, action
// start, value AIStore's ArgsMsg) and returns its ID; miniais starts only
// rebalances this way ("g<N>").
func (c *Client) StartJob(ctx context.Context, kind string) (string, error) {
	args := wire.JobArgs{Kind: kind}
	resp, err := c.clusterJobAction(ctx, wire.ActXactStart, &args)
	if err != nil {
		return "", err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJobIDReply))
	if err != nil {
		return "", fmt.Errorf("start %s: read job ID: %w", kind, err)
	}
	id := string(bytes.TrimSpace(b))
	if !ValidJobID(id) && !ValidRebalanceID(id) {
		return "", fmt.Errorf("start %s: malformed job ID %q in the reply", kind, id)
	}
	return id, nil
}

// StopJob stops job id, or with an empty id every running job of kind (PUT
// /v1/cluster, action stop). Stopping a job that has ended is no error; an
// ID no node knows fails with an error matching cluster.ErrNotFound.
func (c *Client) StopJob(ctx context.Context, id, kind string) error {
	if id == "" && kind == "" {
		return cluster.Errorf(cluster.ErrBadRequest, "stop: give a job ID or kind")
	}
	resp, err := c.clusterJobAction(ctx, wire.ActXactStop, &wire.JobArgs{ID: id, Kind: kind})
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}

func (c *Client) clusterJobAction(ctx context.Context, action string, args *wire.JobArgs) (*http.Response, error) {
	val, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: action, Value: val})
	if err != nil {
		return nil, err
	}
	return c.do(ctx, c.hc, &request{method: http.MethodPut, path: wire.PathCluster, header: hdr, body: body, what: "job " + action})
}

// Polling of WaitJob: AIStore's (the first poll at once, then every 2 s,
// growing by half each time up to a cap).
const (
	DefaultJobPoll    = 2 * time.Second
	DefaultJobPollMax = 30 * time.Second
)

// WaitOptions pace WaitJob.
type WaitOptions struct {
	// Poll is the first wait between two polls (0: DefaultJobPoll); each
	// later wait is half as long again, up to MaxPoll (0: DefaultJobPollMax).
	Poll, MaxPoll time.Duration
	// Progress, when set, is called with every status read.
	Progress func(*wire.JobStatus)
}

// WaitJob polls the status of job id until it has ended, and returns it.
// A job that was aborted returns its status and an error wrapping
// ErrJobAborted with the reason; ctx bounds the wait.
func (c *Client) WaitJob(ctx context.Context, id string, opts WaitOptions) (*wire.JobStatus, error) {
	poll, maxPoll := opts.Poll, opts.MaxPoll
	if poll <= 0 {
		poll = DefaultJobPoll
	}
	if maxPoll <= 0 {
		maxPoll = DefaultJobPollMax
	}
	for {
		st, err := c.JobStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(st)
		}
		if st.Aborted {
			return st, fmt.Errorf("job %s (%s): %w: %s", id, st.Kind, ErrJobAborted, st.Err)
		}
		if st.Finished() {
			return st, nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, fmt.Errorf("waiting for job %s: %w", id, ctx.Err())
		case <-t.C:
		}
		poll = min(poll+poll/2, maxPoll)
	}
}

// JobTotals adds up the counters of job id over every target's snapshot.
func JobTotals(snaps wire.JobSnaps, id string) wire.JobStats {
	var s wire.JobStats
	for _, list := range snaps {
		for _, sn := range list {
			if sn.ID != id {
				continue
			}
			s.LocObjs += sn.Stats.LocObjs
			s.LocBytes += sn.Stats.LocBytes
			s.OutObjs += sn.Stats.OutObjs
			s.OutBytes += sn.Stats.OutBytes
			s.InObjs += sn.Stats.InObjs
			s.InBytes += sn.Stats.InBytes
		}
	}
	return s
}
