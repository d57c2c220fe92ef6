// Package proxy is the gateway role of aisnode.
//
// # What it does
//
// A proxy owns the cluster map (which targets exist, which are down) and the
// bucket metadata, persists both in its data directory, and pushes every new
// version of either to all targets over the transport. It serves the control
// part of the v1 API itself (health, cluster map, bucket create, destroy,
// head and list, object listing merged from every target) and answers each
// object request with a 307 redirect to the target that HRW places the
// object on.
//
// # Membership
//
// Targets join over the transport (transport.KindJoin) and then send
// keepalives. A target whose keepalives stop for Config.KeepaliveTimeout is
// flagged down in a new map version: requests that map to it answer 503 at
// once. Its next keepalive (or join) clears the flag.
//
// # Cluster queries and configuration
//
// GET /v1/cluster and /v1/daemon answer AIStore's queries in AIStore's JSON
// (cluster.go, daemon.go); /v1/reverse/daemon relays a request to the node
// named by Ais-Node-Id. The proxy also owns the versioned cluster
// configuration (cluster.Config: the settings that change at run time):
// set-config checks a change on every target first, persists it, applies
// it and pushes it (transport.KindConfigPush); keepalives that carry an
// older version get the current one.
//
// # Bucket transactions
//
// Bucket create and destroy are two-phase: the proxy sends a prepare to every
// target, and only when all of them agree does it publish the new bucket
// metadata and send the commit; a failed prepare anywhere aborts everywhere.
//
// # Tracing
//
// Every HTTP request runs in a server span set up around the whole handler;
// the redirect's Location carries that span's trace context in its query, so
// the target's span is its child even when the client forwards no headers.
package proxy
