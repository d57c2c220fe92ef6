package cluster

import (
	"errors"
	"fmt"
)

// The error kinds of miniais. Every layer wraps one of these with %w and adds
// context; the HTTP layer maps them to status codes in one place (see api).
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
)

// Errorf wraps kind with a formatted message: errors.Is(err, kind) holds.
func Errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kind)
}
