package sigv4

import (
	"fmt"
	"net/http"
)

// Error is a kind of authentication failure. Each sentinel below is one
// row of the package's error table: its default S3 error code and the HTTP
// status of a reply failing with it. Errors returned by Verify and by a
// Result's Body wrap one of them (errors.Is holds) and may carry a more
// precise code of the same status (InvalidAccessKeyId for an unknown key,
// XAmzContentSHA256Mismatch for a payload hash): read the code with Code
// through errors.As on the interface { Code() string; HTTPStatus() int }.
type Error struct {
	code   string
	status int
	text   string
}

// Error returns the kind's text.
func (e *Error) Error() string { return e.text }

// Code returns the kind's default S3 error code.
func (e *Error) Code() string { return e.code }

// HTTPStatus returns the HTTP status of a reply failing with the kind.
func (e *Error) HTTPStatus() int { return e.status }

var (
	// ErrAccessDenied means the request carries no authentication where
	// it is required, or names an access key that is not in Credentials
	// (code InvalidAccessKeyId), or has x-amz-* headers it did not sign
	// (403 AccessDenied).
	ErrAccessDenied = &Error{"AccessDenied", http.StatusForbidden, "access denied"}
	// ErrSignatureDoesNotMatch means the signature of the request, of an
	// aws-chunked chunk or of its trailer is not the one the secret key
	// gives (403 SignatureDoesNotMatch).
	ErrSignatureDoesNotMatch = &Error{"SignatureDoesNotMatch", http.StatusForbidden,
		"the request signature we calculated does not match the signature you provided"}
	// ErrRequestTimeTooSkewed means the request's time is further from the
	// server's clock than MaxSkew (403 RequestTimeTooSkewed).
	ErrRequestTimeTooSkewed = &Error{"RequestTimeTooSkewed", http.StatusForbidden,
		"the difference between the request time and the server's time is too large"}
	// ErrExpiredPresign means a presigned URL's X-Amz-Date plus
	// X-Amz-Expires is in the past (403 AccessDenied "Request has expired"),
	// or its X-Amz-Date is further in the future than MaxSkew.
	ErrExpiredPresign = &Error{"AccessDenied", http.StatusForbidden, "request has expired"}
	// ErrMalformed means the authentication information or the payload
	// framing cannot be parsed or is inconsistent (400
	// AuthorizationHeaderMalformed for the Authorization header and the
	// credential scope, InvalidArgument otherwise, IncompleteBody for a
	// payload shorter than declared).
	ErrMalformed = &Error{"AuthorizationHeaderMalformed", http.StatusBadRequest,
		"the authorization information is malformed"}
	// ErrBadDigest means the payload does not match a digest the request
	// declares: Content-MD5 or a flexible checksum (400 BadDigest), or
	// the SHA-256 in x-amz-content-sha256 (400 XAmzContentSHA256Mismatch).
	ErrBadDigest = &Error{"BadDigest", http.StatusBadRequest,
		"the payload does not match the digest the request declares"}
	// ErrNotImplemented means the request uses an authentication scheme
	// (SigV2, SigV4A, another Authorization scheme) or a payload or
	// checksum mode that this package does not verify (501
	// NotImplemented). It is refused, never let through unchecked.
	ErrNotImplemented = &Error{"NotImplemented", http.StatusNotImplemented,
		"not implemented"}
)

// failure is one authentication failure: a kind, the S3 code to report
// (the kind's unless more precise) and a message for the client.
type failure struct {
	kind *Error
	code string
	msg  string
}

func (f *failure) Error() string   { return f.msg }
func (f *failure) Unwrap() error   { return f.kind }
func (f *failure) Code() string    { return f.code }
func (f *failure) HTTPStatus() int { return f.kind.status }

// fail returns an error of kind with the kind's code and a formatted message.
func fail(kind *Error, format string, args ...any) error {
	return &failure{kind: kind, code: kind.code, msg: fmt.Sprintf(format, args...)}
}

// failCode returns an error of kind reported with code instead of the kind's.
func failCode(kind *Error, code, format string, args ...any) error {
	return &failure{kind: kind, code: code, msg: fmt.Sprintf(format, args...)}
}
