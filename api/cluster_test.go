package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
)

// recorder is a server that records "METHOD path?query body" of every
// request and answers with the next of its scripted replies.
type recorder struct {
	mu      sync.Mutex
	got     []string
	replies []func(w http.ResponseWriter)
}

func newRecorder(tb testing.TB, replies ...func(w http.ResponseWriter)) (*api.Client, *recorder) {
	tb.Helper()
	rec := &recorder{replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		line := r.Method + " " + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		if len(b) > 0 {
			line += " " + string(b)
		}
		rec.got = append(rec.got, line)
		var reply func(http.ResponseWriter)
		if len(rec.replies) > 0 {
			reply, rec.replies = rec.replies[0], rec.replies[1:]
		}
		rec.mu.Unlock()
		if reply == nil {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		reply(w)
	}))
	tb.Cleanup(srv.Close)
	return api.NewClient(srv.URL), rec
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.got...)
}

func reply(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func wantRequests(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	got := rec.requests()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const summaryResult = `[{"name":"b","provider":"ais","namespace":{"uuid":"","name":""},` +
	`"ObjCount":{"obj_count_present":"3","obj_count_remote":"0"},"ObjSize":{"obj_min_size":1000,"obj_avg_size":4000,"obj_max_size":3000},` +
	`"TotalSize":{"size_on_disk":"175840","size_all_present_objs":"12000","size_all_remote_objs":"0","total_disks_size":"999"},` +
	`"used_pct":7,"is_present":true}]`

func summaryReq(uuid string) string {
	return `GET /v1/buckets/b?provider=ais {"action":"summary-bck","value":{"uuid":"` + uuid +
		`","prefix":"p/","cached":false,"present":true,"dont_add_remote":false}}`
}

func TestBucketSummary(t *testing.T) {
	ctx := context.Background()
	bck := cluster.NewBucket("b")
	opts := api.SummaryOptions{Prefix: "p/", PollInterval: time.Millisecond}
	t.Run("202, then 202 and 206 while running, then 200", func(t *testing.T) {
		c, rec := newRecorder(t, reply(202, "SumJob123\n"), reply(202, ""), reply(206, "[]"), reply(200, summaryResult))
		res, err := c.BucketSummary(ctx, bck, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantRequests(t, rec, summaryReq(""), summaryReq("SumJob123"), summaryReq("SumJob123"), summaryReq("SumJob123"))
		if len(res) != 1 {
			t.Fatalf("%d results", len(res))
		}
		s := res[0]
		if s.Name != "b" || s.Provider != "ais" || s.ObjCount.Present != 3 || s.ObjSize.Max != 3000 || s.TotalSize.OnDisk != 175840 ||
			s.TotalSize.PresentObjs != 12000 || s.TotalSize.Disks != 999 || s.UsedPct != 7 || !s.IsPresent {
			t.Errorf("decoded %+v", s)
		}
	})
	errs := []struct {
		name    string
		replies []func(http.ResponseWriter)
		want    string
	}{
		{"first reply 200", []func(http.ResponseWriter){reply(200, summaryResult)}, "want 202 Accepted"},
		{"malformed job ID", []func(http.ResponseWriter){reply(202, "x y")}, `malformed job ID "x y"`},
		{"unexpected status while polling", []func(http.ResponseWriter){reply(202, "SumJob123"), reply(204, "")}, "unexpected 204"},
		{"bad result", []func(http.ResponseWriter){reply(202, "SumJob123"), reply(200, "{")}, "decode result"},
		{"error status", []func(http.ResponseWriter){reply(202, "SumJob123"), reply(404, `{"message":"bucket gone","status":404}`)}, "bucket gone"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newRecorder(t, tt.replies...)
			if _, err := c.BucketSummary(ctx, bck, opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("context ends the wait", func(t *testing.T) {
		polls := make([]func(http.ResponseWriter), 1, 101)
		polls[0] = reply(202, "SumJob123")
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for i := 0; i < 100; i++ {
			polls = append(polls, func(w http.ResponseWriter) {
				if i == 2 {
					cancel()
				}
				w.WriteHeader(http.StatusAccepted)
			})
		}
		c, _ := newRecorder(t, polls...)
		if _, err := c.BucketSummary(ctx, bck, opts); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestValidJobID(t *testing.T) {
	for id, want := range map[string]bool{
		"J5y5lVxO0": true, "abc_def-123": true, strings.Repeat("a", 32): true,
		"short": false, strings.Repeat("a", 33): false, "-abcdefghi": false, "abcdefghi_": false,
		"abc def gh": false, "abc/defghi": false, "": false,
	} {
		if got := api.ValidJobID(id); got != want {
			t.Errorf("ValidJobID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestDeleteObjects(t *testing.T) {
	ctx := context.Background()
	bck := cluster.NewBucket("b")
	t.Run("names", func(t *testing.T) {
		c, rec := newRecorder(t, reply(200, "DelJob123"))
		id, err := c.DeleteObjects(ctx, bck, api.ObjectSelection{Names: []string{"a", "d/b"}})
		if err != nil || id != "DelJob123" {
			t.Fatalf("id %q, err %v", id, err)
		}
		wantRequests(t, rec, `DELETE /v1/buckets/b?provider=ais {"action":"delete-listrange","value":{"template":"","objnames":["a","d/b"]}}`)
	})
	t.Run("template", func(t *testing.T) {
		c, rec := newRecorder(t, reply(501, `{"message":"delete-listrange: not implemented","status":501}`))
		_, err := c.DeleteObjects(ctx, bck, api.ObjectSelection{Template: "ck{1..3}.txt"})
		if !errors.Is(err, cluster.ErrNotImplemented) || !strings.Contains(err.Error(), "not implemented") {
			t.Fatalf("err = %v, want ErrNotImplemented", err)
		}
		wantRequests(t, rec, `DELETE /v1/buckets/b?provider=ais {"action":"delete-listrange","value":{"template":"ck{1..3}.txt","objnames":null}}`)
	})
	for _, sel := range []api.ObjectSelection{{}, {Names: []string{"a"}, Template: "t"}, {Names: []string{"../x"}}} {
		c, rec := newRecorder(t)
		if _, err := c.DeleteObjects(ctx, bck, sel); err == nil {
			t.Errorf("%+v: no error", sel)
		}
		wantRequests(t, rec)
	}
}

func TestClusterQueries(t *testing.T) {
	ctx := context.Background()
	t.Run("config keeps big numbers", func(t *testing.T) {
		c, rec := newRecorder(t, reply(200, `{"log":{"level":"3"},"big":18446744073709551615}`))
		cfg, err := c.ClusterConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cfg["big"] != json.Number("18446744073709551615") || cfg["log"].(map[string]any)["level"] != "3" {
			t.Errorf("config %v", cfg)
		}
		wantRequests(t, rec, "GET /v1/cluster?what=cluster_config")
	})
	t.Run("config null", func(t *testing.T) {
		c, _ := newRecorder(t, reply(200, `null`))
		if _, err := c.ClusterConfig(ctx); err == nil {
			t.Fatal("no error for null")
		}
	})
	t.Run("set config", func(t *testing.T) {
		c, rec := newRecorder(t, reply(200, ""), reply(400, `{"message":"unknown key","status":400}`))
		if err := c.SetClusterConfig(ctx, map[string]string{"log.level": "4", "checksum.type": "md5"}, api.SetConfigOptions{Transient: true}); err != nil {
			t.Fatal(err)
		}
		if err := c.SetClusterConfig(ctx, map[string]string{"x": "1"}, api.SetConfigOptions{}); !errors.Is(err, cluster.ErrBadRequest) {
			t.Errorf("err = %v, want ErrBadRequest", err)
		}
		if err := c.SetClusterConfig(ctx, nil, api.SetConfigOptions{}); !errors.Is(err, cluster.ErrBadRequest) {
			t.Errorf("empty: err = %v", err)
		}
		wantRequests(t, rec, "PUT /v1/cluster/set-config?checksum.type=md5&log.level=4&transient=true", "PUT /v1/cluster/set-config?x=1")
	})
	t.Run("bmd", func(t *testing.T) {
		bmd := cluster.NewBMD("u1")
		bmd.Version = 4
		bmd.Buckets["b1"] = cluster.DefaultBucketProps(1, time.Unix(0, 5))
		b, _ := json.Marshal(bmd)
		c, rec := newRecorder(t, reply(200, string(b)))
		got, err := c.BucketMetadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 4 || got.UUID != "u1" || got.Buckets["b1"] == nil || got.Buckets["b1"].Created != 5 {
			t.Errorf("bmd %+v", got)
		}
		wantRequests(t, rec, "GET /v1/daemon?what=bmd")
	})
	t.Run("reset props", func(t *testing.T) {
		c, rec := newRecorder(t, reply(200, ""))
		if _, err := c.ResetBucketProps(ctx, cluster.NewBucket("b")); err != nil {
			t.Fatal(err)
		}
		wantRequests(t, rec, `PATCH /v1/buckets/b?provider=ais {"action":"reset-bprops","value":null}`)
	})
}

// TestListLimitAndUUID pages through a listing with a limit: each page asks
// for at most what is still wanted, and later pages echo the first reply's
// UUID.
func TestListLimitAndUUID(t *testing.T) {
	page := func(token string, names ...string) func(http.ResponseWriter) {
		res := wire.LsoResult{UUID: "LsUUID123", ContinuationToken: token}
		for _, n := range names {
			res.Entries = append(res.Entries, &wire.LsoEntry{Name: n})
		}
		b, _ := json.Marshal(res)
		return reply(200, string(b))
	}
	c, rec := newRecorder(t, page("b", "a", "b"), page("c", "c"), page("", "d"))
	ents, err := c.ListObjects(context.Background(), cluster.NewBucket("b"),
		api.ListOptions{PageSize: 2, Limit: 3, Props: "name", Flags: wire.LsNoRecursion})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 3 || ents[2].Name != "c" {
		t.Errorf("entries %v", ents)
	}
	body := func(token string, ps int, uuid string) string {
		return `GET /v1/buckets/b?provider=ais {"action":"list","value":{"prefix":"","props":"name","continuation_token":"` + token +
			`","pagesize":` + string(rune('0'+ps)) + `,"uuid":"` + uuid + `","flags":"2048"}}`
	}
	wantRequests(t, rec, body("", 2, ""), body("b", 1, "LsUUID123"))
}

// TestClusterCallsOnRealCluster runs the calls above (whose request shapes
// the recorder checks) against a real in-process cluster.
func TestClusterCallsOnRealCluster(t *testing.T) {
	ctx := context.Background()
	c, nc := newClient(t)
	bck := mustCreate(t, c, "b")
	for _, n := range []string{"p/1", "p/22", "q"} {
		if _, err := c.PutObject(ctx, bck, n, strings.NewReader(n), api.PutOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("summary", func(t *testing.T) {
		res, err := c.BucketSummary(ctx, bck, api.SummaryOptions{Prefix: "p/", PollInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Name != "b" || res[0].ObjCount.Present != 2 || res[0].TotalSize.PresentObjs != 7 ||
			res[0].ObjSize.Min != 3 || res[0].ObjSize.Max != 4 || !res[0].IsPresent {
			t.Errorf("summary %+v", res)
		}
	})
	t.Run("config", func(t *testing.T) {
		cfg, err := c.ClusterConfig(ctx)
		if err != nil || cfg["config_version"] != "0" || cfg["checksum"].(map[string]any)["type"] != cluster.ChecksumXXHash2 {
			t.Fatalf("config %v, %v", cfg, err)
		}
		if err := c.SetClusterConfig(ctx, map[string]string{"checksum.validate_warm_get": "true"}, api.SetConfigOptions{Transient: true}); err != nil {
			t.Fatal(err)
		}
		if cfg, err = c.ClusterConfig(ctx); err != nil || cfg["config_version"] != "1" ||
			cfg["checksum"].(map[string]any)["validate_warm_get"] != true {
			t.Errorf("config after set: %v, %v", cfg, err)
		}
		if err := c.SetClusterConfig(ctx, map[string]string{"x": "1"}, api.SetConfigOptions{}); !errors.Is(err, cluster.ErrNotImplemented) {
			t.Errorf("unknown key: err = %v, want ErrNotImplemented", err)
		}
	})
	t.Run("bmd and reset props", func(t *testing.T) {
		bmd, err := c.BucketMetadata(ctx)
		if err != nil || bmd.Buckets["b"] == nil || bmd.Version != nc.Proxy().BMD().Version || bmd.UUID != nc.Proxy().BMD().UUID {
			t.Fatalf("bmd %+v, %v", bmd, err)
		}
		if _, err := c.ResetBucketProps(ctx, bck); err != nil {
			t.Fatal(err)
		}
		if v := nc.Proxy().BMD().Version; v != bmd.Version+1 {
			t.Errorf("bucket metadata v%d after a reset, want v%d", v, bmd.Version+1)
		}
	})
	t.Run("multi-object delete", func(t *testing.T) {
		id, err := c.DeleteObjects(ctx, bck, api.ObjectSelection{Names: []string{"q"}})
		if err != nil || !api.ValidJobID(id) {
			t.Fatalf("job %q, err %v", id, err)
		}
		nodetest.WaitFor(t, "the job to delete q", func() bool { _, ok := nc.Object("b", "q"); return !ok })
		if _, ok := nc.Object("b", "p/1"); !ok {
			t.Error("the job deleted an object it was not given")
		}
	})
	t.Run("list with a limit", func(t *testing.T) {
		ents, err := c.ListObjects(ctx, bck, api.ListOptions{PageSize: 1, Limit: 2})
		if err != nil || len(ents) != 2 || ents[0].Name != "p/1" || ents[1].Name != "p/22" {
			t.Fatalf("entries %v, %v", ents, err)
		}
	})
}
