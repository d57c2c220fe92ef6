package job

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"miniais/cluster"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in    string
		want  Template
		names []string // the first names, when set
		count int64
	}{
		{"ck{1..3}.txt", Template{Prefix: "ck", Ranges: []Range{{1, 3, 1, 1, ".txt"}}}, []string{"ck1.txt", "ck2.txt", "ck3.txt"}, 3},
		{"shard-{0001..1000}.tar", Template{Prefix: "shard-", Ranges: []Range{{1, 1000, 1, 4, ".tar"}}},
			[]string{"shard-0001.tar", "shard-0002.tar"}, 1000},
		{"a{0..10..5}b{1..2}", Template{Prefix: "a", Ranges: []Range{{0, 10, 5, 1, "b"}, {1, 2, 1, 1, ""}}},
			[]string{"a0b1", "a0b2", "a5b1", "a5b2", "a10b1", "a10b2"}, 6},
		{"{1..10}", Template{Ranges: []Range{{1, 10, 1, 1, ""}}}, []string{"1", "2"}, 10},
		{"p-{9..11}", Template{Prefix: "p-", Ranges: []Range{{9, 11, 1, 1, ""}}}, []string{"p-9", "p-10", "p-11"}, 3},
		{"ck@3", Template{Prefix: "ck", Ranges: []Range{{0, 3, 1, 1, ""}}}, []string{"ck0", "ck1", "ck2", "ck3"}, 4},
		{"x@010-y", Template{Prefix: "x", Ranges: []Range{{0, 10, 1, 3, "-y"}}}, []string{"x000-y", "x001-y"}, 11},
		{"img-%04d.jpg", Template{Prefix: "img-", Ranges: []Range{{0, math.MaxInt64 - 1, 1, 4, ".jpg"}}}, []string{"img-0000.jpg"}, math.MaxInt64},
		{"dir/", Template{Prefix: "dir/"}, []string{"dir/"}, 1},
		{"logs/2025*", Template{Prefix: "logs/2025"}, nil, 1},
		{"a{b", Template{Prefix: "a{b"}, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTemplate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Prefix != tc.want.Prefix || !slices.Equal(got.Ranges, tc.want.Ranges) {
				t.Fatalf("ParseTemplate(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if c := got.Count(); c != tc.count {
				t.Errorf("Count = %d, want %d", c, tc.count)
			}
			var names []string
			for n := range got.Names() {
				if len(names) == len(tc.names) {
					break
				}
				names = append(names, n)
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("names %q, want %q", names, tc.names)
			}
		})
	}
	for _, bad := range []string{"x{3..1}", "x{1..2..0}", "x{1}", "x{a..b}", "x{1..2..3..4}", "x@", "x@y", "50%off", "x%5d", "x{-1..2}", "x{+1..2}"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if _, err := ParseTemplate(bad); !errors.Is(err, cluster.ErrBadRequest) {
				t.Errorf("ParseTemplate(%q): %v, want a bad request", bad, err)
			}
		})
	}
	if _, err := ParseTemplate(strings.Repeat("{1..2}", MaxRanges+1)); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("%d ranges: %v, want a bad request", MaxRanges+1, err)
	}
	for _, empty := range []string{"", "*"} {
		if _, err := ParseTemplate(empty); !errors.Is(err, ErrEmptyTemplate) {
			t.Errorf("ParseTemplate(%q): %v, want ErrEmptyTemplate", empty, err)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		tmpl string
		yes  []string
		no   []string
	}{
		{"ck{1..3}.txt", []string{"ck1.txt", "ck3.txt"}, []string{"ck0.txt", "ck4.txt", "ck01.txt", "ck1.txtx", "xck1.txt", "ck.txt", "ck10.txt"}},
		{"shard-{0001..1000}.tar", []string{"shard-0001.tar", "shard-0999.tar", "shard-1000.tar"},
			[]string{"shard-1.tar", "shard-0000.tar", "shard-1001.tar", "shard-00001.tar"}},
		{"a{0..10..5}b{1..2}", []string{"a0b1", "a10b2", "a5b2"}, []string{"a3b1", "a15b1", "a0b3", "a0b", "a05b1"}},
		{"{1..3}0", []string{"10", "20", "30"}, []string{"40", "1", "100"}},
		{"{1..200}{1..3}", []string{"11", "1003", "2001", "12"}, []string{"2014", "0", "9"}},
		{"dir/", []string{"dir/a", "dir/b/c"}, []string{"dir", "di/r", "x/dir/a"}},
		{"img-%04d.jpg", []string{"img-0000.jpg", "img-0042.jpg", "img-12345.jpg"}, []string{"img-42.jpg", "img-012345.jpg", "img-.jpg"}},
	}
	for _, tc := range tests {
		t.Run(tc.tmpl, func(t *testing.T) {
			tm, err := ParseTemplate(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.yes {
				if !tm.Match(n) {
					t.Errorf("%q does not match %q", n, tc.tmpl)
				}
			}
			for _, n := range tc.no {
				if tm.Match(n) {
					t.Errorf("%q matches %q", n, tc.tmpl)
				}
			}
		})
	}
}

// FuzzTemplate checks that parsing never panics, that every name a
// template expands to matches it, and that a name matches only if the
// expansion has it (for templates small enough to expand).
func FuzzTemplate(f *testing.F) {
	for _, s := range []struct{ tmpl, name string }{
		{"ck{1..3}.txt", "ck2.txt"}, {"shard-{0001..1000}.tar", "shard-0100.tar"}, {"a{0..10..5}b{1..2}", "a10b1"},
		{"{1..3}0", "20"}, {"x@010-y", "x007-y"}, {"img-%04d.jpg", "img-0042.jpg"}, {"dir/", "dir/x"},
		{"{0..0}{0..0}{0..0}", "000"}, {"p{98..102}{7..9}", "p1007"}, {"a{b", "a{b"}, {"", ""},
	} {
		f.Add(s.tmpl, s.name)
	}
	f.Fuzz(func(t *testing.T, tmpl, name string) {
		tm, err := ParseTemplate(tmpl)
		if err != nil {
			if !errors.Is(err, cluster.ErrBadRequest) && !errors.Is(err, ErrEmptyTemplate) {
				t.Fatalf("ParseTemplate(%q): unexpected error %v", tmpl, err)
			}
			return
		}
		if tm.IsPrefix() {
			if tm.Match(name) != strings.HasPrefix(name, tm.Prefix) {
				t.Fatalf("prefix %q: Match(%q) = %v", tm.Prefix, name, tm.Match(name))
			}
			return
		}
		matched := tm.Match(name)
		if c := tm.Count(); c > 2000 {
			// Too many to expand: check the first names only.
			i := 0
			for n := range tm.Names() {
				if !tm.Match(n) {
					t.Fatalf("%q expands to %q, which does not match", tmpl, n)
				}
				if i++; i == 200 {
					break
				}
			}
			return
		}
		found := false
		for n := range tm.Names() {
			if !tm.Match(n) {
				t.Fatalf("%q expands to %q, which does not match", tmpl, n)
			}
			found = found || n == name
		}
		if matched != found {
			t.Fatalf("%q: Match(%q) = %v, but the expansion has it: %v", tmpl, name, matched, found)
		}
	})
}
