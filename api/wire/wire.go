package wire

//go:generate go tool msgp -file=wire.go -o=wire_gen.go -tests=false
//msgp:ignore ActionMsg ListObjsMsg BucketEntry Namespace HTTPError

// A listing page arrives from the network: the decoder refuses an array
// (entries) or byte string longer than 1<<20 and a map of more than 1024
// keys, so a hostile length never makes it allocate unboundedly.
//msgp:limit arrays:1048576 maps:1024

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"miniais/cluster"
)

// URL paths of the v1 API. Bucket and object paths continue with
// "/<bucket>" and "/<bucket>/<object...>".
const (
	PathBuckets = "/v1/buckets"
	PathObjects = "/v1/objects"
	PathHealth  = "/v1/health"
	PathDaemon  = "/v1/daemon"
)

// Action names carried in ActionMsg.Action.
const (
	// ActCreateBck creates a bucket (POST /v1/buckets/B).
	ActCreateBck = "create-bck"
	// ActDestroyBck destroys a bucket and all its objects (DELETE /v1/buckets/B).
	ActDestroyBck = "destroy-bck"
	// ActList lists buckets (no value) or the objects of a bucket (value is
	// a ListObjsMsg).
	ActList = "list"
	// The mountpath actions of /v1/daemon/mountpaths (value: the path).
	ActAttachMountpath  = "attach-mp"
	ActDetachMountpath  = "detach-mp"
	ActEnableMountpath  = "enable-mp"
	ActDisableMountpath = "disable-mp"
)

// QparamDontResilver=true makes a mountpath action skip the resilver.
const QparamDontResilver = "dntres"

// Header names (Go canonical form).
const (
	HdrBucketProps    = "Ais-Bucket-Props"
	HdrChecksumType   = "Ais-Checksum-Type"
	HdrChecksumValue  = "Ais-Checksum-Value"
	HdrVersion        = "Ais-Version"
	HdrAtime          = "Ais-Atime"
	HdrName           = "Ais-Name"
	HdrBucketName     = "Ais-Bucket-Name"
	HdrBucketProvider = "Ais-Bucket-Provider"
	HdrPresent        = "Ais-Present"
	HdrLocation       = "Ais-Location"
	// HdrMirrorCopies is the number of copies of an object on its target,
	// in decimal (HEAD; AIStore's mirror.copies).
	HdrMirrorCopies = "Ais-Mirror-Copies"
	// HdrMirrorPaths names the mountpaths that hold those copies,
	// comma-separated, the one reads try first first (HEAD; AIStore's
	// mirror.paths).
	HdrMirrorPaths = "Ais-Mirror-Paths"
	// HdrCallerName names the calling node on intra-cluster requests; it
	// fills HTTPError.Caller.
	HdrCallerName = "Ais-Caller-Name"
	// HdrError carries the JSON error of a failed HEAD (which has no body).
	HdrError = "Hdr-Error"
	// HdrXactionID carries a job's ID (the summary's, on HEAD bucket).
	HdrXactionID = "Ais-Xaction-Id"
	// HdrBucketSumm carries a finished bucket summary (HEAD bucket).
	HdrBucketSumm = "Ais-Bucket-Summ"
	// HdrIncomplete, miniais's own, comes with an object listing page or a
	// finished bucket summary that lacks the part of one or more targets
	// (down, or not answering): their IDs, comma-separated and sorted. The
	// same IDs are in the reply's Incomplete field.
	HdrIncomplete = "Ais-Incomplete"
)

// LsoIncomplete is the bit of LsoResult.Flags that AIStore sets when a
// listing may be incomplete (a rebalance is running or was interrupted);
// miniais also sets it when a target's part is missing (LsoResult.Incomplete).
const LsoIncomplete = 1

// Query parameter names.
const (
	QparamProvider  = "provider"
	QparamProxyID   = "pid"
	QparamUnixTime  = "utm"
	QparamPresence  = "presence"
	QparamWhat      = "what"
	QparamReadiness = "readiness"
	// QparamBsummRemote marks a HEAD bucket as AIStore's summary request.
	QparamBsummRemote = "bsumm_remote"
	// QparamUUID carries a job's ID (the summary's on HEAD bucket).
	QparamUUID = "uuid"
	// QparamSkipVC turns off verifying the client's checksum on PUT.
	QparamSkipVC = "skip_vc"
)

// Values of QparamWhat on GET /v1/daemon.
const (
	// WhatSmap asks the proxy for the cluster map.
	WhatSmap = "smap"
)

// Content types.
const (
	ContentJSON    = "application/json"
	ContentMsgpack = "application/msgpack"
)

// ActionMsg is the JSON body of a control request.
type ActionMsg struct {
	Action string          `json:"action"`
	Name   string          `json:"name,omitempty"`
	Value  json.RawMessage `json:"value,omitempty"`
}

// ListObjsMsg is the "value" of a list action on a bucket (AIStore's
// apc.LsoMsg JSON names). PageSize 0 means the server's default page size.
// Props is a comma-separated list of entry properties ("name,size,checksum,
// atime,version,location"); the name is always present.
type ListObjsMsg struct {
	Prefix            string `json:"prefix"`
	Props             string `json:"props"`
	ContinuationToken string `json:"continuation_token"`
	PageSize          int64  `json:"pagesize"`
	UUID              string `json:"uuid"`
	Flags             uint64 `json:"flags,string"`
	// StartAfter lists names after it (when ContinuationToken is empty).
	StartAfter string `json:"start_after,omitempty"`
	// Target pins a listing to one target and TimeFormat formats atime;
	// miniais refuses both (501).
	Target     string `json:"target,omitempty"`
	TimeFormat string `json:"time_format,omitempty"`
}

// LsoEntry is one object of a listing. In JSON the size is a string (as
// AIStore sends it); in msgpack the keys are AIStore's one-letter ones.
type LsoEntry struct {
	Name     string `json:"name" msg:"n,omitempty"`
	Checksum string `json:"checksum,omitempty" msg:"cs,omitempty"`
	Atime    string `json:"atime,omitempty" msg:"a,omitempty"`
	Version  string `json:"version,omitempty" msg:"v,omitempty"`
	Location string `json:"location,omitempty" msg:"t,omitempty"`
	Custom   string `json:"custom-md,omitempty" msg:"m,omitempty"`
	Size     int64  `json:"size,string" msg:"s,omitempty"`
	Copies   int16  `json:"copies,omitempty" msg:"c,omitempty"`
	Flags    uint16 `json:"flags,omitempty" msg:"f,omitempty"`
}

// LsoResult is one page of an object listing. ContinuationToken is empty on
// the last page; otherwise it is passed back in ListObjsMsg to get the next.
type LsoResult struct {
	UUID              string      `json:"uuid"`
	ContinuationToken string      `json:"continuation_token"`
	Entries           []*LsoEntry `json:"entries"`
	Flags             uint32      `json:"flags"`
	// Incomplete, miniais's own (AIStore's decoders skip the key), names
	// the targets whose objects this page lacks because they were down or
	// did not answer, sorted; the HdrIncomplete header repeats it. Later
	// pages may still lack them: a client warns when any page has it.
	Incomplete []string `json:"miniais_incomplete,omitempty" msg:"miniais_incomplete,omitempty"`
}

// BucketEntry is one element of the list-buckets reply.
type BucketEntry struct {
	Name      string    `json:"name"`
	Provider  string    `json:"provider"`
	Namespace Namespace `json:"namespace"`
}

// Namespace is AIStore's bucket namespace; miniais only has the empty one.
type Namespace struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// HTTPError is the JSON body of a non-2xx reply (api-v1.md "Errors"). On the
// client side it is the error returned for any non-2xx status; errors.Is
// matches it against the cluster sentinel errors (see Unwrap). HEAD replies
// carry it in the HdrError header instead of a body, as AIStore's do.
type HTTPError struct {
	Message    string `json:"message"`
	Method     string `json:"method"`
	URLPath    string `json:"url_path"`
	RemoteAddr string `json:"remote_addr"`
	Caller     string `json:"caller"`
	Node       string `json:"node"`
	Status     int    `json:"status"`
	// Kind is the wire name of the error's cluster.Kind ("" for none).
	Kind string `json:"kind,omitempty"`
	// TCode is AIStore's type code of the kind (its clients test a few).
	TCode string `json:"tcode,omitempty"`
	// TraceID is the trace of the failed request, when it was traced.
	TraceID string `json:"trace_id,omitempty"`
}

// Error returns the message, prefixed by the status when the message is
// empty.
func (e *HTTPError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// Unwrap returns the cluster sentinels that e stands for: the kind its Kind
// names, when the reply carried one, and the first kind of its status (see
// cluster.Kinds), so that a 400 for a bad name is both ErrBadName and
// ErrBadRequest.
func (e *HTTPError) Unwrap() []error {
	var out []error
	if k := cluster.KindNamed(e.Kind); k != nil {
		out = append(out, k.Err)
	}
	if k := cluster.KindOfStatus(e.Status); k != nil && (len(out) == 0 || out[0] != k.Err) {
		out = append(out, k.Err)
	}
	return out
}

// StatusClientClosed is the status logged for a request whose client went
// away (nginx's 499); the client never sees it.
const StatusClientClosed = 499

// StatusOf maps an error to an HTTP status. It is the one place in miniais
// where errors become status codes: a cluster error kind gets the status of
// its row in cluster.Kinds; besides those,
//
//	*http.MaxBytesError                413 Request Entity Too Large
//	context.Canceled                   499 (client closed the request)
//	context.DeadlineExceeded           504 Gateway Timeout
//	*HTTPError (relayed from a node)   its Status
//	nil                                200
//	anything else                      500 Internal Server Error
func StatusOf(err error) int {
	var he *HTTPError
	var mbe *http.MaxBytesError
	if err == nil {
		return http.StatusOK
	}
	if errors.As(err, &he) && he.Status >= 400 {
		return he.Status
	}
	if k := cluster.KindOf(err); k != nil {
		return k.Status
	}
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, context.Canceled):
		return StatusClientClosed
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// NewHTTPError builds the error body for err answering r on node nodeID.
func NewHTTPError(r *http.Request, nodeID string, err error) *HTTPError {
	he := &HTTPError{
		Message:    err.Error(),
		Method:     r.Method,
		URLPath:    r.URL.Path,
		RemoteAddr: r.RemoteAddr,
		Caller:     r.Header.Get(HdrCallerName),
		Node:       nodeID,
		Status:     StatusOf(err),
	}
	var relayed *HTTPError
	if errors.As(err, &relayed) && relayed.Kind != "" {
		he.Kind, he.TCode = relayed.Kind, relayed.TCode
	} else if k := cluster.KindOf(err); k != nil {
		he.Kind, he.TCode = k.Name, k.TCode
	}
	return he
}

// ListMsg decodes the message's value as a list-objects message (no value
// gives the zero one). The error wraps cluster.ErrBadRequest.
func (m ActionMsg) ListMsg() (ListObjsMsg, error) {
	var lso ListObjsMsg
	if len(m.Value) == 0 {
		return lso, nil
	}
	if err := json.Unmarshal(m.Value, &lso); err != nil {
		return lso, cluster.Errorf(cluster.ErrBadRequest, "malformed list message: %v", err)
	}
	return lso, nil
}

// Resources of the v1 API: the first path segment after "/v1/".
const (
	ResBuckets = "buckets"
	ResObjects = "objects"
	ResHealth  = "health"
	ResDaemon  = "daemon"
)

// QparamSmap is the query parameter of a directly routed object request: the
// version of the cluster map the client routed it with (decimal). A target
// serves such a request only when that version equals its own map's and it
// is the HRW owner of the object; otherwise it answers 421 Misdirected
// Request with an error wrapping cluster.ErrNotOwner.
const QparamSmap = "smap"

// ActSetBprops changes some of a bucket's properties (PATCH /v1/buckets/B).
// The action message's value is a partial cluster.BucketProps in JSON: the
// fields it names change, the others keep their values.
const ActSetBprops = "set-bprops"

// Further action names (shared/aistore-clients.md): reset-bprops resets a
// bucket's properties (PATCH), summary-bck asks for a bucket summary (GET).
const (
	ActResetBprops = "reset-bprops"
	ActSummaryBck  = "summary-bck"
)

// PresenceAll is the QparamPresence value the client sends when listing
// buckets (AIStore's "present in the cluster").
const PresenceAll = "2"
