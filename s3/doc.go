// Package s3 is the S3 wire of the proxy's S3-compatible API: how a request
// is addressed and which operation it is (Parse, the one table Operations),
// the XML bodies of every reply and request it takes (xml.go), and the
// mapping of errors to S3's error codes and statuses (the one table Codes).
//
// # Addressing
//
// A request names its bucket in one of three ways (Addressing):
//
//   - path style under the prefix: /s3/BUCKET/KEY (always);
//   - path style at the root: /BUCKET/KEY, when the proxy runs with
//     -s3_root (the v1 API keeps /v1/...);
//   - virtual-hosted style: Host BUCKET.DOMAIN with path /KEY (or
//     /s3/KEY), when the proxy is given the domain (-s3_domain).
//
// Addressing.Rewrite turns the last two into the first, so that the proxy's
// one router (api/server.Mux) routes every S3 request by "/s3/...".
//
// # Refusals
//
// Every query parameter an operation takes is listed in its row of
// Operations; any other (S3's subresources ?acl, ?tagging, ?versioning, ...
// and options such as response-content-type) makes Parse fail with
// NotImplemented before anything is read or written. So does an x-amz-
// request header that Headers does not list (server-side encryption,
// object lock, ACLs, user metadata, ...).
//
// # Errors
//
// An S3 error reply is the XML ErrorResponse body with S3's code. Errorf
// makes an error with an S3 code; ErrorOf maps any error to its code: an
// *Error keeps its own, an error with a Code() string method (the sigv4
// package's) the one it names, and a cluster error kind (cluster.Kinds) the
// row of Codes that stands for it, given what was not found (a bucket, a
// key, an upload).
package s3
