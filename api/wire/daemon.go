package wire

import (
	"miniais/cluster"
)

// Cluster and node queries (shared/aistore-clients.md sections 1, 2 and 6):
// the paths, names and reply shapes of GET /v1/cluster?what=...,
// GET /v1/daemon?what=..., the set-config requests and the proxy's
// /v1/reverse/daemon relay. JSON keys and value types are AIStore's, so
// that AIStore's CLI decodes the replies; numbers AIStore sends as strings
// are strings here too.

// Paths of the cluster endpoints.
const (
	// PathCluster serves cluster-wide queries (GET ?what=) on the proxy.
	PathCluster = "/v1/cluster"
	// PathClusterSetConfig is PUT ?KEY=VALUE[&transient=true] on the proxy.
	PathClusterSetConfig = "/v1/cluster/set-config"
	// PathDaemonSetConfig is PUT ?KEY=VALUE on one node.
	PathDaemonSetConfig = "/v1/daemon/set-config"
	// PathReverseDaemon is the proxy's relay to the node named by
	// HdrNodeID; the node sees the path without "/reverse".
	PathReverseDaemon = "/v1/reverse/daemon"
	// PathReverse is the prefix of the relayed paths: the proxy relays
	// /v1/reverse/X as /v1/X.
	PathReverse = "/v1/reverse"
)

// HdrNodeID names the node a /v1/reverse/daemon request is for.
const HdrNodeID = "Ais-Node-Id"

// QparamTransient=true makes a set-config change last until restart only.
const QparamTransient = "transient"

// Values of QparamWhat on GET /v1/cluster (the proxy).
const (
	WhatClusterConfig = "cluster_config"
	WhatBackends      = "backends"
	WhatSysInfo       = "sysinfo"
	WhatRemote        = "remote"
	WhatQueryXactStat = "qryxstats"
	WhatStatus        = "status"
	WhatStatusAll     = "status_all"
)

// Further values of QparamWhat on GET /v1/daemon (every node).
const (
	WhatConfig     = "config"
	WhatSnode      = "snode"
	WhatNodeStatus = "node_status"
	WhatVersion    = "version"
	WhatMountpaths = "mountpaths"
)

// Version is the AIStore version miniais answers as (its CLI 1.32 warns
// when the major.minor differs from 5.0).
const Version = "5.0."

// Node state flags of node_status (AIStore's cos.NodeStateFlags): a
// healthy node that has joined its cluster reports exactly StateOK.
const (
	StateClusterStarted uint64 = 1 << 1
	StateNodeStarted    uint64 = 1 << 2
	StateRebalancing    uint64 = 1 << 3 // a target's rebalance job runs
	StateResilvering    uint64 = 1 << 5 // a target's resilver job runs
	StateMaintenance    uint64 = 1 << 10
	StateDiskFault      uint64 = 1 << 13 // a mountpath failed and was disabled
	StateOK                    = StateClusterStarted | StateNodeStarted
)

// Tracker keys of node_status (AIStore's metric names).
const (
	TrackerUptime = "up.ns.time"
	TrackerFlags  = "state.flags"
)

// NodeStatus is a node's node_status reply (GET /v1/daemon?what=node_status,
// AIStore's stats.NodeStatus in JSON).
type NodeStatus struct {
	// Status is "" for a healthy node, else what the CLI shows as its state
	// ("maintenance").
	Status     string `json:"status"`
	Deployment string `json:"deployment"`
	Version    string `json:"ais_version"`
	BuildTime  string `json:"build_time"`
	K8sPodName string `json:"k8s_pod_name"`
	// Node is the node as the cluster map lists it.
	Node *cluster.Node `json:"snode"`
	// Tracker maps metric names to values (numbers in JSON).
	Tracker  map[string]int64 `json:"tracker"`
	Capacity Capacity         `json:"capacity"`
	Cluster  ClusterState     `json:"cluster"`
	SysInfo  SysInfo          `json:"sys_info"`
	// SmapVersion is the node's cluster map version.
	SmapVersion int64 `json:"smap_version,string"`
}

// Capacity is a target's storage capacity (empty on a proxy).
type Capacity struct {
	Mountpaths map[string]*MountpathCapacity `json:"mountpaths"`
	// Err is the capacity check's error ("" when fine).
	Err        string `json:"cs_err"`
	TotalUsed  uint64 `json:"total_used,string"`
	TotalAvail uint64 `json:"total_avail,string"`
	PctMax     int32  `json:"pct_max"`
	PctAvg     int32  `json:"pct_avg"`
	PctMin     int32  `json:"pct_min"`
}

// MountpathCapacity is one mountpath's file system and its usage.
type MountpathCapacity struct {
	Label   string   `json:"mountpath_label"`
	FS      FSInfo   `json:"fs"`
	Disks   []string `json:"disks"`
	Used    uint64   `json:"used,string"`
	Avail   uint64   `json:"avail,string"`
	PctUsed int32    `json:"pct_used"`
}

// FSInfo names a mountpath's file system (AIStore's capitalised keys).
type FSInfo struct {
	// Fs is the file system (device) name, FsType its type ("ext4").
	Fs     string `json:"Fs"`
	FsType string `json:"FsType"`
	// FsID is the file system ID as "a,b".
	FsID string `json:"FsID"`
}

// ClusterState is what a node holds of the cluster: the versions of the
// metadata it has and the cluster state flags.
type ClusterState struct {
	Smap   SmapState `json:"smap"`
	BMD    MetaState `json:"bmd"`
	Config MetaState `json:"config"`
	Flags  uint64    `json:"flags"`
}

// SmapState is the cluster map a node holds: its primary, UUID and version.
type SmapState struct {
	Primary PrimaryInfo         `json:"Primary"`
	UUID    string              `json:"uuid"`
	Version cluster.MetaVersion `json:"version"`
}

// PrimaryInfo locates the primary proxy.
type PrimaryInfo struct {
	PubURL  string `json:"pub_url"`
	CtrlURL string `json:"control_url"`
	ID      string `json:"id"`
}

// MetaState is the UUID and version of a piece of metadata a node holds.
type MetaState struct {
	UUID    string              `json:"uuid,omitempty"`
	Version cluster.MetaVersion `json:"version"`
}

// SysInfo is a node's memory and CPU use (AIStore's apc.MemCPUInfo).
type SysInfo struct {
	// MemUsed is the process's resident memory, MemAvail the host's
	// available memory, in bytes.
	MemUsed    uint64  `json:"mem_used"`
	MemAvail   uint64  `json:"mem_avail"`
	PctMemUsed float64 `json:"pct_mem_used"`
	PctCPUUsed float64 `json:"pct_cpu_used"`
	LoadAvg    LoadAvg `json:"load_avg"`
}

// LoadAvg is the host's load average (AIStore's untagged keys).
type LoadAvg struct {
	One, Five, Fifteen float64
}

// TargetSysInfo is a target's entry of the sysinfo reply: SysInfo and its
// file system totals.
type TargetSysInfo struct {
	SysInfo
	FSUsed     uint64  `json:"fs_used,string"`
	FSCapacity uint64  `json:"fs_capacity,string"`
	PctFSUsed  float64 `json:"pct_fs_used"`
}

// ClusterSysInfo is the reply of GET /v1/cluster?what=sysinfo.
type ClusterSysInfo struct {
	Proxy  map[string]*SysInfo       `json:"proxy"`
	Target map[string]*TargetSysInfo `json:"target"`
}

// MountpathList is a target's reply to GET /v1/daemon?what=mountpaths.
type MountpathList struct {
	Available []string `json:"available"`
	WaitingDD []string `json:"waiting_dd"`
	Disabled  []string `json:"disabled"`
}

// RemoteClusters is the reply of GET /v1/cluster?what=remote: miniais
// attaches no remote clusters, so it is always {"a":null,"ver":0}.
type RemoteClusters struct {
	A   []any `json:"a"`
	Ver int64 `json:"ver"`
}

// BuildInfo is a node's reply to GET /v1/daemon?what=version.
type BuildInfo struct {
	Version   string `json:"version"`
	BuildTime string `json:"build_time"`
}
