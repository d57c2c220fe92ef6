package wire

// Names of the synchronous object operations beyond PUT, GET, HEAD and
// DELETE (shared/aistore-clients.md section 5): copy, rename, append and
// flush, multipart upload, and TAR archive members.

// Query parameters of the object operations.
const (
	// QparamObjectTo makes an empty PUT of an object a copy to the object
	// it names, written as a unique name "ais/@#/BUCKET/OBJECT".
	QparamObjectTo = "object_to"
	// QparamAppendType is "append" (add the body to the object's pending
	// new version) or "flush" (make that version visible).
	QparamAppendType = "append_type"
	// QparamAppendHandle is the handle of the pending version: empty on the
	// first append, then the latest HdrAppendHandle received.
	QparamAppendHandle = "append_handle"
	// QparamArchpath names a file inside a TAR archive object.
	QparamArchpath = "archpath"
	// QparamArchmime is the archive's format ("" means: by its extension).
	QparamArchmime = "archmime"
	// QparamUploadID names a multipart upload.
	QparamUploadID = "uploadId"
	// QparamPartNumber is a multipart part's number (1 to 10000).
	QparamPartNumber = "partNumber"
	// QparamUploads on GET /v1/buckets/B asks a target for its multipart
	// uploads in progress (miniais; AIStore's API has no such listing).
	QparamUploads = "uploads"
)

// Values of QparamAppendType.
const (
	AppendOp = "append"
	FlushOp  = "flush"
)

// Headers of the object operations.
const (
	// HdrAppendHandle carries the handle an append returns.
	HdrAppendHandle = "Ais-Append-Handle"
	// HdrPine says how an archive PUT treats an existing archive: "1"
	// appends to it (it must exist), "2" appends if it exists and creates
	// it otherwise; absent, the PUT makes a new archive of the one file.
	HdrPine = "Ais-Pine"
)

// Values of HdrPine (AIStore's apc.ArchAppend, apc.ArchAppendIfExist).
const (
	PineAppend         = "1"
	PineAppendIfExists = "2"
)

// Object actions (POST /v1/objects/B/O, DELETE for the abort).
const (
	// ActRenameObj renames an object within its bucket; Name is the new name.
	ActRenameObj = "rename-obj"
	// ActMptUpload starts a multipart upload; the reply is the upload ID
	// as plain text.
	ActMptUpload = "mpt-upload"
	// ActMptComplete completes one; its value is a []MptCompletedPart.
	ActMptComplete = "mpt-complete"
	// ActMptAbort aborts one (DELETE with QparamUploadID).
	ActMptAbort = "mpt-abort"
)

// MptCompletedPart is one element of the value of ActMptComplete (AIStore's
// apc.MptCompletedPart).
type MptCompletedPart struct {
	ETag       string `json:"etag"`
	PartNumber int    `json:"part-number"`
}

// MptUpload is one multipart upload in progress, as a target lists it
// (QparamUploads): a JSON array of these.
type MptUpload struct {
	ID      string `json:"id"`
	Bucket  string `json:"bucket"`
	Object  string `json:"object"`
	Target  string `json:"target"`
	Created int64  `json:"created"` // Unix nanoseconds
	Parts   int    `json:"parts"`
	Size    int64  `json:"size,string"`
}

// Listing entry flags of archives and multipart objects.
const (
	// EntryInArch marks a file inside an archive, listed as
	// "A.tar/inner/file" with LsArchive.
	EntryInArch uint16 = 1 << 7
	// EntryIsArchive marks an archive object in a listing with LsArchive.
	EntryIsArchive uint16 = 1 << 9
	// EntryChunked marks an object assembled from multipart parts.
	EntryChunked uint16 = 1 << 13
)
