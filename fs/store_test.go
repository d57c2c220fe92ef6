package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/OneOfOne/xxhash"

	"miniais/cluster"
)

// newStore returns a Store on n fresh mountpaths with fsync off; mods may
// adjust the config.
func newStore(tb testing.TB, n int, mods ...func(*Config)) *Store {
	tb.Helper()
	mps, err := NewMountpaths(tempDirs(tb, n))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{Mountpaths: mps, Fsync: FsyncNever}
	for _, mod := range mods {
		mod(&cfg)
	}
	s, err := NewStore(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func withSidecars(c *Config) { c.noXattr = true }

// metaModes runs f once with xattr metadata and once with sidecars.
func metaModes(t *testing.T, f func(t *testing.T, mods ...func(*Config))) {
	t.Run("xattr", func(t *testing.T) { f(t) })
	t.Run("sidecar", func(t *testing.T) { f(t, withSidecars) })
}

func newBucket(tb testing.TB, s *Store, name string) cluster.Bucket {
	tb.Helper()
	bck := cluster.NewBucket(name)
	if err := s.CreateBucket(context.Background(), bck, 0); err != nil {
		tb.Fatal(err)
	}
	return bck
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// xxh is the xxhash2 value of b, computed with another XXH64 library than
// the store's.
func xxh(b []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(b)) }

func put(tb testing.TB, s *Store, bck cluster.Bucket, name string, data []byte) ObjectAttrs {
	tb.Helper()
	a, err := s.Put(context.Background(), bck, name, bytes.NewReader(data), PutOptions{Size: int64(len(data))})
	if err != nil {
		tb.Fatalf("Put %s: %v", name, err)
	}
	return a
}

func get(tb testing.TB, s *Store, bck cluster.Bucket, name string) ([]byte, ObjectAttrs) {
	tb.Helper()
	obj, err := s.Open(context.Background(), bck, name, GetOptions{Validate: true})
	if err != nil {
		tb.Fatalf("Open %s: %v", name, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		tb.Fatal(err)
	}
	return b, obj.Attrs
}

// workFiles lists what is left in the work directories.
func workFiles(tb testing.TB, s *Store) []string {
	tb.Helper()
	var out []string
	for _, mp := range s.Mountpaths().List() {
		entries, err := os.ReadDir(workDir(mp))
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range entries {
			out = append(out, filepath.Join(workDir(mp), e.Name()))
		}
	}
	return out
}

func assertNoWorkFiles(tb testing.TB, s *Store) {
	tb.Helper()
	if files := workFiles(tb, s); len(files) > 0 {
		tb.Fatalf("work files left behind: %q", files)
	}
}

func assertNotFound(tb testing.TB, s *Store, bck cluster.Bucket, name string) {
	tb.Helper()
	if _, err := s.Head(context.Background(), bck, name); !errors.Is(err, cluster.ErrNotFound) {
		tb.Fatalf("Head %s = %v, want ErrNotFound", name, err)
	}
}

func TestRoundTrip(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 3, mods...)
		bck := newBucket(t, s, "rt")
		ctx := context.Background()
		tests := []struct {
			name string
			size int
		}{
			{"empty", 0},
			{"one", 1},
			{"dir/sub/4k", 4 << 10},
			{"big/one-meg-plus", 1<<20 + 3},
			{"ünï cødé/名前", 1000},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				data := randBytes(tt.size, uint64(i))
				custom := map[string]string{"owner": "test", "i": strconv.Itoa(i)}
				a, err := s.Put(ctx, bck, tt.name, bytes.NewReader(data), PutOptions{Size: -1, Custom: custom})
				if err != nil {
					t.Fatal(err)
				}
				custom["owner"] = "changed after Put" // Put must have copied the map
				_, serr := os.Stat(sidecarPath(&Mountpath{Path: a.Mountpath}, bck, tt.name))
				if hasSidecar := serr == nil; hasSidecar != s.noXattr {
					t.Fatalf("sidecar present = %v in mode noXattr=%v", hasSidecar, s.noXattr)
				}
				want := ObjectAttrs{Bucket: bck, Name: tt.name, Size: int64(tt.size),
					Checksum: cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: xxh(data)},
					Version:  "1", Custom: map[string]string{"owner": "test", "i": strconv.Itoa(i)},
					Mountpath: s.Mountpaths().Select(bck.Uname(tt.name)).Path}
				want.Atime = a.Atime
				assertAttrs(t, "Put", a, want)

				h, err := s.Head(ctx, bck, tt.name)
				if err != nil {
					t.Fatal(err)
				}
				assertAttrs(t, "Head", h, want)

				obj, err := s.Open(ctx, bck, tt.name, GetOptions{Validate: true})
				if err != nil {
					t.Fatal(err)
				}
				assertAttrs(t, "Open", obj.Attrs, want)
				var buf bytes.Buffer
				if _, err := obj.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), data) {
					t.Fatalf("WriteTo: %v, content equal %v", err, bytes.Equal(buf.Bytes(), data))
				}
				if tt.size > 10 {
					p := make([]byte, 5)
					if _, err := obj.ReadAt(p, 5); err != nil || !bytes.Equal(p, data[5:10]) {
						t.Fatalf("ReadAt: %v", err)
					}
					if _, err := obj.Seek(-3, io.SeekEnd); err != nil {
						t.Fatal(err)
					}
					if rest, _ := io.ReadAll(obj); !bytes.Equal(rest, data[len(data)-3:]) {
						t.Fatal("Seek+Read returned wrong bytes")
					}
				}
				if obj.File() == nil {
					t.Fatal("File() is nil")
				}
				if err := obj.Close(); err != nil {
					t.Fatal(err)
				}

				if err := s.Delete(ctx, bck, tt.name); err != nil {
					t.Fatal(err)
				}
				assertNotFound(t, s, bck, tt.name)
				if _, err := s.Open(ctx, bck, tt.name, GetOptions{}); !errors.Is(err, cluster.ErrNotFound) {
					t.Fatalf("Open after Delete = %v", err)
				}
				if err := s.Delete(ctx, bck, tt.name); !errors.Is(err, cluster.ErrNotFound) {
					t.Fatalf("second Delete = %v", err)
				}
			})
		}
		assertNoWorkFiles(t, s)
		// Deletes removed the directories they emptied, sidecars included.
		for _, mp := range s.Mountpaths().List() {
			for _, dir := range []string{objectsDir(mp, bck), bucketDir(mp, bck) + "/" + sidecarDirName} {
				if entries, _ := os.ReadDir(dir); len(entries) > 0 {
					t.Errorf("%s not empty after deleting everything: %v", dir, entries)
				}
			}
		}
	})
}

func assertAttrs(tb testing.TB, op string, got, want ObjectAttrs) {
	tb.Helper()
	if got.Bucket != want.Bucket || got.Name != want.Name || got.Size != want.Size || got.Checksum != want.Checksum ||
		got.Version != want.Version || got.Mountpath != want.Mountpath || !got.Atime.Equal(want.Atime) ||
		len(got.Custom) != len(want.Custom) {
		tb.Fatalf("%s attrs\n got %+v\nwant %+v", op, got, want)
	}
	for k, v := range want.Custom {
		if got.Custom[k] != v {
			tb.Fatalf("%s custom[%q] = %q, want %q", op, k, got.Custom[k], v)
		}
	}
}

func TestVersions(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "v")
		for i := 1; i <= 5; i++ {
			data := randBytes(100*i, uint64(i))
			if a := put(t, s, bck, "obj", data); a.Version != strconv.Itoa(i) {
				t.Fatalf("put %d: version %q", i, a.Version)
			}
			got, a := get(t, s, bck, "obj")
			if !bytes.Equal(got, data) || a.Version != strconv.Itoa(i) {
				t.Fatalf("get after put %d: version %q, content equal %v", i, a.Version, bytes.Equal(got, data))
			}
		}
		if err := s.Delete(context.Background(), bck, "obj"); err != nil {
			t.Fatal(err)
		}
		if a := put(t, s, bck, "obj", []byte("again")); a.Version != "1" {
			t.Fatalf("version after delete and put = %q, want 1", a.Version)
		}
	})
}

func TestPutIfAbsent(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "ifabsent")
		data := []byte("first")
		if _, err := s.Put(context.Background(), bck, "o", bytes.NewReader(data), PutOptions{Size: 5, IfAbsent: true}); err != nil {
			t.Fatalf("IfAbsent Put of a new object: %v", err)
		}
		_, err := s.Put(context.Background(), bck, "o", strings.NewReader("second"), PutOptions{Size: 6, IfAbsent: true})
		if !errors.Is(err, cluster.ErrExists) {
			t.Fatalf("IfAbsent Put over an existing object = %v, want ErrExists", err)
		}
		if got, a := get(t, s, bck, "o"); !bytes.Equal(got, data) || a.Version != "1" {
			t.Fatalf("the refused Put changed the object: %q version %s", got, a.Version)
		}
		assertNoWorkFiles(t, s)
	})
}

func TestPutRejects(t *testing.T) {
	data := randBytes(300<<10, 7) // more than two copy buffers
	tests := []struct {
		name string
		opts PutOptions
		want error
	}{
		{"checksum mismatch", PutOptions{Size: -1, Checksum: cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: "0000000000000000"}}, cluster.ErrChecksum},
		{"unknown checksum type", PutOptions{Size: -1, Checksum: cluster.Checksum{Type: "cesmd5", Value: "00"}}, cluster.ErrBadRequest},
		{"malformed checksum value", PutOptions{Size: -1, Checksum: cluster.Checksum{Type: "md5", Value: "00"}}, cluster.ErrBadRequest},
		{"truncated body", PutOptions{Size: int64(len(data)) + 1}, cluster.ErrBadRequest},
		{"long body", PutOptions{Size: int64(len(data)) - 1}, cluster.ErrBadRequest},
		{"zero size", PutOptions{}, cluster.ErrBadRequest},
		{"max size", PutOptions{Size: -1, MaxSize: int64(len(data)) - 1}, cluster.ErrTooLarge},
		{"max size declared", PutOptions{Size: int64(len(data)), MaxSize: 10}, cluster.ErrTooLarge},
		{"custom too large", PutOptions{Size: -1, Custom: map[string]string{"k": strings.Repeat("v", MaxMetaSize)}}, cluster.ErrTooLarge},
	}
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "rej")
		old := []byte("previous version")
		put(t, s, bck, "kept", old)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, name := range []string{"new/" + tt.name, "kept"} {
					_, err := s.Put(context.Background(), bck, name, bytes.NewReader(data), tt.opts)
					if !errors.Is(err, tt.want) {
						t.Fatalf("Put %s = %v, want %v", name, err, tt.want)
					}
				}
				assertNotFound(t, s, bck, "new/"+tt.name)
				if got, a := get(t, s, bck, "kept"); !bytes.Equal(got, old) || a.Version != "1" {
					t.Fatalf("failed overwrite changed the object: version %s", a.Version)
				}
				assertNoWorkFiles(t, s)
			})
		}
		t.Run("matching checksum", func(t *testing.T) {
			cs := cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: strings.ToUpper(xxh(data))}
			a, err := s.Put(context.Background(), bck, "ok", bytes.NewReader(data), PutOptions{Size: int64(len(data)), Checksum: cs})
			if err != nil || a.Checksum.Value != xxh(data) {
				t.Fatalf("Put with matching checksum: %v, %v", a.Checksum, err)
			}
		})
	})
}

// failingReader returns n bytes of data, then calls fail and returns its error.
type failingReader struct {
	data []byte
	n    int
	fail func() error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.fail()
	}
	k := min(len(p), r.n, 1000)
	copy(p, r.data[:k])
	r.n -= k
	return k, nil
}

func TestAbortedPut(t *testing.T) {
	errDisk := errors.New("connection reset")
	tests := []struct {
		name string
		run  func(s *Store, bck cluster.Bucket, name string) error
		want error
	}{
		{"reader error", func(s *Store, bck cluster.Bucket, name string) error {
			r := &failingReader{data: make([]byte, 1000), n: 200 << 10, fail: func() error { return errDisk }}
			_, err := s.Put(context.Background(), bck, name, r, PutOptions{Size: -1})
			return err
		}, errDisk},
		{"context cancelled", func(s *Store, bck cluster.Bucket, name string) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &failingReader{data: make([]byte, 1000), n: 300 << 10, fail: func() error { cancel(); return io.EOF }}
			_, err := s.Put(ctx, bck, name, io.MultiReader(r, bytes.NewReader(make([]byte, 200<<10))), PutOptions{Size: -1})
			return err
		}, context.Canceled},
		{"unexpected EOF", func(s *Store, bck cluster.Bucket, name string) error {
			r := &failingReader{data: make([]byte, 1000), n: 5000, fail: func() error { return io.ErrUnexpectedEOF }}
			_, err := s.Put(context.Background(), bck, name, r, PutOptions{Size: 10000})
			return err
		}, cluster.ErrBadRequest},
	}
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "abort")
		put(t, s, bck, "existing", []byte("v1"))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.run(s, bck, "fresh"); !errors.Is(err, tt.want) {
					t.Fatalf("Put = %v, want %v", err, tt.want)
				}
				if err := tt.run(s, bck, "existing"); !errors.Is(err, tt.want) {
					t.Fatalf("overwriting Put = %v, want %v", err, tt.want)
				}
				assertNotFound(t, s, bck, "fresh")
				if got, a := get(t, s, bck, "existing"); string(got) != "v1" || a.Version != "1" {
					t.Fatalf("existing object changed: %q v%s", got, a.Version)
				}
				if entries, _, err := s.List(context.Background(), bck, ListOptions{}); err != nil || len(entries) != 1 {
					t.Fatalf("List = %v, %v; want only the existing object", entries, err)
				}
				assertNoWorkFiles(t, s)
			})
		}
	})
}

func TestStaleWorkFilesRemoved(t *testing.T) {
	s := newStore(t, 2)
	bck := newBucket(t, s, "stale")
	put(t, s, bck, "obj", []byte("data"))
	for i, mp := range s.Mountpaths().List() {
		wd := workDir(mp)
		if err := os.WriteFile(filepath.Join(wd, putPrefix+strconv.Itoa(i)), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(wd, trashPrefix+"x", "%ob", "deep"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if len(workFiles(t, s)) != 4 {
		t.Fatal("setup failed")
	}
	s2, err := NewStore(Config{Mountpaths: s.Mountpaths(), Fsync: FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	assertNoWorkFiles(t, s2)
	if got, _ := get(t, s2, bck, "obj"); string(got) != "data" {
		t.Fatalf("object lost across restart: %q", got)
	}
}

func TestNameConflicts(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 1, mods...) // one mountpath: every conflict is on the same disk
		bck := newBucket(t, s, "conflict")
		ctx := context.Background()
		put(t, s, bck, "a", []byte("file a"))
		put(t, s, bck, "x/y/z", []byte("file x/y/z"))
		for _, name := range []string{"a/b", "a/b/c", "x", "x/y"} {
			if _, err := s.Put(ctx, bck, name, strings.NewReader("zz"), PutOptions{Size: 2}); !errors.Is(err, cluster.ErrExists) {
				t.Fatalf("Put %q = %v, want ErrExists", name, err)
			}
			assertNotFound(t, s, bck, name)
		}
		if got, _ := get(t, s, bck, "a"); string(got) != "file a" {
			t.Fatalf("a = %q", got)
		}
		if got, _ := get(t, s, bck, "x/y/z"); string(got) != "file x/y/z" {
			t.Fatalf("x/y/z = %q", got)
		}
		if err := s.Delete(ctx, bck, "x"); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("Delete of a directory prefix = %v, want ErrNotFound", err)
		}
		// Once x/y/z is gone its directories go too, and x can be an object.
		if err := s.Delete(ctx, bck, "x/y/z"); err != nil {
			t.Fatal(err)
		}
		put(t, s, bck, "x", []byte("now a file"))
		assertNoWorkFiles(t, s)
	})
}

func TestBadNamesAndMissing(t *testing.T) {
	s := newStore(t, 2)
	ctx := context.Background()
	good := newBucket(t, s, "good")
	missing := cluster.NewBucket("missing")
	tests := []struct {
		name string
		bck  cluster.Bucket
		obj  string
		want error
	}{
		{"dotdot", good, "../../escape", cluster.ErrBadName},
		{"absolute", good, "/etc/passwd", cluster.ErrBadName},
		{"bad bucket", cluster.NewBucket(".."), "obj", cluster.ErrBadName},
		{"missing bucket", missing, "obj", cluster.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Put(ctx, tt.bck, tt.obj, strings.NewReader("x"), PutOptions{Size: 1})
			if !errors.Is(err, tt.want) {
				t.Errorf("Put = %v", err)
			}
			if _, err := s.Open(ctx, tt.bck, tt.obj, GetOptions{}); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v", err)
			}
			if _, err := s.Head(ctx, tt.bck, tt.obj); !errors.Is(err, tt.want) {
				t.Errorf("Head = %v", err)
			}
			if err := s.Delete(ctx, tt.bck, tt.obj); !errors.Is(err, tt.want) {
				t.Errorf("Delete = %v", err)
			}
		})
	}
	if _, _, err := s.List(ctx, missing, ListOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("List of missing bucket = %v", err)
	}
	if err := s.DestroyBucket(ctx, missing); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("DestroyBucket of missing bucket = %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Mountpaths().List()[0].Path, "etc")); err == nil {
		t.Error("a bad name touched the disk")
	}
	assertNoWorkFiles(t, s)
}

func TestValidateDetectsCorruption(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 2, mods...)
		bck := newBucket(t, s, "rot")
		data := randBytes(200<<10, 3)
		a := put(t, s, bck, "obj", data)
		path := objectPath(&Mountpath{Path: a.Mountpath}, bck, "obj")
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{data[150<<10] ^ 0x01}, 150<<10); err != nil {
			t.Fatal(err)
		}
		f.Close()
		ctx := context.Background()
		if _, err := s.Open(ctx, bck, "obj", GetOptions{Validate: true}); !errors.Is(err, cluster.ErrChecksum) {
			t.Fatalf("Open with Validate of a flipped byte = %v, want ErrChecksum", err)
		}
		obj, err := s.Open(ctx, bck, "obj", GetOptions{})
		if err != nil {
			t.Fatalf("Open without Validate: %v", err)
		}
		obj.Close()
		if err := os.Truncate(path, 100); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ctx, bck, "obj", GetOptions{}); !errors.Is(err, cluster.ErrChecksum) {
			t.Fatalf("Open of a truncated file = %v, want ErrChecksum", err)
		}
	})
}

func TestList(t *testing.T) {
	s := newStore(t, 3)
	bck := newBucket(t, s, "list")
	other := newBucket(t, s, "other")
	put(t, s, other, "a", []byte("not in this bucket"))
	var names []string
	for i := range 60 {
		names = append(names, "obj-"+strconv.Itoa(i))
	}
	names = append(names, "a", "a-b", "a.c", "dir/x", "dir/y/z", "dir-2/x", "dir0", "z/z/z/z", "ü")
	for i, n := range names {
		put(t, s, bck, n, randBytes(i, uint64(i)))
	}
	slices.Sort(names)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", names},
		{"dir", []string{"dir-2/x", "dir/x", "dir/y/z", "dir0"}},
		{"dir/", []string{"dir/x", "dir/y/z"}},
		{"dir/y", []string{"dir/y/z"}},
		{"obj-5", []string{"obj-5", "obj-50", "obj-51", "obj-52", "obj-53", "obj-54", "obj-55", "obj-56", "obj-57", "obj-58", "obj-59"}},
		{"nothing", nil},
	}
	for _, tt := range tests {
		for _, ps := range []int{0, 1, 2, 7, 1000} {
			t.Run(tt.prefix+"/"+strconv.Itoa(ps), func(t *testing.T) {
				var got []string
				token := ""
				for pages := 0; ; pages++ {
					if pages > len(names)+1 {
						t.Fatal("listing does not end")
					}
					entries, next, err := s.List(context.Background(), bck, ListOptions{Prefix: tt.prefix, Token: token, PageSize: ps})
					if err != nil {
						t.Fatal(err)
					}
					if ps > 0 && len(entries) > ps {
						t.Fatalf("page of %d entries, page size %d", len(entries), ps)
					}
					for _, e := range entries {
						got = append(got, e.Name)
						if e.Size != int64(slices.Index(names, e.Name)) && e.Bucket != bck {
							t.Fatalf("entry %+v", e)
						}
					}
					if next == "" {
						break
					}
					if next != entries[len(entries)-1].Name {
						t.Fatalf("next %q is not the page's last name", next)
					}
					token = next
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("listed %q\nwant %q", got, tt.want)
				}
			})
		}
	}
	if _, _, err := s.List(context.Background(), bck, ListOptions{PageSize: -1}); !errors.Is(err, cluster.ErrBadRequest) {
		t.Fatalf("negative page size: %v", err)
	}
}

func TestDestroyBucket(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 3, mods...)
		ctx := context.Background()
		bck := newBucket(t, s, "doomed")
		keep := newBucket(t, s, "keep")
		for i := range 20 {
			put(t, s, bck, "d/"+strconv.Itoa(i), []byte("x"))
		}
		put(t, s, keep, "k", []byte("k"))
		if err := s.CreateBucket(ctx, bck, 0); err != nil {
			t.Fatalf("CreateBucket is not idempotent: %v", err)
		}
		if got, _ := s.Buckets(ctx); len(got) != 2 {
			t.Fatalf("Buckets = %v", got)
		}
		if err := s.DestroyBucket(ctx, bck); err != nil {
			t.Fatal(err)
		}
		if s.BucketExists(bck) {
			t.Fatal("bucket still exists")
		}
		if _, err := s.Head(ctx, bck, "d/1"); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("Head after destroy = %v", err)
		}
		if _, _, err := s.List(ctx, bck, ListOptions{}); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("List after destroy = %v", err)
		}
		assertNoWorkFiles(t, s)
		if got, _ := get(t, s, keep, "k"); string(got) != "k" {
			t.Fatal("other bucket damaged")
		}
		newBucket(t, s, "doomed")
		if entries, _, err := s.List(ctx, bck, ListOptions{}); err != nil || len(entries) != 0 {
			t.Fatalf("re-created bucket: %v, %v", entries, err)
		}
	})
}

func TestAddAndRemoveMountpath(t *testing.T) {
	s := newStore(t, 1)
	ctx := context.Background()
	bck := newBucket(t, s, "grow")
	const n = 200
	for i := range n {
		put(t, s, bck, "o"+strconv.Itoa(i), []byte(strconv.Itoa(i)))
	}
	first := s.Mountpaths().List()[0]
	added := tempDirs(t, 2)
	for _, d := range added {
		if err := s.Mountpaths().Add(d); err != nil {
			t.Fatal(err)
		}
	}
	moved := 0
	for i := range n {
		name := "o" + strconv.Itoa(i)
		got, a := get(t, s, bck, name)
		if string(got) != strconv.Itoa(i) || a.Mountpath != first.Path {
			t.Fatalf("%s after adding mountpaths: %q on %s", name, got, a.Mountpath)
		}
		if s.Mountpaths().Select(bck.Uname(name)).Path == first.Path {
			continue
		}
		moved++
		// Overwriting moves the object to its HRW mountpath and drops the old copy.
		a = put(t, s, bck, name, []byte("v2"))
		if a.Version != "2" || a.Mountpath == first.Path {
			t.Fatalf("overwrite of misplaced %s: version %s on %s", name, a.Version, a.Mountpath)
		}
		if _, err := os.Stat(objectPath(first, bck, name)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("old copy of %s not removed: %v", name, err)
		}
	}
	if moved < n/2 {
		t.Fatalf("only %d of %d names moved to the 2 new mountpaths", moved, n)
	}
	entries, _, err := s.List(ctx, bck, ListOptions{})
	if err != nil || len(entries) != n {
		t.Fatalf("List after adding mountpaths: %d entries, %v", len(entries), err)
	}
	assertNoWorkFiles(t, s)
	// Removing a mountpath hides (but does not delete) what it holds.
	if err := s.Mountpaths().Remove(first.Path); err != nil {
		t.Fatal(err)
	}
	entries, _, err = s.List(ctx, bck, ListOptions{})
	if err != nil || len(entries) != moved {
		t.Fatalf("List after removing the first mountpath: %d entries, want %d: %v", len(entries), moved, err)
	}
}
