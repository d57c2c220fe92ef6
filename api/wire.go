package api

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
	"strings"

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
)

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
	// HdrCallerName names the calling node on intra-cluster requests; it
	// fills HTTPError.Caller.
	HdrCallerName = "Ais-Caller-Name"
)

// Query parameter names.
const (
	QparamProvider  = "provider"
	QparamProxyID   = "pid"
	QparamUnixTime  = "utm"
	QparamPresence  = "presence"
	QparamWhat      = "what"
	QparamReadiness = "readiness"
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
// matches it against the cluster sentinel errors (see Unwrap).
type HTTPError struct {
	Message    string `json:"message"`
	Method     string `json:"method"`
	URLPath    string `json:"url_path"`
	RemoteAddr string `json:"remote_addr"`
	Caller     string `json:"caller"`
	Node       string `json:"node"`
	Status     int    `json:"status"`
}

// Error returns the message, prefixed by the status when the message is
// empty (HEAD replies carry no body).
func (e *HTTPError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// sentinels are the error kinds in the order Unwrap tries to recognize them
// from the message text.
var sentinels = [...]error{
	cluster.ErrNotFound, cluster.ErrExists, cluster.ErrBadName, cluster.ErrBadRequest,
	cluster.ErrUnavailable, cluster.ErrChecksum, cluster.ErrTooLarge, cluster.ErrNotOwner,
}

// Unwrap returns the cluster sentinel errors that e stands for: the one its
// status maps to (404 ErrNotFound, 409 ErrExists, 400 ErrBadRequest, 413
// ErrTooLarge, 421 ErrNotOwner, 503 ErrUnavailable) and, when the server's
// message ends with a sentinel's text (as cluster.Errorf produces), that one
// too, so that ErrBadName and ErrChecksum survive the wire.
func (e *HTTPError) Unwrap() []error {
	var out []error
	if s := sentinelOf(e.Status); s != nil {
		out = append(out, s)
	}
	for _, s := range sentinels {
		if strings.HasSuffix(e.Message, s.Error()) && (len(out) == 0 || out[0] != s) {
			out = append(out, s)
			break
		}
	}
	return out
}

func sentinelOf(status int) error {
	switch status {
	case http.StatusNotFound:
		return cluster.ErrNotFound
	case http.StatusConflict:
		return cluster.ErrExists
	case http.StatusBadRequest:
		return cluster.ErrBadRequest
	case http.StatusRequestEntityTooLarge:
		return cluster.ErrTooLarge
	case http.StatusMisdirectedRequest:
		return cluster.ErrNotOwner
	case http.StatusServiceUnavailable:
		return cluster.ErrUnavailable
	}
	return nil
}

// StatusClientClosed is the status logged for a request whose client went
// away (nginx's 499); the client never sees it.
const StatusClientClosed = 499

// StatusOf maps an error to an HTTP status. It is the one place in miniais
// where error kinds become status codes:
//
//	cluster.ErrNotFound                                   404 Not Found
//	cluster.ErrExists                                     409 Conflict
//	cluster.ErrCorrupt (a stored object failed validation) 500 Internal Server Error
//	cluster.ErrBadName, ErrBadRequest, ErrChecksum        400 Bad Request
//	cluster.ErrTooLarge, *http.MaxBytesError              413 Request Entity Too Large
//	cluster.ErrNotOwner                                   421 Misdirected Request
//	cluster.ErrUnavailable                                503 Service Unavailable
//	context.Canceled                                      499 (client closed the request)
//	context.DeadlineExceeded                              504 Gateway Timeout
//	*HTTPError (relayed from another node)                its Status
//	nil                                                   200
//	anything else                                         500 Internal Server Error
//
// ErrNotOwner gets 421 because the request reached a target that, by its
// cluster map, does not own the object: a transient map-version skew that a
// retry through the proxy resolves (and unlike 409 it cannot be mistaken for
// "already exists").
func StatusOf(err error) int {
	var he *HTTPError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, cluster.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, cluster.ErrExists):
		return http.StatusConflict
	case errors.Is(err, cluster.ErrCorrupt):
		return http.StatusInternalServerError // stored data went bad: not the client's fault
	case errors.Is(err, cluster.ErrBadName), errors.Is(err, cluster.ErrBadRequest), errors.Is(err, cluster.ErrChecksum):
		return http.StatusBadRequest
	case errors.Is(err, cluster.ErrTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, cluster.ErrNotOwner):
		return http.StatusMisdirectedRequest
	case errors.Is(err, cluster.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return StatusClientClosed
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.As(err, &he) && he.Status >= 400:
		return he.Status
	}
	return http.StatusInternalServerError
}

// NewHTTPError builds the error body for err answering r on node nodeID.
func NewHTTPError(r *http.Request, nodeID string, err error) *HTTPError {
	return &HTTPError{
		Message:    err.Error(),
		Method:     r.Method,
		URLPath:    r.URL.Path,
		RemoteAddr: r.RemoteAddr,
		Caller:     r.Header.Get(HdrCallerName),
		Node:       nodeID,
		Status:     StatusOf(err),
	}
}

// WriteError writes err as the JSON error body with status StatusOf(err). A
// HEAD reply carries only the status. err must not be nil.
func WriteError(w http.ResponseWriter, r *http.Request, nodeID string, err error) {
	he := NewHTTPError(r, nodeID, err)
	h := w.Header()
	h.Del("Content-Length")
	if r.Method == http.MethodHead {
		w.WriteHeader(he.Status)
		return
	}
	body, _ := json.Marshal(he) // cannot fail: only strings and an int
	h.Set("Content-Type", ContentJSON)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(he.Status)
	_, _ = w.Write(append(body, '\n'))
}
