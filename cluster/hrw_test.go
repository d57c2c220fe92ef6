package cluster

import (
	"strconv"
	"strings"
	"testing"
)

// TestObjectOwner: ObjectOwner and ObjectDigest agree with Owner and Digest
// of the unique name, for short and long names, with a target down, and on
// an empty map; and they do not allocate for a name that fits unameBuf.
func TestObjectOwner(t *testing.T) {
	m := testMap(3)
	down := m.Clone()
	for _, n := range down.Targets {
		n.Unresponsive = true
		break
	}
	bck := NewBucket("b")
	names := []string{"o", "dir/sub/obj-1", strings.Repeat("long/", 80)}
	for i := range 200 {
		names = append(names, "obj-"+strconv.Itoa(i))
	}
	for _, mm := range []*Map{m, down, NewMap("u", nil)} {
		for _, name := range names {
			u := bck.Uname(name)
			if got, want := ObjectDigest(bck, name), Digest(u); got != want {
				t.Fatalf("ObjectDigest(%q) = %x, Digest of the uname %x", name, got, want)
			}
			n1, err1 := mm.Owner(u)
			n2, err2 := mm.ObjectOwner(bck, name)
			if n1 != n2 || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("%q: Owner = %v, %v; ObjectOwner = %v, %v", name, n1, err1, n2, err2)
			}
		}
	}
	if a := testing.AllocsPerRun(1000, func() { m.ObjectOwner(bck, "some/object/name") }); a != 0 {
		t.Errorf("ObjectOwner allocates %v times per call", a)
	}
}

// BenchmarkObjectOwner is BenchmarkOwner's lookup without a prebuilt
// unique name (what a request costs: Uname then Owner, or ObjectOwner).
func BenchmarkObjectOwner(b *testing.B) {
	m := testMap(3)
	bck := NewBucket("bench")
	b.Run("Uname+Owner", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Owner(bck.Uname("some/object/name"))
		}
	})
	b.Run("ObjectOwner", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.ObjectOwner(bck, "some/object/name")
		}
	})
}
