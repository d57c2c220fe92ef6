package cluster

import (
	"net"
	"net/url"
)

// Node roles, as the cluster map spells them.
const (
	RoleProxy  = "proxy"
	RoleTarget = "target"
)

// Node flags: the bits of Node.Flags, AIStore's values (core/meta/smap.go),
// so that AIStore's clients read them as AIStore means them. Whether a node
// is down is not a flag: see Node.Unresponsive.
const (
	// FlagNonElectable marks a proxy that may not become primary.
	FlagNonElectable uint64 = 1 << 0
	// FlagIC marks a proxy that is a member of the information center.
	FlagIC uint64 = 1 << 1
	// FlagMaintenance marks a node in maintenance (or shutting down).
	FlagMaintenance uint64 = 1 << 2
	// FlagDecommission marks a node being decommissioned.
	FlagDecommission uint64 = 1 << 3
	// FlagMaintenancePostRebalance marks a node in maintenance whose data the
	// rebalance has moved away (set together with FlagMaintenance).
	FlagMaintenancePostRebalance uint64 = 1 << 4
)

// NetInfo is one network endpoint of a node, in AIStore's JSON shape.
type NetInfo struct {
	Hostname  string `json:"node_ip_addr" msg:"h"`
	Port      string `json:"daemon_port" msg:"p"`
	DirectURL string `json:"direct_url" msg:"u"`
}

// NewNetInfo builds a NetInfo from "host:port" and a URL scheme ("http" for
// the public net, "tcp" for the transport).
func NewNetInfo(scheme, hostport string) NetInfo {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	u := url.URL{Scheme: scheme, Host: hostport}
	return NetInfo{Hostname: host, Port: port, DirectURL: u.String()}
}

// HostPort returns "host:port".
func (n NetInfo) HostPort() string { return net.JoinHostPort(n.Hostname, n.Port) }

// Node describes one proxy or target. Its JSON matches AIStore's "snode".
// PublicNet serves the HTTP API; ControlNet and DataNet are the node's
// transport address (miniais uses one transport listener for both).
type Node struct {
	ID         string  `json:"daemon_id" msg:"id"`
	Role       string  `json:"daemon_type" msg:"r"`
	PublicNet  NetInfo `json:"public_net" msg:"pub"`
	ControlNet NetInfo `json:"intra_control_net" msg:"ctl"`
	DataNet    NetInfo `json:"intra_data_net" msg:"dat"`
	// Flags holds only AIStore's node flags (FlagNonElectable, ...).
	Flags    uint64 `json:"flags" msg:"f"`
	IDDigest uint64 `json:"id_digest" msg:"d"`
	// Unresponsive marks a node that missed its keepalives: requests that
	// map to it answer ErrUnavailable until it comes back. AIStore has no
	// such state in its map, so the JSON carries it under a key of miniais's
	// own ("miniais_down", omitted when false) that AIStore's decoders skip.
	Unresponsive bool `json:"miniais_down,omitempty" msg:"down"`
}

// NewNode returns a node with its digest computed. publicAddr and
// transportAddr are "host:port".
func NewNode(id, role, publicAddr, transportAddr string) *Node {
	tn := NewNetInfo("tcp", transportAddr)
	return &Node{
		ID:         id,
		Role:       role,
		PublicNet:  NewNetInfo("http", publicAddr),
		ControlNet: tn,
		DataNet:    tn,
		IDDigest:   Digest(id),
	}
}

// URL returns the node's public base URL, e.g. "http://127.0.0.1:8081".
func (n *Node) URL() string { return n.PublicNet.DirectURL }

// TransportAddr returns the "host:port" of the node's transport listener.
func (n *Node) TransportAddr() string { return n.ControlNet.HostPort() }

// Down reports whether the node is flagged down (Unresponsive).
func (n *Node) Down() bool { return n.Unresponsive }

// InMaintenance reports whether the node is in maintenance, shutting down or
// being decommissioned (FlagMaintenance or FlagDecommission). Such a target
// takes no part in placement: it owns no object, and a rebalance moves what
// it holds to the others (see Map.Owner).
func (n *Node) InMaintenance() bool { return n.Flags&(FlagMaintenance|FlagDecommission) != 0 }

// Clone returns a copy of n.
func (n *Node) Clone() *Node { c := *n; return &c }
