package transport

import (
	"errors"

	"miniais/cluster"
)

// Errors of the transport itself (as opposed to errors of remote handlers,
// which are *RemoteError).
var (
	// ErrConnection means a call failed because of the network: the peer could
	// not be dialled (or is in dial backoff), the connection broke while the call
	// was in flight, or the peer sent something that is not a valid frame. The
	// call may or may not have been executed by the peer. The next call re-dials.
	ErrConnection = errors.New("transport: connection failed")
	// ErrClosed means the Client or Server has been closed.
	ErrClosed = errors.New("transport: closed")
	// ErrAuth means the handshake failed: the peers do not share the cluster
	// secret. A dial error that wraps ErrAuth also wraps ErrConnection.
	ErrAuth = errors.New("transport: authentication failed")
	// ErrFrame means bytes on a connection are not a valid frame: bad magic or
	// version, a header over the size limit, an undecodable header, or a
	// truncated frame. The connection carrying it is closed.
	ErrFrame = errors.New("transport: malformed frame")
	// ErrRemote is wrapped by every *RemoteError: the peer's handler failed.
	ErrRemote = errors.New("transport: remote handler failed")
)

// RemoteError is the error Call and Send return when the remote handler
// failed. errors.Is(err, ErrRemote) holds, and so does errors.Is(err, s) for
// the cluster sentinel s named by Kind (e.g. cluster.ErrExists for "exists").
type RemoteError struct {
	// Peer is the address the request was sent to.
	Peer string
	// Kind is the reply's ErrKind ("" when the error wraps no sentinel).
	Kind string
	// Msg is the remote error's text.
	Msg string
}

// Error returns the remote error's text, prefixed with the peer.
func (e *RemoteError) Error() string { return e.Peer + ": " + e.Msg }

// Unwrap returns ErrRemote and the cluster sentinel named by Kind, if any.
func (e *RemoteError) Unwrap() []error {
	if s := sentinelOf(e.Kind); s != nil {
		return []error{s, ErrRemote}
	}
	return []error{ErrRemote}
}

// ErrKindOf returns the wire name of the cluster error kind that err wraps
// (cluster.Kinds), or "" if it wraps none.
func ErrKindOf(err error) string {
	if k := cluster.KindOf(err); k != nil {
		return k.Name
	}
	return ""
}

// sentinelOf is the inverse of ErrKindOf; nil for "" or an unknown name.
func sentinelOf(kind string) error {
	if k := cluster.KindNamed(kind); k != nil {
		return k.Err
	}
	return nil
}
