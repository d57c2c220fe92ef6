package fs

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"miniais/cluster"
)

// tempDirs returns n fresh directories.
func tempDirs(tb testing.TB, n int) []string {
	tb.Helper()
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = tb.TempDir()
	}
	return dirs
}

func TestNewMountpathsValidation(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, d := range []string{a, b, filepath.Join(a, "inner"), filepath.Join(root, "ro")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		ok    bool
	}{
		{"one", []string{a}, true},
		{"two", []string{a, b}, true},
		{"unclean", []string{a + "/", b + "/../b/x/.."}, true}, // cleaned lexically
		{"none", nil, false},
		{"empty path", []string{""}, false},
		{"missing", []string{filepath.Join(root, "missing")}, false},
		{"file", []string{file}, false},
		{"duplicate", []string{a, a}, false},
		{"duplicate unclean", []string{a, a + "/./"}, false},
		{"same via symlink", []string{a, link}, false},
		{"nested", []string{a, filepath.Join(a, "inner")}, false},
		{"nesting", []string{filepath.Join(a, "inner"), a}, false},
	}
	if os.Geteuid() != 0 { // root can write anywhere
		if err := os.Chmod(filepath.Join(root, "ro"), 0o555); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name  string
			paths []string
			ok    bool
		}{"read-only", []string{filepath.Join(root, "ro")}, false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMountpaths(tt.paths)
			if tt.ok != (err == nil) {
				t.Fatalf("NewMountpaths(%q) = %v, want ok=%v", tt.paths, err, tt.ok)
			}
			if err != nil {
				return
			}
			list := m.List()
			if len(list) != len(tt.paths) {
				t.Fatalf("List has %d, want %d", len(list), len(tt.paths))
			}
			for i, mp := range list {
				if mp.Path != filepath.Clean(mp.Path) || !filepath.IsAbs(mp.Path) {
					t.Errorf("path %q not clean and absolute", mp.Path)
				}
				if mp.Digest != cluster.Digest(mp.Path) {
					t.Errorf("digest of %q", mp.Path)
				}
				if i > 0 && list[i-1].Path >= mp.Path {
					t.Errorf("List not sorted: %q then %q", list[i-1].Path, mp.Path)
				}
			}
		})
	}
}

func TestMountpathsAddRemove(t *testing.T) {
	dirs := tempDirs(t, 3)
	m, err := NewMountpaths(dirs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add(dirs[1]); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(dirs[1]); !errors.Is(err, cluster.ErrExists) {
		t.Fatalf("second Add = %v, want ErrExists", err)
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
	before := m.List()
	if err := m.Remove(dirs[0]); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(dirs[2]); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Remove of unknown = %v, want ErrNotFound", err)
	}
	if len(before) != 2 || m.Len() != 1 || m.List()[0].Path != dirs[1] {
		t.Fatalf("after Remove: %v (snapshot %v)", m.List(), before)
	}
	if err := m.Remove(dirs[1]); err != nil {
		t.Fatal(err)
	}
	if mp := m.Select("anything"); mp != nil {
		t.Fatalf("Select on empty set = %v, want nil", mp)
	}
}

// fakeMountpaths builds a set from n synthetic paths (no disk access).
func fakeMountpaths(n int) *Mountpaths {
	m := &Mountpaths{}
	list := make([]*Mountpath, n)
	for i := range list {
		p := "/mnt/disk" + strconv.Itoa(i)
		list[i] = &Mountpath{Path: p, Digest: cluster.Digest(p), real: p}
	}
	m.snap.Store(newSnapshot(list))
	return m
}

func testNames(n int) []string {
	bck := cluster.NewBucket("dist")
	names := make([]string, n)
	for i := range names {
		names[i] = bck.Uname("obj-" + strconv.Itoa(i))
	}
	return names
}

func TestSelectDistribution(t *testing.T) {
	names := testNames(100_000)
	for _, n := range []int{2, 3, 4, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			m := fakeMountpaths(n)
			counts := map[string]int{}
			for _, u := range names {
				counts[m.Select(u).Path]++
			}
			want := float64(len(names)) / float64(n)
			for _, mp := range m.List() {
				if dev := math.Abs(float64(counts[mp.Path])-want) / want; dev > 0.05 {
					t.Errorf("%s got %d names, want %.0f ±5%% (off by %.1f%%)", mp.Path, counts[mp.Path], want, 100*dev)
				}
			}
		})
	}
}

func TestSelectStability(t *testing.T) {
	names := testNames(100_000)
	for _, n := range []int{1, 3, 4} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			m := fakeMountpaths(n + 1)
			newcomer := m.List()[n]
			old := &Mountpaths{}
			old.snap.Store(newSnapshot(m.List()[:n]))
			moved := 0
			for _, u := range names {
				before, after := old.Select(u), m.Select(u)
				if before == after {
					continue
				}
				moved++
				if after != newcomer {
					t.Fatalf("%s moved from %s to %s, not to the new mountpath", u, before.Path, after.Path)
				}
			}
			want := float64(len(names)) / float64(n+1)
			if dev := math.Abs(float64(moved)-want) / want; dev > 0.05 {
				t.Errorf("moved %d names, want %.0f ±5%%", moved, want)
			}
		})
	}
}

func TestSelectAllocs(t *testing.T) {
	m := fakeMountpaths(4)
	uname := cluster.NewBucket("b").Uname("some/object")
	if allocs := testing.AllocsPerRun(1000, func() { m.Select(uname) }); allocs != 0 {
		t.Fatalf("Select allocates %.1f times per call, want 0", allocs)
	}
}

func BenchmarkSelect(b *testing.B) {
	uname := cluster.NewBucket("bench").Uname("dir/some-object-name.bin")
	for _, n := range []int{1, 4, 16} {
		b.Run(strconv.Itoa(n)+"mp", func(b *testing.B) {
			m := fakeMountpaths(n)
			b.ReportAllocs()
			for b.Loop() {
				m.Select(uname)
			}
		})
	}
}
