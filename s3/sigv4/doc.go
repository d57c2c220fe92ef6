// Package sigv4 authenticates S3 requests signed with AWS Signature
// Version 4, the way Amazon S3 does, for the proxy's S3 gateway.
//
// # Credentials
//
// The proxy's -s3_credentials file is in the format of the aws CLI's
// ~/.aws/credentials: INI sections, one per profile, each with an access
// key pair. Every profile's pair is a valid key; other settings (region,
// output) are ignored, comments start with '#' or ';':
//
//	[default]
//	aws_access_key_id = AKIAIOSFODNN7EXAMPLE
//	aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
//
//	[ci]
//	aws_access_key_id = ci-key
//	aws_secret_access_key = ci-secret
//
// LoadCredentials refuses a file with no pair, a profile with half a pair,
// a session token (temporary credentials cannot be verified here) and one
// access key id with two secrets.
//
// # What is verified
//
// Verify takes the Authorization header (AWS4-HMAC-SHA256) or a presigned
// query string (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires of at most seven days, X-Amz-SignedHeaders,
// X-Amz-Signature). It rebuilds the canonical request the way S3 does:
// the path exactly as sent (encoded once, never normalized), the query
// sorted by its SigV4 encoding, the signed headers with folded spaces, and
// the payload hash. The derived signing key is cached per access key, day
// and region. Every x-amz-* header of the request must be signed. The
// credential scope must name service s3 and the Verifier's Region
// (DefaultRegion, us-east-1, when empty); Region AnyRegion accepts a
// signature for any region, as AIStore does. The request's time must be
// within MaxSkew (15 minutes by default) of the server's clock; a
// presigned URL must not have expired.
//
// The payload, named by x-amz-content-sha256, is verified while it
// streams, never buffered:
//
//   - UNSIGNED-PAYLOAD: not covered by the signature (a presigned URL's
//     payload is unsigned unless its query says otherwise);
//   - a hex SHA-256: the content must hash to it (XAmzContentSHA256Mismatch);
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: aws-chunked, every chunk's
//     signature chained from the request's;
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER and
//     STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked with a trailing
//     checksum (signed in the first form), announced by x-amz-trailer.
//
// A flexible checksum, in an x-amz-checksum-crc32, -crc32c, -crc64nvme,
// -sha1 or -sha256 header or trailer, and Content-MD5 are verified over
// the decoded content (BadDigest). A checksum, payload mode or scheme
// this package does not verify (SigV2, SigV4A, session tokens, other
// checksums) is refused with ErrNotImplemented, never let through. The
// x-amz-checksum-* headers of CompleteMultipartUpload (POST ...?uploadId=)
// describe the whole object, not the request's body, and are left to the
// caller, as are x-amz-checksum-mode, -type and -algorithm.
//
// Failures of the content show at its end: the Read of Result.Body that
// would return io.EOF returns the error instead, so a caller that streams
// the body to storage and commits only at io.EOF stores nothing. Chunk
// headers and trailers are bounded (4 KiB a line), and a chunk may not go
// past x-amz-decoded-content-length.
//
// # Open mode
//
// A Verifier with no Creds is open: it authenticates nobody and refuses
// no signature (an anonymous request and a signed one are both let
// through with an empty AccessKey), but still decodes aws-chunked
// payloads and verifies their digests and checksums. Chunk signatures
// cannot be checked without the secret and are not. The proxy runs open
// when it has no -s3_credentials and says so at start-up.
//
// # Errors
//
// Every error wraps one of the sentinels (ErrAccessDenied,
// ErrSignatureDoesNotMatch, ErrRequestTimeTooSkewed, ErrExpiredPresign,
// ErrMalformed, ErrBadDigest, ErrNotImplemented) and has the methods
// Code() string, the S3 error code, and HTTPStatus() int.
package sigv4
