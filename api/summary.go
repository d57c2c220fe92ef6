package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
)

// DefaultSummaryPoll is how long BucketSummary waits between two polls of
// a running summary when SummaryOptions.PollInterval is zero.
const DefaultSummaryPoll = time.Second

// SummaryOptions select and pace a bucket summary.
type SummaryOptions struct {
	// Prefix counts only the objects whose names start with it.
	Prefix string
	// PollInterval is the wait between two polls; 0 means DefaultSummaryPoll.
	PollInterval time.Duration
}

// BucketSummary runs a summary of bck the way AIStore's clients do: a GET
// of the bucket with {"action":"summary-bck","value":{"uuid":"",...}} must
// be answered 202 Accepted with the job's ID as plain text; the same GET,
// now with value.uuid = ID, is then re-sent every opts.PollInterval while
// the answer is 202 (running) or 206 (partial), until a 200 carries the
// result, a JSON array (whatever its Content-Type says). It returns that
// array, one summary per bucket (see wire.BucketSummary). Any other first
// answer is an error; so is ctx ending, which is the only bound on how long
// it waits.
func (c *Client) BucketSummary(ctx context.Context, bck cluster.Bucket, opts SummaryOptions) ([]*wire.BucketSummary, error) {
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	what := "summary of bucket " + bck.String()
	interval := opts.PollInterval
	if interval <= 0 {
		interval = DefaultSummaryPoll
	}
	msg := wire.SummaryMsg{Prefix: opts.Prefix, Present: true}
	status, body, err := c.summaryRound(ctx, bck, msg)
	if err != nil {
		return nil, err
	}
	if status != http.StatusAccepted {
		return nil, fmt.Errorf("%s: the cluster answered %d %s, want 202 Accepted with a job ID", what, status, http.StatusText(status))
	}
	if msg.UUID, err = readJobID(bytes.NewReader(body), what); err != nil {
		return nil, err
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s (job %s): %w", what, msg.UUID, ctx.Err())
		case <-t.C:
		}
		status, body, err := c.summaryRound(ctx, bck, msg)
		if err != nil {
			return nil, err
		}
		switch status {
		case http.StatusAccepted, http.StatusPartialContent:
			t.Reset(interval)
			continue
		case http.StatusOK:
		default:
			return nil, fmt.Errorf("%s (job %s): unexpected %d %s", what, msg.UUID, status, http.StatusText(status))
		}
		var res []*wire.BucketSummary
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("%s (job %s): decode result: %w", what, msg.UUID, err)
		}
		return res, nil
	}
}

// maxSummaryReply bounds the size of one summary reply.
const maxSummaryReply = 16 << 20

// summaryRound sends one summary-bck GET and returns the 2xx status and body.
func (c *Client) summaryRound(ctx context.Context, bck cluster.Bucket, msg wire.SummaryMsg) (int, []byte, error) {
	val, err := json.Marshal(msg)
	if err != nil {
		return 0, nil, err
	}
	body, hdr, err := jsonBody(wire.ActionMsg{Action: wire.ActSummaryBck, Value: val})
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.do(ctx, c.hc, &request{
		method: http.MethodGet, path: BucketPath(bck.Name), query: bucketQuery(bck),
		header: hdr, body: body, what: "bucket " + bck.String(),
	})
	if err != nil {
		return 0, nil, err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSummaryReply+1))
	if err != nil {
		return 0, nil, fmt.Errorf("summary of bucket %s: read reply: %w", bck, err)
	}
	if len(b) > maxSummaryReply {
		return 0, nil, fmt.Errorf("summary of bucket %s: reply longer than %d bytes", bck, maxSummaryReply)
	}
	return resp.StatusCode, b, nil
}

// maxJobIDReply bounds how much of a job-ID reply is read.
const maxJobIDReply = 1 << 10

// readJobID reads a job ID sent as the bare reply body and checks its form
// the way AIStore's clients do: 9 to 32 characters of [A-Za-z0-9_-], with
// neither '-' nor '_' at either end.
func readJobID(r io.Reader, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJobIDReply))
	if err != nil {
		return "", fmt.Errorf("%s: read job ID: %w", what, err)
	}
	id := string(bytes.TrimSpace(b))
	if !ValidJobID(id) {
		return "", fmt.Errorf("%s: malformed job ID %q in the reply", what, id)
	}
	return id, nil
}

// ValidJobID reports whether id has the form of an AIStore job ID: 9 to 32
// characters of [A-Za-z0-9_-], with neither '-' nor '_' at either end.
func ValidJobID(id string) bool {
	if len(id) < 9 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case ch == '-' || ch == '_':
			if i == 0 || i == len(id)-1 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
