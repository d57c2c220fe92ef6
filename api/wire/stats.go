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
