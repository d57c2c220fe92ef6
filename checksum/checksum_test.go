package checksum

import (
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	oneofone "github.com/OneOfOne/xxhash"

	"miniais/cluster"
)

// The vectors: md5, sha256 and sha512 from coreutils' md5sum/sha256sum/
// sha512sum, crc32c from hash/crc32 (and "123456789" is CRC-32C's published
// check value), xxhash from AIStore's documentation and OneOfOne's XXH64.
var vectors = []struct {
	typ, in, want string
}{
	{XXHash, "hello\n", "e4c191d091bd8853"},
	{XXHash2, "hello\n", "e4c191d091bd8853"},
	{XXHash2, "", "ef46db3751d8e999"},
	{XXHash, "obj-425", "00904203040d7d84"}, // leading zeros are kept
	{MD5, "hello\n", "b1946ac92492d2347c6235b4d2611184"},
	{MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
	{CRC32C, "hello\n", "353dd8be"},
	{CRC32C, "123456789", "e3069283"},
	{CRC32C, "obj-266", "009690b8"},
	{CRC32C, "", "00000000"},
	{SHA256, "hello\n", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
	{SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{SHA512, "hello\n", "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629"},
	{SHA512, "", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	{None, "hello\n", ""},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(fmt.Sprintf("%s/%q", v.typ, v.in), func(t *testing.T) {
			h, err := New(v.typ)
			if err != nil {
				t.Fatal(err)
			}
			if v.typ == None {
				if h != nil {
					t.Fatalf("New(none) = %T, want nil", h)
				}
			} else {
				// Split the input to check that Write accumulates.
				h.Write([]byte(v.in[:len(v.in)/2]))
				h.Write([]byte(v.in[len(v.in)/2:]))
			}
			got := Value(h)
			if got != v.want {
				t.Fatalf("Value = %q, want %q", got, v.want)
			}
			if h != nil {
				if s := Format(h.Sum(nil)); s != got {
					t.Fatalf("Format(Sum) = %q, Value = %q", s, got)
				}
			}
			var hr Hasher
			if err := hr.Reset(v.typ); err != nil {
				t.Fatal(err)
			}
			hr.Write([]byte(v.in[:len(v.in)/3]))
			hr.Write([]byte(v.in[len(v.in)/3:]))
			if hv := hr.Value(); hv != v.want || hr.Type() != v.typ {
				t.Fatalf("Hasher: %s %q, want %s %q", hr.Type(), hv, v.typ, v.want)
			}
			if len(got) != HexLen(v.typ) {
				t.Fatalf("len %d, HexLen %d", len(got), HexLen(v.typ))
			}
			if err := Check(v.typ, got); err != nil {
				t.Fatalf("Check of a computed value: %v", err)
			}
			if err := Check(v.typ, strings.ToUpper(got)); err != nil {
				t.Fatalf("Check of an uppercase value: %v", err)
			}
		})
	}
}

// TestXXHashImplementations checks that the hash behind both xxhash names
// gives the digest of AIStore's other XXH64 library (OneOfOne, which AIStore
// calls "xxhash") for inputs of every length around the 32-byte stripes.
func TestXXHashImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for n := range len(data) {
		for _, typ := range []string{XXHash, XXHash2} {
			h, _ := New(typ)
			h.Write(data[:n])
			if got, want := Value(h), fmt.Sprintf("%016x", oneofone.Checksum64(data[:n])); got != want {
				t.Fatalf("%s of %d bytes = %s, OneOfOne says %s", typ, n, got, want)
			}
		}
	}
}

func TestTypes(t *testing.T) {
	want := []string{"xxhash", "xxhash2", "md5", "crc32c", "sha256", "sha512", "none"}
	if got := Types(); !slices.Equal(got, want) {
		t.Fatalf("Types = %q, want %q", got, want)
	}
	for _, typ := range want {
		if !Valid(typ) {
			t.Errorf("Valid(%q) = false", typ)
		}
	}
	for _, typ := range []string{"", "XXHASH2", "Md5", "cesmd5", "crc32", "sha1", "sha384", "none "} {
		if Valid(typ) {
			t.Errorf("Valid(%q) = true", typ)
		}
		if h, err := New(typ); h != nil || !errors.Is(err, ErrUnknownType) || !errors.Is(err, cluster.ErrBadRequest) {
			t.Errorf("New(%q) = %v, %v; want ErrUnknownType wrapping ErrBadRequest", typ, h, err)
		}
		if HexLen(typ) != -1 {
			t.Errorf("HexLen(%q) = %d, want -1", typ, HexLen(typ))
		}
	}
	if XXHash2 != cluster.ChecksumXXHash2 {
		t.Fatalf("XXHash2 = %q, cluster says %q", XXHash2, cluster.ChecksumXXHash2)
	}
}

func TestSame(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{XXHash, XXHash2, true},
		{XXHash2, XXHash, true},
		{XXHash2, XXHash2, true},
		{MD5, MD5, true},
		{None, None, true},
		{MD5, SHA256, false},
		{XXHash2, CRC32C, false},
		{XXHash, None, false},
	}
	for _, tt := range tests {
		if got := Same(tt.a, tt.b); got != tt.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, typ, value string
		want             error
	}{
		{"xxhash", XXHash, "e4c191d091bd8853", nil},
		{"uppercase", XXHash2, "E4C191D091BD8853", nil},
		{"crc32c", CRC32C, "009690b8", nil},
		{"none empty", None, "", nil},
		{"none with value", None, "00", ErrBadValue},
		{"short", XXHash2, "e4c191d091bd885", ErrBadValue},
		{"long", MD5, "b1946ac92492d2347c6235b4d26111840", ErrBadValue},
		{"empty", SHA256, "", ErrBadValue},
		{"xxhash length for md5", MD5, "e4c191d091bd8853", ErrBadValue},
		{"not hex", CRC32C, "353dd8bg", ErrBadValue},
		{"space", CRC32C, "353dd8b ", ErrBadValue},
		{"unknown type", "cesmd5", "b1946ac92492d2347c6235b4d2611184", ErrUnknownType},
		{"empty type", "", "", ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.typ, tt.value)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Check(%q, %q) = %v, want %v", tt.typ, tt.value, err, tt.want)
			}
			if err != nil && !errors.Is(err, cluster.ErrBadRequest) {
				t.Fatalf("Check(%q, %q) = %v, does not wrap ErrBadRequest", tt.typ, tt.value, err)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	if !Equal("e4c191d091bd8853", "E4C191D091BD8853") || Equal("e4c191d091bd8853", "e4c191d091bd8854") || Equal("00", "000") {
		t.Fatal("Equal is wrong")
	}
}

// TestValueAllocs checks that the XXH64 and CRC-32C fast paths of Value
// allocate only the returned string, and that a Hasher of XXH64 or None
// allocates nothing but that string.
func TestValueAllocs(t *testing.T) {
	data := []byte("hello\n")
	for _, typ := range []string{XXHash, XXHash2, CRC32C} {
		h, _ := New(typ)
		h.Write(data)
		if n := testing.AllocsPerRun(100, func() { _ = Value(h) }); n > 1 {
			t.Errorf("Value of %s: %v allocations, want at most 1", typ, n)
		}
	}
	for _, typ := range []string{XXHash, XXHash2, None} {
		n := testing.AllocsPerRun(100, func() {
			var h Hasher
			h.Reset(typ)
			h.Write(data)
			_ = h.Value()
		})
		if n > 1 {
			t.Errorf("Hasher of %s: %v allocations, want at most 1 (the value)", typ, n)
		}
	}
}

func TestHasherReset(t *testing.T) {
	var h Hasher
	if h.Type() != None || h.Value() != "" {
		t.Fatalf("zero Hasher: %q %q", h.Type(), h.Value())
	}
	h.Write([]byte("ignored"))
	if err := h.Reset(MD5); err != nil {
		t.Fatal(err)
	}
	h.Write([]byte("junk"))
	if err := h.Reset(XXHash2); err != nil { // from md5 back to xxhash2: starts over
		t.Fatal(err)
	}
	h.Write([]byte("hello\n"))
	if h.Value() != "e4c191d091bd8853" {
		t.Fatalf("after Reset: %s", h.Value())
	}
	if err := h.Reset("cesmd5"); !errors.Is(err, ErrUnknownType) || h.Type() != None {
		t.Fatalf("Reset(cesmd5) = %v, type %q; want ErrUnknownType, none", err, h.Type())
	}
}

var benchSizes = []struct {
	name string
	size int
}{
	{"4KiB", 4 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkHasher hashes one buffer per type and size with a Hasher, as a
// Put does: Reset, Write, Value.
func BenchmarkHasher(b *testing.B) {
	for _, typ := range Types() {
		for _, sz := range benchSizes {
			b.Run(typ+"/"+sz.name, func(b *testing.B) {
				data := make([]byte, sz.size)
				for i := range data {
					data[i] = byte(i * 7)
				}
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				var h Hasher
				for b.Loop() {
					h.Reset(typ)
					h.Write(data)
					_ = h.Value()
				}
			})
		}
	}
}

// BenchmarkHash hashes one buffer per type and size with a fresh hash.Hash:
// New, Write, Value.
func BenchmarkHash(b *testing.B) {
	for _, typ := range Types() {
		for _, sz := range benchSizes {
			b.Run(typ+"/"+sz.name, func(b *testing.B) {
				data := make([]byte, sz.size)
				for i := range data {
					data[i] = byte(i * 7)
				}
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				var h hash.Hash
				for b.Loop() {
					h, _ = New(typ)
					if h != nil {
						h.Write(data)
					}
					_ = Value(h)
				}
			})
		}
	}
}
