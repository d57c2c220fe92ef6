// Package fs is the storage layer of a miniais target: a set of mountpaths
// (local directories, normally one per disk), HRW placement of objects across
// them, and durable, atomically visible objects with their metadata.
//
// Nothing here is global: a [Mountpaths] value holds the directories and a
// [Store] built from it serves buckets and objects. Errors wrap the kinds of
// package cluster (cluster.ErrNotFound, cluster.ErrBadName, ...); mapping them
// to HTTP statuses is the job of the HTTP layer, not of this package.
//
// # Placement
//
// Each mountpath has a digest, cluster.Digest of its cleaned absolute path.
// An object lives on the mountpath that cluster.HRW picks for the digest of
// its unique name (cluster.Bucket.Uname): [Mountpaths.Select]; the objects of
// a mirrored bucket (n copies) on the first n mountpaths of that ranking
// ([Mountpaths.SelectN], see mirror.go). Reads, heads
// and deletes look there first and then on every other mountpath, so adding a
// mountpath makes nothing disappear; the next Put of a misplaced object
// writes it to its HRW mountpath and removes the old copy, and
// [Store.Resilver] moves every misplaced object. Removing a mountpath makes
// its objects invisible (they are not moved); [Store.Detach] and
// [Store.Disable] with a resilver first take it out of placement while it
// is still read, and a mountpath that fails its health check is disabled
// on its own (see mpops.go).
//
// # On-disk layout
//
// Under every mountpath <mp> (names are literal bytes; <bucket> is a bucket
// name as validated by cluster.Bucket.Validate, <object> an object name as
// validated by cluster.ValidateObjectName, whose '/' separate directories):
//
//	<mp>/.work/                     temporary files; emptied by NewStore
//	<mp>/.work/put-<random>         an object being written by Put or a Writer
//	<mp>/.work/mpu-<id>/part-<NNNNN> part NNNNN (1..10000) of multipart upload <id>
//	<mp>/.work/meta-<random>        a sidecar being written (no-xattr filesystems)
//	<mp>/.trash/<bucket>-<random>/  a destroyed bucket on its way out (EmptyTrash)
//	<mp>/@ais/                      buckets of provider "ais"
//	<mp>/@ais/<bucket>/bid          the bucket's ID in decimal (CreateBucket), which
//	                                tells it from a bucket of the same name destroyed
//	                                and created again while this copy was away
//	<mp>/@ais/<bucket>/%ob/         the bucket's objects (made on every mountpath)
//	<mp>/@ais/<bucket>/%ob/<object> one object: "a/b/c" is the file %ob/a/b/c
//	<mp>/@ais/<bucket>/%mt/<object> the object's sidecar metadata, only where
//	                                the filesystem refuses user xattrs
//
// Because '/' makes directories, object "a" and object "a/b" cannot both live
// on one mountpath: the second Put of such a pair fails with an error wrapping
// cluster.ErrExists and changes nothing. (Two such objects placed on different
// mountpaths can coexist; both are listed.) Every segment of an object name
// must be at most 255 bytes (NAME_MAX), else cluster.ErrBadName; names are
// checked before anything touches the disk, so a name can never escape its
// bucket's %ob directory.
//
// # Metadata
//
// An object's metadata (size, checksum, version, atime, custom pairs) is kept
// in the user xattr "user.ais.meta" of the object file, or in a sidecar file
// with the same bytes where xattrs are unsupported. The encoding, byte by byte
// ("string" is a uvarint length followed by that many bytes, uvarint and
// varint are those of encoding/binary):
//
//	0..1   'A' 'M'      magic
//	2      0x01         format version
//	uvarint             size in bytes
//	string              checksum type: one of package checksum's seven
//	                    ("xxhash2", "md5", "none", ...)
//	string              checksum value in lowercase hex (16 digits for
//	                    xxhash2, checksum.HexLen for each type); empty for
//	                    type "none"
//	string              version ("1", "2", ...)
//	varint              atime, Unix nanoseconds
//	uvarint             number of custom pairs, then each as string key,
//	                    string value, in increasing key order
//	uvarint             (format version 0x02 only) the number of multipart
//	                    parts the object was assembled from, 1..MaxParts
//
// Byte 2 is 0x01 for an object written whole and 0x02 for one assembled by
// CompleteUpload (ObjectAttrs.Parts > 0), so objects written before parts
// were recorded read unchanged.
//
// An encoding may be at most [MaxMetaSize] bytes. A file without metadata (put
// there by hand) is served with its size, version "1", its mtime as atime and
// no checksum. Atime is the time of the Put: reads do not update it (that
// would cost a metadata write per read). The format is the one written when
// xxhash2 was the only type (the type was always a string), so objects stored
// then read and validate unchanged.
//
// # Checksums
//
// Put computes the checksum of [PutOptions.ChecksumType] (the bucket's type;
// "" means xxhash2) while it streams the body, and stores it. If the client
// sent a checksum ([PutOptions.Checksum], in any of the seven types), Put
// verifies it in the same pass: with the stored hash when the two types give
// the same digest (equal, or xxhash and xxhash2), else with a second hash fed
// the same buffers. A mismatch fails the Put with cluster.ErrChecksum;
// [PutOptions.SkipVerify] (AIStore's skip_vc) drops the client's value
// instead. In a bucket of type "none" nothing is computed and the client's
// checksum, if any, is stored as sent, unchecked, as AIStore does; without
// one the object is stored with type "none" and an empty value.
//
// Open with [GetOptions] Validate recomputes the stored checksum with its own
// type, whatever the bucket's type is now. An object without a checksum value
// (type "none", or a file without metadata) is validated by its size only; a
// stored checksum of a type package checksum does not know is
// cluster.ErrCorrupt. An unchecked client checksum stored in a none bucket is
// validated like any other, so a wrong one shows up then as cluster.ErrCorrupt.
//
// # Durability and atomicity
//
// Put streams the body into <mp>/.work/put-<random> on the object's own
// mountpath while computing its checksum (see Checksums), in one pass
// through one pooled buffer, then commits: under the name's lock it gives
// the file its version and metadata and renames it into place. Readers
// therefore see the old object or the new one, never a partial one; a Put
// that fails (short or long body, checksum mismatch, reader error,
// cancelled context) removes its temporary file. Files left in .work by a
// crash are removed by NewStore. Writers of one name are serialized
// (striped locks) only for the short commit, so versions increase by one
// per overwrite without racing.
//
// With [FsyncAlways] (the default) a write is acknowledged only after an
// fsync that began after all of it (data, metadata, rename) was done. The
// crash rules, which hold for Put, a Writer's Commit (appends, multipart
// completion, archives), Rename, the parts of a multipart upload, Delete
// and bucket creation and destruction alike:
//
//   - Put starts the data's writeback (sync_file_range) before it takes
//     the lock, then sets the metadata xattr, fsyncs the file and renames
//     it; then it fsyncs its directory (and, when the rename made
//     directories, their parents). Only then does it return.
//   - On a filesystem whose journal orders data ahead of the metadata that
//     names it (ext4 with a journal in its default data=ordered mode, read from
//     /proc once per mountpath) one fsync of the file after the rename
//     replaces both: the rename cannot reach the disk without the data
//     whose writeback started before it, and the file's fsync commits the
//     rename's journal transaction. Either way a crash can never leave a
//     name on a file with less in it, and an acknowledged older version is
//     never replaced by an unwritten newer one.
//   - Concurrent writers share flushes: each fsyncs on its own and the
//     filesystem folds the fsyncs that arrive during one commit (or cache
//     flush) into the next (group commit by the kernel; a committer in user
//     space was measured to be slower, see flush.go).
//   - A sidecar (no xattrs) is written and fsynced as a file of its own,
//     renamed into %mt and its directory fsynced before the Put returns.
//   - After a crash an acknowledged object reads back whole, with its
//     metadata; a write that was not acknowledged is absent, or whole in
//     its previous version, or whole in its new one.
//
// # Metadata cache
//
// Open and Head keep the decoded metadata of the objects they read in a
// cache of at most Config.MetaCacheSize bytes ([DefaultMetaCacheSize]), so
// that a read of an object seen before costs an open and an fstat (Open)
// or an lstat (Head), and no xattr read. An entry is used only for the very
// file it was read from (same device, inode, size and ctime), and every
// write path drops what it changes under the object's lock (commit,
// delete, rename, a destroyed bucket, a failed validation).
//
// # Objects written in pieces
//
// A [Writer] is a new version of one object written over time (the appends
// of an append handle, a rebuilt archive): the same work file, checksum as
// it goes, and the same commit as Put; nothing is visible before Commit. A
// piece that fails is cut off again, so the Writer goes on.
//
// A multipart upload ([Store.CreateUpload], [Store.PutPart],
// [Store.CompleteUpload], [Store.AbortUpload]) keeps its parts as files in
// <mp>/.work/mpu-<id>/ on the object's mountpath; each part is received
// like a Put into its own work file and renamed in when whole, so parts may
// arrive in any order and concurrently, and a part sent again replaces the
// earlier one. Completing streams the listed parts in part-number order
// through one Writer (one hash, one pooled buffer: no part is held in
// memory) and commits the object with one checksum of the bucket's type;
// the upload and its parts are then gone. Uploads are kept in memory (the
// parts' sizes and checksums): they do not survive a restart, whose
// clean-up of the work directories removes their parts. An upload ID gives
// access to its own object's parts only. [Store.ExpireUploads] drops
// uploads idle for too long.
//
// [Store.Rename] makes the new name appear whole before the old one goes:
// with one rename(2) when the object already lies on the new name's
// mountpath, else by a copy and a delete (see its doc).
//
// # Tracing
//
// Store methods start spans named fs.Put, fs.Get (Open), fs.Head, fs.Delete,
// fs.List, fs.CreateBucket, fs.DestroyBucket, fs.Commit (a Writer's),
// fs.Rename, fs.CreateUpload, fs.PutPart, fs.CompleteUpload and
// fs.AbortUpload, of kind internal, with the attributes ais.bucket,
// ais.object, ais.size, ais.mountpath, ais.checksum, ais.version,
// ais.upload_id, ais.part_number and ais.parts where known. Failures set
// codes.Error and record the error. Attributes are made only for a span
// that records; with the no-op provider (tracing off) the span calls
// allocate nothing.
// A missing object on Open, Head or Delete is an answer, not a failure of the
// storage layer: such spans get the event "not found" and keep an unset status.
package fs
