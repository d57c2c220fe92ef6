// Package api is the client side of the miniais v1 REST API (AIStore's
// dialect), shared by the CLI, the tests and the load generator. The wire
// types it sends and decodes live in api/wire, beside the servers' helpers
// in api/server.
//
// # Client
//
// Client talks to a proxy's public endpoint. Object requests follow the
// proxy's 307 redirect to the owning target; PutObject never buffers an
// object in memory (see PutObject for how bodies that cannot be re-sent are
// handled). Every non-2xx reply becomes a *wire.HTTPError that errors.Is
// matches against the cluster sentinels. A Client is safe for concurrent
// use.
//
// # Object operations
//
// CopyObject, RenameObject, AppendObject and FlushObject, the multipart
// calls (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload; ListMultipartUploads, which AIStore's API lacks,
// asks every target) and the archive calls (PutArchiveMember,
// GetArchiveMember) send what AIStore's own client sends for them.
//
// # Buckets, cluster and jobs
//
// Besides objects and listings, the client reads and changes bucket
// properties (HeadBucket, SetBucketProps, UpdateBucketProps,
// ResetBucketProps), queries the cluster (ClusterMap, BucketMetadata,
// ClusterConfig, SetClusterConfig), and starts or follows AIStore's
// asynchronous jobs: DeleteObjects returns the job's ID, so do
// UpdateBucketProps and ResetBucketProps when a change of mirror.copies
// starts make-n-copies, and MakeNCopies; BucketSummary polls the summary
// job until its result arrives. Requests are spelled as AIStore's own clients spell them
// (shared/aistore-clients.md), so that the same calls work against AIStore.
package api
