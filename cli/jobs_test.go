package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
)

var jobIDIn = regexp.MustCompile(`job ([A-Za-z0-9_-]{9,32})`)

// TestJobCommands runs the job commands against an in-process cluster:
// bucket cp (with --prefix, --dry-run, --wait), rmo by template with job
// wait, bucket mv, show job (table and JSON), show rebalance, job start
// rebalance, job stop, and their usage errors.
func TestJobCommands(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c := api.NewClient(h.nc.URL())
	src := cluster.NewBucket("jsrc")
	if err := c.CreateBucket(ctx, src); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		name := fmt.Sprintf("o-%d", i)
		if _, err := c.PutObject(ctx, src, name, bytes.NewReader([]byte(name)), api.PutOptions{Size: int64(len(name))}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(bck string) int {
		t.Helper()
		entries, err := c.ListObjects(ctx, cluster.NewBucket(bck), api.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	jobOf := func(r result) string {
		t.Helper()
		m := jobIDIn.FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("no job ID in %q", r.stdout)
		}
		return m[1]
	}

	r := h.must("bucket", "cp", "ais://jsrc", "ais://jdst", "--wait", "--refresh", "10ms")
	copyID := jobOf(r)
	if !strings.Contains(r.stdout, "Copying ais://jsrc => ais://jdst") || !strings.Contains(r.stdout, "finished: 20 objects") || count("jdst") != 20 {
		t.Errorf("bucket cp: %q, %d objects copied", r.stdout, count("jdst"))
	}
	if r := h.must("bucket", "cp", "ais://jsrc", "ais://jpre", "--prefix", "o-1", "--wait", "--refresh", "10ms"); !strings.Contains(r.stdout, "finished: 11 objects") {
		t.Errorf("bucket cp --prefix: %q", r.stdout)
	}
	if r := h.must("bucket", "cp", "ais://jsrc", "ais://jdry", "--dry-run", "--wait", "--refresh", "10ms"); !strings.Contains(r.stdout, "Counting (dry run)") ||
		!strings.Contains(r.stdout, "finished: 20 objects") {
		t.Errorf("bucket cp --dry-run: %q", r.stdout)
	}
	if _, err := c.HeadBucket(ctx, cluster.NewBucket("jdry")); err == nil {
		t.Error("a dry run created its destination")
	}

	r = h.must("rmo", "ais://jdst", "--template", "o-{0..9..3}")
	delID := jobOf(r)
	if r := h.must("job", "wait", delID, "--refresh", "10ms"); !strings.Contains(r.stdout, "finished: 4 objects") {
		t.Errorf("job wait: %q", r.stdout)
	}
	if n := count("jdst"); n != 16 {
		t.Errorf("%d objects after deleting o-{0..9..3}, want 16", n)
	}

	r = h.must("bucket", "mv", "ais://jdst", "ais://jmoved", "--wait", "--refresh", "10ms")
	if !strings.Contains(r.stdout, "Renaming ais://jdst => ais://jmoved") || count("jmoved") != 16 {
		t.Errorf("bucket mv: %q", r.stdout)
	}

	r = h.must("show", "job", "--all")
	for _, want := range []string{"JOB ID", copyID, delID, "copy-bck", "delete-listrange", "move-bck", "ais://jsrc => ais://jdst", "finished"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show job --all lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := h.must("show", "job"); strings.Contains(r.stdout, copyID) {
		t.Errorf("show job (running only) lists a finished job:\n%s", r.stdout)
	}
	r = h.must("show", "job", copyID, "--json")
	var snaps wire.JobSnaps
	if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil || api.JobTotals(snaps, copyID).LocObjs != 20 {
		t.Errorf("show job --json: %v\n%s", err, r.stdout)
	}
	if r := h.must("show", "job", "copy-bucket", "--all"); !strings.Contains(r.stdout, copyID) || strings.Contains(r.stdout, delID) {
		t.Errorf("show job copy-bucket --all:\n%s", r.stdout)
	}
	if r := h.must("job", "stop", copyID); !strings.Contains(r.stdout, "has ended, nothing to do") {
		t.Errorf("job stop of a finished job: %q", r.stdout)
	}

	r = h.must("job", "start", "rebalance")
	rid := strings.TrimSpace(strings.TrimPrefix(r.stdout, "Started rebalance "))
	if !api.ValidRebalanceID(rid) {
		t.Fatalf("job start rebalance: %q", r.stdout)
	}
	h.must("job", "wait", rid, "--refresh", "10ms")
	if r := h.must("show", "rebalance", "--all"); !strings.Contains(r.stdout, rid) || !strings.Contains(r.stdout, "REBALANCE ID") {
		t.Errorf("show rebalance --all:\n%s", r.stdout)
	}
	if r := h.must("show", "rebalance"); !strings.Contains(r.stdout, "No rebalance is running") {
		t.Errorf("show rebalance with none running:\n%s", r.stdout)
	}

	// ais job start mirror: the in-process targets have two mountpaths.
	r = h.must("job", "start", "mirror", "--copies", "2", "ais://jsrc")
	mirrorID := jobOf(r)
	if !strings.Contains(r.stdout, "Mirroring ais://jsrc with 2 copies") {
		t.Errorf("job start mirror: %q", r.stdout)
	}
	if r := h.must("job", "wait", mirrorID, "--refresh", "10ms"); !strings.Contains(r.stdout, "finished: 20 objects") {
		t.Errorf("job wait (mirror): %q", r.stdout)
	}
	if r := h.must("show", "job", "mirror", "--all"); !strings.Contains(r.stdout, mirrorID) || !strings.Contains(r.stdout, wire.KindMakeNCopies) {
		t.Errorf("show job mirror --all:\n%s", r.stdout)
	}
	if p, err := c.HeadBucket(ctx, src); err != nil || p.Copies() != 2 {
		t.Errorf("after job start mirror: %+v, %v", p, err)
	}
	if r := h.must("object", "show", "ais://jsrc/o-1", "--props", "mirror.copies"); !strings.Contains(r.stdout, "mirror.copies  2") || strings.Contains(r.stdout, "size") {
		t.Errorf("object show --props mirror.copies:\n%s", r.stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"job", "wait", "nope"}, ExitUsage, "not a job ID"},
		{[]string{"job", "start", "lru"}, ExitUsage, "rebalance and mirror jobs only"},
		{[]string{"job", "start", "mirror", "ais://jsrc"}, ExitUsage, "needs a bucket and --copies N"},
		{[]string{"job", "start", "mirror", "--copies", "2"}, ExitUsage, "needs a bucket and --copies N"},
		{[]string{"job", "start", "rebalance", "ais://jsrc"}, ExitUsage, "takes no bucket"},
		{[]string{"job", "start", "mirror", "--copies", "3", "ais://jsrc"}, ExitError, "2 available mountpaths"},
		{[]string{"job", "start", "mirror", "--copies", "0", "ais://jsrc"}, ExitError, "must be 1 to 32"},
		{[]string{"object", "show", "ais://jsrc/o-1", "--props", "nosuch"}, ExitUsage, `unknown object property "nosuch"`},
		{[]string{"show", "job", "bogus!"}, ExitUsage, "neither a job ID nor a job kind"},
		{[]string{"bucket", "cp", "ais://jsrc", "ais://jsrc"}, ExitUsage, "same bucket"},
		{[]string{"bucket", "mv", "ais://jsrc", "ais://jmoved"}, ExitError, "already exists"},
		{[]string{"job", "wait", "J5y5lVxO0"}, ExitError, "not found"},
		{[]string{"job", "stop", "J5y5lVxO0"}, ExitError, "not found"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := h.run(tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}
