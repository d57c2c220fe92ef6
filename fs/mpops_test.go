package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"miniais/cluster"
)

// assertAllRead reads back objects o0..o(n-1) with content strconv.Itoa(i),
// and that each lies on its HRW mountpath when placed is set.
func assertAllRead(t *testing.T, s *Store, bck cluster.Bucket, n int, placed bool) {
	t.Helper()
	for i := range n {
		name := "o" + strconv.Itoa(i)
		got, a := get(t, s, bck, name)
		if string(got) != strconv.Itoa(i) || a.Version != "1" {
			t.Fatalf("%s: %q version %s", name, got, a.Version)
		}
		if hrw := s.Mountpaths().Select(bck.Uname(name)); placed && a.Mountpath != hrw.Path {
			t.Fatalf("%s on %s, HRW mountpath %s", name, a.Mountpath, hrw.Path)
		}
	}
}

func resilver(t *testing.T, s *Store) int64 {
	t.Helper()
	var moved atomic.Int64
	if err := s.Resilver(context.Background(), nil, func(int64) { moved.Add(1) }); err != nil {
		t.Fatal(err)
	}
	return moved.Load()
}

func TestAttachDetachResilver(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 1, mods...)
		bck := newBucket(t, s, "res")
		const n = 300
		for i := range n {
			put(t, s, bck, "o"+strconv.Itoa(i), []byte(strconv.Itoa(i)))
		}
		dirs := tempDirs(t, 2)
		for _, d := range dirs {
			if _, err := s.Attach(d); err != nil {
				t.Fatal(err)
			}
		}
		assertAllRead(t, s, bck, n, false) // before the resilver: found where they are
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() { // reads while the resilver moves them
			for !stop.Load() {
				for i := range n {
					if _, err := s.Head(context.Background(), bck, "o"+strconv.Itoa(i)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
		if moved := resilver(t, s); moved < n/2 {
			t.Errorf("resilver moved %d of %d onto 2 new mountpaths", moved, n)
		}
		stop.Store(true)
		wg.Wait()
		assertAllRead(t, s, bck, n, true)
		if moved := resilver(t, s); moved != 0 {
			t.Errorf("a second resilver moved %d", moved)
		}
		assertNoWorkFiles(t, s)

		// Detach with a resilver: leaving, out of placement, still read.
		first := s.Mountpaths().Available()[0]
		if err := s.Detach(first.Path, true); err != nil {
			t.Fatal(err)
		}
		if got := s.Mountpaths().Leaving(); len(got) != 1 || got[0] != first {
			t.Fatalf("leaving %v", got)
		}
		assertAllRead(t, s, bck, n, false)
		if done := s.FinishLeaving(); len(done) != 0 {
			t.Fatalf("FinishLeaving before the resilver: %v", done)
		}
		resilver(t, s)
		if done := s.FinishLeaving(); len(done) != 1 || done[0] != first.Path {
			t.Fatalf("FinishLeaving after the resilver: %v", done)
		}
		if s.Mountpaths().Len() != 2 || len(s.Mountpaths().Leaving()) != 0 {
			t.Fatalf("after detach: %v", s.Mountpaths().List())
		}
		assertAllRead(t, s, bck, n, true)

		// Disable with a resilver, then enable and resilver back.
		second := s.Mountpaths().Available()[0]
		if err := s.Disable(second.Path, true); err != nil {
			t.Fatal(err)
		}
		resilver(t, s)
		s.FinishLeaving()
		if d := s.Mountpaths().Disabled(); len(d) != 1 || d[0] != second {
			t.Fatalf("disabled %v", d)
		}
		assertAllRead(t, s, bck, n, true)
		if err := s.Enable(second.Path); err != nil {
			t.Fatal(err)
		}
		resilver(t, s)
		assertAllRead(t, s, bck, n, true)
		if s.Mountpaths().Len() != 2 {
			t.Fatalf("after enable: %v", s.Mountpaths().List())
		}
	})
}

func TestMountpathChangesRefused(t *testing.T) {
	s := newStore(t, 2)
	mps := s.Mountpaths().List()
	a, b := mps[0].Path, mps[1].Path
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"attach a file", attachErr(s, file), cluster.ErrBadRequest},
		{"attach a missing directory", attachErr(s, filepath.Join(t.TempDir(), "none")), cluster.ErrBadRequest},
		{"attach a nested directory", attachErr(s, mkdir(t, filepath.Join(a, "sub"))), cluster.ErrBadRequest},
		{"attach a parent", attachErr(s, filepath.Dir(a)), cluster.ErrBadRequest},
		{"attach again", attachErr(s, b), cluster.ErrExists},
		{"detach unknown", s.Detach("/no/such/mp", true), cluster.ErrNotFound},
		{"disable unknown", s.Disable("/no/such/mp", false), cluster.ErrNotFound},
		{"enable unknown", s.Enable("/no/such/mp"), cluster.ErrNotFound},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := s.Disable(a, false); err != nil {
		t.Fatal(err)
	}
	// b is the last one in placement.
	if err := s.Detach(b, false); !errors.Is(err, cluster.ErrBadRequest) {
		t.Fatalf("detach of the last mountpath: %v", err)
	}
	if err := s.Disable(b, true); !errors.Is(err, cluster.ErrBadRequest) {
		t.Fatalf("disable of the last mountpath: %v", err)
	}
	if got := s.Mountpaths().Available(); len(got) != 1 || got[0].Path != b {
		t.Fatalf("a refused change changed the set: %v", got)
	}
	if err := s.Enable(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Enable(a); err != nil { // already enabled: nothing to do
		t.Fatal(err)
	}
}

func attachErr(s *Store, path string) error {
	_, err := s.Attach(path)
	return err
}

func mkdir(t *testing.T, path string) string {
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMountpathRemovedIsDisabled removes a mountpath directory under the
// store: a Put whose HRW mountpath it is disables it and lands on another,
// the health check of the others passes, and the objects on them read.
func TestMountpathRemovedIsDisabled(t *testing.T) {
	s := newStore(t, 3)
	bck := newBucket(t, s, "fault")
	const n = 200
	for i := range n {
		put(t, s, bck, "o"+strconv.Itoa(i), []byte(strconv.Itoa(i)))
	}
	gone := s.Mountpaths().List()[1]
	if err := os.RemoveAll(gone.Path); err != nil {
		t.Fatal(err)
	}
	// A Put to the removed mountpath detects it.
	name := ""
	for i := range n {
		if s.Mountpaths().Select(bck.Uname("o"+strconv.Itoa(i))) == gone {
			name = "o" + strconv.Itoa(i)
			break
		}
	}
	a := put(t, s, bck, name, []byte("again"))
	if a.Mountpath == gone.Path {
		t.Fatalf("put landed on the removed mountpath")
	}
	if d := s.Mountpaths().Disabled(); len(d) != 1 || d[0] != gone {
		t.Fatalf("disabled %v, want %s", d, gone.Path)
	}
	if _, err := os.Stat(gone.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the removed mountpath was made again: %v", err)
	}
	if got := s.CheckMountpaths(); len(got) != 0 {
		t.Fatalf("CheckMountpaths disabled healthy ones: %v", got)
	}
	lost := 0
	for i := range n {
		o := "o" + strconv.Itoa(i)
		if o == name {
			continue
		}
		got, a, err := tryGet(s, bck, o)
		switch {
		case errors.Is(err, cluster.ErrNotFound):
			lost++
		case err != nil:
			t.Fatalf("%s: %v", o, err)
		case string(got) != strconv.Itoa(i) || a.Mountpath == gone.Path:
			t.Fatalf("%s: %q on %s", o, got, a.Mountpath)
		}
	}
	if lost == 0 || lost > n/2 {
		t.Fatalf("%d of %d objects lost with one of 3 mountpaths", lost, n)
	}
	// A directory renamed away is found by the periodic check.
	other := s.Mountpaths().List()[0]
	if err := os.Rename(other.Path, other.Path+".away"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(other.Path + ".away") })
	if got := s.CheckMountpaths(); len(got) != 1 || got[0] != other.Path {
		t.Fatalf("CheckMountpaths after a rename: %v", got)
	}
}

func tryGet(s *Store, bck cluster.Bucket, name string) ([]byte, ObjectAttrs, error) {
	obj, err := s.Open(context.Background(), bck, name, GetOptions{Validate: true})
	if err != nil {
		return nil, ObjectAttrs{}, err
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	return b, obj.Attrs, err
}

// TestMountpathBuckets: an empty bucket survives the detach of the
// mountpaths it was created on (attach makes it on the new one), a bucket
// destroyed while a mountpath was disabled does not come back with it, and
// one created meanwhile is there.
func TestMountpathBuckets(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 2)
	empty := newBucket(t, s, "empty")
	doomed := newBucket(t, s, "doomed")
	for i := range 50 {
		put(t, s, doomed, "o"+strconv.Itoa(i), []byte("x"))
	}
	orig := slices.Clone(s.Mountpaths().List())
	added, err := s.Attach(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, mp := range orig {
		if err := s.Detach(mp.Path, true); err != nil {
			t.Fatal(err)
		}
	}
	resilver(t, s)
	if done := s.FinishLeaving(); len(done) != 2 {
		t.Fatalf("FinishLeaving: %v", done)
	}
	if !s.BucketExists(empty) {
		t.Fatal("the empty bucket was lost with its mountpaths")
	}
	put(t, s, empty, "now", []byte("y"))

	other, err := s.Attach(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	resilver(t, s)
	if err := s.Disable(added.Path, false); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyBucket(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	born := newBucket(t, s, "born")
	if err := s.Enable(added.Path); err != nil {
		t.Fatal(err)
	}
	if s.BucketExists(doomed) {
		t.Fatal("a bucket destroyed while its mountpath was disabled came back")
	}
	if _, _, err := s.List(ctx, doomed, ListOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("List of the destroyed bucket: %v", err)
	}
	for _, mp := range []*Mountpath{added, other} {
		if !isDir(objectsDir(mp, born)) || !isDir(objectsDir(mp, empty)) {
			t.Fatalf("buckets missing on %s", mp.Path)
		}
	}
}

// TestBucketIDs: CreateBucket records the bucket ID on every mountpath and
// refuses another ID there; a mountpath that was out while its bucket was
// destroyed and created again (another ID) has the old one trashed when it
// is enabled, so its objects do not show up in the new bucket.
func TestBucketIDs(t *testing.T) {
	s := newStore(t, 2)
	ctx := context.Background()
	bck := cluster.NewBucket("ids")
	if err := s.CreateBucket(ctx, bck, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, bck, 7); err != nil {
		t.Fatalf("the same ID again: %v", err)
	}
	if ids, err := s.BucketIDs(bck); err != nil || !slices.Equal(ids, []uint64{7}) {
		t.Fatalf("BucketIDs = %v, %v; want [7]", ids, err)
	}
	if err := s.CreateBucket(ctx, bck, 8); !errors.Is(err, cluster.ErrExists) {
		t.Fatalf("CreateBucket with another ID = %v, want ErrExists", err)
	}
	const n = 60
	for i := range n {
		put(t, s, bck, "old"+strconv.Itoa(i), []byte("old"))
	}
	out := s.Mountpaths().List()[0]
	if err := s.Disable(out.Path, false); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, bck, 9); err != nil {
		t.Fatal(err)
	}
	put(t, s, bck, "new", []byte("new"))
	if err := s.Enable(out.Path); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.BucketIDs(bck); err != nil || !slices.Equal(ids, []uint64{9}) {
		t.Fatalf("BucketIDs after the enable = %v, %v; want [9]", ids, err)
	}
	entries, _, err := s.List(ctx, bck, ListOptions{})
	if err != nil || len(entries) != 1 || entries[0].Name != "new" {
		t.Fatalf("the new bucket lists %d entries (%v), want only \"new\"", len(entries), err)
	}
}
