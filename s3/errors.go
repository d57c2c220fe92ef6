package s3

import (
	"errors"
	"fmt"
	"net/http"

	"miniais/api/wire"
	"miniais/cluster"
)

// Code is one row of Codes: an S3 error code, its HTTP status and the
// cluster error kind it stands for.
type Code struct {
	// Name is S3's error code ("NoSuchKey").
	Name string
	// Status is the HTTP status of a reply with this code.
	Status int
	// Kind is the cluster sentinel the code wraps (errors.Is), so that the
	// rest of miniais sees an S3 error as its kind.
	Kind error
}

// The S3 error codes the gateway answers with.
const (
	CodeAccessDenied                 = "AccessDenied"
	CodeBadDigest                    = "BadDigest"
	CodeBucketAlreadyOwnedByYou      = "BucketAlreadyOwnedByYou"
	CodeBucketNotEmpty               = "BucketNotEmpty"
	CodeEntityTooLarge               = "EntityTooLarge"
	CodeEntityTooSmall               = "EntityTooSmall"
	CodeExpiredToken                 = "ExpiredToken"
	CodeIncompleteBody               = "IncompleteBody"
	CodeInternalError                = "InternalError"
	CodeInvalidAccessKeyID           = "InvalidAccessKeyId"
	CodeInvalidArgument              = "InvalidArgument"
	CodeInvalidBucketName            = "InvalidBucketName"
	CodeInvalidDigest                = "InvalidDigest"
	CodeInvalidPart                  = "InvalidPart"
	CodeInvalidPartOrder             = "InvalidPartOrder"
	CodeInvalidRange                 = "InvalidRange"
	CodeInvalidRequest               = "InvalidRequest"
	CodeMalformedXML                 = "MalformedXML"
	CodeMethodNotAllowed             = "MethodNotAllowed"
	CodeMissingContentLength         = "MissingContentLength"
	CodeNoSuchBucket                 = "NoSuchBucket"
	CodeNoSuchKey                    = "NoSuchKey"
	CodeNoSuchUpload                 = "NoSuchUpload"
	CodeNotImplemented               = "NotImplemented"
	CodeNotModified                  = "NotModified"
	CodeOperationAborted             = "OperationAborted"
	CodePreconditionFailed           = "PreconditionFailed"
	CodeRequestTimeout               = "RequestTimeout"
	CodeRequestTimeTooSkewed         = "RequestTimeTooSkewed"
	CodeServiceUnavailable           = "ServiceUnavailable"
	CodeSignatureDoesNotMatch        = "SignatureDoesNotMatch"
	CodeAuthorizationHeaderMalformed = "AuthorizationHeaderMalformed"
	CodeXAmzContentSHA256Mismatch    = "XAmzContentSHA256Mismatch"
)

// Codes is the one table of the S3 error codes the gateway answers with.
// ErrorOf maps a cluster error kind to the first row with that kind, unless
// the caller names the code (what was not found, for ErrNotFound).
var Codes = [...]Code{
	{CodeNoSuchKey, http.StatusNotFound, cluster.ErrNotFound},
	{CodeNoSuchBucket, http.StatusNotFound, cluster.ErrNotFound},
	{CodeNoSuchUpload, http.StatusNotFound, cluster.ErrNotFound},
	{CodeBucketAlreadyOwnedByYou, http.StatusConflict, cluster.ErrExists},
	{CodeOperationAborted, http.StatusConflict, cluster.ErrBusy},
	{CodeBucketNotEmpty, http.StatusConflict, cluster.ErrBusy},
	{CodeInvalidArgument, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeInvalidBucketName, http.StatusBadRequest, cluster.ErrBadName},
	{CodeBadDigest, http.StatusBadRequest, cluster.ErrChecksum},
	{CodeInvalidDigest, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeXAmzContentSHA256Mismatch, http.StatusBadRequest, cluster.ErrChecksum},
	{CodeInvalidPart, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeInvalidPartOrder, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeEntityTooSmall, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeMalformedXML, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeInvalidRequest, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeIncompleteBody, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeAuthorizationHeaderMalformed, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeEntityTooLarge, http.StatusBadRequest, cluster.ErrTooLarge},
	{CodeMissingContentLength, http.StatusLengthRequired, cluster.ErrBadRequest},
	{CodeAccessDenied, http.StatusForbidden, cluster.ErrBadRequest},
	{CodeInvalidAccessKeyID, http.StatusForbidden, cluster.ErrBadRequest},
	{CodeSignatureDoesNotMatch, http.StatusForbidden, cluster.ErrBadRequest},
	{CodeRequestTimeTooSkewed, http.StatusForbidden, cluster.ErrBadRequest},
	{CodeExpiredToken, http.StatusBadRequest, cluster.ErrBadRequest},
	{CodeInvalidRange, http.StatusRequestedRangeNotSatisfiable, cluster.ErrBadRequest},
	{CodePreconditionFailed, http.StatusPreconditionFailed, cluster.ErrBadRequest},
	{CodeNotModified, http.StatusNotModified, cluster.ErrBadRequest},
	{CodeMethodNotAllowed, http.StatusMethodNotAllowed, cluster.ErrMethod},
	{CodeRequestTimeout, http.StatusBadRequest, cluster.ErrTimeout},
	{CodeNotImplemented, http.StatusNotImplemented, cluster.ErrNotImplemented},
	{CodeServiceUnavailable, http.StatusServiceUnavailable, cluster.ErrUnavailable},
	{CodeInternalError, http.StatusInternalServerError, errInternal},
}

// errInternal is the kind of InternalError: no cluster kind.
var errInternal = errors.New("internal error")

// CodeNamed returns the row of Codes named name, or nil.
func CodeNamed(name string) *Code {
	for i := range Codes {
		if Codes[i].Name == name {
			return &Codes[i]
		}
	}
	return nil
}

// Error is an error with an S3 code. errors.Is matches it against its
// code's cluster kind.
type Error struct {
	// Code is the row of Codes.
	Code *Code
	// Message is the human-readable text of the reply.
	Message string
}

func (e *Error) Error() string { return e.Code.Name + ": " + e.Message }

// Unwrap returns the code's cluster kind.
func (e *Error) Unwrap() error { return e.Code.Kind }

// Errorf returns an *Error with code (a name in Codes; an unknown one is
// InternalError) and a formatted message.
func Errorf(code, format string, args ...any) error {
	c := CodeNamed(code)
	if c == nil {
		c = CodeNamed(CodeInternalError)
	}
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// coder is an error that names its S3 code and status (the sigv4
// package's errors).
type coder interface {
	Code() string
	HTTPStatus() int
}

// ErrorOf returns the S3 error for err: an *Error as it is; an error with
// Code() string and HTTPStatus() int methods (anywhere in its chain) as the
// code it names, with its status; a
// cluster error kind as the first row of Codes with that kind, except that
// ErrNotFound becomes missing (CodeNoSuchKey, CodeNoSuchBucket or
// CodeNoSuchUpload, as the caller knows what was looked up; "" means
// CodeNoSuchKey); a status relayed from a node (*wire.HTTPError without a
// kind) as its status; anything else InternalError.
func ErrorOf(err error, missing string) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	var c coder
	if errors.As(err, &c) {
		code := CodeNamed(c.Code())
		if code == nil {
			// A code this table lacks: its own status.
			code = &Code{Name: c.Code(), Status: c.HTTPStatus(), Kind: cluster.ErrBadRequest}
			if k := cluster.KindOfStatus(code.Status); k != nil {
				code.Kind = k.Err
			}
		}
		return &Error{Code: code, Message: err.Error()}
	}
	if errors.Is(err, cluster.ErrNotFound) {
		if missing == "" {
			missing = CodeNoSuchKey
		}
		return &Error{Code: CodeNamed(missing), Message: err.Error()}
	}
	if errors.Is(err, cluster.ErrNotOwner) {
		// The cluster map is changing under the request: retry.
		return &Error{Code: CodeNamed(CodeServiceUnavailable), Message: err.Error()}
	}
	if k := cluster.KindOf(err); k != nil {
		for i := range Codes {
			if Codes[i].Kind == k.Err {
				return &Error{Code: &Codes[i], Message: err.Error()}
			}
		}
	}
	switch status := wire.StatusOf(err); status {
	case http.StatusRequestedRangeNotSatisfiable:
		return &Error{Code: CodeNamed(CodeInvalidRange), Message: err.Error()}
	case http.StatusPreconditionFailed:
		return &Error{Code: CodeNamed(CodePreconditionFailed), Message: err.Error()}
	case http.StatusNotModified:
		return &Error{Code: CodeNamed(CodeNotModified), Message: err.Error()}
	case http.StatusRequestEntityTooLarge:
		return &Error{Code: CodeNamed(CodeEntityTooLarge), Message: err.Error()}
	case http.StatusGatewayTimeout, wire.StatusClientClosed:
		return &Error{Code: CodeNamed(CodeRequestTimeout), Message: err.Error()}
	}
	return &Error{Code: CodeNamed(CodeInternalError), Message: err.Error()}
}
