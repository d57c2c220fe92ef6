package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
)

// TestJobRequests checks the requests of the job calls against the shapes
// AIStore's clients send (shared/aistore-clients.md sections 5 and 6).
func TestJobRequests(t *testing.T) {
	ctx := context.Background()
	a, b := cluster.NewBucket("a"), cluster.NewBucket("b")
	tests := []struct {
		name    string
		replies []string // bodies of 200 replies
		call    func(c *api.Client) (string, error)
		want    string // the request
		result  string
	}{
		{"copy bucket", []string{"CopyJob12"}, func(c *api.Client) (string, error) {
			return c.CopyBucket(ctx, a, b, api.CopyBucketOptions{Prefix: "p/", DryRun: true})
		}, `POST /v1/buckets/a?bck_to=ais%2F%40%23%2Fb%2F&provider=ais {"action":"copy-bck","value":{"ext":null,"prepend":"","prefix":"p/","dry_run":true,"force":false,"latest-ver":false,"synchronize":false}}`,
			"CopyJob12"},
		{"move bucket", []string{"MoveJob12\n"}, func(c *api.Client) (string, error) { return c.MoveBucket(ctx, a, b) },
			`POST /v1/buckets/a?bck_to=ais%2F%40%23%2Fb%2F&provider=ais {"action":"move-bck"}`, "MoveJob12"},
		{"start rebalance", []string{"g12"}, func(c *api.Client) (string, error) { return c.StartJob(ctx, wire.KindRebalance) },
			`PUT /v1/cluster {"action":"start","value":{"ID":"","Kind":"rebalance","DaemonID":"","Bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"Buckets":null,"Timeout":0,"Force":false,"OnlyRunning":false}}`,
			"g12"},
		{"make-n-copies", []string{"MirrJob12"}, func(c *api.Client) (string, error) { return c.MakeNCopies(ctx, a, 3) },
			`POST /v1/buckets/a?provider=ais {"action":"make-n-copies","value":3}`, "MirrJob12"},
		{"set props: a job", []string{"MirrJob12"}, func(c *api.Client) (string, error) {
			return c.UpdateBucketProps(ctx, a, map[string]any{"mirror": map[string]any{"copies": 2}})
		}, `PATCH /v1/buckets/a?provider=ais {"action":"set-bprops","value":{"mirror":{"copies":2}}}`, "MirrJob12"},
		{"set props: no job", []string{""}, func(c *api.Client) (string, error) {
			return c.UpdateBucketProps(ctx, a, map[string]any{"access": "1"})
		}, `PATCH /v1/buckets/a?provider=ais {"action":"set-bprops","value":{"access":"1"}}`, ""},
		{"reset props: a job", []string{"MirrJob12\n"}, func(c *api.Client) (string, error) { return c.ResetBucketProps(ctx, a) },
			`PATCH /v1/buckets/a?provider=ais {"action":"reset-bprops","value":null}`, "MirrJob12"},
		{"stop", []string{""}, func(c *api.Client) (string, error) { return "", c.StopJob(ctx, "J5y5lVxO0", "") },
			`PUT /v1/cluster {"action":"stop","value":{"ID":"J5y5lVxO0","Kind":"","DaemonID":"","Bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"Buckets":null,"Timeout":0,"Force":false,"OnlyRunning":false}}`,
			""},
		{"query running", []string{`{"t1":[{"id":"J5y5lVxO0","kind":"copy-bck","stats":{"loc-objs":"3"}}],"t2":[]}`}, func(c *api.Client) (string, error) {
			s, err := c.QueryJobs(ctx, api.OnlyRunning(wire.KindCopyBck))
			if err != nil {
				return "", err
			}
			tot := api.JobTotals(s, "J5y5lVxO0")
			return strings.Repeat("x", int(tot.LocObjs)) + strings.Repeat("t", len(s)), nil
		}, `GET /v1/cluster?what=qryxstats {"show_active":true,"bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"id":"","kind":"copy-bck"}`,
			"xxxtt"},
		{"status", []string{`{"kind":"copy-bck","uuid":"J5y5lVxO0","err":"","end_time":5,"aborted":false}`}, func(c *api.Client) (string, error) {
			st, err := c.JobStatus(ctx, "J5y5lVxO0")
			if err != nil {
				return "", err
			}
			return st.UUID, nil
		}, `GET /v1/cluster?what=status {"show_active":null,"bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"id":"J5y5lVxO0","kind":""}`,
			"J5y5lVxO0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var replies []func(w http.ResponseWriter)
			for _, r := range tc.replies {
				replies = append(replies, reply(200, r))
			}
			c, rec := newRecorder(t, replies...)
			got, err := tc.call(c)
			if err != nil || got != tc.result {
				t.Fatalf("got %q, %v; want %q", got, err, tc.result)
			}
			wantRequests(t, rec, tc.want)
		})
	}
}

// TestJobRefusals: malformed arguments are refused before anything is
// sent, and a reply that is not a job ID is an error.
func TestJobRefusals(t *testing.T) {
	ctx := context.Background()
	c, rec := newRecorder(t, reply(200, "not an id!"), reply(200, "short"), reply(200, ""), reply(200, "not an id!"))
	if _, err := c.CopyBucket(ctx, cluster.NewBucket("a"), cluster.NewBucket("b"), api.CopyBucketOptions{}); err == nil {
		t.Error("a malformed job ID was accepted")
	}
	if _, err := c.StartJob(ctx, wire.KindRebalance); err == nil {
		t.Error("a short job ID was accepted")
	}
	if id, err := c.MakeNCopies(ctx, cluster.NewBucket("a"), 2); err == nil {
		t.Errorf("make-n-copies answered without a job ID: %q accepted", id)
	}
	if id, err := c.UpdateBucketProps(ctx, cluster.NewBucket("a"), map[string]any{"mirror": map[string]any{"copies": 2}}); err == nil {
		t.Errorf("set-bprops answered with a malformed job ID: %q accepted", id)
	}
	if err := c.StopJob(ctx, "", ""); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("stop with neither ID nor kind: %v", err)
	}
	if _, err := c.JobStatus(ctx, "../x"); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("status of a malformed ID: %v", err)
	}
	if _, err := c.MoveBucket(ctx, cluster.NewBucket("a"), cluster.NewBucket("")); !errors.Is(err, cluster.ErrBadName) {
		t.Errorf("move to no bucket: %v", err)
	}
	if _, err := c.MakeNCopies(ctx, cluster.NewBucket(""), 2); !errors.Is(err, cluster.ErrBadName) {
		t.Errorf("make-n-copies of no bucket: %v", err)
	}
	if n := len(rec.requests()); n != 4 {
		t.Errorf("%d requests sent, want the 4 that were well-formed", n)
	}
}

func TestValidRebalanceID(t *testing.T) {
	for id, want := range map[string]bool{"g1": true, "g120": true, "g0": false, "g01": false, "g": false, "gx": false, "g+1": false, "J5y5lVxO0": false} {
		if got := api.ValidRebalanceID(id); got != want {
			t.Errorf("ValidRebalanceID(%q) = %v, want %v", id, got, want)
		}
	}
}

// TestWaitJob polls the status until end_time is set, and reports an
// aborted job as ErrJobAborted with its reason.
func TestWaitJob(t *testing.T) {
	ctx := context.Background()
	running := `{"kind":"copy-bck","uuid":"J5y5lVxO0","err":"","end_time":0,"aborted":false}`
	opts := api.WaitOptions{Poll: time.Millisecond}
	t.Run("finished", func(t *testing.T) {
		c, rec := newRecorder(t, reply(200, running), reply(200, running),
			reply(200, `{"kind":"copy-bck","uuid":"J5y5lVxO0","err":"","end_time":17,"aborted":false}`))
		st, err := c.WaitJob(ctx, "J5y5lVxO0", opts)
		if err != nil || st.EndTime != 17 || len(rec.requests()) != 3 {
			t.Fatalf("status %+v, %v after %d polls", st, err, len(rec.requests()))
		}
	})
	t.Run("aborted", func(t *testing.T) {
		c, _ := newRecorder(t, reply(200, running),
			reply(200, `{"kind":"copy-bck","uuid":"J5y5lVxO0","err":"target t2 is down","end_time":17,"aborted":true}`))
		st, err := c.WaitJob(ctx, "J5y5lVxO0", opts)
		if !errors.Is(err, api.ErrJobAborted) || !strings.Contains(err.Error(), "target t2 is down") || !st.Aborted {
			t.Fatalf("status %+v, %v; want ErrJobAborted with the reason", st, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		c, _ := newRecorder(t, reply(404, `{"message":"job not found","status":404}`))
		if _, err := c.WaitJob(ctx, "J5y5lVxO0", opts); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("err %v, want not found", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		c, _ := newRecorder(t, reply(200, running), reply(200, running), reply(200, running))
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := c.WaitJob(ctx, "J5y5lVxO0", api.WaitOptions{Poll: time.Hour}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want the deadline", err)
		}
	})
}
