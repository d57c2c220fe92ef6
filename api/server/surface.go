package server

import (
	"net/http"
	"net/url"
	"strings"

	"miniais/api/wire"
	"miniais/cluster"
)

// Support says what a node does with a name that AIStore's clients send.
type Support int

const (
	// Implemented: the node does what the name asks (each has a test).
	Implemented Support = iota + 1
	// Refused: the node answers 501 Not Implemented, naming it, before it
	// reads or writes anything.
	Refused
	// Hint: accepted and changes nothing the request means here (routing and
	// tracing hints, options that concern remote buckets only).
	Hint
)

func (s Support) String() string {
	switch s {
	case Implemented:
		return "implemented"
	case Refused:
		return "refused"
	case Hint:
		return "hint"
	}
	return "unknown"
}

// Where a name travels.
const (
	InQuery  = "query"
	InHeader = "header"
	InAction = "action"
)

// Name is one row of Surface.
type Name struct {
	// In is InQuery, InHeader or InAction.
	In string
	// Name is the query parameter, the header (canonical form) or the
	// action, as AIStore's clients send it.
	Name string
	// Support is what the node does with it.
	Support Support
	// What says what the name asks for (for a refused one, the feature the
	// 501 names).
	What string
}

// Surface is the one table of every v1 query parameter, Ais- request header
// and action name that AIStore's CLI and aisloader send
// (shared/aistore-clients.md), and what miniais does with each. Strict
// enforces the query and header rows for every request; handlers enforce
// the action rows through CheckAction. A test walks the table.
//
// Names not in the table are accepted: none of AIStore's clients sends them,
// so they cannot change what one of its requests means.
var Surface = [...]Name{
	// Query parameters.
	{InQuery, "provider", Implemented, "bucket provider (only ais; others are refused)"},
	{InQuery, "what", Implemented, "what a cluster or daemon query returns"},
	{InQuery, "readiness", Implemented, "health check for readiness"},
	{InQuery, "presence", Implemented, "bucket presence filter (every value means the BMD's buckets for ais://)"},
	{InQuery, "props", Implemented, "object properties a HEAD returns (miniais returns all of them)"},
	{InQuery, "skip_vc", Implemented, "skip verifying the client's checksum on PUT"},
	{InQuery, "smap", Implemented, "cluster map version of a directly routed request (miniais)"},
	{InQuery, "uuid", Implemented, "bucket summary job ID"},
	{InQuery, "bsumm_remote", Hint, "summary of remote objects (none exist for ais://)"},
	{InQuery, "dont_add_remote_bck_md", Hint, "remote buckets only"},
	{InQuery, "sln", Hint, "silence 404 logging"},
	{InQuery, "pid", Hint, "the redirecting proxy (a routing hint, not a guard)"},
	{InQuery, "utm", Hint, "the redirect's time (a routing hint, not a guard)"},
	{InQuery, "traceparent", Hint, "trace context of the redirecting span"},
	{InQuery, "tracestate", Hint, "trace context of the redirecting span"},
	{InQuery, "baggage", Hint, "trace baggage of the redirecting span"},
	{InQuery, "transient", Implemented, "set-config without persisting"},
	{InQuery, "object_to", Implemented, "object copy (ais object cp)"},
	{InQuery, "append_type", Implemented, "append and concat (ais put --append, ais object concat)"},
	{InQuery, "append_handle", Implemented, "append and concat (ais put --append, ais object concat)"},
	{InQuery, "archpath", Implemented, "TAR archive members (ais archive put, ais get --archpath)"},
	{InQuery, "archmime", Implemented, "archive format of an archive PUT (only TAR; others are refused)"},
	{InQuery, "archregx", Refused, "TAR archive members by regular expression"},
	{InQuery, "archmode", Refused, "TAR archive members by match mode"},
	{InQuery, "etl_name", Refused, "ETL transformations"},
	{InQuery, "uploadId", Implemented, "multipart upload"},
	{InQuery, "partNumber", Implemented, "multipart upload part"},
	{InQuery, "uploads", Implemented, "a target's multipart uploads in progress (miniais)"},
	{InQuery, "bck_to", Implemented, "destination of a bucket copy or rename (ais bucket cp, ais bucket mv)"},
	{InQuery, "validate-checksum", Refused, "checksum recomputation on HEAD"},
	{InQuery, "latest", Refused, "latest version from a remote backend"},
	{InQuery, "mountpath_label", Refused, "mountpath attach"},
	{InQuery, "dntres", Implemented, "mountpath attach/detach/enable/disable without a resilver"},

	// Request headers.
	{InHeader, "Ais-Checksum-Type", Implemented, "the client's checksum type on PUT"},
	{InHeader, "Ais-Checksum-Value", Implemented, "the client's checksum on PUT"},
	{InHeader, "Ais-Node-Id", Implemented, "the node a reverse request is for"},
	{InHeader, "Ais-Caller-Name", Hint, "the calling node, shown in error replies"},
	{InHeader, "Ais-Local-Only", Implemented, "answer from this target's disks only (between targets)"},
	{InHeader, "Ais-Trace-Force", Implemented, "sample this request's trace"},
	{InHeader, "Ais-Pine", Implemented, "appending to a TAR archive"},

	// Actions.
	{InAction, "list", Implemented, "list buckets or the objects of a bucket"},
	{InAction, "create-bck", Implemented, "create a bucket (partial properties in the value, as set-bprops takes them)"},
	{InAction, "destroy-bck", Implemented, "destroy a bucket with its objects"},
	{InAction, "set-bprops", Implemented, "change bucket properties (a change of mirror.copies starts make-n-copies)"},
	{InAction, "reset-bprops", Implemented, "reset bucket properties to the defaults"},
	{InAction, "summary-bck", Implemented, "bucket summary (object count and bytes)"},
	{InAction, "rename-obj", Implemented, "object rename (ais object mv)"},
	{InAction, "mpt-upload", Implemented, "start a multipart upload"},
	{InAction, "mpt-complete", Implemented, "complete a multipart upload"},
	{InAction, "mpt-abort", Implemented, "abort a multipart upload"},
	{InAction, "delete-listrange", Implemented, "multi-object delete, a job (ais rmo --list/--template/--prefix)"},
	{InAction, "copy-listrange", Refused, "multi-object copy"},
	{InAction, "archive", Refused, "multi-object archive (ais archive bucket)"},
	{InAction, "copy-bck", Implemented, "bucket copy, a job (ais bucket cp; prefix and dry_run)"},
	{InAction, "move-bck", Implemented, "bucket rename, a job (ais bucket mv)"},
	{InAction, "prefetch-listrange", Refused, "prefetch (remote buckets only)"},
	{InAction, "evict-listrange", Refused, "evict (remote buckets only)"},
	{InAction, "evict-remote-bck", Refused, "evict (remote buckets only)"},
	{InAction, "make-n-copies", Implemented, "n-way mirroring: mirror.copies=N and its job (ais job start mirror --copies N)"},
	{InAction, "start", Implemented, "start a job (ais job start rebalance; other kinds are refused)"},
	{InAction, "stop", Implemented, "stop jobs (ais job stop)"},
	{InAction, "start-maintenance", Implemented, "target maintenance: its objects move to the others (skip_rebalance is refused)"},
	{InAction, "stop-maintenance", Implemented, "target maintenance ends: its objects move back"},
	{InAction, "shutdown-node", Implemented, "target shutdown: maintenance, then the node exits"},
	{InAction, "decommission-node", Implemented, "target decommission: its objects move, it leaves the map and wipes its state"},
	{InAction, "shutdown", Refused, "cluster shutdown"},
	{InAction, "rm-unsafe", Refused, "unsafe node removal"},
	{InAction, "attach-mp", Implemented, "mountpath attach (a resilver job follows)"},
	{InAction, "detach-mp", Implemented, "mountpath detach (its objects move off first, unless dntres)"},
	{InAction, "enable-mp", Implemented, "mountpath enable (a resilver job follows)"},
	{InAction, "disable-mp", Implemented, "mountpath disable (its objects move off first, unless dntres)"},
	{InAction, "rescan-mp", Refused, "mountpath rescan"},
	{InAction, "fshc-mp", Refused, "mountpath health check"},
}

// refusedQuery, refusedHeader and actions index Surface.
var (
	refusedQuery  = map[string]*Name{}
	refusedHeader = map[string]*Name{}
	actions       = map[string]*Name{}
)

func init() {
	for i := range Surface {
		n := &Surface[i]
		switch {
		case n.In == InAction:
			actions[n.Name] = n
		case n.Support != Refused:
		case n.In == InQuery:
			refusedQuery[n.Name] = n
		case n.In == InHeader:
			refusedHeader[n.Name] = n
		}
	}
}

// Strict refuses a request that carries a query parameter or header that
// Surface lists as refused: the error wraps cluster.ErrNotImplemented (501)
// and names it. It reads only the URL and the headers.
func Strict(r *http.Request) error {
	for rest := r.URL.RawQuery; rest != ""; {
		var kv string
		kv, rest, _ = strings.Cut(rest, "&")
		k, _, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if n := refusedQuery[k]; n != nil {
			return cluster.Errorf(cluster.ErrNotImplemented, "query parameter %q (%s) is not implemented", k, n.What)
		}
	}
	if len(r.Header) > 0 {
		for k := range refusedHeader {
			if _, ok := r.Header[k]; ok {
				return cluster.Errorf(cluster.ErrNotImplemented, "header %s (%s) is not implemented", k, refusedHeader[k].What)
			}
		}
	}
	return nil
}

// CheckAction returns nil for an implemented action, an error wrapping
// cluster.ErrNotImplemented (501) for one Surface refuses, and one wrapping
// cluster.ErrBadRequest for a name no AIStore client sends. An empty action
// is a bad request. Handlers call it before they switch on the actions
// their route takes.
func CheckAction(action string) error {
	n := actions[action]
	switch {
	case action == "":
		return cluster.Errorf(cluster.ErrBadRequest, "the request has no action message")
	case n == nil:
		return cluster.Errorf(cluster.ErrBadRequest, "unknown action %q", action)
	case n.Support == Refused:
		return cluster.Errorf(cluster.ErrNotImplemented, "action %q (%s) is not implemented", action, n.What)
	}
	return nil
}

// ErrActionRoute returns the error for an implemented action sent to a
// route that does not take it.
func ErrActionRoute(r *http.Request, action string) error {
	return cluster.Errorf(cluster.ErrBadRequest, "action %q does not apply to %s %s", action, r.Method, r.URL.Path)
}

// ReadActionFor reads r's action message and returns it when its action is
// one of those the route takes ("" among them: no message is fine). Any
// other action is refused: 501 for one Surface refuses, 400 for an unknown
// one or one that belongs to another route (CheckAction, ErrActionRoute).
// With no actions given, every request is refused.
func ReadActionFor(r *http.Request, takes ...string) (wire.ActionMsg, error) {
	msg, err := ReadAction(r)
	if err != nil {
		return msg, err
	}
	for _, a := range takes {
		if msg.Action == a {
			return msg, nil
		}
	}
	if err := CheckAction(msg.Action); err != nil {
		return msg, err
	}
	return msg, ErrActionRoute(r, msg.Action)
}
