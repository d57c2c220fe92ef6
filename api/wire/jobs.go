package wire

import (
	"time"
)

// Jobs ("xactions"): the names, request bodies and reply shapes of
// shared/aistore-clients.md section 6. JSON keys and types are AIStore's,
// so that its CLI decodes the replies: snapshot counters are strings, the
// status's end_time is a number, and ArgsMsg (JobArgs) has no JSON tags.

// Job kinds miniais runs (AIStore's "kind" of a snapshot).
const (
	KindRebalance       = "rebalance"
	KindCopyBck         = "copy-bck"
	KindMoveBck         = "move-bck"
	KindDeleteListRange = ActDeleteListRange
	// KindResilver moves a target's objects to their HRW mountpaths after
	// a mountpath change (local to the target).
	KindResilver = "resilver"
	// KindMakeNCopies brings every object of a bucket to the number of
	// copies its mirror properties ask for (AIStore's "mirror" job),
	// started when they change.
	KindMakeNCopies = "make-n-copies"
)

// Actions that start and stop jobs.
const (
	// ActCopyBck copies a bucket (POST /v1/buckets/SRC?bck_to=DST, value CopyBckMsg).
	ActCopyBck = "copy-bck"
	// ActMoveBck renames a bucket (POST /v1/buckets/SRC?bck_to=DST, no value).
	ActMoveBck = "move-bck"
	// ActMakeNCopies sets a bucket's number of copies (POST /v1/buckets/B,
	// value the number): mirror.copies=N, mirror.enabled=N>1, as set-bprops
	// would, and the make-n-copies job that follows.
	ActMakeNCopies = "make-n-copies"
	// ActXactStart starts a job (PUT /v1/cluster, value JobArgs).
	ActXactStart = "start"
	// ActXactStop stops jobs (PUT /v1/cluster, value JobArgs).
	ActXactStop = "stop"
)

// QparamBckTo names the destination of a bucket copy or rename, written
// "provider/@#/name/" (AIStore's uname of a bucket, with a trailing '/').
const QparamBckTo = "bck_to"

// Further paths AIStore's "ais show job" asks: the downloader's and dsort's
// job lists (miniais runs neither: both answer []).
const (
	PathDownload = "/v1/download"
	PathSort     = "/v1/sort"
)

// JobStats are a job's counters on one target (AIStore's core.Stats):
// objects and bytes processed locally, sent to and received from other
// targets. In JSON they are strings.
type JobStats struct {
	LocObjs  int64 `json:"loc-objs,string"`
	LocBytes int64 `json:"loc-bytes,string"`
	OutObjs  int64 `json:"out-objs,string"`
	OutBytes int64 `json:"out-bytes,string"`
	InObjs   int64 `json:"in-objs,string"`
	InBytes  int64 `json:"in-bytes,string"`
}

// JobSnap is one target's snapshot of a job (AIStore's core.Snap), the
// element of a qryxstats reply. StartTime and EndTime are RFC 3339 in UTC;
// a zero EndTime means the job is still running there. Ext is always null.
type JobSnap struct {
	Ext       any         `json:"ext"`
	StartTime time.Time   `json:"start-time"`
	EndTime   time.Time   `json:"end-time"`
	Bck       BucketEntry `json:"bck"`
	SrcBck    BucketEntry `json:"src-bck"`
	DstBck    BucketEntry `json:"dst-bck"`
	ID        string      `json:"id"`
	Kind      string      `json:"kind"`
	CtlMsg    string      `json:"ctlmsg,omitempty"`
	AbortErr  string      `json:"abort-err"`
	Err       string      `json:"err"`
	Packed    int64       `json:"glob.id,string"`
	Stats     JobStats    `json:"stats"`
	Aborted   bool        `json:"aborted"`
	Idle      bool        `json:"is_idle"`
}

// Running reports whether the snapshot is of a job still running there.
func (s *JobSnap) Running() bool { return s.EndTime.IsZero() && !s.Aborted }

// JobSnaps is a qryxstats reply: target ID to that target's snapshots.
type JobSnaps map[string][]JobSnap

// JobQuery is the body of the job queries qryxstats, status and
// status_all (AIStore's xact.QueryMsg). ShowActive true keeps only running
// jobs; Bck, ID and Kind filter when set. Node and Buckets are refused.
type JobQuery struct {
	ShowActive *bool         `json:"show_active"`
	Bck        BucketEntry   `json:"bck"`
	ID         string        `json:"id"`
	Kind       string        `json:"kind"`
	Node       string        `json:"node,omitempty"`
	Buckets    []BucketEntry `json:"buckets,omitempty"`
}

// JobStatus is the reply of a status query (AIStore's nl.NotifStatus):
// EndTime is Unix nanoseconds, 0 while the job runs.
type JobStatus struct {
	Kind    string `json:"kind"`
	UUID    string `json:"uuid"`
	Err     string `json:"err"`
	EndTime int64  `json:"end_time"`
	Aborted bool   `json:"aborted"`
	IsIdle  bool   `json:"is_idle,omitempty"`
}

// Finished reports whether the job has ended (finished or aborted).
func (s *JobStatus) Finished() bool { return s.EndTime != 0 || s.Aborted }

// JobArgs is the value of the start and stop actions (AIStore's
// xact.ArgsMsg). It has no JSON tags on purpose: AIStore sends the Go field
// names ("ID", "Kind", ...). Timeout is a time.Duration in nanoseconds.
type JobArgs struct {
	ID          string
	Kind        string
	DaemonID    string
	Bck         BucketEntry
	Buckets     []BucketEntry
	Timeout     int64
	Flags       uint32 `json:"flags,omitempty"`
	Force       bool
	OnlyRunning bool
}

// CopyBckMsg is the value of a copy-bck action, with every key AIStore's
// client sends. miniais implements Prefix and DryRun; a request that sets
// any other option is refused (501).
type CopyBckMsg struct {
	Ext         any    `json:"ext"`
	Prepend     string `json:"prepend"`
	Prefix      string `json:"prefix"`
	DryRun      bool   `json:"dry_run"`
	Force       bool   `json:"force"`
	LatestVer   bool   `json:"latest-ver"`
	Synchronize bool   `json:"synchronize"`
}

// ListRangeMsg is the value of a multi-object action (AIStore's
// apc.ListRange): a list of names, or a template (a prefix when it has no
// range).
type ListRangeMsg struct {
	Template string   `json:"template"`
	ObjNames []string `json:"objnames"`
}
