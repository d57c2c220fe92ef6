package fs

import (
	"context"
	"slices"
	"strconv"
	"testing"
)

// TestListNoRecursion lists one level at a time: virtual directories come
// back once (across mountpaths), named with a trailing '/', nothing below
// them is listed, and paging works across them.
func TestListNoRecursion(t *testing.T) {
	s := newStore(t, 3)
	bck := newBucket(t, s, "nr")
	for i, n := range []string{"a", "b/1", "b/2", "b/c/3", "d-1", "d/4", "e/f/g/5", "z"} {
		put(t, s, bck, n, randBytes(i, uint64(i)))
	}
	tests := []struct {
		name   string
		prefix string
		noDirs bool
		want   []string
	}{
		{"root", "", false, []string{"a", "b/", "d-1", "d/", "e/", "z"}},
		{"root without dirs", "", true, []string{"a", "d-1", "z"}},
		{"inside b", "b/", false, []string{"b/1", "b/2", "b/c/"}},
		{"prefix inside a level", "d", false, []string{"d-1", "d/"}},
		{"deep", "e/f/", false, []string{"e/f/g/"}},
	}
	for _, tt := range tests {
		for _, ps := range []int{0, 1, 2} {
			t.Run(tt.name+"/page "+strconv.Itoa(ps), func(t *testing.T) {
				var got []string
				token := ""
				for range 20 {
					entries, next, err := s.List(context.Background(), bck, ListOptions{Prefix: tt.prefix, Token: token, PageSize: ps, NoRecursion: true, NoDirs: tt.noDirs})
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range entries {
						got = append(got, e.Name)
						if isDir := e.Name[len(e.Name)-1] == '/'; isDir && (e.Size != 0 || e.Version != "") {
							t.Fatalf("virtual directory %q has attributes %+v", e.Name, e)
						}
					}
					if next == "" {
						break
					}
					token = next
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			})
		}
	}
}

// TestListNamesOnly returns names without reading metadata: the entries
// have no size, checksum or version.
func TestListNamesOnly(t *testing.T) {
	s := newStore(t, 2)
	bck := newBucket(t, s, "names")
	for i, n := range []string{"x", "y/z"} {
		put(t, s, bck, n, randBytes(i, 100))
	}
	entries, _, err := s.List(context.Background(), bck, ListOptions{NamesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Name != "x" || entries[1].Name != "y/z" {
		t.Fatalf("entries %+v", entries)
	}
	for _, e := range entries {
		if e.Size != 0 || !e.Checksum.Empty() || e.Version != "" || e.Mountpath == "" {
			t.Fatalf("names-only entry %+v", e)
		}
	}
}
