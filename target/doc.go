// Package target is the storage role of aisnode.
//
// # What it does
//
// A target stores objects on its mountpaths (package fs) and serves the
// object part of the v1 API: PUT and DELETE arrive redirected by the proxy
// (with its pid and utm), or straight from a client that routed them itself
// with the cluster map (its version in the smap query parameter, served only
// when it is this target's version and this target is the HRW owner, else
// 421); any other PUT or DELETE is refused. GET and HEAD may come directly. It joins the proxy over the transport, sends
// keepalives that carry its cluster map, bucket metadata and cluster
// configuration versions, takes part in the proxy's two-phase bucket
// transactions, and applies the cluster configuration the proxy pushes
// (daemon.go).
//
// # Object operations
//
// Besides PUT, GET, HEAD and DELETE, the owner of an object serves AIStore's
// synchronous object operations: copy (PUT ?object_to), rename (POST
// rename-obj), append and flush (PUT ?append_type; the handle format is in
// append.go), multipart upload (mpt-upload, PUT ?uploadId&partNumber,
// mpt-complete, mpt-abort: multipart.go over fs's uploads) and TAR archive
// members (?archpath, listing flag 8: archive.go). A copy or rename to a
// name another target owns streams the object there over the transport
// (KindObjectPut marked as a copy), where that target, as the owner, checks
// the checksum and commits it atomically. Unflushed appends and idle
// uploads are dropped after Config.UploadTimeout by a janitor that Serve
// starts and waits for. See objops.go.
//
// For the proxy's S3 gateway (s3.go) every object reply carries an ETag
// and Last-Modified, GET and HEAD take HTTP's conditional headers (412,
// 304), a PUT with s3.HdrETagMD5 also computes the MD5 that S3 clients
// expect as the ETag, and GET ?uploadId lists an upload's parts.
//
// # State
//
// The target keeps the latest cluster map and bucket metadata it received,
// and persists the bucket metadata in its data directory so that it can serve
// reads after a restart before the proxy answers. Applying a bucket metadata
// version creates the directories of new buckets and destroys the buckets
// that are gone: each is renamed into its mountpaths' trash at once, and
// fs.Store.EmptyTrash, a loop of Serve, unlinks its files in the
// background at Config.TrashRate (and resumes after a restart).
//
// Serve (Run binds the configured addresses for it) runs the target through
// internal/node and returns once every goroutine of the target (keepalives,
// jobs, rebalance, the trash removal) has ended.
//
// # Rebalance
//
// When the cluster map's set of targets changes, the target streams every
// object it no longer owns to its new owner (transport.KindObjectPut) and
// deletes its copy; meanwhile the owner serves a local miss from the other
// targets. See rebalance.go and neighbor.go.
//
// # Tracing
//
// Every HTTP request runs in a server span whose parent comes from the
// request's headers or, for a redirected request, from the trace context the
// proxy put in the redirect URL; fs and transport work runs in child spans.
package target
