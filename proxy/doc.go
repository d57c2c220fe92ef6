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
// once; listings and bucket summaries answer from the others, naming it
// (Ais-Incomplete and the reply's miniais_incomplete), and bucket changes
// proceed without it. When it is heard from again (a keepalive, or a join
// after a restart) it stays flagged until a keepalive reports the current
// bucket metadata version, which the proxy pushes it first; then the flag
// is cleared. A target down for the configuration's
// timeout.remove_down_after (or sooner, forced) can be removed from the map
// with decommission-node (membership.go); the others then rebalance, and
// the objects only it held are lost.
//
// # Pushes and lifecycle
//
// Map, bucket metadata and configuration versions go to each target through
// its pusher (push.go): at most one push in flight per target, and behind
// it only the newest version of each kind, so a slow target gets the latest
// state once it answers and never a pile of goroutines. Serve (Run binds
// the configured addresses for it) runs the proxy through internal/node:
// it returns once in-flight requests finished and every goroutine of the
// proxy (monitor, job watchers, pushes, summaries) has ended.
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
// target that is up (at least one must be), and only when all of them agree does it publish the new bucket
// metadata and send the commit; a failed prepare anywhere aborts everywhere.
//
// # S3
//
// The proxy also serves S3's API under /s3 (s3.go, s3list.go; package s3
// holds the wire): bucket operations itself, object operations streamed to
// and from the owning target by the proxy, never redirected.
//
// # Tracing
//
// Every HTTP request runs in a server span set up around the whole handler;
// the redirect's Location carries that span's trace context in its query, so
// the target's span is its child even when the client forwards no headers.
package proxy
