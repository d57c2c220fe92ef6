package fs

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"miniais/cluster"
)

func TestCheckNames(t *testing.T) {
	bck := cluster.NewBucket("b")
	tests := []struct {
		name string
		bck  cluster.Bucket
		obj  string
		ok   bool
	}{
		{"plain", bck, "obj", true},
		{"nested", bck, "a/b/c.txt", true},
		{"dots inside", bck, "a/..b/c..", true},
		{"unicode", bck, "données/ファイル", true},
		{"max length", bck, strings.Repeat("a/", 511) + "bb", true},
		{"segment 255", bck, strings.Repeat("x", 255), true},
		{"empty", bck, "", false},
		{"dotdot", bck, "..", false},
		{"dotdot segment", bck, "a/../../etc/passwd", false},
		{"dot segment", bck, "a/./b", false},
		{"absolute", bck, "/etc/passwd", false},
		{"trailing slash", bck, "a/", false},
		{"double slash", bck, "a//b", false},
		{"nul", bck, "a\x00b", false},
		{"invalid utf8", bck, "a\xffb", false},
		{"too long", bck, strings.Repeat("a", cluster.MaxObjectName+1), false},
		{"segment 256", bck, strings.Repeat("x", 256), false},
		{"bad bucket", cluster.NewBucket("../x"), "obj", false},
		{"empty bucket", cluster.NewBucket(""), "obj", false},
		{"bad provider", cluster.Bucket{Provider: "s3", Name: "b"}, "obj", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkNames(tt.bck, tt.obj)
			if tt.ok && err != nil {
				t.Fatalf("checkNames(%q) = %v, want nil", tt.obj, err)
			}
			if !tt.ok && !errors.Is(err, cluster.ErrBadName) {
				t.Fatalf("checkNames(%q) = %v, want ErrBadName", tt.obj, err)
			}
		})
	}
}

func TestObjectPath(t *testing.T) {
	mp := &Mountpath{Path: "/mnt/d1"}
	bck := cluster.NewBucket("photos")
	tests := []struct{ obj, want string }{
		{"a", "/mnt/d1/@ais/photos/%ob/a"},
		{"a/b/c", "/mnt/d1/@ais/photos/%ob/a/b/c"},
		{".work", "/mnt/d1/@ais/photos/%ob/.work"},
		{"%ob/x", "/mnt/d1/@ais/photos/%ob/%ob/x"},
	}
	for _, tt := range tests {
		t.Run(tt.obj, func(t *testing.T) {
			if got := objectPath(mp, bck, tt.obj); got != tt.want {
				t.Fatalf("objectPath(%q) = %q, want %q", tt.obj, got, tt.want)
			}
		})
	}
	if got, want := sidecarPath(mp, bck, "a/b"), "/mnt/d1/@ais/photos/%mt/a/b"; got != want {
		t.Fatalf("sidecarPath = %q, want %q", got, want)
	}
}

// FuzzNamePath checks that every accepted name maps to a path strictly
// inside its bucket's object directory, and back to the same name.
func FuzzNamePath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "..", "../x", "a/../../b", "/abs", "a//b", "./a", "a/.", "x\x00y", "....", "a/..b", ".hidden/..."} {
		f.Add("bucket", s)
	}
	mp := &Mountpath{Path: "/mnt/disk"}
	f.Fuzz(func(t *testing.T, bname, obj string) {
		bck := cluster.NewBucket(bname)
		if checkNames(bck, obj) != nil {
			return
		}
		root := objectsDir(mp, bck)
		if !strings.HasPrefix(root, mp.Path+"/@ais/") || filepath.Clean(root) != root {
			t.Fatalf("bucket %q: objects dir %q escapes", bname, root)
		}
		p := objectPath(mp, bck, obj)
		if filepath.Clean(p) != p {
			t.Fatalf("name %q: path %q is not clean", obj, p)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("name %q: path %q escapes %q", obj, p, root)
		}
		if filepath.ToSlash(rel) != obj {
			t.Fatalf("name %q: maps back to %q", obj, rel)
		}
	})
}

func TestMetaRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		a    ObjectAttrs
	}{
		{"empty", ObjectAttrs{Atime: time.Unix(0, 0)}},
		{"full", ObjectAttrs{
			Size:     1 << 40,
			Checksum: cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: "0123456789abcdef"},
			Version:  "42",
			Atime:    time.Unix(1700000000, 123456789),
			Custom:   map[string]string{"k": "v", "empty": "", "ü": strings.Repeat("x", 300)},
		}},
		{"negative atime", ObjectAttrs{Version: "1", Atime: time.Unix(-5, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encodeMeta(nil, &tt.a)
			var got ObjectAttrs
			if err := decodeMeta(b, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Atime.Equal(tt.a.Atime) {
				t.Fatalf("atime %v, want %v", got.Atime, tt.a.Atime)
			}
			got.Atime = tt.a.Atime
			if !reflect.DeepEqual(got, tt.a) {
				t.Fatalf("got %+v, want %+v", got, tt.a)
			}
			if err := decodeMeta(b[:len(b)-1], &got); err == nil {
				t.Fatal("truncated encoding decoded without error")
			}
		})
	}
}

func TestMetaEncodingBytes(t *testing.T) {
	a := ObjectAttrs{Size: 5, Checksum: cluster.Checksum{Type: "t", Value: "v"}, Version: "1",
		Atime: time.Unix(0, 1), Custom: map[string]string{"b": "2", "a": "1"}}
	want := []byte{'A', 'M', 1, 5, 1, 't', 1, 'v', 1, '1', 2, 2, 1, 'a', 1, '1', 1, 'b', 1, '2'}
	if got := encodeMeta(nil, &a); !reflect.DeepEqual(got, want) {
		t.Fatalf("encodeMeta = %v, want %v", got, want)
	}
}

// FuzzDecodeMeta checks that decoding arbitrary bytes never panics and that
// whatever decodes re-encodes to a decodable value.
func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(nil, &ObjectAttrs{Size: 7, Version: "3", Custom: map[string]string{"a": "b"}}))
	f.Add([]byte{'A', 'M', 1})
	f.Add([]byte{'A', 'M', 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a ObjectAttrs
		if decodeMeta(b, &a) != nil {
			return
		}
		var again ObjectAttrs
		if err := decodeMeta(encodeMeta(nil, &a), &again); err != nil {
			t.Fatalf("re-encoding failed to decode: %v", err)
		}
	})
}
