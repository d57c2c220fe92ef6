package cluster

import (
	"errors"
	"fmt"
	"strings"
)

// The error kinds of miniais. Every layer wraps one of these with %w and adds
// context. Kinds (below) is the one table that says, for each, its HTTP
// status, its wire name and AIStore's type code; the HTTP layer, the
// transport and the client all derive their mappings from it.
var (
	// ErrNotFound means the bucket, object or node does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the bucket (or other named thing) already exists.
	ErrExists = errors.New("already exists")
	// ErrBadName means a bucket or object name is malformed or unsafe
	// (empty, "..", absolute, NUL, too long, invalid UTF-8).
	ErrBadName = errors.New("bad name")
	// ErrBadRequest means a request is malformed in a way other than a name.
	ErrBadRequest = errors.New("bad request")
	// ErrUnavailable means no node can serve the request right now
	// (the owning target is down, the cluster has no targets).
	ErrUnavailable = errors.New("unavailable")
	// ErrChecksum means content does not match its checksum: either a client's
	// declared checksum on PUT, or a stored object that failed validation.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrCorrupt means a stored object failed validation: its content does
	// not match the checksum or size recorded when it was written. It is the
	// server's fault, not the request's; it wraps ErrChecksum, so
	// errors.Is(err, ErrChecksum) holds for it too.
	ErrCorrupt = fmt.Errorf("stored data is corrupt: %w", ErrChecksum)
	// ErrTooLarge means an object or frame exceeds a configured limit.
	ErrTooLarge = errors.New("too large")
	// ErrNotOwner means a target received a request for an object that the
	// current cluster map places on another target.
	ErrNotOwner = errors.New("not the owner")
	// ErrNotImplemented means the request names a parameter, header value or
	// action that miniais does not implement. It is refused before anything
	// is read or written.
	ErrNotImplemented = errors.New("not implemented")
	// ErrMethod means the path exists but does not take the request's method.
	ErrMethod = errors.New("method not allowed")
	// ErrTimeout means the client stopped sending a request body.
	ErrTimeout = errors.New("request timeout")
	// ErrBusy means a conflicting operation is in progress; retry later.
	ErrBusy = errors.New("busy")
)

// Kind is one row of the error-kind table.
type Kind struct {
	// Err is the sentinel error of the kind.
	Err error
	// Name is the kind's wire name: the "kind" of a JSON error reply and
	// the error code of a transport reply.
	Name string
	// Status is the HTTP status of a reply failing with this kind.
	Status int
	// TCode is AIStore's type code ("tcode" in a JSON error reply).
	TCode string
}

// Kinds is the error-kind table, in the order an error is matched against
// it (ErrCorrupt before ErrChecksum, which it wraps). For a status shared by
// several kinds, the first with that status stands for it on the client.
var Kinds = [...]Kind{
	{ErrNotFound, "not-found", 404, "ErrNotFound"},
	{ErrExists, "exists", 409, "ErrAlreadyExists"},
	{ErrBusy, "busy", 409, "ErrBusy"},
	{ErrCorrupt, "corrupt", 500, "ErrBadCksum"},
	{ErrTimeout, "timeout", 408, "ErrRequestTimeout"},
	{ErrBadRequest, "bad-request", 400, "ErrBadRequest"},
	{ErrBadName, "bad-name", 400, "ErrInvalidName"},
	{ErrChecksum, "checksum", 400, "ErrBadCksum"},
	{ErrMethod, "method-not-allowed", 405, "ErrMethodNotAllowed"},
	{ErrTooLarge, "too-large", 413, "ErrTooLarge"},
	{ErrNotOwner, "not-owner", 421, "ErrNotOwner"},
	{ErrNotImplemented, "not-implemented", 501, "ErrUnsupp"},
	{ErrUnavailable, "unavailable", 503, "ErrUnavailable"},
}

// KindOf returns the first kind in Kinds whose sentinel err wraps, or nil.
func KindOf(err error) *Kind {
	if err == nil {
		return nil
	}
	for i := range Kinds {
		if errors.Is(err, Kinds[i].Err) {
			return &Kinds[i]
		}
	}
	return nil
}

// KindNamed returns the kind with wire name name, or nil.
func KindNamed(name string) *Kind {
	for i := range Kinds {
		if Kinds[i].Name == name {
			return &Kinds[i]
		}
	}
	return nil
}

// KindOfStatus returns the first kind with HTTP status status, or nil.
func KindOfStatus(status int) *Kind {
	for i := range Kinds {
		if Kinds[i].Status == status {
			return &Kinds[i]
		}
	}
	return nil
}

// Errorf wraps kind with a formatted message: errors.Is(err, kind) holds.
// The text is the message followed by ": " and the kind's text, unless the
// message says it already ("... is not implemented" stays as it is).
func Errorf(kind error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, kind.Error()) {
		msg += ": " + kind.Error()
	}
	return &kindError{msg: msg, kind: kind}
}

// kindError is an error of a kind with its message.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
