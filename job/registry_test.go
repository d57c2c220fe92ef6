package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
)

func TestIDs(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"J5y5lVxO0", true}, {"abcdefgh", false}, {"a-b_c-d-e", true}, {"-abcdefgh", false}, {"abcdefgh_", false},
		{"abcdefgh!", false}, {"0123456789abcdef0123456789abcdef", true}, {"0123456789abcdef0123456789abcdef0", false},
		{"g1", true}, {"g42", true}, {"g0", false}, {"g01", false}, {"g", false}, {"g+5", false}, {"g-5", false}, {"gx", false},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if got := ValidID(tc.id); got != tc.ok {
				t.Errorf("ValidID(%q) = %v, want %v", tc.id, got, tc.ok)
			}
		})
	}
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) || seen[id] {
			t.Fatalf("NewID made %q (valid %v, seen %v)", id, ValidID(id), seen[id])
		}
		if _, ok := ParseRebalanceID(id); ok {
			t.Fatalf("NewID made a rebalance ID %q", id)
		}
		seen[id] = true
	}
	if v, ok := ParseRebalanceID(RebalanceID(1234)); !ok || v != 1234 {
		t.Errorf("ParseRebalanceID(RebalanceID(1234)) = %d, %v", v, ok)
	}
}

func TestRegistry(t *testing.T) {
	a, b := cluster.NewBucket("a"), cluster.NewBucket("b")
	r := &Registry{}
	mk := func(kind string, bck, dst cluster.Bucket) *Job {
		j := New(context.Background(), Desc{ID: NewID(), Kind: kind, Bck: bck, Src: bck, Dst: dst})
		if err := r.Add(j); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // distinct start times: Select sorts by them
		return j
	}
	del := mk(wire.KindDeleteListRange, a, cluster.Bucket{})
	cp := mk(wire.KindCopyBck, a, b)
	mv := mk(wire.KindMoveBck, b, cluster.NewBucket("c"))
	cp.Finish(nil)
	if err := r.Add(New(context.Background(), Desc{ID: del.ID()})); !errors.Is(err, cluster.ErrExists) {
		t.Errorf("adding a duplicate ID: %v", err)
	}
	ids := func(js []*Job) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.ID())
		}
		return out
	}
	tests := []struct {
		name string
		f    Filter
		want []*Job
	}{
		{"all", Filter{}, []*Job{del, cp, mv}},
		{"by ID", Filter{ID: cp.ID()}, []*Job{cp}},
		{"unknown ID", Filter{ID: "nosuchjob1"}, nil},
		{"by kind", Filter{Kind: wire.KindMoveBck}, []*Job{mv}},
		{"by bucket (any role)", Filter{Bucket: b}, []*Job{cp, mv}},
		{"running", Filter{OnlyRunning: true}, []*Job{del, mv}},
		{"running on a", Filter{OnlyRunning: true, Bucket: a}, []*Job{del}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := ids(r.Select(tc.f)), ids(tc.want); !slices.Equal(got, want) {
				t.Errorf("Select = %v, want %v", got, want)
			}
		})
	}
}

func TestRegistryRetention(t *testing.T) {
	now := time.Now()
	r := &Registry{MaxEnded: 3, TTL: time.Minute, now: func() time.Time { return now }}
	var ended []*Job
	running := New(context.Background(), Desc{ID: NewID(), Kind: wire.KindCopyBck})
	r.Add(running)
	for i := range 5 {
		j := New(context.Background(), Desc{ID: fmt.Sprintf("ended-%04d", i), Kind: wire.KindCopyBck})
		r.Add(j)
		j.Finish(nil)
		ended = append(ended, j)
		time.Sleep(time.Millisecond)
	}
	// Five ended, three kept: the newest.
	if got := len(r.Select(Filter{})); got != 4 {
		t.Errorf("%d jobs kept, want 3 ended + 1 running", got)
	}
	for i, j := range ended {
		if kept := r.Get(j.ID()) != nil; kept != (i >= 2) {
			t.Errorf("ended job %d kept %v", i, kept)
		}
	}
	now = now.Add(2 * time.Minute)
	if got := r.Select(Filter{}); len(got) != 1 || got[0] != running {
		t.Errorf("after the TTL: %d jobs, want the running one only", len(got))
	}
	if r.Get(running.ID()) == nil {
		t.Error("a running job was dropped")
	}
}
