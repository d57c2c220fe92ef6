package fs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"miniais/cluster"
)

// cachedAt reports whether the metadata cache holds an entry for the file
// of object name on its HRW mountpath.
func cachedAt(s *Store, bck cluster.Bucket, name string) bool {
	path := objectPath(s.mps.Select(bck.Uname(name)), bck, name)
	sh := s.meta.shard(path)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.m[path]
	return ok
}

// warm reads name's metadata so that the cache holds it, and checks it does.
func warm(t *testing.T, s *Store, bck cluster.Bucket, name string) ObjectAttrs {
	t.Helper()
	a, err := s.Head(context.Background(), bck, name)
	if err != nil {
		t.Fatal(err)
	}
	if !cachedAt(s, bck, name) {
		t.Fatalf("Head of %s did not fill the cache", name)
	}
	return a
}

// TestMetaCacheHit checks that Head and Open answer from the cache what
// the xattr holds, and that Custom is the caller's own copy.
func TestMetaCacheHit(t *testing.T) {
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	ctx := context.Background()
	want, err := s.Put(ctx, bck, "o", bytes.NewReader([]byte("data")), PutOptions{Size: 4, Custom: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	warm(t, s, bck, "o")
	for range 2 {
		a, err := s.Head(ctx, bck, "o")
		if err != nil {
			t.Fatal(err)
		}
		if a.Version != want.Version || a.Checksum != want.Checksum || a.Size != 4 || a.Custom["k"] != "v" || a.Name != "o" || a.Mountpath != want.Mountpath {
			t.Fatalf("cached Head = %+v, want %+v", a, want)
		}
		a.Custom["k"] = "changed by the caller"
		obj, err := s.Open(ctx, bck, "o", GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if obj.Attrs.Custom["k"] != "v" || obj.Attrs.Version != want.Version {
			t.Fatalf("cached Open = %+v", obj.Attrs)
		}
		obj.Close()
	}
}

// TestMetaCacheInvalidation checks that every write path drops the cached
// metadata of what it changes, and that the next read sees the change.
func TestMetaCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// change changes object "o" (or "p") after both were warmed; check
		// then verifies what Head says.
		change func(t *testing.T, s *Store, bck cluster.Bucket)
		gone   []string // names whose entries must be dropped
	}{
		{"put", func(t *testing.T, s *Store, bck cluster.Bucket) { put(t, s, bck, "o", []byte("new")) }, []string{"o"}},
		{"delete", func(t *testing.T, s *Store, bck cluster.Bucket) {
			if err := s.Delete(ctx, bck, "o"); err != nil {
				t.Fatal(err)
			}
		}, []string{"o"}},
		{"delete-if", func(t *testing.T, s *Store, bck cluster.Bucket) {
			a, _ := s.Head(ctx, bck, "o")
			if err := s.DeleteIf(ctx, bck, "o", a); err != nil {
				t.Fatal(err)
			}
		}, []string{"o"}},
		{"rename", func(t *testing.T, s *Store, bck cluster.Bucket) {
			if _, err := s.Rename(ctx, bck, "o", "p"); err != nil {
				t.Fatal(err)
			}
		}, []string{"o", "p"}},
		{"writer-commit (append, multipart, archive)", func(t *testing.T, s *Store, bck cluster.Bucket) {
			w, err := s.NewWriter(ctx, bck, "o", WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("appended"))
			if _, err := w.Commit(ctx, CommitOptions{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"o"}},
		{"multipart-complete", func(t *testing.T, s *Store, bck cluster.Bucket) {
			u, err := s.CreateUpload(ctx, bck, "o")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutPart(ctx, bck, "o", u.ID, 1, bytes.NewReader([]byte("part")), PartOptions{Size: 4}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CompleteUpload(ctx, bck, "o", u.ID, []CompletedPart{{Number: 1}}, CompleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"o"}},
		{"destroy-bucket", func(t *testing.T, s *Store, bck cluster.Bucket) {
			if err := s.DestroyBucket(ctx, bck); err != nil {
				t.Fatal(err)
			}
			newBucket(t, s, bck.Name)
			put(t, s, bck, "o", []byte("recreated"))
		}, []string{"o", "p"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t, 1)
			bck := newBucket(t, s, "b")
			put(t, s, bck, "o", []byte("old content"))
			if c.name != "rename" {
				put(t, s, bck, "p", []byte("other"))
				warm(t, s, bck, "p")
			}
			before := warm(t, s, bck, "o")
			c.change(t, s, bck)
			for _, name := range c.gone {
				if cachedAt(s, bck, name) {
					t.Errorf("the cache still holds %s after %s", name, c.name)
				}
			}
			// What Head says now is what the disk says.
			for _, name := range []string{"o", "p"} {
				got, herr := s.Head(ctx, bck, name)
				raw, merr := readMetaPath(objectPath(s.mps.Select(bck.Uname(name)), bck, name), "")
				if merr != nil {
					if herr == nil {
						t.Errorf("Head(%s) = %+v, but the file has no metadata (%v)", name, got, merr)
					}
					continue
				}
				var disk ObjectAttrs
				if err := decodeMeta(raw, &disk); err != nil {
					t.Fatal(err)
				}
				if herr != nil || got.Version != disk.Version || got.Size != disk.Size || got.Checksum != disk.Checksum {
					t.Errorf("Head(%s) = %+v, %v; on disk %+v (before: %+v)", name, got, herr, disk, before)
				}
			}
		})
	}
}

// TestMetaCacheValidationFailure checks that an object that fails
// validation is dropped from the cache.
func TestMetaCacheValidationFailure(t *testing.T) {
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	a := put(t, s, bck, "o", []byte("good content"))
	warm(t, s, bck, "o")
	// Rot one byte in place, keeping the size (and, with a coarse clock,
	// perhaps the ctime): only validation can tell.
	path := objectPath(s.mps.Select(bck.Uname("o")), bck, "o")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("G"), 0)
	f.Close()
	warm(t, s, bck, "o")
	if _, err := s.Open(context.Background(), bck, "o", GetOptions{Validate: true}); err == nil {
		t.Fatalf("Open with Validate of a rotten object (%s) succeeded", a.Checksum)
	}
	if cachedAt(s, bck, "o") {
		t.Error("the cache still holds an object that failed validation")
	}
}

// TestMetaCacheIdentity checks the second line of defence: metadata
// changed behind the Store's back (a new xattr) is never answered from the
// cache, because the file's ctime changed.
func TestMetaCacheIdentity(t *testing.T) {
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	a := put(t, s, bck, "o", []byte("content"))
	warm(t, s, bck, "o")
	a.Version = "77"
	path := objectPath(s.mps.Select(bck.Uname("o")), bck, "o")
	if err := unix.Setxattr(path, xattrName, encodeMeta(nil, &a), 0); err != nil {
		t.Skip("no user xattrs here:", err)
	}
	got, err := s.Head(context.Background(), bck, "o")
	if err != nil || got.Version != "77" {
		t.Fatalf("Head after an xattr change = %+v, %v; want version 77", got, err)
	}
}

// TestMetaCacheCap checks that the cache stays within its cap and that a
// negative cap turns it off.
func TestMetaCacheCap(t *testing.T) {
	const capBytes = 16 * 1024
	s := newStore(t, 1, func(c *Config) { c.MetaCacheSize = capBytes })
	bck := newBucket(t, s, "b")
	for i := range 300 {
		name := fmt.Sprintf("obj-%03d", i)
		put(t, s, bck, name, []byte("x"))
		if _, err := s.Head(context.Background(), bck, name); err != nil {
			t.Fatal(err)
		}
	}
	n, bytes := s.meta.len()
	if bytes > capBytes || n == 0 || n >= 300 {
		t.Errorf("cache of cap %d holds %d entries, %d bytes", capBytes, n, bytes)
	}

	off := newStore(t, 1, func(c *Config) { c.MetaCacheSize = -1 })
	bck = newBucket(t, off, "b")
	put(t, off, bck, "o", []byte("x"))
	off.Head(context.Background(), bck, "o")
	if n, _ := off.meta.len(); n != 0 {
		t.Errorf("a disabled cache holds %d entries", n)
	}
}
