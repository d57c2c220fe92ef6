package wire

import "miniais/cluster"

// ClusterConfig is the reply of GET /v1/cluster?what=cluster_config: the
// sections of AIStore's cmn.ClusterConfig that AIStore's CLI shows, with
// the values the nodes run with. Durations and sizes are strings in
// AIStore's forms ("10s", "64MiB"); features, versions and the like are
// strings too. Sections of features miniais does not have (LRU, space
// cleanup, erasure coding, mirroring, resilvering, FSHC) say so with their
// "enabled": false, and carry no made-up tuning values: AIStore's decoder
// reads a missing key as zero.
type ClusterConfig struct {
	Backend     map[string]any      `json:"backend"`
	WritePolicy WritePolicyConf     `json:"write_policy"`
	LastUpdated string              `json:"lastupdate_time"`
	UUID        string              `json:"uuid"`
	Proxy       ProxyConf           `json:"proxy"`
	Checksum    ChecksumConf        `json:"checksum"`
	Auth        AuthConf            `json:"auth"`
	Tracing     TracingConf         `json:"tracing"`
	Rebalance   EnabledConf         `json:"rebalance"`
	Log         LogConf             `json:"log"`
	EC          EnabledConf         `json:"ec"`
	Net         NetConf             `json:"net"`
	Timeout     TimeoutConf         `json:"timeout"`
	Space       struct{}            `json:"space"`
	Memsys      struct{}            `json:"memsys"`
	Disk        struct{}            `json:"disk"`
	FSHC        EnabledConf         `json:"fshc"`
	Chunks      cluster.ChunksConf  `json:"chunks"`
	LRU         EnabledConf         `json:"lru"`
	Client      struct{}            `json:"client"`
	Mirror      cluster.MirrorConf  `json:"mirror"`
	Periodic    struct{}            `json:"periodic"`
	Features    string              `json:"features"`
	Version     cluster.MetaVersion `json:"config_version"`
	Versioning  VersioningConf      `json:"versioning"`
	Resilver    EnabledConf         `json:"resilver"`
}

// NodeConfig is a node's reply to GET /v1/daemon?what=config: the cluster
// configuration as the node holds it, with the node's local keys beside
// (one JSON object, as AIStore's cmn.Config inlines both).
type NodeConfig struct {
	ClusterConfig
	LocalConfig
}

// LocalConfig is the node-local part of NodeConfig.
type LocalConfig struct {
	// FSPaths maps each mountpath to its label ("" for none); empty on a
	// proxy.
	FSPaths   map[string]string `json:"fspaths"`
	ConfigDir string            `json:"confdir"`
	LogDir    string            `json:"log_dir"`
	HostNet   HostNet           `json:"host_net"`
}

// HostNet is where a node listens. Ports are strings, as AIStore sends them.
type HostNet struct {
	Hostname             string `json:"hostname"`
	HostnameIntraControl string `json:"hostname_intra_control"`
	HostnameIntraData    string `json:"hostname_intra_data"`
	Port                 string `json:"port"`
	PortIntraControl     string `json:"port_intra_control"`
	PortIntraData        string `json:"port_intra_data"`
}

// WritePolicyConf is when data and metadata reach the disk.
type WritePolicyConf struct {
	Data string `json:"data"`
	MD   string `json:"md"`
}

// ProxyConf locates the primary proxy.
type ProxyConf struct {
	PrimaryURL   string `json:"primary_url"`
	OriginalURL  string `json:"original_url"`
	DiscoveryURL string `json:"discovery_url"`
	NonElectable bool   `json:"non_electable"`
}

// ChecksumConf is the cluster's default checksumming (new buckets inherit
// it).
type ChecksumConf struct {
	Type            string `json:"type"`
	ValidateColdGet bool   `json:"validate_cold_get"`
	ValidateWarmGet bool   `json:"validate_warm_get"`
	ValidateObjMove bool   `json:"validate_obj_move"`
	EnableReadRange bool   `json:"enable_read_range"`
}

// VersioningConf is the cluster's default object versioning.
type VersioningConf struct {
	Enabled         bool `json:"enabled"`
	ValidateWarmGet bool `json:"validate_warm_get"`
	Synchronize     bool `json:"synchronize"`
}

// AuthConf is AIStore's AuthN; miniais authenticates only its own nodes on
// the transport, so it is disabled (and no secret ever appears here).
type AuthConf struct {
	Enabled bool `json:"enabled"`
}

// TracingConf is the tracing section, as the node runs it.
type TracingConf struct {
	Enabled           bool              `json:"enabled"`
	ExporterEndpoint  string            `json:"exporter_endpoint"`
	ExporterAuth      TraceExporterAuth `json:"exporter_auth"`
	ServiceNamePrefix string            `json:"service_name_prefix"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	// SamplerProbability is the root sampling ratio as a string ("0.25"),
	// as AIStore keeps it.
	SamplerProbability string `json:"sampler_probability"`
	SkipVerify         bool   `json:"skip_verify"`
}

// TraceExporterAuth names the token file sent to the collector.
type TraceExporterAuth struct {
	TokenHeader string `json:"token_header"`
	TokenFile   string `json:"token_file"`
}

// EnabledConf is a section of which only "enabled" applies to miniais.
type EnabledConf struct {
	Enabled bool `json:"enabled"`
}

// LogConf is the logging section: AIStore's verbosity level as a string
// ("3" info, "4" debug, ...) and whether logs go to stderr.
type LogConf struct {
	Level    string `json:"level"`
	ToStderr bool   `json:"to_stderr"`
}

// NetConf is the network section.
type NetConf struct {
	L4   L4Conf   `json:"l4"`
	HTTP HTTPConf `json:"http"`
}

// L4Conf is the transport protocol.
type L4Conf struct {
	Proto string `json:"proto"`
}

// HTTPConf says whether the HTTP API uses TLS.
type HTTPConf struct {
	UseHTTPS   bool `json:"use_https"`
	SkipVerify bool `json:"skip_verify"`
}

// TimeoutConf holds the intra-cluster timeouts the proxy runs with
// (durations as strings). A node that does not know one omits it: AIStore's
// decoder refuses an empty duration string.
type TimeoutConf struct {
	// CplaneOperation bounds one control-plane push or transaction phase.
	CplaneOperation string `json:"cplane_operation,omitempty"`
	// MaxKeepalive is how long a target may stay silent before it is
	// flagged down.
	MaxKeepalive string `json:"max_keepalive,omitempty"`
	// RemoveDownAfter, miniais's own, is how long a target must have been
	// down before it may be removed from the map without force
	// (cluster.KeyTimeoutRemoveDownAfter).
	RemoveDownAfter string `json:"remove_down_after,omitempty"`
}
