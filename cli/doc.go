// Package cli is the "ais" command-line client of a miniais cluster, built
// on urfave/cli and the api package.
//
// # Running it
//
// cmd/ais calls Main with the process's arguments, streams and environment.
// Tests call Run with an Env instead: explicit streams, a getenv function,
// and optionally an HTTP client and a span processor, so that the whole CLI
// runs in-process.
//
// # Commands
//
//	ais bucket create ais://B [ais://C ...]    ais bucket ls    ais bucket rm ais://B [...]
//	ais create ais://B [...]                   ais rmb ais://B [...] [-y]  (asks first; refuses on a pipe without -y)
//	ais bucket props show ais://B [KEY] [--json]
//	ais bucket props set ais://B KEY=VALUE [...]    ais bucket props reset ais://B
//	ais ls [ais://B[/PREFIX]] [--prefix P] [--props LIST|all] [--name-only] [--limit N] [--nr] [--summary]
//	ais put FILE|-|DIR ais://B[/OBJ] [--recursive]
//	ais get ais://B/OBJ [OUT|-] [--yes] [--offset N] [--length N]
//	ais object show ais://B/OBJ [--props all|NAME,...]    ais object rm ais://B/OBJ [...]
//	ais rmo ais://B/OBJ [...]                  ais rmo ais://B --list A,B | --template T | --prefix P  (a job)
//	ais bucket cp ais://A ais://B [--prefix P] [--dry-run] [--wait]    ais bucket mv ais://A ais://B [--wait]
//	ais show job [ID|KIND] [--all] [--json]    ais show rebalance [--all]
//	ais job wait ID [--timeout D]              ais job stop ID|KIND       ais job start rebalance
//	ais job start mirror --copies N ais://B    (mirror.copies=N and the make-n-copies job)
//	ais show cluster [smap|bmd|config [KEY]]   ais config cluster [KEY | KEY=VALUE ... | KEY VALUE ...]
//	ais storage summary ais://B[/PREFIX]       ais trace show TRACE_ID
//	ais cluster add-remove-nodes start-maintenance|stop-maintenance|shutdown NODE
//	ais cluster add-remove-nodes decommission NODE [--rm-user-data] [--keep-initial-config] [--no-shutdown]
//
// The AIStore spellings (create, rmb, rmo, bucket props, show cluster smap,
// config cluster, storage summary) send what AIStore's CLI sends; see
// shared/aistore-clients.md. Properties and configuration are shown and
// set by dotted keys ("checksum.type"); "bucket props set" learns each
// key's type from the bucket's current properties, and prints the ID of the
// make-n-copies job a change of mirror.copies starts.
//
// Flags may follow the arguments ("ais ls ais://b --prefix x"); "--" ends
// the flags. The endpoint is --endpoint, else $AIS_ENDPOINT, else
// http://127.0.0.1:8080.
//
// # Output and exit codes
//
// Results go to stdout as aligned tables with IEC sizes; a progress bar is
// drawn on stderr for transfers over 4 MiB when stderr is a terminal. An
// error is one line "Error: ..." on stderr with exit code 1 (2 for a bad
// command line); an unreachable cluster is named by its endpoint.
//
// # Tracing
//
// The CLI runs every command in a root span "ais <command path>" (attributes
// ais.bucket, ais.object, ais.size) with one client span per HTTP request,
// exported per $AIS_TRACING_ENDPOINT (see package tracing). --trace forces
// sampling (and turns export on, to localhost:4317, when nothing is
// configured), sends "Ais-Trace-Force: true", and prints the trace ID and
// its Jaeger URL on stderr; --show-trace then waits (up to 5 s) for the
// trace to be complete in Jaeger ($AIS_JAEGER_URL) and draws it with
// RenderWaterfall. "ais trace show ID" draws a stored trace.
package cli
