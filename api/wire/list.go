package wire

// Listing flags: the bits of ListObjsMsg.Flags (AIStore's apc.Ls* values,
// shared/aistore-clients.md §4). Which of them a target honours is its
// business (target/list.go); the others are refused with 501.
const (
	LsCached      uint64 = 1 << 0  // present objects only
	LsMissing     uint64 = 1 << 1  // include missing objects
	LsDeleted     uint64 = 1 << 2  // include deleted objects
	LsArchive     uint64 = 1 << 3  // expand archives
	LsNameOnly    uint64 = 1 << 4  // names only
	LsNameSize    uint64 = 1 << 5  // names and sizes
	LsBckPresent  uint64 = 1 << 6  // the bucket must be present
	LsDontHeadRem uint64 = 1 << 7  // do not HEAD a remote bucket
	LsDontAddRem  uint64 = 1 << 8  // do not add a remote bucket
	LsNotCached   uint64 = 1 << 9  // remote objects that are not cached
	LsInternal    uint64 = 1 << 10 // internal files
	LsNoRecursion uint64 = 1 << 11 // one level; virtual directories as entries
	LsDiff        uint64 = 1 << 12 // compare with the remote backend
	LsNoDirs      uint64 = 1 << 13 // no virtual directory entries
	LsIsS3        uint64 = 1 << 14 // the caller is the S3 API
	LsInventory   uint64 = 1 << 15 // list an inventory
)

// Listing entry flags: the bits of LsoEntry.Flags (AIStore's apc.Entry*).
const (
	// EntryPresent is set on every ais object.
	EntryPresent uint16 = 1 << 6
	// EntryIsDir marks a virtual directory ("dir/", no size) of a listing
	// with LsNoRecursion.
	EntryIsDir uint16 = 1 << 8
)

// ActDeleteListRange deletes objects by list, template or prefix: a job
// (DELETE /v1/buckets/B, value ListRangeMsg).
const ActDeleteListRange = "delete-listrange"
