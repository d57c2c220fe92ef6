package transport

import (
	"strconv"

	"miniais/cluster"
)

//go:generate go tool msgp -file=header.go -o=header_gen.go -tests=false

// The decoder refuses a Trace map with more than 64 entries and a byte or
// array field longer than 64 KiB (the largest header a frame may carry):
// a header never makes the decoder allocate from an unchecked length. The
// opaque field carries whole transactions and listing requests, so its limit
// is the header's, not the map's.
//msgp:limit arrays:65536 maps:64

// Kind says what a frame is about; a Server dispatches requests by Kind.
type Kind uint16

// The message kinds. The comment says who sends each one and what its payload
// (Header.Size bytes after the header) carries.
const (
	// KindPing checks that a peer is alive; no payload.
	KindPing Kind = iota + 1
	// KindJoin is sent by a target to the proxy to join; payload: msgpack cluster.Node.
	KindJoin
	// KindKeepalive is sent by a target to the proxy periodically.
	KindKeepalive
	// KindMapPush is sent by the proxy to targets; payload: msgpack cluster.Map.
	KindMapPush
	// KindBMDPush is sent by the proxy to targets; payload: msgpack cluster.BMD.
	KindBMDPush
	// KindTxnPrepare starts a two-phase transaction (bucket create/destroy);
	// Header.Opaque carries the transaction as JSON.
	KindTxnPrepare
	// KindTxnCommit commits a prepared transaction.
	KindTxnCommit
	// KindTxnAbort aborts a prepared transaction.
	KindTxnAbort
	// KindListObjects asks a target for one page of a bucket listing.
	KindListObjects
	// KindObjectPut streams an object between targets; payload: the object's
	// bytes. Normally a rebalance move (the receiver keeps a copy it already
	// has; Header.Opaque carries the rebalance job's ID); with Opaque "copy"
	// it is an object copy or rename (the receiver, as the object's owner,
	// overwrites).
	KindObjectPut
	// KindBucketSummary asks a target for its part of a bucket summary;
	// Header.Opaque carries the prefix; the reply's payload is JSON.
	KindBucketSummary
	// KindRebalanceDone is sent by a target to the others when it has moved
	// every object it no longer owns under the map version in Header.Opaque.
	KindRebalanceDone
	// KindConfigPush is sent by the proxy to targets; payload: msgpack
	// cluster.Config. With Header.Opaque "validate" the target only checks
	// that it can apply it (the first round of set-config), changing
	// nothing.
	KindConfigPush
	// KindJobStart is sent by the proxy to every target to start its share
	// of a job, in two rounds: with Header.Opaque "prepare" (payload: the
	// job's spec, JSON job.Spec) the target registers the job, so that it
	// can receive the others' objects; with "run" (payload: the job's ID)
	// it starts its own work. A rebalance has one round (Opaque empty).
	KindJobStart
	// KindJobStatus asks a target for its snapshots of the jobs a query
	// selects; payload: JSON wire.JobQuery; reply payload: JSON
	// []wire.JobSnap.
	KindJobStatus
	// KindJobStop asks a target to abort the jobs a query selects (by ID,
	// else by kind); payload: JSON wire.JobQuery.
	KindJobStop
	// KindJobDone is sent by a target to the proxy when its share of a job
	// has ended; payload: its final JSON wire.JobSnap.
	KindJobDone
	// KindJobObject streams an object of a job (a bucket copy or rename)
	// to the target that owns it in the destination bucket, which stores
	// it whether or not it already has the object (unlike KindObjectPut);
	// Header.Opaque carries the job ID; payload: the object's bytes. The
	// reply's Opaque is "busy" when the receiver is serving foreground
	// requests (the sender slows down).
	KindJobObject
	// KindNodeLeave is sent by the proxy to a target whose objects have
	// moved away, to shut down or to be decommissioned (wipe its state);
	// payload: JSON wire.NodeLeave. The target replies, then leaves.
	KindNodeLeave

	kindEnd // one past the last valid kind
)

var kindNames = [...]string{
	KindPing:          "ping",
	KindJoin:          "join",
	KindKeepalive:     "keepalive",
	KindMapPush:       "map-push",
	KindBMDPush:       "bmd-push",
	KindTxnPrepare:    "txn-prepare",
	KindTxnCommit:     "txn-commit",
	KindTxnAbort:      "txn-abort",
	KindListObjects:   "list-objects",
	KindObjectPut:     "object-put",
	KindBucketSummary: "bucket-summary",
	KindRebalanceDone: "rebalance-done",
	KindConfigPush:    "config-push",
	KindJobStart:      "job-start",
	KindJobStatus:     "job-status",
	KindJobStop:       "job-stop",
	KindJobDone:       "job-done",
	KindJobObject:     "job-object",
	KindNodeLeave:     "node-leave",
}

// String returns the kind's wire-independent name, e.g. "map-push"; an
// unknown kind prints as "kind(N)".
func (k Kind) String() string {
	if k > 0 && k < kindEnd {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k > 0 && k < kindEnd }

// Header is the msgpack-encoded part of a frame (see the package doc for the
// layout). Requests and replies share it: a reply carries the request's Kind
// and ID with Reply set. Empty fields are omitted on the wire.
type Header struct {
	// Kind is the message kind.
	Kind Kind `msg:"k"`
	// ID is the request ID, chosen by the Client; a reply carries its request's ID.
	ID uint64 `msg:"i"`
	// Reply is set on replies.
	Reply bool `msg:"r,omitempty"`
	// Stream is set by Client.Send: the payload is a streamed object. The
	// receiver uses it to pick the span kind (consumer rather than server).
	Stream bool `msg:"st,omitempty"`
	// Sender is the sending node's ID (Config.NodeID); the Client fills it.
	Sender string `msg:"s,omitempty"`
	// Bucket is the bucket's uname or name, as the caller sees fit.
	Bucket string `msg:"b,omitempty"`
	// Object is the object name.
	Object string `msg:"o,omitempty"`
	// Size is the payload size in bytes (0 = none); the transport fills it.
	Size int64 `msg:"z,omitempty"`
	// Checksum is the object's checksum, when the message is about one.
	Checksum cluster.Checksum `msg:"c,omitempty"`
	// Version is the object's version, when the message is about one.
	Version string `msg:"v,omitempty"`
	// Custom are the object's custom key-value pairs (user metadata, the S3
	// ETag), carried when an object moves or is copied so that its new copy
	// keeps them (bounded by fs.MaxMetaSize on the sender's disk).
	Custom map[string]string `msg:"m,omitempty"`
	// Opaque is caller-defined (e.g. a transaction as JSON).
	Opaque []byte `msg:"x,omitempty"`
	// Error is a reply's error text; "" means success.
	Error string `msg:"e,omitempty"`
	// ErrKind names the cluster sentinel error that Error wraps: "not-found",
	// "exists", "bad-name", "bad-request", "unavailable", "checksum",
	// "too-large", "not-owner", or "" for any other error.
	ErrKind string `msg:"ek,omitempty"`
	// Trace is the W3C trace context (traceparent, tracestate, baggage),
	// injected by the Client and extracted by the Server.
	Trace map[string]string `msg:"t,omitempty"`
}
