package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// The job tests (TestJobs*): multi-object delete, bucket copy and rename,
// rebalance as a job, the job queries AIStore's CLI sends, a target killed
// in the middle of a copy, foreground latency during a job, and a copy as
// one trace in Jaeger.

// putAll stores name -> content(name, sizeOf(name)) for every name, with
// workers concurrent PUTs.
func putAll(t testing.TB, ctx context.Context, c *api.Client, bck cluster.Bucket, names []string, workers int) {
	t.Helper()
	work := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for name := range work {
				data := content(name, sizeOf(name))
				if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
					select {
					case errs <- fmt.Errorf("PUT %s: %w", name, err):
					default:
					}
				}
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// sizeOf is the size of the test object name: 1 to 16 KiB, by its hash.
func sizeOf(name string) int { return 1 + int(xxhash.ChecksumString64(name)%(16<<10)) }

// listNames returns the sorted names of bck's objects.
func listNames(t testing.TB, ctx context.Context, c *api.Client, bck cluster.Bucket) []string {
	t.Helper()
	entries, err := c.ListObjects(ctx, bck, api.ListOptions{Props: "name"})
	if err != nil {
		t.Fatalf("list %s: %v", bck, err)
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name)
	}
	sort.Strings(out)
	return out
}

// waitJob waits for job id to end (polling every 100 ms) and returns its
// status; the test fails when it has not ended within d.
func waitJob(t testing.TB, ctx context.Context, c *api.Client, id string, d time.Duration) *wire.JobStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	st, err := c.WaitJob(ctx, id, api.WaitOptions{Poll: 100 * time.Millisecond, MaxPoll: 100 * time.Millisecond})
	if err != nil && !errors.Is(err, api.ErrJobAborted) {
		t.Fatalf("wait for job %s: %v", id, err)
	}
	return st
}

// TestJobsDeleteObjects deletes by template (with and without a step), by
// prefix and by list, through bin/ais as AIStore's CLI sends it, and
// checks that exactly the selected names are gone.
func TestJobsDeleteObjects(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "deljob")
	var names []string
	for i := range 13 {
		names = append(names, fmt.Sprintf("ck%d.txt", i))
	}
	for i := 1; i <= 12; i++ {
		names = append(names, fmt.Sprintf("shard-%04d.tar", i))
	}
	names = append(names, "ck1.txt.bak", "ck01.txt", "dir/a", "dir/b/c", "dirx", "other")
	putAll(t, ctx, c, bck, names, 8)
	want := slices.Clone(names)
	sort.Strings(want)
	drop := func(gone ...string) {
		want = slices.DeleteFunc(want, func(n string) bool { return slices.Contains(gone, n) })
	}
	jobIDLine := func(out string) string {
		i := strings.Index(out, "job ")
		if i < 0 {
			t.Fatalf("no job ID in %q", out)
		}
		return strings.Fields(out[i+4:])[0]
	}
	steps := []struct {
		args []string
		gone []string
	}{
		{[]string{"--template", "ck{1..3}.txt"}, []string{"ck1.txt", "ck2.txt", "ck3.txt"}},
		{[]string{"--template", "shard-{0002..0010..4}.tar"}, []string{"shard-0002.tar", "shard-0006.tar", "shard-0010.tar"}},
		{[]string{"--prefix", "dir/"}, []string{"dir/a", "dir/b/c"}},
		{[]string{"--list", "other,ck7.txt,nosuch"}, []string{"other", "ck7.txt"}},
	}
	for _, st := range steps {
		args := append([]string{"rmo", "ais://" + bck.Name}, st.args...)
		id := jobIDLine(ok(t, cl, args...))
		out := ok(t, cl, "job", "wait", id, "--refresh", "100ms")
		if !strings.Contains(out, "finished") {
			t.Errorf("ais job wait %s: %q", id, out)
		}
		drop(st.gone...)
		if got := listNames(t, ctx, c, bck); !slices.Equal(got, want) {
			t.Fatalf("after rmo %v: %q\nwant %q", st.args, got, want)
		}
		snaps, err := c.QueryJobs(ctx, api.JobQuery{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if tot := api.JobTotals(snaps, id); tot.LocObjs != int64(len(st.gone)) || len(snaps) != 3 {
			t.Errorf("job %s: %d objects deleted on %d targets, want %d on 3", id, tot.LocObjs, len(snaps), len(st.gone))
		}
	}
	// A malformed template is refused before any job starts; so is an
	// empty selection.
	for _, v := range []string{`{"template":"ck{3..1}","objnames":null}`, `{"template":"","objnames":null}`, `{"template":"x","objnames":["y"]}`} {
		st, body := sendJSON(t, ctx, "DELETE", cl.ProxyURL()+"/v1/buckets/"+bck.Name+"?provider=ais", `{"action":"delete-listrange","value":`+v+`}`)
		if st != http.StatusBadRequest {
			t.Errorf("delete-listrange %s: %d %s, want 400", v, st, body)
		}
	}
	if got := listNames(t, ctx, c, bck); !slices.Equal(got, want) {
		t.Fatalf("refused deletes changed the bucket: %q", got)
	}
}

// sendJSON sends method url with a JSON body and returns the status and
// body.
func sendJSON(t testing.TB, ctx context.Context, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", wire.ContentJSON)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(b)
}

// aistoreKinds are the kinds AIStore's "ais show job" asks about, one
// qryxstats each (xact/api_table.go).
var aistoreKinds = []string{
	"archive", "blob-download", "cleanup-store", "copy-bck", "copy-listrange", "create-inventory", "delete-listrange",
	"dsort", "ec-encode", "ec-get", "ec-put", "ec-resp", "election", "etl-bck", "etl-inline", "etl-listrange",
	"evict-listrange", "evict-remote-bck", "get-batch", "list", "lru", "make-n-copies", "move-bck", "prefetch-listrange",
	"promote", "put-copies", "rebalance", "rechunk", "resilver", "summary-bck", "warm-up-metadata", "download",
}

// TestJobsCLI runs the request sequences of AIStore's "ais show job", "ais
// job wait", "ais job stop", "ais job start rebalance" and "ais show
// rebalance" (shared/aistore-clients.md section 1), and the same commands
// of bin/ais.
func TestJobsCLI(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	proxy := cl.ProxyURL()
	src := createBucket(t, ctx, c, "clisrc")
	var names []string
	for i := range 100 {
		names = append(names, fmt.Sprintf("o-%03d", i))
	}
	putAll(t, ctx, c, src, names, 8)
	var targetIDs []string
	for _, n := range cl.Targets() {
		targetIDs = append(targetIDs, n.ID)
	}
	slices.Sort(targetIDs)

	t.Run("ais show job (AIStore)", func(t *testing.T) {
		for _, kind := range aistoreKinds {
			body := fmt.Sprintf(`{"show_active":true,"bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"id":"","kind":%q}`, kind)
			st, b := sendJSON(t, ctx, "GET", proxy+"/v1/cluster?what=qryxstats", body)
			var snaps wire.JobSnaps
			if st != 200 || json.Unmarshal([]byte(b), &snaps) != nil {
				t.Fatalf("qryxstats %s: %d %s", kind, st, b)
			}
			if kind != wire.KindRebalance {
				if got := slices.Sorted(func(y func(string) bool) {
					for k := range snaps {
						if !y(k) {
							return
						}
					}
				}); !slices.Equal(got, targetIDs) || countAll(snaps) != 0 {
					t.Errorf("qryxstats %s: %s, want an empty array for each of %v", kind, b, targetIDs)
				}
			}
		}
		if st, b := sendJSON(t, ctx, "GET", proxy+"/v1/download", `{"id":"","regex":"","only_active_tasks":true}`); st != 200 || b != "[]" {
			t.Errorf("download list: %d %s", st, b)
		}
		if st, b := sendJSON(t, ctx, "GET", proxy+"/v1/sort?only_active=true&regex=", ""); st != 200 || b != "[]" {
			t.Errorf("dsort list: %d %s", st, b)
		}
	})

	t.Run("copy, wait, show (AIStore's requests)", func(t *testing.T) {
		st, id := sendJSON(t, ctx, "POST", proxy+"/v1/buckets/clisrc?bck_to=ais%2F%40%23%2Fclidst%2F&presence=2",
			`{"action":"copy-bck","value":{"ext":null,"prepend":"","prefix":"","dry_run":false,"force":false,"latest-ver":false,"synchronize":false}}`)
		if st != 200 || !api.ValidJobID(id) {
			t.Fatalf("copy-bck: %d %q", st, id)
		}
		// ais job wait ID: smap, qryxstats by ID (the kind), status until
		// end_time, a last qryxstats.
		if st, b := sendJSON(t, ctx, "GET", proxy+"/v1/cluster?what=qryxstats", `{"id":"`+id+`"}`); st != 200 || !strings.Contains(b, `"kind":"copy-bck"`) {
			t.Fatalf("qryxstats by ID: %d %s", st, b)
		}
		var status wire.JobStatus
		if !waitUntil(30*time.Second, func() bool {
			st, b := sendJSON(t, ctx, "GET", proxy+"/v1/cluster?what=status", `{"id":"`+id+`","kind":"copy-bck"}`)
			return st == 200 && json.Unmarshal([]byte(b), &status) == nil && status.EndTime != 0
		}) {
			t.Fatalf("job %s never ended: %+v", id, status)
		}
		if status.Aborted || status.Kind != wire.KindCopyBck || status.UUID != id || status.Err != "" {
			t.Errorf("status %+v", status)
		}
		st, b := sendJSON(t, ctx, "GET", proxy+"/v1/cluster?what=qryxstats", `{"id":"`+id+`"}`)
		var snaps wire.JobSnaps
		if st != 200 || json.Unmarshal([]byte(b), &snaps) != nil || len(snaps) != 2 {
			t.Fatalf("last qryxstats: %d %s", st, b)
		}
		if tot := api.JobTotals(snaps, id); tot.LocObjs != 100 || tot.OutObjs != tot.InObjs {
			t.Errorf("totals %+v, want 100 objects and out = in", tot)
		}
		for _, list := range snaps {
			for _, s := range list {
				if s.StartTime.IsZero() || s.EndTime.IsZero() || s.Aborted || s.SrcBck.Name != "clisrc" || s.DstBck.Name != "clidst" {
					t.Errorf("snap %+v", s)
				}
			}
		}
		if !strings.Contains(b, `"loc-objs":"`) || !strings.Contains(b, `"glob.id":"0"`) {
			t.Errorf("counters are not strings: %s", b)
		}
		if got := listNames(t, ctx, c, cluster.NewBucket("clidst")); !slices.Equal(got, names) {
			t.Errorf("destination has %d names, want %d", len(got), len(names))
		}
		// status_all lists it; an unknown ID is 404 everywhere.
		if st, b := sendJSON(t, ctx, "GET", proxy+"/v1/cluster?what=status_all", `{"kind":"copy-bck"}`); st != 200 || !strings.Contains(b, id) {
			t.Errorf("status_all: %d %s", st, b)
		}
		for _, what := range []string{"status", "qryxstats"} {
			if st, b := sendJSON(t, ctx, "GET", proxy+"/v1/cluster?what="+what, `{"id":"J5y5lVxO0"}`); st != 404 {
				t.Errorf("%s of an unknown job: %d %s", what, st, b)
			}
		}
		// ais job stop of a finished job: nothing to stop, 200.
		if st, b := sendJSON(t, ctx, "PUT", proxy+"/v1/cluster", `{"action":"stop","value":{"ID":"`+id+`","Kind":"copy-bck","DaemonID":"","Bck":{"name":"clisrc","provider":"ais","namespace":{"uuid":"","name":""}},"Buckets":null,"Timeout":0,"Force":false,"OnlyRunning":false}}`); st != 200 {
			t.Errorf("stop of a finished job: %d %s", st, b)
		}
		// bin/ais shows it.
		out := ok(t, cl, "show", "job", id)
		if !strings.Contains(out, id) || !strings.Contains(out, "finished") || !strings.Contains(out, "ais://clisrc => ais://clidst") {
			t.Errorf("ais show job %s:\n%s", id, out)
		}
		if out := ok(t, cl, "show", "job", "--all"); !strings.Contains(out, id) {
			t.Errorf("ais show job --all:\n%s", out)
		}
		if out := ok(t, cl, "job", "stop", id); !strings.Contains(out, "nothing to do") {
			t.Errorf("ais job stop of a finished job: %q", out)
		}
	})

	t.Run("refused options", func(t *testing.T) {
		for _, tc := range []struct{ query, value, want string }{
			{"bck_to=ais%2F%40%23%2Fx1%2F", `{"prepend":"p-"}`, "prepend"},
			{"bck_to=ais%2F%40%23%2Fx1%2F", `{"force":true}`, "force"},
			{"bck_to=ais%2F%40%23%2Fx1%2F", `{"synchronize":true}`, "synchronize"},
			{"bck_to=ais%2F%40%23%2Fx1%2F", `{"latest-ver":true}`, "latest-ver"},
			{"bck_to=ais%2F%40%23%2Fx1%2F", `{"ext":{"k":"v"}}`, "ext"},
			{"bck_to=gcp%2F%40%23%2Fx1%2F", `null`, "gcp"},
			{"bck_to=ais%2F%40other%2Fx1%2F", `null`, "namespace"},
		} {
			st, b := sendJSON(t, ctx, "POST", proxy+"/v1/buckets/clisrc?"+tc.query, `{"action":"copy-bck","value":`+tc.value+`}`)
			if st != http.StatusNotImplemented || !strings.Contains(b, tc.want) {
				t.Errorf("copy-bck %s %s: %d %s, want 501 naming %s", tc.query, tc.value, st, b, tc.want)
			}
		}
		if _, err := c.HeadBucket(ctx, cluster.NewBucket("x1")); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("a refused copy created its destination: %v", err)
		}
		for _, v := range []string{`{"Kind":"lru"}`, `{"Kind":"rebalance","DaemonID":"` + targetIDs[0] + `"}`, `{"Kind":"rebalance","Force":true}`} {
			if st, b := sendJSON(t, ctx, "PUT", proxy+"/v1/cluster", `{"action":"start","value":`+v+`}`); st != http.StatusNotImplemented {
				t.Errorf("start %s: %d %s, want 501", v, st, b)
			}
		}
	})

	t.Run("rebalance", func(t *testing.T) {
		// ais job start rebalance: text g<N>; ais show rebalance.
		st, id := sendJSON(t, ctx, "PUT", proxy+"/v1/cluster", `{"action":"start","value":{"ID":"","Kind":"rebalance","DaemonID":"","Bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"Buckets":null,"Timeout":0,"Force":false,"OnlyRunning":false}}`)
		if st != 200 || !api.ValidRebalanceID(id) {
			t.Fatalf("start rebalance: %d %q", st, id)
		}
		if s := waitJob(t, ctx, c, id, 30*time.Second); s.Aborted {
			t.Fatalf("rebalance %s aborted: %+v", id, s)
		}
		snaps, err := c.QueryJobs(ctx, api.JobQuery{Kind: wire.KindRebalance})
		if err != nil {
			t.Fatal(err)
		}
		for _, tid := range targetIDs {
			if !slices.ContainsFunc(snaps[tid], func(s wire.JobSnap) bool { return s.ID == id && !s.EndTime.IsZero() }) {
				t.Errorf("target %s has no finished %s: %+v", tid, id, snaps[tid])
			}
		}
		if out := ok(t, cl, "show", "rebalance", "--all"); !strings.Contains(out, id) || !strings.Contains(out, "finished") {
			t.Errorf("ais show rebalance --all:\n%s", out)
		}
		out := ok(t, cl, "job", "start", "rebalance")
		id2 := strings.TrimSpace(out[strings.LastIndex(out, " ")+1:])
		if !api.ValidRebalanceID(id2) || id2 == id {
			t.Fatalf("ais job start rebalance: %q", out)
		}
		if out := ok(t, cl, "job", "wait", id2, "--refresh", "100ms"); !strings.Contains(out, "finished") {
			t.Errorf("ais job wait %s: %q", id2, out)
		}
	})
}

func countAll(s wire.JobSnaps) int {
	n := 0
	for _, l := range s {
		n += len(l)
	}
	return n
}

// jobRunning tells whether job id has not ended (a failed query counts as
// running).
func jobRunning(ctx context.Context, c *api.Client, id string) bool {
	st, err := c.JobStatus(ctx, id)
	return err != nil || !st.Finished()
}

// checkCopy checks that every object of dst is byte-exact (its content is
// content(name, sizeOf(name))) and, with complete, that dst holds exactly
// want; it returns how many objects dst holds.
func checkCopy(t *testing.T, ctx context.Context, c *api.Client, dst cluster.Bucket, want []string, complete bool) int {
	t.Helper()
	entries, err := c.ListObjects(ctx, dst, api.ListOptions{})
	if err != nil {
		t.Fatalf("list %s: %v", dst, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
		data := content(e.Name, sizeOf(e.Name))
		if e.Size != int64(len(data)) || e.Checksum != xxh(data) {
			t.Errorf("%s/%s: size %d checksum %s, want %d %s", dst, e.Name, e.Size, e.Checksum, len(data), xxh(data))
		}
	}
	sort.Strings(names)
	if complete && !slices.Equal(names, want) {
		t.Errorf("%s holds %d objects, want the %d of the source", dst, len(names), len(want))
	}
	for _, n := range names {
		if _, ok := slices.BinarySearch(want, n); !ok {
			t.Errorf("%s holds %q, which the source never had", dst, n)
		}
	}
	return len(names)
}

// checkDisks reads every file of bucket on every mountpath: each must be
// a whole object (no partial object anywhere, visible or not).
func checkDisks(t *testing.T, cl *harness.Cluster, bucket string) {
	t.Helper()
	for _, mp := range allMountpaths(cl) {
		dir := filepath.Join(mp, "@ais", bucket, "%ob")
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			name, _ := filepath.Rel(dir, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v", path, err)
			} else if !bytes.Equal(b, content(name, sizeOf(name))) {
				t.Errorf("%s holds %d bytes that are not the object's %d", path, len(b), sizeOf(name))
			}
			return nil
		})
	}
}

// ownedByOther returns a name of names that a target other than id owns.
func ownedByOther(t *testing.T, smap *cluster.Map, bck cluster.Bucket, id string, names []string) string {
	t.Helper()
	for _, n := range names {
		if o, _ := smap.Owner(bck.Uname(n)); o != nil && o.ID != id {
			return n
		}
	}
	t.Fatalf("every name is owned by %s", id)
	return ""
}

// TestJobsRenameBucket renames a bucket of 1,500 objects while one target
// is frozen (SIGSTOP), so that the job is certainly running: meanwhile the
// source takes no writes and no other job (409 busy), reads are served,
// and the source still exists; once the target resumes, the job finishes,
// the source is gone and the destination holds every object. A copy stopped
// with "ais job stop" ends aborted by the user; "ais bucket mv --wait"
// renames a small bucket.
func TestJobsRenameBucket(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	src, dst := createBucket(t, ctx, c, "mvsrc"), cluster.NewBucket("mvdst")
	var names []string
	for i := range 1500 {
		names = append(names, fmt.Sprintf("m-%05d", i))
	}
	sort.Strings(names)
	putAll(t, ctx, c, src, names, 16)
	smap, err := c.ClusterMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frozen := cl.Targets()[0]
	busy := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, cluster.ErrBusy) {
			t.Errorf("%s while the rename runs: %v, want 409 busy", what, err)
		}
	}

	id, err := c.MoveBucket(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	cl.Signal(frozen, syscall.SIGSTOP)
	frozenAt := time.Now()
	if jobRunning(ctx, c, id) {
		_, err := c.PutObject(ctx, src, "new", strings.NewReader("x"), api.PutOptions{Size: 1})
		busy("PUT to the source", err)
		busy("DELETE in the source", c.DeleteObject(ctx, src, names[0]))
		busy("destroying the source", c.DestroyBucket(ctx, src))
		_, err = c.CopyBucket(ctx, src, cluster.NewBucket("mvother"), api.CopyBucketOptions{})
		busy("copying the source", err)
		_, err = c.MoveBucket(ctx, dst, cluster.NewBucket("mvother"))
		busy("renaming the destination", err)
		_, err = c.DeleteObjects(ctx, dst, api.ObjectSelection{Template: "m-"})
		busy("deleting from the destination", err)
		readable := ownedByOther(t, smap, src, frozen.ID, names)
		if _, err := c.GetObject(ctx, src, readable, io.Discard, api.GetOptions{}); err != nil {
			t.Errorf("GET from the source while the rename runs: %v", err)
		}
		if _, err := c.HeadBucket(ctx, src); err != nil {
			t.Errorf("the source is gone before the rename finished: %v", err)
		}
	} else {
		t.Errorf("the rename of 1,500 objects ended before a target could be frozen")
	}
	if d := time.Since(frozenAt); d > 3*time.Second {
		t.Errorf("the checks took %v: the proxy may have flagged %s down", d, frozen.Name)
	}
	cl.Signal(frozen, syscall.SIGCONT)
	if st := waitJob(t, ctx, c, id, time.Minute); st.Aborted || st.Err != "" || st.Kind != wire.KindMoveBck {
		t.Fatalf("rename %s: %+v", id, st)
	}
	if _, err := c.HeadBucket(ctx, src); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("the source survived the rename: %v", err)
	}
	checkCopy(t, ctx, c, dst, names, true)
	if _, err := c.MoveBucket(ctx, dst, dst); err == nil {
		t.Error("renaming a bucket onto itself was accepted")
	}
	other := createBucket(t, ctx, c, "mvexists")
	if _, err := c.MoveBucket(ctx, dst, other); !errors.Is(err, cluster.ErrExists) {
		t.Errorf("renaming onto an existing bucket: %v, want 409 exists", err)
	}

	t.Run("ais job stop", func(t *testing.T) {
		id, err := c.CopyBucket(ctx, dst, cluster.NewBucket("mvstopped"), api.CopyBucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Frozen for a second: "ais job stop" first asks every target
		// for the job (the frozen one answers once it thaws).
		cl.Signal(frozen, syscall.SIGSTOP)
		thawed := make(chan struct{})
		go func() { time.Sleep(time.Second); syscall.Kill(frozen.PID(), syscall.SIGCONT); close(thawed) }()
		defer func() { <-thawed }()
		if !jobRunning(ctx, c, id) {
			st, err := c.JobStatus(ctx, id)
			t.Fatalf("the copy ended before a target could be frozen: %+v %v", st, err)
		}
		if out := ok(t, cl, "job", "stop", id); !strings.Contains(out, "Stopped job "+id) {
			t.Errorf("ais job stop: %q", out)
		}
		st, err := c.JobStatus(ctx, id)
		if err != nil || !st.Aborted || !strings.Contains(st.Err, "stopped by the user") {
			t.Errorf("status after the stop: %+v, %v", st, err)
		}
		r := runAIS(t, cl, nil, nil, "job", "wait", id)
		if r.code != 1 || !strings.Contains(r.stderr, "aborted") {
			t.Errorf("ais job wait of a stopped job: exit %d, %q", r.code, r.stderr)
		}
	})

	t.Run("ais bucket mv --wait", func(t *testing.T) {
		if err := cl.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		small := createBucket(t, ctx, c, "mvsmall")
		putAll(t, ctx, c, small, names[:50], 8)
		out := ok(t, cl, "bucket", "mv", "ais://mvsmall", "ais://mvsmall2", "--wait", "--refresh", "100ms")
		if !strings.Contains(out, "finished: 50 objects") {
			t.Errorf("ais bucket mv: %q", out)
		}
		if _, err := c.HeadBucket(ctx, small); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("ais bucket mv left the source: %v", err)
		}
		checkCopy(t, ctx, c, cluster.NewBucket("mvsmall2"), names[:50], true)
		out = ok(t, cl, "bucket", "cp", "ais://mvsmall2", "ais://mvsmall3", "--prefix", "m-0000", "--wait", "--refresh", "100ms")
		if !strings.Contains(out, "finished: 10 objects") {
			t.Errorf("ais bucket cp --prefix: %q", out)
		}
		checkCopy(t, ctx, c, cluster.NewBucket("mvsmall3"), names[:10], true)
		out = ok(t, cl, "bucket", "cp", "ais://mvsmall2", "ais://mvsmall4", "--dry-run", "--wait", "--refresh", "100ms")
		if !strings.Contains(out, "finished: 50 objects") {
			t.Errorf("ais bucket cp --dry-run: %q", out)
		}
		if _, err := c.HeadBucket(ctx, cluster.NewBucket("mvsmall4")); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("a dry run created its destination: %v", err)
		}
	})
}

// TestJobsRebalance adds a target to a cluster of two holding objects: the
// rebalance its map version starts is a job "g<version>" on every target,
// which ends finished; what the old targets sent is what the new one
// received, and "ais show rebalance --all" shows it.
func TestJobsRebalance(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "rebjob")
	var names []string
	for i := range 300 {
		names = append(names, fmt.Sprintf("r-%04d", i))
	}
	putAll(t, ctx, c, bck, names, 8)
	joined := startExtraTarget(t, cl)
	smap := waitTargets(t, ctx, cl, 3)
	id := fmt.Sprintf("g%d", smap.Version)
	var snaps wire.JobSnaps
	if !waitUntil(30*time.Second, func() bool {
		var err error
		snaps, err = c.QueryJobs(ctx, api.JobQuery{ID: id})
		if err != nil || len(snaps) != 3 {
			return false
		}
		for _, l := range snaps {
			if len(l) != 1 || l[0].Running() {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("rebalance %s did not end on every target: %+v", id, snaps)
	}
	tot := api.JobTotals(snaps, id)
	in := snaps[joined][0].Stats.InObjs
	t.Logf("rebalance %s: %d objects sent, %d received, %d by the new target", id, tot.OutObjs, tot.InObjs, in)
	if tot.OutObjs == 0 || tot.OutObjs != tot.InObjs || in != tot.InObjs {
		t.Errorf("rebalance %s: totals %+v, the new target received %d", id, tot, in)
	}
	for tid, l := range snaps {
		if l[0].Aborted || l[0].Err != "" || l[0].Kind != wire.KindRebalance {
			t.Errorf("%s on %s: %+v", id, tid, l[0])
		}
	}
	if out := ok(t, cl, "show", "rebalance", "--all"); !strings.Contains(out, id) || !strings.Contains(out, joined) {
		t.Errorf("ais show rebalance --all:\n%s", out)
	}
	if got := listNames(t, ctx, c, bck); len(got) != len(names) {
		t.Errorf("%d objects after the rebalance, want %d", len(got), len(names))
	}
}

// TestJobsTrace runs "ais bucket cp --trace --wait" with tracing on and
// reads the trace back from Jaeger: the CLI's command is the root; the
// proxy's job span ("job copy-bck") is a child of its request span and
// ends with the job; every target's share is one span under it, with one
// span per batch of objects carrying the counters, and no span per object.
func TestJobsTrace(t *testing.T) {
	j := harness.StartJaeger(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, LogLevel: "info", TracingEndpoint: j.OTLPEndpoint(),
		Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=0.01"}, TargetArgs: []string{"-fsync=never"}})
	ctx := testContext(t)
	c := api.NewClient(cl.ProxyURL())
	src := createBucket(t, ctx, c, "trsrc")
	var names []string
	for i := range 700 {
		names = append(names, fmt.Sprintf("t-%04d", i))
	}
	putAll(t, ctx, c, src, names, 8)
	var targetIDs []string
	for _, tn := range cl.Targets() {
		targetIDs = append(targetIDs, tn.ID)
	}

	id := tracedCLI(t, cl, j, "bucket", "cp", "ais://trsrc", "ais://trdst", "--wait", "--refresh", "200ms")
	waitTrace(t, j, id, func(tr *harness.Trace) error {
		if o := tr.Orphans(); len(o) > 0 {
			return fmt.Errorf("%d orphan spans, first %s", len(o), o[0].OperationName)
		}
		roots := tr.Roots()
		if len(roots) != 1 || roots[0].OperationName != "ais bucket cp" {
			return fmt.Errorf("want one root \"ais bucket cp\", got %d roots", len(roots))
		}
		req, err := one(tr, svcProxy, "POST /v1/buckets/{bucket}")
		if err != nil {
			return err
		}
		jb, err := one(tr, svcProxy, "job copy-bck")
		if err != nil {
			return err
		}
		if p := tr.Parent(jb); p == nil || p.SpanID != req.SpanID {
			return fmt.Errorf("the job span's parent is %v, not the request span", p)
		}
		if jb.TagString("ais.job_state") != "finished" || jb.TagString("ais.loc_objs") != fmt.Sprint(len(names)) {
			return fmt.Errorf("job span: state %q, %s objects", jb.TagString("ais.job_state"), jb.TagString("ais.loc_objs"))
		}
		shares := tr.Find("job.share copy-bck")
		var got []string
		for _, s := range shares {
			if !hasAncestor(tr, s, jb) || tr.ServiceOf(s) != svcTarget {
				return fmt.Errorf("a share span is not a target span under the job span")
			}
			got = append(got, s.TagString("ais.node_id"))
		}
		slices.Sort(got)
		if !slices.Equal(got, slices.Sorted(slices.Values(targetIDs))) {
			return fmt.Errorf("share spans of %v, want one per target %v", got, targetIDs)
		}
		batches := tr.Find("job.batch")
		objects := 0
		for _, b := range batches {
			if !slices.ContainsFunc(shares, func(s *harness.Span) bool { return hasAncestor(tr, b, s) }) {
				return fmt.Errorf("a batch span is under no share")
			}
			var n int
			fmt.Sscan(b.TagString("ais.objects"), &n)
			objects += n
		}
		if objects != len(names) || len(batches) < len(targetIDs) {
			return fmt.Errorf("%d batch spans count %d objects, want %d in at least %d batches", len(batches), objects, len(names), len(targetIDs))
		}
		for _, op := range []string{"transport.send job-object", "transport.recv job-object", "fs.Put", "fs.Get", "fs.List"} {
			if n := len(tr.Find(op)); n > 0 {
				return fmt.Errorf("%d %q spans: a job must not trace single objects", n, op)
			}
		}
		if os.Getenv("JOBS_TRACE_DUMP") != "" {
			t.Log(tr.Dump())
		}
		if len(tr.Spans) > 200 {
			return fmt.Errorf("%d spans for a copy of %d objects", len(tr.Spans), len(names))
		}
		return nil
	})
	checkCopy(t, ctx, c, cluster.NewBucket("trdst"), names, true)
}

// The examples of the job rows of TestSurface (surface_test.go). Each
// waits for its job to end, so that no job writes while a later row's
// disks are compared.

// surfaceWait waits for job id to end and returns 200, or the failure.
func (e *surfaceEnv) surfaceWait(id string) (int, string) {
	e.t.Helper()
	if !api.ValidJobID(id) && !api.ValidRebalanceID(id) {
		e.t.Errorf("not a job ID: %q", id)
		return 500, id
	}
	st := waitJob(e.t, e.ctx, e.c, id, time.Minute)
	if st.Aborted || st.Err != "" {
		e.t.Errorf("job %s: %+v", id, st)
		return 500, st.Err
	}
	return 200, id
}

// surfaceBucketCopy copies the surface bucket to dst with AIStore's
// request and checks that x arrived.
func (e *surfaceEnv) surfaceBucketCopy(dst string) (int, string) {
	s, _, id := e.send("POST", e.bucket("bck_to=ais%2F%40%23%2F"+dst+"%2F&presence=2"), nil,
		`{"action":"copy-bck","value":{"ext":null,"prepend":"","prefix":"","dry_run":false,"force":false,"latest-ver":false,"synchronize":false}}`)
	if s != 200 {
		return s, id
	}
	if s, b := e.surfaceWait(id); s != 200 {
		return s, b
	}
	var buf bytes.Buffer
	if _, err := e.c.GetObject(e.ctx, cluster.NewBucket(dst), surfaceObject, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), surfaceContent) {
		e.t.Errorf("%s/%s after the copy: %q, %v", dst, surfaceObject, firstN(buf.String(), 100), err)
	}
	return 200, id
}

// surfaceBucketMove renames a bucket of its own.
func (e *surfaceEnv) surfaceBucketMove() (int, string) {
	from := createBucket(e.t, e.ctx, e.c, "surface-mv")
	if _, err := e.c.PutObject(e.ctx, from, "o", strings.NewReader("moved"), api.PutOptions{Size: 5}); err != nil {
		e.t.Fatal(err)
	}
	s, _, id := e.send("POST", e.proxy("/v1/buckets/surface-mv?bck_to=ais%2F%40%23%2Fsurface-mv2%2F"), nil, `{"action":"move-bck","value":null}`)
	if s != 200 {
		return s, id
	}
	if s, b := e.surfaceWait(id); s != 200 {
		return s, b
	}
	if _, err := e.c.HeadBucket(e.ctx, from); !errors.Is(err, cluster.ErrNotFound) {
		e.t.Errorf("the renamed bucket is still there: %v", err)
	}
	if _, err := e.c.HeadObject(e.ctx, cluster.NewBucket("surface-mv2"), "o"); err != nil {
		e.t.Errorf("the object did not move: %v", err)
	}
	return 200, id
}

// surfaceDeleteRange deletes two objects of the surface bucket by template.
func (e *surfaceEnv) surfaceDeleteRange() (int, string) {
	for _, n := range []string{"del-1", "del-2"} {
		if _, err := e.c.PutObject(e.ctx, e.bck, n, strings.NewReader("d"), api.PutOptions{Size: 1}); err != nil {
			e.t.Fatal(err)
		}
	}
	s, _, id := e.send("DELETE", e.bucket(""), nil, `{"action":"delete-listrange","value":{"template":"del-{1..2}","objnames":null}}`)
	if s != 200 {
		return s, id
	}
	if s, b := e.surfaceWait(id); s != 200 {
		return s, b
	}
	for _, n := range []string{"del-1", "del-2"} {
		if _, err := e.c.HeadObject(e.ctx, e.bck, n); !errors.Is(err, cluster.ErrNotFound) {
			e.t.Errorf("%s survived the delete: %v", n, err)
		}
	}
	return 200, id
}

// surfaceStartRebalance starts a rebalance as "ais job start rebalance".
func (e *surfaceEnv) surfaceStartRebalance() (int, string) {
	s, _, id := e.send("PUT", e.proxy("/v1/cluster"), nil, `{"action":"start","value":{"ID":"","Kind":"rebalance","DaemonID":"","Bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}},"Buckets":null,"Timeout":0,"Force":false,"OnlyRunning":false}}`)
	if s != 200 {
		return s, id
	}
	return e.surfaceWait(id)
}

// surfaceStop stops a dry-run copy (which writes nothing) by ID.
func (e *surfaceEnv) surfaceStop() (int, string) {
	id, err := e.c.CopyBucket(e.ctx, e.bck, cluster.NewBucket("surface-dry"), api.CopyBucketOptions{DryRun: true})
	if err != nil {
		e.t.Fatal(err)
	}
	s, _, b := e.send("PUT", e.proxy("/v1/cluster"), nil, `{"action":"stop","value":{"ID":"`+id+`","Kind":"copy-bck"}}`)
	if s != 200 {
		return s, b
	}
	st := waitJob(e.t, e.ctx, e.c, id, time.Minute)
	if !st.Finished() {
		e.t.Errorf("job %s after the stop: %+v", id, st)
	}
	return 200, b
}
