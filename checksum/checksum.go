// Package checksum knows the content checksum types that AIStore's clients
// name in Ais-Checksum-Type: how to compute each one, how its value is
// spelled, and which values are well formed.
//
// # Types
//
// Exactly seven names are accepted, all lowercase:
//
//	type      algorithm                       value
//	xxhash    XXH64, seed 0                   16 hex digits
//	xxhash2   XXH64, seed 0 (the same digest) 16 hex digits
//	md5       MD5                             32 hex digits
//	crc32c    CRC-32 Castagnoli               8 hex digits
//	sha256    SHA-256                         64 hex digits
//	sha512    SHA-512                         128 hex digits
//	none      no checksum                     empty
//
// A value is the digest's bytes in lowercase hex, big-endian (the byte order
// of hash.Hash.Sum for every type, so the XXH64 of "hello\n" is
// "e4c191d091bd8853" and a CRC-32C is its 4 bytes most significant first).
// Values are compared case-insensitively: [Equal].
//
// # Errors
//
// An unknown type is [ErrUnknownType] and a value of the wrong length or with
// a non-hex character is [ErrBadValue]; both wrap cluster.ErrBadRequest, so
// the HTTP layer answers 400 without knowing this package.
//
// # Computing
//
// [New] returns a hash.Hash of a type and [Value] formats its sum. [Hasher]
// does the same as a value, without allocating for xxhash, xxhash2 and none:
// it is what a hot path (a PUT streaming its body) uses.
//
// Nothing here keeps state; every function is safe for concurrent use. A
// hash.Hash returned by New is not, nor is a Hasher.
package checksum

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"

	"github.com/cespare/xxhash/v2"

	"miniais/cluster"
)

// The checksum types, as Ais-Checksum-Type spells them.
const (
	// XXHash is XXH64 with seed 0 (AIStore's OneOfOne implementation); its
	// digest is the same as XXHash2's.
	XXHash = "xxhash"
	// XXHash2 is XXH64 with seed 0 (AIStore's cespare implementation), the
	// default type of the cluster and of new buckets.
	XXHash2 = cluster.ChecksumXXHash2
	// MD5 is MD5.
	MD5 = "md5"
	// CRC32C is CRC-32 with the Castagnoli polynomial.
	CRC32C = "crc32c"
	// SHA256 is SHA-256.
	SHA256 = "sha256"
	// SHA512 is SHA-512.
	SHA512 = "sha512"
	// None means no checksum: nothing is computed and the value is empty.
	None = "none"
)

// types lists every type with the length of its hex value; it is the one
// table that Valid, New, HexLen and Types read.
var types = [...]struct {
	name   string
	hexLen int
}{
	{XXHash, 16},
	{XXHash2, 16},
	{MD5, 2 * md5.Size},
	{CRC32C, 2 * crc32.Size},
	{SHA256, 2 * sha256.Size},
	{SHA512, 2 * sha512.Size},
	{None, 0},
}

var (
	// ErrUnknownType means a checksum type is not one of the seven names.
	// It wraps cluster.ErrBadRequest.
	ErrUnknownType = fmt.Errorf("unknown checksum type: %w", cluster.ErrBadRequest)
	// ErrBadValue means a checksum value does not have the length its type
	// requires, or has a character that is not a hex digit. It wraps
	// cluster.ErrBadRequest.
	ErrBadValue = fmt.Errorf("malformed checksum value: %w", cluster.ErrBadRequest)
)

// castagnoli is the CRC-32C table; crc32 builds it once and it is read-only.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Types returns the seven type names, in the order of the package doc. The
// caller owns the slice.
func Types() []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = t.name
	}
	return out
}

// Valid reports whether typ is one of the seven type names (case matters).
func Valid(typ string) bool { return HexLen(typ) >= 0 }

// HexLen returns the length of typ's value in hex digits (0 for None), or -1
// when typ is not a type.
func HexLen(typ string) int {
	for _, t := range types {
		if t.name == typ {
			return t.hexLen
		}
	}
	return -1
}

// Same reports whether types a and b compute the same digest: when they are
// equal, or one is XXHash and the other XXHash2. A value of one then verifies
// the other, so data need only be hashed once.
func Same(a, b string) bool {
	return a == b || isXXH64(a) && isXXH64(b)
}

func isXXH64(typ string) bool { return typ == XXHash || typ == XXHash2 }

// New returns a fresh hash of type typ. For None it returns nil and no
// error; for a name that is not a type, an error wrapping ErrUnknownType.
// XXHash and XXHash2 return a hash.Hash64 and CRC32C a hash.Hash32, which
// [Value] formats without allocating a sum.
func New(typ string) (hash.Hash, error) {
	switch typ {
	case XXHash, XXHash2:
		return xxhash.New(), nil
	case MD5:
		return md5.New(), nil
	case CRC32C:
		return crc32.New(castagnoli), nil
	case SHA256:
		return sha256.New(), nil
	case SHA512:
		return sha512.New(), nil
	case None:
		return nil, nil
	}
	return nil, unknown(typ)
}

func unknown(typ string) error {
	return fmt.Errorf("checksum type %q (want one of %s): %w", typ, strings.Join(Types(), ", "), ErrUnknownType)
}

// Hasher computes a checksum of one type and is a value, for a caller that
// hashes a stream on its hot path: a Hasher of XXHash, XXHash2 or None
// allocates nothing (it can live on the stack or inside another struct);
// one of another type allocates its hash.Hash in Reset. The zero Hasher is of
// type None and ignores what it is written. A Hasher is not safe for
// concurrent use and must not be copied.
type Hasher struct {
	typ   string
	xxh   xxhash.Digest // XXHash and XXHash2
	other hash.Hash     // the other types; nil for XXH64 and None
}

var _ io.Writer = (*Hasher)(nil)

// Reset makes h compute type typ from the start. For a name that is not a
// type it returns an error wrapping ErrUnknownType and h is of type None.
func (h *Hasher) Reset(typ string) error {
	h.typ, h.other = None, nil
	switch typ {
	case XXHash, XXHash2:
		h.xxh.Reset()
	case None:
	default:
		other, err := New(typ)
		if err != nil {
			return err
		}
		h.other = other
	}
	h.typ = typ
	return nil
}

// Type returns h's type (None for the zero Hasher).
func (h *Hasher) Type() string {
	if h.typ == "" {
		return None
	}
	return h.typ
}

// Write adds b to the checksum; it never fails. It does not keep b.
func (h *Hasher) Write(b []byte) (int, error) {
	switch {
	case h.other != nil:
		h.other.Write(b)
	case isXXH64(h.typ):
		h.xxh.Write(b)
	}
	return len(b), nil
}

// Value returns the value of the checksum so far, as [Value] spells it: ""
// for None. It does not change h's state.
func (h *Hasher) Value() string {
	switch {
	case h.other != nil:
		return Value(h.other)
	case isXXH64(h.typ):
		var buf [16]byte
		return formatUint(buf[:], h.xxh.Sum64())
	}
	return ""
}

// Value returns the value of h's current sum: its bytes big-endian in
// lowercase hex. It returns "" for a nil h (the hash of None). It does not
// change h's state.
func Value(h hash.Hash) string {
	// The fast paths format from a stack buffer: one allocation, the string.
	var buf [2 * sha512.Size]byte
	switch h := h.(type) {
	case nil:
		return ""
	case hash.Hash64:
		return formatUint(buf[:16], h.Sum64())
	case hash.Hash32:
		return formatUint(buf[:8], uint64(h.Sum32()))
	}
	return Format(h.Sum(nil))
}

// formatUint writes v's low len(dst)/2 bytes big-endian in lowercase hex to
// dst and returns them as a string.
func formatUint(dst []byte, v uint64) string {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
	return string(dst)
}

// Format returns sum, a digest as hash.Hash.Sum appends it, in lowercase hex.
func Format(sum []byte) string { return hex.EncodeToString(sum) }

// Check verifies that typ is a type and that value is well formed for it:
// HexLen(typ) hex digits of either case, or empty for None. An empty value is
// well formed only for None; callers that treat "no value" as "no checksum"
// test for it first. The error wraps ErrUnknownType or ErrBadValue.
func Check(typ, value string) error {
	n := HexLen(typ)
	if n < 0 {
		return unknown(typ)
	}
	if len(value) != n {
		return fmt.Errorf("%s value %q has %d characters, want %d: %w", typ, value, len(value), n, ErrBadValue)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("%s value %q: %q is not a hex digit: %w", typ, value, c, ErrBadValue)
		}
	}
	return nil
}

// Equal reports whether two values of one type are the same digest; hex
// digits compare case-insensitively.
func Equal(a, b string) bool { return strings.EqualFold(a, b) }
