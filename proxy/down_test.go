package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/transport"
)

// TestListingWithoutSomeTargets lists a bucket over three fake targets:
// one that does not answer in time is left out and named (header, field,
// flag); one that refuses fails the listing; one flagged down is not
// asked and is named.
func TestListingWithoutSomeTargets(t *testing.T) {
	p := startProxy(t, t.TempDir(), nil, time.Hour)
	fakes := []*fakeTarget{startFakeTarget(t, "ta"), startFakeTarget(t, "tb"), startFakeTarget(t, "tc")}
	for _, ft := range fakes {
		ft.join(t, p)
	}
	if resp, body := do(t, "POST", p.url+"/v1/buckets/b1", `{"action":"create-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("create = %d %s", resp.StatusCode, body)
	}
	// Each target holds the names "<id>-0".."<id>-2"; mode says how it answers.
	var mode sync.Map // target ID -> "slow" or "refuse"
	release := make(chan struct{})
	defer close(release)
	for _, ft := range fakes {
		id := ft.node.ID
		ft.srv.Handle(transport.KindListObjects, func(ctx context.Context, _ *transport.Message, _ *transport.Header) ([]byte, error) {
			how, _ := mode.Load(id)
			switch how {
			case "slow":
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil, errors.New("too late")
			case "refuse":
				return nil, cluster.Errorf(cluster.ErrBadRequest, "%s refuses", id)
			}
			page := &wire.LsoResult{}
			for i := range 3 {
				page.Entries = append(page.Entries, &wire.LsoEntry{Name: id + "-" + string(rune('0'+i))})
			}
			return page.MarshalMsg(nil)
		})
	}
	list := func() (int, string, *wire.LsoResult) {
		t.Helper()
		resp, body := do(t, "GET", p.url+"/v1/buckets/b1", `{"action":"list","value":{"props":"name"}}`)
		var res wire.LsoResult
		if resp.StatusCode == 200 {
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, resp.Header.Get(wire.HdrIncomplete), &res
	}
	names := func(res *wire.LsoResult) string {
		var out []string
		for _, e := range res.Entries {
			out = append(out, e.Name)
		}
		return strings.Join(out, ",")
	}

	if code, hdr, res := list(); code != 200 || hdr != "" || res.Incomplete != nil || res.Flags != 0 || len(res.Entries) != 9 {
		t.Fatalf("all answering: %d %q %+v", code, hdr, res)
	}

	mode.Store("tb", "slow") // answers after the per-target timeout (PushTimeout)
	code, hdr, res := list()
	if code != 200 || hdr != "tb" || !slices.Equal(res.Incomplete, []string{"tb"}) || res.Flags&wire.LsoIncomplete == 0 {
		t.Fatalf("tb slow: %d %q %+v", code, hdr, res)
	}
	if got := names(res); got != "ta-0,ta-1,ta-2,tc-0,tc-1,tc-2" {
		t.Errorf("tb slow: entries %s", got)
	}

	mode.Store("tc", "refuse") // a refusal is an answer: the listing fails
	if resp, body := do(t, "GET", p.url+"/v1/buckets/b1", `{"action":"list","value":{"props":"name"}}`); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "tc refuses") {
		t.Errorf("tc refusing: %d %s", resp.StatusCode, body)
	}

	// Flagged down: not asked, named.
	mode.Clear()
	if _, _, err := p.updateSmap(context.Background(), func(m *cluster.Map) bool { m.Targets["ta"].Unresponsive = true; return true }); err != nil {
		t.Fatal(err)
	}
	code, hdr, res = list()
	if code != 200 || hdr != "ta" || !slices.Equal(res.Incomplete, []string{"ta"}) || names(res) != "tb-0,tb-1,tb-2,tc-0,tc-1,tc-2" {
		t.Errorf("ta down: %d %q %+v", code, hdr, res)
	}
	// Bucket create and destroy go on without it.
	before := len(fakes[0].received())
	if resp, body := do(t, "POST", p.url+"/v1/buckets/b2", `{"action":"create-bck"}`); resp.StatusCode != 200 {
		t.Fatalf("create with ta down = %d %s", resp.StatusCode, body)
	}
	if got := fakes[0].received()[before:]; slices.Contains(got, "txn-prepare") || slices.Contains(got, "txn-commit") {
		t.Errorf("the down target took part in the transaction: %v", got)
	}
}
