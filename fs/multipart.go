package fs

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"miniais/checksum"
	"miniais/cluster"
)

// The limits of a multipart upload (S3's).
const (
	// MaxParts is the highest part number, and so the most parts of one
	// upload.
	MaxParts = 10000
	// MaxPartSize is the largest part in bytes (5 GiB).
	MaxPartSize = 5 << 30
)

// UploadInfo describes a multipart upload in progress.
type UploadInfo struct {
	// ID is the upload's ID: 16 lowercase hex digits.
	ID string
	// Bucket and Object name the object the upload will make.
	Bucket cluster.Bucket
	Object string
	// Created is when the upload was created; Updated when it last
	// received a part (or was created).
	Created, Updated time.Time
	// Parts is the number of distinct parts received; Size their bytes.
	Parts int
	Size  int64
}

// PartInfo describes one received part.
type PartInfo struct {
	// Number is the part number, 1 to MaxParts.
	Number int
	// Size is the part's length in bytes.
	Size int64
	// Checksum is the part's checksum, of the bucket's type (the part's
	// ETag; of type checksum.None, empty, in a none bucket).
	Checksum cluster.Checksum
	// MD5 is the part's hex MD5 when PartOptions.MD5 asked for it (S3's
	// part ETag), else "".
	MD5 string
}

// PartOptions qualify a PutPart; the fields mean what they mean in
// PutOptions.
type PartOptions struct {
	Size         int64
	ChecksumType string
	Checksum     cluster.Checksum
	SkipVerify   bool
	// MaxSize bounds the part (0: MaxPartSize; never more than MaxPartSize).
	MaxSize int64
	// MD5 also computes the part's MD5 (PartInfo.MD5), in the same pass.
	MD5 bool
}

// CompletedPart names one part of a CompleteUpload: its number and,
// optionally, the ETag (PartInfo.Checksum value, with or without double
// quotes) the client was given for it, which must then match.
type CompletedPart struct {
	Number int
	ETag   string
}

// CompleteOptions qualify a CompleteUpload.
type CompleteOptions struct {
	// ChecksumType is the type of the object's one checksum (the bucket's).
	ChecksumType string
	// Checksum, SkipVerify and Custom are those of CommitOptions.
	Checksum   cluster.Checksum
	SkipVerify bool
	Custom     map[string]string
	// MaxSize bounds the assembled object (0: no limit).
	MaxSize int64
	// MD5 stores S3's multipart ETag (etag.go) as the custom pair
	// CustomETag, when every part has an MD5.
	MD5 bool
}

// The states of an upload.
const (
	uploadOpen       = iota // takes parts
	uploadCompleting        // CompleteUpload is assembling it
	uploadGone              // completed, aborted or expired
)

// upload is one multipart upload: its parts are files part-NNNNN in dir,
// <mp>/.work/mpu-<id>/, on the object's HRW mountpath at creation.
type upload struct {
	mu    sync.Mutex
	info  UploadInfo
	dir   string
	mp    *Mountpath
	parts map[int]PartInfo
	state int
}

// uploads is a Store's table of multipart uploads.
type uploads struct {
	mu sync.Mutex
	m  map[string]*upload
}

// uploadPrefix starts an upload's directory in the work directory.
const uploadPrefix = "mpu-"

func partFile(dir string, n int) string { return filepath.Join(dir, fmt.Sprintf("part-%05d", n)) }

// # Multipart uploads
//
// An upload lives in memory (the table of uploads, their parts' sizes and
// checksums) and on disk (the parts as files in one directory of the work
// directory). A part is received like a Put, into a work file of its own,
// and renamed into the upload's directory when it is whole; a part sent
// again replaces the earlier one. CompleteUpload streams the listed parts,
// in part-number order, through one hash into a Writer and commits it: the
// object appears at once, whole, with one checksum of the bucket's type;
// no part is ever held in memory. Uploads do not survive a restart: NewStore
// empties the work directory, parts included.

func (s *Store) startUpload(ctx context.Context, span string, bck cluster.Bucket, name, id string) (context.Context, trace.Span) {
	ctx, sp := s.start(ctx, span, bck, name)
	if id != "" {
		sp.SetAttributes(attribute.String("ais.upload_id", id))
	}
	return ctx, sp
}

// CreateUpload starts a multipart upload of object name of bck, which must
// exist (else cluster.ErrNotFound), and returns it. Nothing is visible until
// CompleteUpload.
func (s *Store) CreateUpload(ctx context.Context, bck cluster.Bucket, name string) (info UploadInfo, err error) {
	_, span := s.startUpload(ctx, "fs.CreateUpload", bck, name, "")
	defer func() {
		if err == nil {
			span.SetAttributes(attribute.String("ais.upload_id", info.ID))
		}
		endSpan(span, err)
	}()
	if err := checkNames(bck, name); err != nil {
		return UploadInfo{}, err
	}
	mp := s.mps.Select(bck.Uname(name))
	if mp == nil {
		return UploadInfo{}, errNoMountpaths()
	}
	if s.bucketMountpath(bck, mp) == nil {
		return UploadInfo{}, cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
	}
	now := time.Now()
	u := &upload{
		info:  UploadInfo{ID: randSuffix(), Bucket: bck, Object: name, Created: now, Updated: now},
		mp:    mp,
		parts: map[int]PartInfo{},
	}
	u.dir = filepath.Join(workDir(mp), uploadPrefix+u.info.ID)
	if err := os.MkdirAll(workDir(mp), 0o755); err != nil {
		return UploadInfo{}, fmt.Errorf("fs: %w", err)
	}
	if err := os.Mkdir(u.dir, 0o755); err != nil {
		return UploadInfo{}, fmt.Errorf("fs: create upload: %w", err)
	}
	s.ups.mu.Lock()
	if s.ups.m == nil {
		s.ups.m = map[string]*upload{}
	}
	s.ups.m[u.info.ID] = u
	s.ups.mu.Unlock()
	return u.info, nil
}

// lookup returns the upload id of object name of bck: an unknown ID, or
// one of another object, is cluster.ErrNotFound (an upload ID never gives
// access to another object's parts).
func (s *Store) lookup(bck cluster.Bucket, name, id string) (*upload, error) {
	s.ups.mu.Lock()
	u := s.ups.m[id]
	s.ups.mu.Unlock()
	if u == nil || u.info.Bucket != bck || u.info.Object != name {
		return nil, cluster.Errorf(cluster.ErrNotFound, "no multipart upload %q of %s/%s", id, bck, name)
	}
	return u, nil
}

// PutPart stores part number of upload id of object name of bck from r,
// replacing an earlier part with that number. Parts may arrive in any
// order and concurrently. The part is checked like a Put (size, the
// client's checksum, limits: at most MaxPartSize) and stored whole or not
// at all. An unknown upload is cluster.ErrNotFound; one that is being
// completed is cluster.ErrBusy.
func (s *Store) PutPart(ctx context.Context, bck cluster.Bucket, name, id string, number int, r io.Reader, opts PartOptions) (part PartInfo, err error) {
	ctx, span := s.startUpload(ctx, "fs.PutPart", bck, name, id)
	span.SetAttributes(attribute.Int("ais.part_number", number))
	defer func() {
		if err == nil {
			span.SetAttributes(attribute.Int64("ais.size", part.Size), attribute.String("ais.checksum", part.Checksum.Value))
		}
		endSpan(span, err)
	}()
	if number < 1 || number > MaxParts {
		return PartInfo{}, cluster.Errorf(cluster.ErrBadRequest, "part number %d out of range 1..%d", number, MaxParts)
	}
	u, err := s.lookup(bck, name, id)
	if err != nil {
		return PartInfo{}, err
	}
	popts := PutOptions{Size: opts.Size, ChecksumType: opts.ChecksumType, Checksum: opts.Checksum, SkipVerify: opts.SkipVerify, MaxSize: opts.MaxSize, MD5: opts.MD5}
	if popts.MaxSize <= 0 || popts.MaxSize > MaxPartSize {
		popts.MaxSize = MaxPartSize
	}
	if popts.Size > popts.MaxSize {
		return PartInfo{}, cluster.Errorf(cluster.ErrTooLarge, "part of %d bytes exceeds the limit of %d", popts.Size, popts.MaxSize)
	}
	var hashes putHashes
	if err := hashes.init(&popts); err != nil {
		return PartInfo{}, fmt.Errorf("fs: part %d of %s/%s: %w", number, bck, name, err)
	}
	tmp, err := s.createTemp(u.mp, putPrefix)
	if err != nil {
		return PartInfo{}, err
	}
	placed := false
	defer func() {
		tmp.Close()
		if !placed {
			os.Remove(tmp.Name())
		}
	}()
	size, err := s.receive(ctx, tmp, r, popts, &hashes)
	if err != nil {
		return PartInfo{}, err
	}
	stored, got := hashes.result()
	if want := hashes.expect; got != "" && !checksum.Equal(got, want.Value) {
		return PartInfo{}, cluster.Errorf(cluster.ErrChecksum, "part %d of %s/%s: body has %s %s, expected %s", number, bck, name, want.Type, got, want.Value)
	}
	if err := s.syncFile(tmp); err != nil {
		return PartInfo{}, err
	}
	part = PartInfo{Number: number, Size: size, Checksum: stored, MD5: hashes.md5Hex()}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch u.state {
	case uploadCompleting:
		return PartInfo{}, cluster.Errorf(cluster.ErrBusy, "multipart upload %q of %s/%s is being completed", id, bck, name)
	case uploadGone:
		return PartInfo{}, cluster.Errorf(cluster.ErrNotFound, "multipart upload %q of %s/%s was completed or aborted", id, bck, name)
	}
	if err := os.Rename(tmp.Name(), partFile(u.dir, number)); err != nil {
		return PartInfo{}, fmt.Errorf("fs: store part %d: %w", number, err)
	}
	placed = true
	if old, ok := u.parts[number]; ok {
		u.info.Size -= old.Size
	} else {
		u.info.Parts++
	}
	u.parts[number] = part
	u.info.Size += size
	u.info.Updated = time.Now()
	if err := s.syncDir(u.dir); err != nil {
		return PartInfo{}, err
	}
	return part, nil
}

// CompleteUpload assembles the listed parts of upload id into object name
// of bck, in part-number order (the list is sorted, as AIStore and S3
// do), and ends the upload. The object appears atomically with one
// checksum of opts.ChecksumType and records how many parts it has
// (ObjectAttrs.Parts); parts not listed are discarded. An empty list, a
// part listed twice, a part never received or an ETag that does not match
// is cluster.ErrBadRequest, and the upload stays as it was (the client may
// complete it again, or abort it). Assembly streams each part through one
// pooled buffer: memory does not grow with the parts.
func (s *Store) CompleteUpload(ctx context.Context, bck cluster.Bucket, name, id string, list []CompletedPart, opts CompleteOptions) (attrs ObjectAttrs, err error) {
	ctx, span := s.startUpload(ctx, "fs.CompleteUpload", bck, name, id)
	span.SetAttributes(attribute.Int("ais.parts", len(list)))
	defer func() {
		if err == nil {
			setAttrs(span, &attrs)
		}
		endSpan(span, err)
	}()
	u, err := s.lookup(bck, name, id)
	if err != nil {
		return ObjectAttrs{}, err
	}
	u.mu.Lock()
	switch u.state {
	case uploadCompleting:
		u.mu.Unlock()
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrBusy, "multipart upload %q of %s/%s is being completed", id, bck, name)
	case uploadGone:
		u.mu.Unlock()
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrNotFound, "multipart upload %q of %s/%s was completed or aborted", id, bck, name)
	}
	parts, total, err := selectParts(u, list)
	if err != nil {
		u.mu.Unlock()
		return ObjectAttrs{}, err
	}
	u.state = uploadCompleting
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if err != nil {
			u.state = uploadOpen // the client may try again, or abort
			return
		}
		u.state = uploadGone
	}()
	if opts.MaxSize > 0 && total > opts.MaxSize {
		return ObjectAttrs{}, cluster.Errorf(cluster.ErrTooLarge, "object of %d bytes exceeds the limit of %d", total, opts.MaxSize)
	}
	w, err := s.NewWriter(ctx, bck, name, WriterOptions{ChecksumType: opts.ChecksumType, MaxSize: opts.MaxSize})
	if err != nil {
		return ObjectAttrs{}, err
	}
	defer w.Abort() // a no-op after Commit
	for _, p := range parts {
		if err := s.appendPart(ctx, w, u.dir, p); err != nil {
			return ObjectAttrs{}, err
		}
	}
	custom := opts.Custom
	if opts.MD5 {
		etag, err := multipartETag(parts)
		if err != nil {
			return ObjectAttrs{}, err
		}
		if etag != "" {
			custom = withETag(custom, etag)
		}
	}
	attrs, err = w.Commit(ctx, CommitOptions{Checksum: opts.Checksum, SkipVerify: opts.SkipVerify, Custom: custom, Parts: len(parts)})
	if err != nil {
		return ObjectAttrs{}, err
	}
	s.dropUpload(u)
	return attrs, nil
}

// selectParts checks list against the parts u has (the caller holds u.mu)
// and returns them sorted by number, with their total size.
func selectParts(u *upload, list []CompletedPart) ([]PartInfo, int64, error) {
	if len(list) == 0 {
		return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "complete multipart upload %q: no parts listed", u.info.ID)
	}
	if len(list) > MaxParts {
		return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "complete multipart upload %q: %d parts listed, at most %d", u.info.ID, len(list), MaxParts)
	}
	sorted := slices.SortedFunc(slices.Values(list), func(a, b CompletedPart) int { return cmp.Compare(a.Number, b.Number) })
	out := make([]PartInfo, 0, len(sorted))
	var total int64
	for i, cp := range sorted {
		if i > 0 && sorted[i-1].Number == cp.Number {
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "complete multipart upload %q: part %d listed twice", u.info.ID, cp.Number)
		}
		p, ok := u.parts[cp.Number]
		if !ok {
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "complete multipart upload %q: part %d was not uploaded", u.info.ID, cp.Number)
		}
		if etag := strings.Trim(cp.ETag, `"`); etag != "" && !partETagMatches(p, etag) {
			return nil, 0, cluster.Errorf(cluster.ErrBadRequest, "complete multipart upload %q: part %d has ETag %q, not %q", u.info.ID, cp.Number, p.Checksum.Value, etag)
		}
		out = append(out, p)
		total += p.Size
	}
	return out, total, nil
}

// appendPart streams one part file into w.
func (s *Store) appendPart(ctx context.Context, w *Writer, dir string, p PartInfo) error {
	f, err := os.Open(partFile(dir, p.Number))
	if err != nil {
		return fmt.Errorf("fs: open part %d: %w", p.Number, err)
	}
	defer f.Close()
	if _, err := w.Append(ctx, f, p.Size, cluster.Checksum{}); err != nil {
		return fmt.Errorf("fs: part %d: %w", p.Number, err)
	}
	return nil
}

// AbortUpload ends upload id of object name of bck and removes its parts.
// An unknown upload is cluster.ErrNotFound; one being completed is
// cluster.ErrBusy.
func (s *Store) AbortUpload(ctx context.Context, bck cluster.Bucket, name, id string) (err error) {
	_, span := s.startUpload(ctx, "fs.AbortUpload", bck, name, id)
	defer func() { endSpan(span, err) }()
	u, err := s.lookup(bck, name, id)
	if err != nil {
		return err
	}
	u.mu.Lock()
	switch u.state {
	case uploadCompleting:
		u.mu.Unlock()
		return cluster.Errorf(cluster.ErrBusy, "multipart upload %q of %s/%s is being completed", id, bck, name)
	case uploadGone:
		u.mu.Unlock()
		return cluster.Errorf(cluster.ErrNotFound, "multipart upload %q of %s/%s was completed or aborted", id, bck, name)
	}
	u.state = uploadGone
	u.mu.Unlock()
	s.dropUpload(u)
	return nil
}

// dropUpload removes u from the table and its directory from the disk; u
// is uploadGone, or about to be (so no part can be placed in it).
func (s *Store) dropUpload(u *upload) {
	s.ups.mu.Lock()
	if s.ups.m[u.info.ID] == u {
		delete(s.ups.m, u.info.ID)
	}
	s.ups.mu.Unlock()
	if err := os.RemoveAll(u.dir); err != nil {
		s.log.Warn("fs: remove multipart upload", "dir", u.dir, "err", err)
	}
}

// Uploads returns the uploads in progress of bck (every bucket when bck's
// name is empty), sorted by object name, then creation time.
func (s *Store) Uploads(bck cluster.Bucket) []UploadInfo {
	s.ups.mu.Lock()
	all := make([]*upload, 0, len(s.ups.m))
	for _, u := range s.ups.m {
		all = append(all, u)
	}
	s.ups.mu.Unlock()
	out := make([]UploadInfo, 0, len(all))
	for _, u := range all {
		u.mu.Lock()
		info, state := u.info, u.state
		u.mu.Unlock()
		if state == uploadGone || (bck.Name != "" && info.Bucket != bck) {
			continue
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b UploadInfo) int {
		return cmp.Or(cmp.Compare(a.Bucket.Name, b.Bucket.Name), cmp.Compare(a.Object, b.Object), a.Created.Compare(b.Created))
	})
	return out
}

// UploadParts returns the parts received so far by upload id of object
// name of bck, by part number (S3's ListParts).
func (s *Store) UploadParts(bck cluster.Bucket, name, id string) ([]PartInfo, error) {
	u, err := s.lookup(bck, name, id)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]PartInfo, 0, len(u.parts))
	for _, p := range u.parts {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b PartInfo) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// ExpireUploads aborts every upload (of any bucket) that received nothing
// for longer than idle, removing its parts, and returns them. Uploads being
// completed are left alone.
func (s *Store) ExpireUploads(idle time.Duration) []UploadInfo {
	return s.dropUploads(func(u *upload) bool { return time.Since(u.info.Updated) > idle })
}

// dropUploads aborts the open uploads for which match (called under the
// upload's lock) holds.
func (s *Store) dropUploads(match func(*upload) bool) []UploadInfo {
	s.ups.mu.Lock()
	all := make([]*upload, 0, len(s.ups.m))
	for _, u := range s.ups.m {
		all = append(all, u)
	}
	s.ups.mu.Unlock()
	var out []UploadInfo
	for _, u := range all {
		u.mu.Lock()
		drop := u.state == uploadOpen && match(u)
		if drop {
			u.state = uploadGone
		}
		info := u.info
		u.mu.Unlock()
		if drop {
			s.dropUpload(u)
			out = append(out, info)
		}
	}
	return out
}

// ParseUploadID checks the form of an upload ID (16 lowercase hex digits)
// before any lookup; the error wraps cluster.ErrBadRequest.
func ParseUploadID(id string) error {
	if len(id) != 16 {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed upload ID %q", id)
	}
	if _, err := strconv.ParseUint(id, 16, 64); err != nil || strings.ToLower(id) != id {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed upload ID %q", id)
	}
	return nil
}
