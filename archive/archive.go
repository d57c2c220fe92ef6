// Package archive reads and extends TAR archives stored as objects, with the
// standard library's archive/tar: it finds a member of an archive, lists its
// members, and writes a member after the existing ones. It works on an
// io.ReaderAt of the stored bytes and an io.Writer of the new ones, so it
// knows nothing of where objects live; the target joins it to package fs.
//
// # Formats
//
// Only TAR (".tar", "application/x-tar") is implemented. The other formats
// AIStore's clients name (".tgz"/".tar.gz", ".zip", ".tar.lz4") are refused
// with an error wrapping cluster.ErrNotImplemented; a name and MIME type
// that name no format are cluster.ErrBadRequest.
//
// # Members
//
// A member is addressed by its name as stored in the archive ("inner/file").
// When an archive holds the same name more than once (appending a name
// again adds a member, as tar -r does), the last one counts, as when tar
// extracts. Only regular files are read; their data is a contiguous range
// of the archive, so a member can be served with sendfile and byte ranges.
//
// # Appending
//
// A TAR archive ends with two zero blocks (and possibly more padding). New
// members go where that end marker starts ([End]); [WriteMember] writes the
// member and a new end marker. The caller copies the existing bytes up to
// End into the new version of the object first, so that the archive is
// replaced atomically, never changed in place.
package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"miniais/cluster"
)

// Format is an archive format.
type Format string

// Tar is the one format implemented.
const Tar Format = "tar"

// blockSize is the TAR block size.
const blockSize = 512

// Extensions and MIME types of the formats AIStore's clients name.
var (
	tarMimes     = []string{"tar", ".tar", "application/x-tar"}
	refusedMimes = []string{
		"tgz", ".tgz", "tar.gz", ".tar.gz", "application/gzip", "application/x-gzip", "application/x-compressed-tar",
		"zip", ".zip", "application/zip", "application/x-zip-compressed",
		"tar.lz4", ".tar.lz4", "lz4", "application/x-lz4",
	}
	refusedExts = []string{".tgz", ".tar.gz", ".zip", ".tar.lz4"}
)

// FormatOf returns the format of an archive named name, given the MIME type
// a client sent (archmime; "" means: by the name's extension).
func FormatOf(name, mime string) (Format, error) {
	if mime != "" {
		m := strings.ToLower(strings.TrimSpace(mime))
		for _, t := range tarMimes {
			if m == t {
				return Tar, nil
			}
		}
		for _, t := range refusedMimes {
			if m == t {
				return "", cluster.Errorf(cluster.ErrNotImplemented, "archive format %q is not implemented (only TAR)", mime)
			}
		}
		return "", cluster.Errorf(cluster.ErrBadRequest, "unknown archive format %q", mime)
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".tar") {
		return Tar, nil
	}
	for _, ext := range refusedExts {
		if strings.HasSuffix(lower, ext) {
			return "", cluster.Errorf(cluster.ErrNotImplemented, "archive format %q of %s is not implemented (only TAR)", ext, name)
		}
	}
	return "", cluster.Errorf(cluster.ErrBadRequest, "cannot tell the archive format of %q: name it .tar or give archmime", name)
}

// IsTar reports whether an object's name says it is a TAR archive (what a
// listing expands).
func IsTar(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".tar") }

// ValidateMemberName checks a member name a client gave: relative, clean
// ("a/b", never "..", "." or empty segments), valid UTF-8, no NUL, at most
// cluster.MaxObjectName bytes. The error wraps cluster.ErrBadName.
func ValidateMemberName(name string) error {
	if err := cluster.ValidateObjectName(name); err != nil {
		return fmt.Errorf("archive member: %w", err)
	}
	return nil
}

// Member is one member of an archive.
type Member struct {
	// Name is the member's name in the archive.
	Name string
	// Size is the length of its data.
	Size int64
	// Offset is where its data starts in the archive (regular files).
	Offset int64
	// Regular is set for a regular file (the only kind Find returns).
	Regular bool
	// ModTime is the member's modification time.
	ModTime time.Time
}

// ErrNotTar means the object is not a well-formed TAR archive; it wraps
// cluster.ErrBadRequest (the object is what it is; the request asked to
// treat it as an archive).
var ErrNotTar = fmt.Errorf("not a TAR archive: %w", cluster.ErrBadRequest)

// Walk calls fn for every member of the archive of size bytes in ra, in
// order, and returns the offset of its end marker (see End). It reads only
// the headers (data is skipped by seeking). fn may stop the walk by
// returning an error, which Walk returns. An empty object is an archive
// with no members.
func Walk(ra io.ReaderAt, size int64, fn func(Member) error) (end int64, err error) {
	if size == 0 {
		return 0, nil
	}
	sr := io.NewSectionReader(ra, 0, size)
	tr := tar.NewReader(sr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNotTar, err)
		}
		off, _ := sr.Seek(0, io.SeekCurrent)
		m := Member{Name: h.Name, Size: h.Size, Offset: off, ModTime: h.ModTime,
			Regular: h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA} //nolint:staticcheck // TypeRegA is what old archives hold
		if m.Regular && off+h.Size > size {
			return 0, fmt.Errorf("%w: member %q overruns the archive", ErrNotTar, h.Name)
		}
		if fn != nil {
			if err := fn(m); err != nil {
				return 0, err
			}
		}
	}
	// tar.Reader stops after reading the two zero blocks of the end marker.
	pos, _ := sr.Seek(0, io.SeekCurrent)
	end = pos - 2*blockSize
	if end < 0 || !zeroBlocks(ra, end, 2) {
		return 0, fmt.Errorf("%w: no end-of-archive marker", ErrNotTar)
	}
	return end, nil
}

// zeroBlocks reports whether n blocks at off are all zero.
func zeroBlocks(ra io.ReaderAt, off int64, n int) bool {
	buf := make([]byte, n*blockSize)
	if _, err := ra.ReadAt(buf, off); err != nil {
		return false
	}
	return bytes.Count(buf, []byte{0}) == len(buf)
}

// End returns the offset where new members go: the start of the
// end-of-archive marker (0 for an empty object).
func End(ra io.ReaderAt, size int64) (int64, error) { return Walk(ra, size, nil) }

// Find returns the last regular member named name (a leading "./" in the
// archive is ignored), or an error wrapping cluster.ErrNotFound.
func Find(ra io.ReaderAt, size int64, name string) (Member, error) {
	var found Member
	ok := false
	_, err := Walk(ra, size, func(m Member) error {
		if m.Regular && (m.Name == name || strings.TrimPrefix(m.Name, "./") == name) {
			found, ok = m, true
		}
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	if !ok {
		return Member{}, cluster.Errorf(cluster.ErrNotFound, "archive has no file %q", name)
	}
	return found, nil
}

// List returns the archive's regular members by name, each name once (the
// last member of a name), in archive order of their last occurrence.
func List(ra io.ReaderAt, size int64) ([]Member, error) {
	var all []Member
	at := map[string]int{}
	_, err := Walk(ra, size, func(m Member) error {
		if !m.Regular {
			return nil
		}
		m.Name = path.Clean(strings.TrimPrefix(m.Name, "./"))
		if i, ok := at[m.Name]; ok {
			all[i].Name = "" // superseded
		}
		at[m.Name] = len(all)
		all = append(all, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, m := range all {
		if m.Name != "" {
			out = append(out, m)
		}
	}
	return out, nil
}

// WriteMember writes one regular-file member named name, with size bytes
// read from r, followed by an end-of-archive marker, to w. r must yield
// exactly size bytes (else the error wraps cluster.ErrBadRequest).
func WriteMember(w io.Writer, name string, size int64, modTime time.Time, r io.Reader) error {
	if err := ValidateMemberName(name); err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: modTime.Truncate(time.Second)}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archive: write header of %q: %w", name, err)
	}
	n, err := io.CopyN(tw, r, size)
	switch {
	case err == io.EOF:
		return cluster.Errorf(cluster.ErrBadRequest, "archive member %q: truncated body: %d of the declared %d bytes", name, n, size)
	case err != nil:
		return err
	}
	var one [1]byte
	for range 8 { // readers may return (0, nil); a few tries tell EOF from more
		m, err := r.Read(one[:])
		if m > 0 {
			return cluster.Errorf(cluster.ErrBadRequest, "archive member %q: body longer than the declared %d bytes", name, size)
		}
		if err != nil {
			break
		}
	}
	return tw.Close()
}
