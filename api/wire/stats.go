package wire

// WhatStats and WhatBMD are further values of QparamWhat on GET /v1/daemon.
const (
	WhatStats = "stats"
	WhatBMD   = "bmd"
)

// NodeStats are a node's counters, served by every node at
// GET /v1/daemon?what=stats.
type NodeStats struct {
	ID             string `json:"daemon_id"`
	Role           string `json:"daemon_type"`
	SmapVersion    int64  `json:"smap_version"`
	BMDVersion     int64  `json:"bmd_version"`
	TracingEnabled bool   `json:"tracing_enabled"`
	// SpansExported and SpansDropped count spans sent to the collector and
	// spans dropped because its queue was full or it was unreachable.
	SpansExported uint64 `json:"spans_exported"`
	SpansDropped  uint64 `json:"spans_dropped"`
	UptimeSeconds int64  `json:"uptime_seconds"`
	// InFlight is the number of HTTP requests being served.
	InFlight int64 `json:"in_flight"`
}

// BucketSummary is one bucket's summary, AIStore's shape (the reply of
// summary-bck and the Ais-Bucket-Summ header): counts and totals are JSON
// strings, the per-object sizes and used_pct numbers.
type BucketSummary struct {
	Name      string    `json:"name"`
	Provider  string    `json:"provider"`
	Namespace Namespace `json:"namespace"`
	ObjCount  struct {
		Present uint64 `json:"obj_count_present,string"`
		Remote  uint64 `json:"obj_count_remote,string"`
	} `json:"ObjCount"`
	ObjSize struct {
		Min int64 `json:"obj_min_size"`
		Avg int64 `json:"obj_avg_size"`
		Max int64 `json:"obj_max_size"`
	} `json:"ObjSize"`
	TotalSize struct {
		OnDisk      uint64 `json:"size_on_disk,string"`
		PresentObjs uint64 `json:"size_all_present_objs,string"`
		RemoteObjs  uint64 `json:"size_all_remote_objs,string"`
		Disks       uint64 `json:"total_disks_size,string"`
	} `json:"TotalSize"`
	UsedPct   uint64 `json:"used_pct"`
	IsPresent bool   `json:"is_present"`
	// Incomplete, miniais's own (AIStore's decoders skip the key), names
	// the targets whose part the summary lacks because they were down or
	// did not answer, sorted; the HdrIncomplete header repeats it.
	Incomplete []string `json:"miniais_incomplete,omitempty"`
}

// TargetSummary is one target's part of a bucket summary (intra-cluster).
type TargetSummary struct {
	Objects uint64 `json:"objects"`
	Bytes   uint64 `json:"bytes"`
	// OnDisk is the space the objects' files take (allocated blocks).
	OnDisk uint64 `json:"on_disk"`
	Min    int64  `json:"min"`
	Max    int64  `json:"max"`
	// Disks is the capacity of the target's filesystems (each counted once).
	Disks uint64 `json:"disks"`
}

// SummaryMsg is the value of a summary-bck action.
type SummaryMsg struct {
	UUID          string `json:"uuid"`
	Prefix        string `json:"prefix"`
	Cached        bool   `json:"cached"`
	Present       bool   `json:"present"`
	DontAddRemote bool   `json:"dont_add_remote"`
}
