package job

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
)

func TestStateMachine(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		steps     func(j *Job) []bool // what each step reported
		wantSteps []bool
		state     State
		err       error
	}{
		{"finish", func(j *Job) []bool { return []bool{j.Finish(nil)} }, []bool{true}, Finished, nil},
		{"finish with errors", func(j *Job) []bool { return []bool{j.Finish(boom)} }, []bool{true}, Finished, boom},
		{"abort", func(j *Job) []bool { return []bool{j.Abort(boom)} }, []bool{true}, Aborted, boom},
		{"abort without a reason", func(j *Job) []bool { return []bool{j.Abort(nil)} }, []bool{true}, Aborted, ErrStopped},
		{"abort after finish", func(j *Job) []bool { return []bool{j.Finish(nil), j.Abort(boom)} }, []bool{true, false}, Finished, nil},
		{"finish after abort", func(j *Job) []bool { return []bool{j.Abort(boom), j.Finish(nil)} }, []bool{true, false}, Aborted, boom},
		{"abort twice", func(j *Job) []bool { return []bool{j.Abort(boom), j.Abort(ErrStopped)} }, []bool{true, false}, Aborted, boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := New(context.Background(), Desc{ID: NewID(), Kind: wire.KindCopyBck})
			if !j.Running() || j.Context().Err() != nil {
				t.Fatal("a new job is not running")
			}
			select {
			case <-j.Done():
				t.Fatal("Done closed before the end")
			default:
			}
			got := tc.steps(j)
			for i := range got {
				if got[i] != tc.wantSteps[i] {
					t.Errorf("step %d reported %v, want %v", i, got[i], tc.wantSteps[i])
				}
			}
			st, end, err := j.State()
			if st != tc.state || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || end.IsZero() {
				t.Errorf("state %v, end %v, err %v; want %v, %v", st, end, err, tc.state, tc.err)
			}
			select {
			case <-j.Done():
			default:
				t.Error("Done not closed after the end")
			}
			if j.Context().Err() == nil {
				t.Error("the context is not cancelled after the end")
			}
			if tc.state == Aborted && !errors.Is(context.Cause(j.Context()), tc.err) {
				t.Errorf("context cause %v, want %v", context.Cause(j.Context()), tc.err)
			}
			snap, status := j.Snap(), j.Status()
			if snap.Aborted != (tc.state == Aborted) || status.Aborted != snap.Aborted || snap.EndTime.IsZero() || status.EndTime != end.UnixNano() {
				t.Errorf("snap %+v, status %+v", snap, status)
			}
			if tc.err != nil && (snap.Err != tc.err.Error() || status.Err != tc.err.Error()) {
				t.Errorf("snap err %q, status err %q, want %q", snap.Err, status.Err, tc.err)
			}
			if (snap.AbortErr != "") != (tc.state == Aborted) {
				t.Errorf("abort-err %q in state %v", snap.AbortErr, tc.state)
			}
		})
	}
}

func TestParentCancels(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	j := New(parent, Desc{ID: NewID(), Kind: wire.KindDeleteListRange})
	cancel()
	<-j.Context().Done()
	if !j.Running() {
		t.Error("cancelling the parent ended the job by itself: the runner must end it")
	}
}

func TestStats(t *testing.T) {
	j := New(context.Background(), Desc{ID: NewID(), Kind: wire.KindCopyBck})
	j.Stats.AddLoc(10)
	j.Stats.AddLoc(5)
	j.Stats.AddOut(5)
	j.Stats.AddIn(7)
	want := wire.JobStats{LocObjs: 2, LocBytes: 15, OutObjs: 1, OutBytes: 5, InObjs: 1, InBytes: 7}
	if got := j.Stats.Load(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

// TestSnapGolden checks the JSON of a snapshot, a status and AIStore's
// ArgsMsg against the shapes shared/aistore-clients.md section 6 shows.
func TestSnapGolden(t *testing.T) {
	start, err := time.Parse(time.RFC3339, "2026-12-01T08:08:58.26Z")
	if err != nil {
		t.Fatal(err)
	}
	src, dst := wire.BucketEntry{Name: "src", Provider: "ais"}, wire.BucketEntry{Name: "dst", Provider: "ais"}
	snap := wire.JobSnap{
		StartTime: start, Bck: src, SrcBck: src, DstBck: dst, ID: "J5y5lVxO0", Kind: wire.KindCopyBck,
		CtlMsg: "free text", Packed: 2,
		Stats: wire.JobStats{LocObjs: 3, LocBytes: 4006, OutObjs: 1, OutBytes: 1000, InObjs: 1, InBytes: 6},
	}
	status := wire.JobStatus{Kind: wire.KindCopyBck, UUID: "J5y5lVxO0", EndTime: 1796112551290581570}
	args := wire.JobArgs{ID: "J5y5lVxO0", Kind: wire.KindCopyBck, Bck: src}
	for _, tc := range []struct {
		file string
		v    any
		back any
	}{
		{"snap.json", snap, &wire.JobSnap{}},
		{"status.json", status, &wire.JobStatus{}},
		{"args.json", args, &wire.JobArgs{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			want = bytes.TrimSpace(want)
			got, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("JSON:\n got %s\nwant %s", got, want)
			}
			if err := json.Unmarshal(want, tc.back); err != nil {
				t.Fatalf("decode the sheet's JSON: %v", err)
			}
			again, _ := json.Marshal(tc.back)
			if !bytes.Equal(again, want) {
				t.Errorf("round trip:\n got %s\nwant %s", again, want)
			}
		})
	}
}

func TestJobSnap(t *testing.T) {
	src, dst := cluster.NewBucket("a"), cluster.NewBucket("b")
	j := New(context.Background(), Desc{ID: "J5y5lVxO0", Kind: wire.KindCopyBck, Bck: src, Src: src, Dst: dst})
	s := j.Snap()
	if !s.Running() || !s.EndTime.IsZero() || s.StartTime.Location() != time.UTC || s.SrcBck.Name != "a" || s.DstBck.Name != "b" ||
		s.Bck.Provider != "ais" {
		t.Errorf("running snap %+v", s)
	}
	b, _ := json.Marshal(s)
	if !bytes.Contains(b, []byte(`"end-time":"0001-01-01T00:00:00Z"`)) {
		t.Errorf("a running job's end-time: %s", b)
	}
	if st := j.Status(); st.EndTime != 0 || st.Finished() {
		t.Errorf("running status %+v", st)
	}
	reb := New(context.Background(), Desc{ID: RebalanceID(3), Kind: wire.KindRebalance})
	if b, _ := json.Marshal(reb.Snap()); !bytes.Contains(b, []byte(`"bck":{"name":"","provider":"","namespace":{"uuid":"","name":""}}`)) {
		t.Errorf("a bucket-less job's bck: %s", b)
	}
}

func TestStatusOf(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	snap := func(end time.Time, aborted bool, err string) wire.JobSnap {
		return wire.JobSnap{ID: "J5y5lVxO0", Kind: wire.KindCopyBck, EndTime: end, Aborted: aborted, AbortErr: map[bool]string{true: err}[aborted], Err: err}
	}
	tests := []struct {
		name    string
		snaps   []wire.JobSnap
		end     int64 // 0: running; -1: any non-zero
		aborted bool
		err     string
	}{
		{"all running", []wire.JobSnap{snap(time.Time{}, false, ""), snap(time.Time{}, false, "")}, 0, false, ""},
		{"one running", []wire.JobSnap{snap(t0, false, ""), snap(time.Time{}, false, "")}, 0, false, ""},
		{"all finished", []wire.JobSnap{snap(t0, false, ""), snap(t0.Add(time.Second), false, "")}, t0.Add(time.Second).UnixNano(), false, ""},
		{"one aborted", []wire.JobSnap{snap(t0, true, "target down"), snap(time.Time{}, false, "")}, t0.UnixNano(), true, "target down"},
		{"finished with errors", []wire.JobSnap{snap(t0, false, "2 failed"), snap(t0, false, "")}, t0.UnixNano(), false, "2 failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ok := StatusOf(tc.snaps)
			if !ok || st.EndTime != tc.end || st.Aborted != tc.aborted || st.Err != tc.err || st.UUID != "J5y5lVxO0" || st.Kind != wire.KindCopyBck {
				t.Errorf("status %+v, want end %d aborted %v err %q", st, tc.end, tc.aborted, tc.err)
			}
		})
	}
	if _, ok := StatusOf(nil); ok {
		t.Error("StatusOf(nil) is ok")
	}
}

func TestThrottle(t *testing.T) {
	busy := false
	th := &Throttle{Busy: func() bool { return busy }, Duty: 0.2}
	tests := []struct {
		name       string
		busy       bool
		remoteBusy bool
		took       time.Duration
		want       time.Duration
	}{
		{"idle: no pause", false, false, 10 * time.Millisecond, 0},
		{"busy: 1-duty of the time", true, false, 2 * time.Millisecond, 8 * time.Millisecond},
		{"busy peer", false, true, 2 * time.Millisecond, 8 * time.Millisecond},
		{"at least a millisecond", true, false, time.Microsecond, time.Millisecond},
		{"at most MaxPause", true, false, time.Second, DefaultMaxPause},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			busy = tc.busy
			if got := th.Pause(tc.took, tc.remoteBusy); got != tc.want {
				t.Errorf("pause %v, want %v", got, tc.want)
			}
		})
	}
	busy = true
	def := &Throttle{Busy: th.Busy}
	if got, want := def.Pause(time.Millisecond, false), time.Duration(float64(time.Millisecond)*(1-DefaultDuty)/DefaultDuty); got != want {
		t.Errorf("default duty: pause %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := th.Wait(ctx, time.Second, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context: %v", err)
	}
}

func TestSpecValidate(t *testing.T) {
	a, b := cluster.NewBucket("a"), cluster.NewBucket("b")
	id := NewID()
	tests := []struct {
		name string
		spec Spec
		ok   bool
	}{
		{"delete by names", Spec{ID: id, Kind: wire.KindDeleteListRange, Bck: a, ObjNames: []string{"x", "d/y"}}, true},
		{"delete by template", Spec{ID: id, Kind: wire.KindDeleteListRange, Bck: a, Template: "ck{1..3}.txt"}, true},
		{"delete by both", Spec{ID: id, Kind: wire.KindDeleteListRange, Bck: a, Template: "p", ObjNames: []string{"x"}}, false},
		{"delete by neither", Spec{ID: id, Kind: wire.KindDeleteListRange, Bck: a}, false},
		{"delete a bad name", Spec{ID: id, Kind: wire.KindDeleteListRange, Bck: a, ObjNames: []string{"../x"}}, false},
		{"delete a bad template", Spec{ID: id, Kind: wire.KindDeleteListRange, Bck: a, Template: "{3..1}"}, false},
		{"copy", Spec{ID: id, Kind: wire.KindCopyBck, Bck: a, Dst: b}, true},
		{"copy onto itself", Spec{ID: id, Kind: wire.KindCopyBck, Bck: a, Dst: a}, false},
		{"move without a destination", Spec{ID: id, Kind: wire.KindMoveBck, Bck: a}, false},
		{"rebalance", Spec{ID: RebalanceID(7), Kind: wire.KindRebalance}, true},
		{"make-n-copies", Spec{ID: id, Kind: wire.KindMakeNCopies, Bck: a, BMDVersion: 3}, true},
		{"make-n-copies without a bucket", Spec{ID: id, Kind: wire.KindMakeNCopies}, false},
		{"bad ID", Spec{ID: "short", Kind: wire.KindRebalance}, false},
		{"unknown kind", Spec{ID: id, Kind: "lru", Bck: a}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.spec.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeSpec(b)
			if (err == nil) != tc.ok {
				t.Fatalf("DecodeSpec: %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, cluster.ErrBadRequest) && !errors.Is(err, cluster.ErrBadName) {
				t.Errorf("error %v is neither a bad request nor a bad name", err)
			}
			if err == nil && (got.ID != tc.spec.ID || got.Bck != tc.spec.Bck || got.Dst != tc.spec.Dst) {
				t.Errorf("round trip %+v, want %+v", got, tc.spec)
			}
		})
	}
}
