package cluster

import (
	"strconv"
	"time"
)

// BMD is the versioned bucket metadata: every bucket and its properties. The
// proxy owns it, persists it, and pushes every version to all targets.
// Like Map, a published BMD is immutable: Clone, modify, bump Version.
//
// Its JSON is AIStore's (see MarshalJSON): buckets nested by provider and
// namespace, the version a string.
type BMD struct {
	Version int64  `msg:"v"`
	UUID    string `msg:"uuid"`
	// Buckets maps an ais bucket's name to its properties.
	Buckets map[string]*BucketProps `msg:"b"`
}

// NewBMD returns an empty BMD at version 0.
func NewBMD(uuid string) *BMD { return &BMD{UUID: uuid, Buckets: map[string]*BucketProps{}} }

// Clone returns a deep copy of b.
func (b *BMD) Clone() *BMD {
	c := &BMD{Version: b.Version, UUID: b.UUID, Buckets: make(map[string]*BucketProps, len(b.Buckets))}
	for n, p := range b.Buckets {
		cp := *p
		c.Buckets[n] = &cp
	}
	return c
}

// Get returns the properties of bucket bck, or nil if absent.
func (b *BMD) Get(bck Bucket) *BucketProps { return b.Buckets[bck.Name] }

// BucketProps are a bucket's properties, in the JSON shape that AIStore's
// clients decode from the Ais-Bucket-Props header (numbers as strings where
// AIStore sends strings).
//
// The sections Extra, LRU, RateLimit and Chunks stand for AIStore features
// miniais does not have: they are always off, carry nothing over msgpack,
// and decoding JSON that turns one on fails (see bprops.go).
type BucketProps struct {
	Provider string `json:"provider" msg:"p"`
	// BID is the bucket ID; an ais bucket's has BIDAIS set (see AISBucketID).
	BID         uint64          `json:"bid,string" msg:"bid"`
	Created     int64           `json:"created,string" msg:"c"`
	Access      uint64          `json:"access,string" msg:"a"`
	Features    uint64          `json:"features,string" msg:"f"`
	Checksum    ChecksumConf    `json:"checksum" msg:"cksum"`
	Versioning  VersioningConf  `json:"versioning" msg:"ver"`
	Mirror      MirrorConf      `json:"mirror" msg:"mirror"`
	EC          ECConf          `json:"ec" msg:"ec"`
	WritePolicy WritePolicyConf `json:"write_policy" msg:"wp"`
	// Renamed is AIStore's marker of a renamed bucket (capital R in JSON,
	// as AIStore spells it); miniais never renames, so it stays empty.
	Renamed   string        `json:"Renamed" msg:"rn"`
	Extra     ExtraProps    `json:"extra" msg:"-"`
	LRU       LRUConf       `json:"lru" msg:"-"`
	RateLimit RateLimitConf `json:"rate_limit" msg:"-"`
	Chunks    ChunksConf    `json:"chunks" msg:"-"`
}

// ChecksumConf says how a bucket's objects are checksummed and validated.
type ChecksumConf struct {
	Type            string `json:"type" msg:"t"`
	ValidateColdGet bool   `json:"validate_cold_get" msg:"vc"`
	ValidateWarmGet bool   `json:"validate_warm_get" msg:"vw"`
	ValidateObjMove bool   `json:"validate_obj_move" msg:"vm"`
	EnableReadRange bool   `json:"enable_read_range" msg:"rr"`
}

// VersioningConf says whether object versions are kept.
type VersioningConf struct {
	Enabled         bool `json:"enabled" msg:"e"`
	ValidateWarmGet bool `json:"validate_warm_get" msg:"vw"`
}

// MirrorConf is AIStore's n-way mirroring: with Enabled, every target keeps
// Copies copies of each object of the bucket, on different mountpaths
// (see BucketProps.Copies). Burst is AIStore's queue length for copies made
// after the PUT; miniais makes them within the PUT, so it is only kept.
type MirrorConf struct {
	Copies  int64 `json:"copies" msg:"c"`
	Burst   int64 `json:"burst_buffer" msg:"b"`
	Enabled bool  `json:"enabled" msg:"e"`
}

// MaxCopies is the most copies of an object a mirrored bucket may ask for
// (AIStore's limit); a target keeps at most one per mountpath.
const MaxCopies = 32

// Copies returns the number of copies each object of the bucket has on a
// target: Mirror.Copies when mirroring is enabled, else 1.
func (p *BucketProps) Copies() int {
	if p == nil || !p.Mirror.Enabled || p.Mirror.Copies < 1 {
		return 1
	}
	return int(min(p.Mirror.Copies, MaxCopies))
}

// ECConf is AIStore's erasure coding; miniais does not erasure-code.
type ECConf struct {
	ObjSizeLimit int64  `json:"objsize_limit" msg:"l"`
	Compression  string `json:"compression" msg:"c"`
	DataSlices   int    `json:"data_slices" msg:"d"`
	ParitySlices int    `json:"parity_slices" msg:"p"`
	Enabled      bool   `json:"enabled" msg:"e"`
}

// WritePolicyConf says when data and metadata reach the disk.
type WritePolicyConf struct {
	Data string `json:"data" msg:"d"`
	MD   string `json:"md" msg:"m"`
}

// ChecksumXXHash2 is the default checksum type of the cluster and of new
// buckets: XXH64 with seed 0, its 8 bytes big-endian in lowercase hex
// (AIStore's "xxhash2"). Package checksum knows all seven types; this one is
// here because the default bucket properties name it.
const ChecksumXXHash2 = "xxhash2"

// AccessAll grants every operation (AIStore's default access bits).
const AccessAll = ^uint64(0)

// DefaultBucketProps returns the properties of a new ais bucket created now
// with the given bucket ID; the ID gets BIDAIS set (AISBucketID(v) is the ID
// AIStore would give a bucket created in bucket metadata version v).
func DefaultBucketProps(bid uint64, now time.Time) *BucketProps {
	return &BucketProps{
		Provider:    ProviderAIS,
		BID:         bid | BIDAIS,
		Created:     now.UnixNano(),
		Access:      AccessAll,
		Checksum:    ChecksumConf{Type: ChecksumXXHash2},
		Versioning:  VersioningConf{Enabled: true},
		Mirror:      MirrorConf{Copies: 1},
		WritePolicy: WritePolicyConf{Data: "immediate", MD: "immediate"},
	}
}

// Checksum is a content checksum: its type and lowercase hex value.
type Checksum struct {
	Type  string `json:"type" msg:"t"`
	Value string `json:"value" msg:"v"`
}

// Empty reports whether c carries no value.
func (c Checksum) Empty() bool { return c.Value == "" }

// String returns "type:value".
func (c Checksum) String() string { return c.Type + ":" + c.Value }

// FormatVersion renders an object version number the way headers carry it.
func FormatVersion(v uint64) string { return strconv.FormatUint(v, 10) }
