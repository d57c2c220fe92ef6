package fs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"miniais/cluster"
)

// withCopies makes the store's buckets have *n copies (read at every use,
// so a test changes it as the target's bucket metadata would).
func withCopies(n *atomic.Int64) func(*Config) {
	return func(c *Config) { c.Copies = func(cluster.Bucket) int { return int(n.Load()) } }
}

// copiesOn returns the mountpaths whose directories hold a file of name,
// read from the directories themselves.
func copiesOn(t *testing.T, s *Store, bck cluster.Bucket, name string) []string {
	t.Helper()
	var out []string
	for _, mp := range s.Mountpaths().List() {
		if fileExists(objectPath(mp, bck, name)) {
			out = append(out, mp.Path)
		}
	}
	return out
}

// assertPlaced checks that name lies on exactly its n HRW mountpaths, each
// copy with content want and version ver, and that Copies says so too.
func assertPlaced(t *testing.T, s *Store, bck cluster.Bucket, name string, n int, want []byte, ver string) {
	t.Helper()
	var places []string
	for _, mp := range s.Mountpaths().SelectN(bck.Uname(name), n, nil) {
		places = append(places, mp.Path)
		got, err := os.ReadFile(objectPath(mp, bck, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s on %s: %d bytes, %v; want %d bytes", name, mp.Path, len(got), err, len(want))
		}
		a, err := s.head(mp, bck, name)
		if err != nil || a.Version != ver || a.Size != int64(len(want)) || a.Checksum.Value != xxh(want) {
			t.Fatalf("%s on %s: attrs %+v, %v; want version %s", name, mp.Path, a, err, ver)
		}
	}
	on := copiesOn(t, s, bck, name)
	slices.Sort(places)
	if !slices.Equal(on, places) {
		t.Fatalf("%s is on %v, want %v", name, on, places)
	}
	got, err := s.Copies(context.Background(), bck, name)
	if err != nil || len(got) != n || got[0] != places0(s, bck, name) {
		t.Fatalf("Copies(%s) = %v, %v; want %d starting with its HRW mountpath", name, got, err, n)
	}
}

func places0(s *Store, bck cluster.Bucket, name string) string {
	return s.Mountpaths().Select(bck.Uname(name)).Path
}

func TestSelectN(t *testing.T) {
	s := newStore(t, 5)
	mps := s.Mountpaths()
	for i := range 200 {
		uname := "ais/b/o" + strconv.Itoa(i)
		top := mps.SelectN(uname, 3, nil)
		if len(top) != 3 || top[0] != mps.Select(uname) {
			t.Fatalf("SelectN(%s, 3) = %v, Select %v", uname, top, mps.Select(uname))
		}
		if top[1] == top[0] || top[2] == top[0] || top[1] == top[2] {
			t.Fatalf("SelectN(%s) repeats a mountpath: %v", uname, top)
		}
		if again := mps.SelectN(uname, 2, nil); !slices.Equal(again, top[:2]) {
			t.Fatalf("SelectN(%s, 2) = %v, not a prefix of %v", uname, again, top)
		}
		if all := mps.SelectN(uname, 9, nil); len(all) != 5 {
			t.Fatalf("SelectN(%s, 9) has %d, want all 5", uname, len(all))
		}
	}
	if allocs := testing.AllocsPerRun(100, func() {
		var buf [4]*Mountpath
		_ = mps.SelectN("ais/b/x", 3, buf[:0])
	}); allocs != 0 {
		t.Fatalf("SelectN allocates %v times", allocs)
	}
}

// TestMirrorWrites: with 2 copies, Put, a Writer's Commit and overwrites
// put each object on its two HRW mountpaths with the same metadata; List
// counts the copies once each; Delete removes both.
func TestMirrorWrites(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		var n atomic.Int64
		n.Store(2)
		s := newStore(t, 3, append(mods, withCopies(&n))...)
		bck := newBucket(t, s, "m")
		ctx := context.Background()
		const count = 40
		for i := range count {
			name := "d/o" + strconv.Itoa(i)
			data := randBytes(1000+i*700, uint64(i))
			a := put(t, s, bck, name, data)
			if a.Mountpath != places0(s, bck, name) || a.Version != "1" {
				t.Fatalf("Put %s: %+v", name, a)
			}
			assertPlaced(t, s, bck, name, 2, data, "1")
		}
		again := randBytes(300<<10, 99)
		put(t, s, bck, "d/o1", again)
		assertPlaced(t, s, bck, "d/o1", 2, again, "2")

		w, err := s.NewWriter(ctx, bck, "w", WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("written in pieces")); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx, CommitOptions{}); err != nil {
			t.Fatal(err)
		}
		assertPlaced(t, s, bck, "w", 2, []byte("written in pieces"), "1")

		entries, _, err := s.List(ctx, bck, ListOptions{})
		if err != nil || len(entries) != count+1 {
			t.Fatalf("List: %d entries, %v", len(entries), err)
		}
		for _, e := range entries {
			if e.Copies != 2 || e.Mountpath != places0(s, bck, e.Name) {
				t.Fatalf("listed %s with %d copies on %s", e.Name, e.Copies, e.Mountpath)
			}
		}
		if err := s.Delete(ctx, bck, "d/o1"); err != nil {
			t.Fatal(err)
		}
		if on := copiesOn(t, s, bck, "d/o1"); len(on) != 0 {
			t.Fatalf("deleted object still on %v", on)
		}
		assertNoWorkFiles(t, s)
	})
}

// TestMirrorSurvivesMountpathLoss removes a mountpath directory under a
// store whose bucket has 2 copies: every object still reads back whole,
// the health check disables the mountpath (OnFault is told), and a
// resilver brings every object back to 2 copies on the ones left.
func TestMirrorSurvivesMountpathLoss(t *testing.T) {
	var n atomic.Int64
	n.Store(2)
	var faults []string
	s := newStore(t, 3, withCopies(&n), func(c *Config) { c.OnFault = func(p string) { faults = append(faults, p) } })
	bck := newBucket(t, s, "m")
	const count = 120
	data := func(i int) []byte { return randBytes(100+i*37, uint64(i)) }
	for i := range count {
		put(t, s, bck, "o"+strconv.Itoa(i), data(i))
	}
	gone := s.Mountpaths().List()[0]
	if err := os.RemoveAll(gone.Path); err != nil {
		t.Fatal(err)
	}
	for i := range count {
		name := "o" + strconv.Itoa(i)
		got, a := get(t, s, bck, name)
		if !bytes.Equal(got, data(i)) || a.Mountpath == gone.Path {
			t.Fatalf("%s after the loss: %d bytes from %s", name, len(got), a.Mountpath)
		}
	}
	s.CheckMountpaths()
	if d := s.Mountpaths().Disabled(); len(d) != 1 || d[0].Path != gone.Path || !slices.Equal(faults, []string{gone.Path}) {
		t.Fatalf("disabled %v, OnFault %v; want %s", d, faults, gone.Path)
	}
	if f := s.Faulted(); len(f) != 1 || f[gone.Path] == "" {
		t.Fatalf("Faulted() = %v, want %s with its failure", f, gone.Path)
	}
	if moved := resilver(t, s); moved == 0 {
		t.Fatal("the resilver made no copy")
	}
	for i := range count {
		assertPlaced(t, s, bck, "o"+strconv.Itoa(i), 2, data(i), "1")
	}
	if moved := resilver(t, s); moved != 0 {
		t.Fatalf("a second resilver copied %d objects", moved)
	}
}

// TestMirrorCorruptCopy: a copy that fails validation or its size check is
// skipped for the other one; with both bad the read fails as corrupt.
func TestMirrorCorruptCopy(t *testing.T) {
	var n atomic.Int64
	n.Store(2)
	s := newStore(t, 2, withCopies(&n))
	bck := newBucket(t, s, "m")
	ctx := context.Background()
	data := randBytes(200<<10, 7)
	a := put(t, s, bck, "obj", data)
	first := objectPath(&Mountpath{Path: a.Mountpath}, bck, "obj")
	flip := func(path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte{data[1000] ^ 0xff}, 1000); err != nil {
			t.Fatal(err)
		}
	}
	flip(first)
	got, ga := get(t, s, bck, "obj")
	if !bytes.Equal(got, data) || ga.Mountpath == a.Mountpath {
		t.Fatalf("read %d bytes from %s, want the good copy", len(got), ga.Mountpath)
	}
	other := objectPath(&Mountpath{Path: ga.Mountpath}, bck, "obj")
	flip(other)
	if _, err := s.Open(ctx, bck, "obj", GetOptions{Validate: true}); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Open with both copies corrupt = %v, want ErrCorrupt", err)
	}
	put(t, s, bck, "obj", data)
	if err := os.Truncate(first, 10); err != nil {
		t.Fatal(err)
	}
	obj, err := s.Open(ctx, bck, "obj", GetOptions{})
	if err != nil || obj.Attrs.Mountpath == a.Mountpath {
		t.Fatalf("Open with the first copy truncated: %v", err)
	}
	obj.Close()
}

// TestMirrorChangeCopies: a bucket's resilver adds the copies when its
// number goes up and removes them when it goes down; other buckets are not
// touched.
func TestMirrorChangeCopies(t *testing.T) {
	var n atomic.Int64
	n.Store(1)
	s := newStore(t, 3, withCopies(&n))
	bck, other := newBucket(t, s, "m"), newBucket(t, s, "other")
	ctx := context.Background()
	const count = 50
	for i := range count {
		put(t, s, bck, "o"+strconv.Itoa(i), []byte(strconv.Itoa(i)))
		put(t, s, other, "o"+strconv.Itoa(i), []byte(strconv.Itoa(i)))
	}
	n.Store(3)
	var copied atomic.Int64
	if err := s.Resilver(ctx, &bck, func(int64) { copied.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if copied.Load() != count {
		t.Fatalf("copied %d objects, want %d", copied.Load(), count)
	}
	for i := range count {
		name := "o" + strconv.Itoa(i)
		assertPlaced(t, s, bck, name, 3, []byte(strconv.Itoa(i)), "1")
		if on := copiesOn(t, s, other, name); len(on) != 1 {
			t.Fatalf("other bucket's %s on %v", name, on)
		}
	}
	n.Store(1)
	if err := s.Resilver(ctx, &bck, func(int64) { t.Fatal("copied on the way down") }); err != nil {
		t.Fatal(err)
	}
	for i := range count {
		assertPlaced(t, s, bck, "o"+strconv.Itoa(i), 1, []byte(strconv.Itoa(i)), "1")
	}
}

// TestResilverKeepsNewest: a mountpath disabled without a resilver and
// enabled again holds an older version of an object rewritten meanwhile;
// the resilver keeps the newer one, wherever it lies.
func TestResilverKeepsNewest(t *testing.T) {
	s := newStore(t, 2)
	bck := newBucket(t, s, "m")
	put(t, s, bck, "obj", []byte("old"))
	hrw := places0(s, bck, "obj")
	if err := s.Disable(hrw, false); err != nil {
		t.Fatal(err)
	}
	put(t, s, bck, "obj", []byte("newer")) // on the other mountpath, version 1 again (the old one is invisible)
	put(t, s, bck, "obj", []byte("newest"))
	if err := s.Enable(hrw); err != nil {
		t.Fatal(err)
	}
	resilver(t, s)
	got, a := get(t, s, bck, "obj")
	if string(got) != "newest" || a.Mountpath != hrw {
		t.Fatalf("after the resilver: %q on %s, want \"newest\" on %s", got, a.Mountpath, hrw)
	}
	if on := copiesOn(t, s, bck, "obj"); len(on) != 1 {
		t.Fatalf("copies left on %v", on)
	}
}

// TestMirrorConflict: a name that conflicts ("a" against "a/b") on one of
// its copies' mountpaths only fails the Put, and nothing of it is left.
func TestMirrorConflict(t *testing.T) {
	var n atomic.Int64
	n.Store(1)
	s := newStore(t, 3, withCopies(&n))
	bck := newBucket(t, s, "m")
	mps := s.Mountpaths()
	name := ""
	for i := range 1000 { // a prefix p whose second copy lies where p/b does, but not its first
		p := "p" + strconv.Itoa(i)
		two := mps.SelectN(bck.Uname(p), 2, nil)
		if sub := mps.Select(bck.Uname(p + "/b")); sub != two[0] && sub == two[1] {
			name = p
			break
		}
	}
	if name == "" {
		t.Fatal("no such name")
	}
	put(t, s, bck, name+"/b", []byte("below"))
	n.Store(2)
	_, err := s.Put(context.Background(), bck, name, bytes.NewReader([]byte("x")), PutOptions{Size: 1})
	if !errors.Is(err, cluster.ErrExists) {
		t.Fatalf("Put of a conflicting name = %v, want ErrExists", err)
	}
	if on := copiesOn(t, s, bck, name); len(on) != 0 {
		t.Fatalf("the failed Put left %s on %v", name, on)
	}
	assertNoWorkFiles(t, s)
}

// TestCommitRechecksCopies: a write whose copies were made for one number
// of copies commits with the number current under the object's lock (a
// make-n-copies pass may have gone by meanwhile).
func TestCommitRechecksCopies(t *testing.T) {
	var n atomic.Int64
	s := newStore(t, 3, withCopies(&n))
	bck := newBucket(t, s, "m")
	ctx := context.Background()
	for _, tc := range []struct{ before, at int64 }{{1, 3}, {3, 2}, {2, 1}} {
		name := "o" + strconv.FormatInt(tc.before, 10) + strconv.FormatInt(tc.at, 10)
		data := randBytes(5000, uint64(tc.at))
		n.Store(tc.before)
		uname := bck.Uname(name)
		mp := s.Mountpaths().Select(uname)
		tmp, err := s.createTemp(mp, putPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write(data); err != nil {
			t.Fatal(err)
		}
		reps, err := s.replicate(ctx, bck, uname, mp, tmp, int64(len(data)), nil)
		if err != nil || len(reps) != int(tc.before)-1 {
			t.Fatalf("replicate: %d, %v", len(reps), err)
		}
		n.Store(tc.at)
		a := ObjectAttrs{Bucket: bck, Name: name, Size: int64(len(data)), Checksum: cluster.Checksum{Type: "xxhash2", Value: xxh(data)}}
		_, reps, err = s.commit(ctx, mp, uname, tmp, reps, &a, false)
		if err != nil {
			t.Fatal(err)
		}
		tmp.Close()
		s.dropReplicas(reps)
		assertPlaced(t, s, bck, name, int(tc.at), data, "1")
	}
	assertNoWorkFiles(t, s)
}
