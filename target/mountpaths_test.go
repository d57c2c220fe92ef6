package target_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/api/wire"
)

// TestTargetMountpathActions drives /v1/daemon/mountpaths as the proxy
// relays AIStore's CLI: an attach and a detach with resilver jobs (kind
// resilver in the job query), what=mountpaths after each, objects readable
// throughout, and the refusals.
func TestTargetMountpathActions(t *testing.T) {
	tg := startTarget(t, []string{"b"})
	const n = 60
	for i := range n {
		if resp, body := request(t, "PUT", tg.nc.URL()+"/v1/objects/b/o"+fmt.Sprint(i), strings.NewReader(fmt.Sprint(i)), nil); resp.StatusCode != 200 {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
	}
	action := func(method, act, path, query string) (int, string) {
		t.Helper()
		resp, body := request(t, method, tg.url+"/v1/daemon/mountpaths"+query,
			strings.NewReader(`{"action":"`+act+`","value":"`+path+`"}`), map[string]string{"Content-Type": "application/json"})
		return resp.StatusCode, string(body)
	}
	list := func() wire.MountpathList {
		t.Helper()
		resp, body := request(t, "GET", tg.url+"/v1/daemon?what=mountpaths", nil, nil)
		var ml wire.MountpathList
		if resp.StatusCode != 200 || json.Unmarshal(body, &ml) != nil {
			t.Fatalf("what=mountpaths: %d %s", resp.StatusCode, body)
		}
		return ml
	}
	readAll := func() {
		t.Helper()
		for i := range n {
			if resp, body := request(t, "GET", tg.nc.URL()+"/v1/objects/b/o"+fmt.Sprint(i), nil, nil); resp.StatusCode != 200 || string(body) != fmt.Sprint(i) {
				t.Fatalf("GET o%d: %d %q", i, resp.StatusCode, body)
			}
		}
	}
	// waitMoved waits until the count of object files in dir satisfies want.
	waitMoved := func(dir string, want func(int) bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			k := 0
			filepath.WalkDir(filepath.Join(dir, "@ais", "b", "%ob"), func(_ string, d os.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					k++
				}
				return nil
			})
			if want(k) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s holds %d objects", dir, k)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	added := t.TempDir()
	if s, b := action("PUT", "attach-mp", added, ""); s != 200 || b != "" {
		t.Fatalf("attach: %d %q", s, b)
	}
	waitMoved(added, func(k int) bool { return k > n/(len(tg.mps)+1)/2 })
	readAll()
	if ml := list(); len(ml.Available) != len(tg.mps)+1 || !slices.Contains(ml.Available, added) {
		t.Fatalf("after attach: %+v", ml)
	}
	if s, b := action("DELETE", "detach-mp", added, ""); s != 200 {
		t.Fatalf("detach: %d %q", s, b)
	}
	waitMoved(added, func(k int) bool { return k == 0 })
	for deadline := time.Now().Add(10 * time.Second); slices.Contains(slices.Concat(list().Available, list().WaitingDD), added); {
		if time.Now().After(deadline) {
			t.Fatalf("detached mountpath still listed: %+v", list())
		}
		time.Sleep(20 * time.Millisecond)
	}
	readAll()

	for _, tc := range []struct {
		method, act, path, query string
		want                     int
	}{
		{"DELETE", "detach-mp", "/no/such", "", 404},
		{"POST", "enable-mp", "/no/such", "", 404},
		{"PUT", "attach-mp", "relative", "", 400},
		{"PUT", "attach-mp", filepath.Join(t.TempDir(), "missing"), "", 400},
		{"PUT", "attach-mp", tg.mps[0], "", 409},
		{"POST", "disable-mp", tg.mps[0], "?dntres=maybe", 400},
		{"PUT", "detach-mp", tg.mps[0], "", 400},
		{"POST", "fshc-mp", tg.mps[0], "", 501},
	} {
		if s, b := action(tc.method, tc.act, tc.path, tc.query); s != tc.want {
			t.Errorf("%s %s %s%s: %d %s, want %d", tc.method, tc.act, tc.path, tc.query, s, b, tc.want)
		}
	}
	// Down to one mountpath, which stays.
	for _, mp := range tg.mps[1:] {
		if s, b := action("POST", "disable-mp", mp, "?dntres=true"); s != 200 {
			t.Fatalf("disable %s: %d %s", mp, s, b)
		}
	}
	if s, _ := action("DELETE", "detach-mp", tg.mps[0], ""); s != 400 {
		t.Fatalf("detach of the last mountpath: %d", s)
	}
	if ml := list(); !slices.Equal(ml.Available, tg.mps[:1]) || !slices.Equal(ml.Disabled, tg.mps[1:]) {
		t.Fatalf("after disabling: %+v", ml)
	}
	// Two resilvers ran (attach, detach); dntres=true started none.
	resp, body := request(t, "GET", tg.nc.URL()+"/v1/cluster?what=qryxstats", strings.NewReader(`{"kind":"resilver"}`), map[string]string{"Content-Type": "application/json"})
	var snaps wire.JobSnaps
	if resp.StatusCode != 200 || json.Unmarshal(body, &snaps) != nil {
		t.Fatalf("job query: %d %s", resp.StatusCode, body)
	}
	var jobs []wire.JobSnap
	for _, l := range snaps {
		jobs = append(jobs, l...)
	}
	if len(jobs) != 2 {
		t.Fatalf("resilver jobs: %+v", jobs)
	}
	for _, j := range jobs {
		if j.Kind != wire.KindResilver || j.Running() || j.Aborted && !strings.Contains(j.AbortErr, "superseded") || j.Err != "" {
			t.Errorf("resilver job: %+v", j)
		}
	}
}
