package cluster

import "github.com/OneOfOne/xxhash"

// HRWSeed is the seed of every XXH64 digest used for placement (AIStore's).
const HRWSeed = 1103515245

// Digest returns the XXH64 digest of s with HRWSeed: the digest of an object's
// unique name, of a target's daemon ID, or of a mountpath's cleaned path.
// It does not allocate.
func Digest(s string) uint64 { return xxhash.ChecksumString64S(s, HRWSeed) }

// Mix is the splitmix64 finalizer that HRW applies to (node ^ object) digests.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// HRW returns the index of the candidate with the highest rendezvous weight
// Mix(digests[i] ^ obj), or -1 when digests is empty. Ties go to the lower
// index. It is the one implementation behind both target and mountpath
// selection, and it does not allocate.
func HRW(obj uint64, digests []uint64) int {
	best, bestW := -1, uint64(0)
	for i, d := range digests {
		if w := Mix(d ^ obj); best < 0 || w > bestW {
			best, bestW = i, w
		}
	}
	return best
}

// HRWTop appends to dst the indexes of the min(n, len(digests)) candidates
// of highest rendezvous weight for obj, highest first (so its first is
// HRW's), and returns the result. Ties go to the lower index. It does not
// allocate when dst has room for them.
func HRWTop(obj uint64, digests []uint64, n int, dst []int) []int {
	n = min(n, len(digests))
	start := len(dst)
	for len(dst)-start < n {
		best, bestW := -1, uint64(0)
	next:
		for i, d := range digests {
			for _, taken := range dst[start:] {
				if taken == i {
					continue next
				}
			}
			if w := Mix(d ^ obj); best < 0 || w > bestW {
				best, bestW = i, w
			}
		}
		dst = append(dst, best)
	}
	return dst
}

// unameBuf is the stack room ObjectDigest builds a unique name in; a longer
// name costs one allocation.
const unameBuf = 256

// ObjectDigest returns Digest(bck.Uname(name)) without building the unique
// name as a string: it does not allocate when the name fits in unameBuf
// bytes.
func ObjectDigest(bck Bucket, name string) uint64 {
	var buf [unameBuf]byte
	u := append(buf[:0], bck.provider()...)
	u = append(u, "/@#/"...)
	u = append(u, bck.Name...)
	u = append(u, '/')
	u = append(u, name...)
	return xxhash.Checksum64S(u, HRWSeed)
}

// ObjectOwner is Owner(bck.Uname(name)): the target that owns object name
// of bck, with the same errors. It builds the unique name only for an
// error, so it does not allocate on success (see ObjectDigest). Request
// paths (the proxy's redirect, a target's ownership check) use it.
func (m *Map) ObjectOwner(bck Bucket, name string) (*Node, error) {
	ix := m.index()
	if i := HRW(ObjectDigest(bck, name), ix.digests); i >= 0 && !ix.placed[i].Down() {
		return ix.placed[i], nil
	}
	return m.Owner(bck.Uname(name))
}
