package fs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"miniais/cluster"
)

// ObjectAttrs describes a stored object.
type ObjectAttrs struct {
	// Bucket is the object's bucket.
	Bucket cluster.Bucket
	// Name is the object's name within the bucket.
	Name string
	// Size is the length of the content in bytes.
	Size int64
	// Checksum is the content checksum, of the type Put stored it with
	// (PutOptions.ChecksumType; in a none bucket, the client's checksum or
	// {Type: "none"}); empty for a file without metadata.
	Checksum cluster.Checksum
	// Version is "1" for a new object and increments on every overwrite.
	Version string
	// Atime is the time of the Put that stored this version.
	Atime time.Time
	// Custom holds the caller's key-value pairs; nil when there are none.
	Custom map[string]string
	// Mountpath is the Path of the mountpath that holds the object (the
	// copy read, of a mirrored one).
	Mountpath string
	// Copies is the number of mountpaths holding a copy, as List found
	// them; 0 where not counted (Head, Open, Put: see Store.Copies).
	Copies int
	// Parts is the number of multipart-upload parts the object was
	// assembled from (CompleteUpload); 0 for an object written whole.
	// Listings show such an object as chunked (AIStore's entry flag 8192).
	Parts int
}

// MaxMetaSize is the largest encoded metadata of one object, in bytes; it
// keeps the xattr within one filesystem block. A Put whose custom pairs do not
// fit fails with cluster.ErrTooLarge.
const MaxMetaSize = 3072

// xattrName is the extended attribute that holds an object's metadata.
const xattrName = "user.ais.meta"

// metaMagic starts every encoding: 'A', 'M', then the format version: 1,
// or 2 when the object has Parts (the one field version 1 lacks).
var metaMagic = [3]byte{'A', 'M', 1}

// metaVersionParts is the format version whose encoding ends with Parts.
const metaVersionParts = 2

// errNoMeta means the file has neither an xattr nor a sidecar.
var errNoMeta = errors.New("no metadata")

// encodeMeta appends the encoding of a's size, checksum, version, atime and
// custom pairs (the package doc gives the layout) to dst.
func encodeMeta(dst []byte, a *ObjectAttrs) []byte {
	dst = append(dst, metaMagic[:]...)
	if a.Parts > 0 {
		dst[len(dst)-1] = metaVersionParts
	}
	dst = binary.AppendUvarint(dst, uint64(a.Size))
	dst = appendString(dst, a.Checksum.Type)
	dst = appendString(dst, a.Checksum.Value)
	dst = appendString(dst, a.Version)
	dst = binary.AppendVarint(dst, a.Atime.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(len(a.Custom)))
	for _, k := range slices.Sorted(maps.Keys(a.Custom)) {
		dst = appendString(dst, k)
		dst = appendString(dst, a.Custom[k])
	}
	if a.Parts > 0 {
		dst = binary.AppendUvarint(dst, uint64(a.Parts))
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodeMeta fills a's size, checksum, version, atime and custom pairs from
// b. It never panics, whatever b holds.
func decodeMeta(b []byte, a *ObjectAttrs) error {
	d := metaDecoder{b: b}
	if len(b) < len(metaMagic) || [2]byte(b[:2]) != [2]byte(metaMagic[:2]) || (b[2] != metaMagic[2] && b[2] != metaVersionParts) {
		return errors.New("fs: metadata: bad magic or format version")
	}
	format := b[2]
	d.b = b[3:]
	size := d.uvarint()
	a.Checksum.Type = d.string()
	a.Checksum.Value = d.string()
	a.Version = d.string()
	atime := d.varint()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // each pair takes at least 2 bytes
		d.err = errors.New("too many custom pairs")
	}
	if n > 0 && d.err == nil {
		a.Custom = make(map[string]string, n)
		for range n {
			k := d.string()
			a.Custom[k] = d.string()
		}
	}
	a.Parts = 0
	if format == metaVersionParts {
		parts := d.uvarint()
		if d.err == nil && (parts == 0 || parts > MaxParts) {
			d.err = errors.New("parts out of range")
		}
		a.Parts = int(parts)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err == nil && size > 1<<62 {
		d.err = errors.New("size out of range")
	}
	if d.err != nil {
		return fmt.Errorf("fs: metadata: %w", d.err)
	}
	a.Size = int64(size)
	a.Atime = time.Unix(0, atime)
	return nil
}

type metaDecoder struct {
	b   []byte
	err error
}

func (d *metaDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *metaDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *metaDecoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errors.New("string overruns the encoding")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// xattrUnsupported reports whether err says the filesystem has no user xattrs.
func xattrUnsupported(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP)
}

// readMetaFile reads the metadata of the open object file f, from its xattr
// or else from the sidecar at sidecar. It returns errNoMeta when neither
// exists.
func readMetaFile(f *os.File, sidecar string) ([]byte, error) {
	var buf [MaxMetaSize]byte
	n, err := unix.Fgetxattr(int(f.Fd()), xattrName, buf[:])
	return metaResult(buf[:], n, err, sidecar)
}

// readMetaPath is readMetaFile for an object given by path.
func readMetaPath(path, sidecar string) ([]byte, error) {
	var buf [MaxMetaSize]byte
	n, err := unix.Getxattr(path, xattrName, buf[:])
	return metaResult(buf[:], n, err, sidecar)
}

func metaResult(buf []byte, n int, err error, sidecar string) ([]byte, error) {
	switch {
	case err == nil:
		return slices.Clone(buf[:n]), nil
	case errors.Is(err, unix.ENODATA), xattrUnsupported(err):
		b, err := os.ReadFile(sidecar)
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNoMeta
		}
		return b, err
	default:
		return nil, fmt.Errorf("fs: read metadata: %w", err)
	}
}

// attrsFromMeta turns raw metadata (or its absence) into attributes; a file
// without metadata gets its size, version "1" and its mtime as atime.
func attrsFromMeta(raw []byte, metaErr error, fi os.FileInfo, a *ObjectAttrs) error {
	switch {
	case metaErr == nil:
		return decodeMeta(raw, a)
	case errors.Is(metaErr, errNoMeta):
		a.Size, a.Version, a.Atime = fi.Size(), "1", fi.ModTime()
		return nil
	default:
		return metaErr
	}
}
