package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/tests/harness"
)

// TestMountpaths changes a running target's mountpaths as AIStore's CLI
// does ("ais storage mountpath attach|detach|disable|enable": the requests
// of shared/aistore-clients.md section 10, through the proxy's reverse
// route) while a reader GETs every object: an attach starts a resilver job
// that moves objects onto the new mountpath, a detach moves every object
// off before the mountpath leaves, disable and enable do the same; wrong
// paths and taking the last mountpath out are refused and change nothing.
// Then a mountpath directory is removed under the target: the target
// disables it on its own (shown in what=mountpaths, logged) and every object
// on the other mountpaths reads back.
func TestMountpaths(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 1, Mountpaths: 2, LogLevel: "info", TargetArgs: []string{"-fsync=never"}})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "mp")
	tgt := cl.Targets()[0]
	const n = 300
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("dir%d/obj-%d", i%7, i)
		data := content(names[i], 1000+i*37)
		if _, err := c.PutObject(ctx, bck, names[i], bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func(which []string) error {
		for _, name := range which {
			var buf bytes.Buffer
			if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil {
				return fmt.Errorf("GET %s: %w", name, err)
			}
			if !bytes.Equal(buf.Bytes(), content(name, 1000+indexOf(names, name)*37)) {
				return fmt.Errorf("GET %s: wrong content", name)
			}
		}
		return nil
	}
	// The reader: every object, over and over, until the removal below.
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			if err := readAll(names); err != nil {
				t.Errorf("while mountpaths change: %v", err)
				return
			}
			reads.Add(1)
		}
	})
	mpReq := func(method, action, path, query string) (int, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"action": action, "value": path})
		u := cl.ProxyURL() + "/v1/reverse/daemon/mountpaths"
		if query != "" {
			u += "?" + query
		}
		req, _ := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		req.Header.Set(wire.HdrNodeID, tgt.ID)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	must := func(method, action, path, query string) {
		t.Helper()
		if status, b := mpReq(method, action, path, query); status != http.StatusOK || b != "" {
			t.Fatalf("%s %s %s: %d %s", method, action, path, status, b)
		}
	}
	mountpaths := func() wire.MountpathList {
		t.Helper()
		var ml wire.MountpathList
		getJSON(t, ctx, cl.ProxyURL()+"/v1/reverse/daemon?what=mountpaths", map[string]string{wire.HdrNodeID: tgt.ID}, &ml)
		return ml
	}
	waitResilvers := func(want int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			snaps, err := c.QueryJobs(ctx, api.JobQuery{Kind: wire.KindResilver})
			if err != nil {
				t.Fatal(err)
			}
			list := snaps[tgt.ID]
			done := 0
			for _, s := range list {
				if !s.Running() {
					done++
				}
			}
			if len(list) >= want && done == len(list) {
				j := slices.MaxFunc(list, func(a, b wire.JobSnap) int { return a.StartTime.Compare(b.StartTime) })
				t.Logf("resilver %s (%s): %d objects in %v", j.ID, j.CtlMsg, j.Stats.LocObjs, j.EndTime.Sub(j.StartTime).Round(time.Millisecond))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("resilver jobs: %+v, want %d finished", list, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	orig := slices.Clone(tgt.Mountpaths)

	// Attach: a resilver moves objects onto the new mountpath.
	added := filepath.Join(t.TempDir(), "mp-new")
	if err := os.Mkdir(added, 0o755); err != nil {
		t.Fatal(err)
	}
	must(http.MethodPut, "attach-mp", added, "")
	waitResilvers(1)
	if ml := mountpaths(); len(ml.Available) != 3 || !slices.Contains(ml.Available, added) {
		t.Fatalf("after attach: %+v", ml)
	}
	onNew := countObjectFiles(t, added)
	if onNew < n/6 {
		t.Fatalf("after attach and resilver: %d of %d objects on the new mountpath", onNew, n)
	}
	total := onNew
	for _, mp := range orig {
		total += countObjectFiles(t, mp)
	}
	if total != n {
		t.Fatalf("after the resilver %d object files, want %d", total, n)
	}

	// Detach: every object moves off before the mountpath leaves.
	gone := orig[0]
	must(http.MethodDelete, "detach-mp", gone, "")
	waitResilvers(2)
	if ml := mountpaths(); len(ml.Available) != 2 || slices.Contains(ml.Available, gone) || len(ml.WaitingDD) != 0 {
		t.Fatalf("after detach: %+v", ml)
	}
	if k := countObjectFiles(t, gone); k != 0 {
		t.Fatalf("%d objects left on the detached mountpath", k)
	}

	// Disable (objects move off) and enable (they move back).
	must(http.MethodPost, "disable-mp", added, "")
	waitResilvers(3)
	if ml := mountpaths(); !slices.Equal(ml.Disabled, []string{added}) || len(ml.Available) != 1 {
		t.Fatalf("after disable: %+v", ml)
	}
	if k := countObjectFiles(t, added); k != 0 {
		t.Fatalf("%d objects left on the disabled mountpath", k)
	}
	// The last mountpath in use stays; unknown and bad paths are refused.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	for _, tc := range []struct {
		method, action, path string
		want                 int
	}{
		{http.MethodDelete, "detach-mp", orig[1], 400},
		{http.MethodPost, "disable-mp", orig[1], 400},
		{http.MethodDelete, "detach-mp", "/no/such/mountpath", 404},
		{http.MethodPost, "enable-mp", "/no/such/mountpath", 404},
		{http.MethodPut, "attach-mp", file, 400},
		{http.MethodPut, "attach-mp", filepath.Join(orig[1], "nested"), 400},
		{http.MethodPut, "attach-mp", "relative/path", 400},
		{http.MethodPost, "detach-mp", orig[1], 400}, // the action of another method
		{http.MethodPost, "rescan-mp", orig[1], 501},
	} {
		if tc.action == "attach-mp" && strings.HasSuffix(tc.path, "nested") {
			os.Mkdir(tc.path, 0o755)
		}
		if status, b := mpReq(tc.method, tc.action, tc.path, ""); status != tc.want {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.action, tc.path, status, b, tc.want)
		}
	}
	if ml := mountpaths(); !slices.Equal(ml.Available, []string{orig[1]}) || !slices.Equal(ml.Disabled, []string{added}) {
		t.Fatalf("after refused requests: %+v", ml)
	}
	must(http.MethodPost, "enable-mp", added, "")
	waitResilvers(4)
	if ml := mountpaths(); len(ml.Available) != 2 || len(ml.Disabled) != 0 {
		t.Fatalf("after enable: %+v", ml)
	}
	if k := countObjectFiles(t, added); k < n/6 {
		t.Fatalf("after enable: %d objects moved back", k)
	}
	// dntres=true: no resilver job.
	must(http.MethodPut, "attach-mp", gone, "dntres=true")
	time.Sleep(200 * time.Millisecond)
	if snaps, err := c.QueryJobs(ctx, api.JobQuery{Kind: wire.KindResilver}); err != nil || len(snaps[tgt.ID]) != 4 {
		t.Fatalf("resilver jobs after an attach with dntres: %+v %v", snaps, err)
	}
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d full read passes while mountpaths changed", reads.Load())

	// A mountpath directory removed under the running target.
	on := map[string]bool{} // objects on the removed one
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(added, "@ais", bck.Name, "%ob", name)); err == nil {
			on[name] = true
		}
	}
	if err := os.RemoveAll(added); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for ml := mountpaths(); !slices.Contains(ml.Disabled, added); ml = mountpaths() {
		if time.Now().After(deadline) {
			t.Fatalf("removed mountpath not disabled: %+v", ml)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var rest []string
	for _, name := range names {
		if !on[name] {
			rest = append(rest, name)
		}
	}
	if len(rest) == 0 || len(rest) == n {
		t.Fatalf("%d of %d objects on the other mountpaths", len(rest), n)
	}
	if err := readAll(rest); err != nil {
		t.Fatalf("after the removal: %v", err)
	}
	// A new PUT lands on a mountpath that works.
	data := content("after", 5000)
	if _, err := c.PutObject(ctx, bck, "after", bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(added); err == nil {
		t.Fatalf("the removed mountpath directory was made again")
	}
	if logs := cl.Logs(tgt); !strings.Contains(logs, "disabled") || !strings.Contains(logs, added) {
		t.Fatalf("the target did not log the disabled mountpath")
	}
}

// countObjectFiles counts the object files under mp.
func countObjectFiles(t *testing.T, mp string) int {
	t.Helper()
	n := 0
	root := filepath.Join(mp, "@ais")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.Contains(path, "/%ob/") {
			n++
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

func indexOf(names []string, name string) int { return slices.Index(names, name) }

// getJSON GETs u with headers hdr and decodes the 200 reply into v.
func getJSON(t *testing.T, ctx context.Context, u string, hdr map[string]string, v any) {
	t.Helper()
	if _, err := url.Parse(u); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	for k, val := range hdr {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}
