package fs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/cluster"
)

func TestWriterAppendAndCommit(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		ctx := context.Background()
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "b")
		put(t, s, bck, "o", []byte("old"))
		w, err := s.NewWriter(ctx, bck, "o", WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for i, piece := range [][]byte{[]byte("hello "), randBytes(300<<10, 1), {}, []byte("end")} {
			if n, err := w.Append(ctx, bytes.NewReader(piece), int64(len(piece)), cluster.Checksum{}); err != nil || n != int64(len(piece)) {
				t.Fatalf("append %d: %d, %v", i, n, err)
			}
			want = append(want, piece...)
			// Nothing is visible before Commit: the old version is served.
			if got, _ := get(t, s, bck, "o"); string(got) != "old" {
				t.Fatalf("before commit, o = %q", firstBytes(got))
			}
		}
		if w.Checksum().Value != xxh(want) {
			t.Fatalf("running checksum %v, want %s", w.Checksum(), xxh(want))
		}
		a, err := w.Commit(ctx, CommitOptions{Checksum: cluster.Checksum{Type: "xxhash", Value: xxh(want)}})
		if err != nil {
			t.Fatal(err)
		}
		got, ga := get(t, s, bck, "o")
		if !bytes.Equal(got, want) || ga.Checksum.Value != xxh(want) || a.Version != "2" || ga.Version != "2" {
			t.Fatalf("after commit: %d bytes %v v%s, want %d bytes %s v2", len(got), ga.Checksum, ga.Version, len(want), xxh(want))
		}
		assertNoWorkFiles(t, s)
	})
}

var errBoom = errors.New("boom")

func firstBytes(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

func TestWriterRollsBackAFailedPiece(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	w, err := s.NewWriter(ctx, bck, "o", WriterOptions{ChecksumType: "md5", MaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Append(ctx, strings.NewReader("keep"), 4, cluster.Checksum{}); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("piece"))
	for _, tt := range []struct {
		name   string
		r      io.Reader
		size   int64
		expect cluster.Checksum
		want   error
	}{
		{"short body", strings.NewReader("abc"), 10, cluster.Checksum{}, cluster.ErrBadRequest},
		{"long body", strings.NewReader("abcdef"), 2, cluster.Checksum{}, cluster.ErrBadRequest},
		{"reader error", &failingReader{data: randBytes(200<<10, 2), n: 150 << 10, fail: func() error { return errBoom }}, -1, cluster.Checksum{}, errBoom},
		{"bad checksum", strings.NewReader("piece"), 5, cluster.Checksum{Type: "md5", Value: strings.Repeat("0", 32)}, cluster.ErrChecksum},
		{"too large", bytes.NewReader(make([]byte, 2<<20)), -1, cluster.Checksum{}, cluster.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Append(ctx, tt.r, tt.size, tt.expect); !errors.Is(err, tt.want) {
				t.Fatalf("Append: %v, want %v", err, tt.want)
			}
			if w.Size() != 4 {
				t.Fatalf("after a failed piece the size is %d, want 4", w.Size())
			}
		})
	}
	if _, err := w.Append(ctx, strings.NewReader("piece"), 5, cluster.Checksum{Type: "md5", Value: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	want := md5.Sum([]byte("keeppiece"))
	a, err := w.Commit(ctx, CommitOptions{})
	if err != nil || a.Checksum.Value != hex.EncodeToString(want[:]) {
		t.Fatalf("commit: %v %v, want md5 %x", a.Checksum, err, want)
	}
	if got, _ := get(t, s, bck, "o"); string(got) != "keeppiece" {
		t.Fatalf("o = %q", got)
	}
}

func TestWriterCommitChecksumMismatch(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	for _, typ := range []string{"xxhash2", "sha256"} { // the same digest as the stored one, and another
		w, err := s.NewWriter(ctx, bck, "o", WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("data"))
		bad := cluster.Checksum{Type: typ, Value: strings.Repeat("0", map[string]int{"xxhash2": 16, "sha256": 64}[typ])}
		if _, err := w.Commit(ctx, CommitOptions{Checksum: bad}); !errors.Is(err, cluster.ErrChecksum) {
			t.Fatalf("%s: commit with a wrong checksum: %v", typ, err)
		}
		assertNotFound(t, s, bck, "o")
		assertNoWorkFiles(t, s)
	}
	w, _ := s.NewWriter(ctx, bck, "o", WriterOptions{})
	w.Write([]byte("data"))
	w.Abort()
	assertNotFound(t, s, bck, "o")
	assertNoWorkFiles(t, s)
}

func TestMultipart(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		ctx := context.Background()
		s := newStore(t, 3, mods...)
		bck := newBucket(t, s, "b")
		up, err := s.CreateUpload(ctx, bck, "big/object")
		if err != nil {
			t.Fatal(err)
		}
		if err := ParseUploadID(up.ID); err != nil {
			t.Fatal(err)
		}
		const n = 12
		parts := make([][]byte, n+1)
		var wg sync.WaitGroup
		errs := make(chan error, n+1)
		// Concurrently, in a random order, and part 3 twice (the second wins).
		order := rand.Perm(n)
		for _, i := range order {
			num := i + 1
			parts[num] = randBytes(int(rand.N(200<<10)), uint64(num))
			wg.Go(func() {
				_, err := s.PutPart(ctx, bck, "big/object", up.ID, num, bytes.NewReader(parts[num]), PartOptions{Size: int64(len(parts[num]))})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		parts[3] = []byte("part three, sent again")
		p3, err := s.PutPart(ctx, bck, "big/object", up.ID, 3, bytes.NewReader(parts[3]), PartOptions{Size: -1})
		if err != nil || p3.Checksum.Value != xxh(parts[3]) {
			t.Fatalf("part 3 again: %+v %v", p3, err)
		}
		assertNotFound(t, s, bck, "big/object")
		if ups := s.Uploads(bck); len(ups) != 1 || ups[0].Parts != n {
			t.Fatalf("Uploads = %+v", ups)
		}
		list := []CompletedPart{{Number: 2}}
		for i := n; i >= 1; i-- { // any order: assembled by number
			if i != 2 {
				list = append(list, CompletedPart{Number: i})
			}
		}
		list[1].ETag = `"` + p3.Checksum.Value + `"` // list[1] is part 12; a wrong ETag:
		if _, err := s.CompleteUpload(ctx, bck, "big/object", up.ID, list, CompleteOptions{}); !errors.Is(err, cluster.ErrBadRequest) {
			t.Fatalf("complete with a wrong ETag: %v", err)
		}
		list[1].ETag = ""
		var want []byte
		for i := 1; i <= n; i++ {
			want = append(want, parts[i]...)
		}
		a, err := s.CompleteUpload(ctx, bck, "big/object", up.ID, list, CompleteOptions{Checksum: cluster.Checksum{Type: "xxhash2", Value: xxh(want)}})
		if err != nil {
			t.Fatal(err)
		}
		got, ga := get(t, s, bck, "big/object")
		if !bytes.Equal(got, want) || a.Parts != n || ga.Parts != n || ga.Checksum.Value != xxh(want) {
			t.Fatalf("assembled %d bytes (parts %d, %v), want %d bytes, %d parts, %s", len(got), ga.Parts, ga.Checksum, len(want), n, xxh(want))
		}
		ents, _, err := s.List(ctx, bck, ListOptions{})
		if err != nil || len(ents) != 1 || ents[0].Parts != n {
			t.Fatalf("List: %+v %v", ents, err)
		}
		if len(s.Uploads(bck)) != 0 {
			t.Fatal("the upload outlived its completion")
		}
		if _, err := s.PutPart(ctx, bck, "big/object", up.ID, 1, strings.NewReader("x"), PartOptions{Size: 1}); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("part after completion: %v", err)
		}
		assertNoWorkFiles(t, s)
	})
}

func TestMultipartRefusals(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	other := newBucket(t, s, "c")
	up, err := s.CreateUpload(ctx, bck, "o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPart(ctx, bck, "o", up.ID, 1, strings.NewReader("one"), PartOptions{Size: 3}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		do   func() error
		want error
	}{
		{"part 0", func() error {
			_, err := s.PutPart(ctx, bck, "o", up.ID, 0, strings.NewReader("x"), PartOptions{Size: 1})
			return err
		}, cluster.ErrBadRequest},
		{"part 10001", func() error {
			_, err := s.PutPart(ctx, bck, "o", up.ID, MaxParts+1, strings.NewReader("x"), PartOptions{Size: 1})
			return err
		}, cluster.ErrBadRequest},
		{"part over 5 GiB", func() error {
			_, err := s.PutPart(ctx, bck, "o", up.ID, 2, strings.NewReader("x"), PartOptions{Size: MaxPartSize + 1})
			return err
		}, cluster.ErrTooLarge},
		{"another object's upload", func() error {
			_, err := s.PutPart(ctx, bck, "p", up.ID, 1, strings.NewReader("x"), PartOptions{Size: 1})
			return err
		}, cluster.ErrNotFound},
		{"another bucket's upload", func() error {
			_, err := s.CompleteUpload(ctx, other, "o", up.ID, []CompletedPart{{Number: 1}}, CompleteOptions{})
			return err
		}, cluster.ErrNotFound},
		{"unknown upload", func() error { return s.AbortUpload(ctx, bck, "o", "0123456789abcdef") }, cluster.ErrNotFound},
		{"no parts listed", func() error {
			_, err := s.CompleteUpload(ctx, bck, "o", up.ID, nil, CompleteOptions{})
			return err
		}, cluster.ErrBadRequest},
		{"a part twice", func() error {
			_, err := s.CompleteUpload(ctx, bck, "o", up.ID, []CompletedPart{{Number: 1}, {Number: 1}}, CompleteOptions{})
			return err
		}, cluster.ErrBadRequest},
		{"a missing part", func() error {
			_, err := s.CompleteUpload(ctx, bck, "o", up.ID, []CompletedPart{{Number: 1}, {Number: 2}}, CompleteOptions{})
			return err
		}, cluster.ErrBadRequest},
		{"too large", func() error {
			_, err := s.CompleteUpload(ctx, bck, "o", up.ID, []CompletedPart{{Number: 1}}, CompleteOptions{MaxSize: 2})
			return err
		}, cluster.ErrTooLarge},
		{"wrong whole checksum", func() error {
			_, err := s.CompleteUpload(ctx, bck, "o", up.ID, []CompletedPart{{Number: 1}}, CompleteOptions{Checksum: cluster.Checksum{Type: "xxhash2", Value: "0000000000000000"}})
			return err
		}, cluster.ErrChecksum},
		{"malformed ID", func() error { return ParseUploadID("../../etc") }, cluster.ErrBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
			assertNotFound(t, s, bck, "o")
		})
	}
	// Still usable after every refusal; then aborted, nothing is left.
	if ups := s.Uploads(bck); len(ups) != 1 || ups[0].Size != 3 {
		t.Fatalf("Uploads = %+v", ups)
	}
	if err := s.AbortUpload(ctx, bck, "o", up.ID); err != nil {
		t.Fatal(err)
	}
	assertNotFound(t, s, bck, "o")
	assertNoWorkFiles(t, s)
}

func TestMultipartExpiryAndDestroy(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 2)
	bck := newBucket(t, s, "b")
	old, _ := s.CreateUpload(ctx, bck, "old")
	s.PutPart(ctx, bck, "old", old.ID, 1, strings.NewReader("x"), PartOptions{Size: 1})
	fresh, _ := s.CreateUpload(ctx, bck, "fresh")
	s.ups.m[old.ID].info.Updated = time.Now().Add(-time.Hour)
	gone := s.ExpireUploads(time.Minute)
	if len(gone) != 1 || gone[0].ID != old.ID {
		t.Fatalf("ExpireUploads = %+v, want only %s", gone, old.ID)
	}
	if ups := s.Uploads(cluster.Bucket{}); len(ups) != 1 || ups[0].ID != fresh.ID {
		t.Fatalf("left: %+v", ups)
	}
	if err := s.DestroyBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	if ups := s.Uploads(cluster.Bucket{}); len(ups) != 0 {
		t.Fatalf("uploads of a destroyed bucket: %+v", ups)
	}
	assertNoWorkFiles(t, s)
}

func TestRename(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		ctx := context.Background()
		s := newStore(t, 3, mods...)
		bck := newBucket(t, s, "b")
		for i := range 20 { // names on the same mountpath and on others
			from, to := fmt.Sprintf("from-%d", i), fmt.Sprintf("dir/to-%d", i)
			data := randBytes(1000+i, uint64(i))
			put(t, s, bck, from, data)
			if i%2 == 0 {
				put(t, s, bck, to, []byte("an older object named to"))
			}
			a, err := s.Rename(ctx, bck, from, to)
			if err != nil {
				t.Fatalf("Rename %s: %v", from, err)
			}
			assertNotFound(t, s, bck, from)
			got, ga := get(t, s, bck, to)
			wantV := "1"
			if i%2 == 0 {
				wantV = "2"
			}
			if !bytes.Equal(got, data) || ga.Checksum.Value != xxh(data) || ga.Version != wantV || a.Version != wantV {
				t.Fatalf("%s: %d bytes, %v, v%s; want %d bytes, %s, v%s", to, len(got), ga.Checksum, ga.Version, len(data), xxh(data), wantV)
			}
		}
		for _, tt := range []struct {
			from, to string
			want     error
		}{{"missing", "x", cluster.ErrNotFound}, {"dir/to-1", "dir/to-1", cluster.ErrBadRequest}} {
			if _, err := s.Rename(ctx, bck, tt.from, tt.to); !errors.Is(err, tt.want) {
				t.Errorf("Rename %s -> %s: %v, want %v", tt.from, tt.to, err, tt.want)
			}
		}
		if got, ga := get(t, s, bck, "dir/to-1"); ga.Version != "1" || len(got) != 1001 {
			t.Errorf("after the failed renames dir/to-1 is v%s, %d bytes", ga.Version, len(got))
		}
		assertNoWorkFiles(t, s)
	})
}

// TestRenameNeverNeither reads both names while a rename runs: every read
// finds the object under at least one of them.
func TestRenameNeverNeither(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 2)
	bck := newBucket(t, s, "b")
	for i := range 50 {
		from, to := fmt.Sprintf("a-%d", i), fmt.Sprintf("b-%d", i)
		put(t, s, bck, from, []byte("x"))
		stop := make(chan struct{})
		var misses, reads int
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, e1 := s.Head(ctx, bck, from)
				_, e2 := s.Head(ctx, bck, to)
				_, e3 := s.Head(ctx, bck, from)
				reads++
				// from, then to, then from: if from is gone at the third
				// look, to must have been there at the second or later.
				if e1 != nil && e2 != nil {
					misses++
				}
				_ = e3
			}
		}()
		if _, err := s.Rename(ctx, bck, from, to); err != nil {
			t.Fatal(err)
		}
		close(stop)
		<-done
		if misses > 0 {
			t.Fatalf("rename %d: %d of %d reads found neither name", i, misses, reads)
		}
	}
}
