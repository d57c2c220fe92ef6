package cluster

import (
	"strings"
	"unicode/utf8"
)

// ProviderAIS is the only bucket provider miniais serves.
const ProviderAIS = "ais"

// Limits on names.
const (
	// MaxBucketName is the longest bucket name accepted, in bytes.
	MaxBucketName = 64
	// MaxObjectName is the longest object name accepted, in bytes.
	MaxObjectName = 1024
)

// Bucket names a bucket: provider plus name, written "ais://name".
type Bucket struct {
	Provider string `json:"provider" msg:"p"`
	Name     string `json:"name" msg:"n"`
}

// NewBucket returns the ais bucket called name. It does not validate.
func NewBucket(name string) Bucket { return Bucket{Provider: ProviderAIS, Name: name} }

// String returns "provider://name".
func (b Bucket) String() string { return b.provider() + "://" + b.Name }

func (b Bucket) provider() string {
	if b.Provider == "" {
		return ProviderAIS
	}
	return b.Provider
}

// Validate checks the provider and the name: 1 to MaxBucketName bytes of
// letters, digits, '-', '_' and '.', not "." or "..".
func (b Bucket) Validate() error {
	if p := b.provider(); p != ProviderAIS {
		return Errorf(ErrBadName, "unsupported bucket provider %q (only %q)", p, ProviderAIS)
	}
	n := b.Name
	if n == "" {
		return Errorf(ErrBadName, "empty bucket name")
	}
	if len(n) > MaxBucketName {
		return Errorf(ErrBadName, "bucket name longer than %d bytes", MaxBucketName)
	}
	if n == "." || n == ".." {
		return Errorf(ErrBadName, "bucket name %q", n)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return Errorf(ErrBadName, "bucket name %q: only letters, digits, '-', '_' and '.' are allowed", n)
		}
	}
	return nil
}

// ValidateObjectName checks an object name: non-empty, at most MaxObjectName
// bytes, valid UTF-8, no NUL, not absolute, and no "." or ".." segment (so that
// it can never escape its bucket's directory). Names may contain '/'.
func ValidateObjectName(name string) error {
	switch {
	case name == "":
		return Errorf(ErrBadName, "empty object name")
	case len(name) > MaxObjectName:
		return Errorf(ErrBadName, "object name longer than %d bytes", MaxObjectName)
	case !utf8.ValidString(name):
		return Errorf(ErrBadName, "object name is not valid UTF-8")
	case strings.IndexByte(name, 0) >= 0:
		return Errorf(ErrBadName, "object name contains NUL")
	case name[0] == '/':
		return Errorf(ErrBadName, "object name %q is absolute", name)
	case name[len(name)-1] == '/':
		return Errorf(ErrBadName, "object name %q ends with '/'", name)
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "":
			return Errorf(ErrBadName, "object name %q has an empty segment", name)
		case ".", "..":
			return Errorf(ErrBadName, "object name %q has a %q segment", name, seg)
		}
	}
	return nil
}

// Uname returns the unique name of object name in bucket b, the string that
// HRW placement hashes: "ais/@#/<bucket>/<object>".
func (b Bucket) Uname(name string) string {
	return b.provider() + "/@#/" + b.Name + "/" + name
}
