package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"miniais/cluster"
	"miniais/internal/atomicfile"
)

// FsyncPolicy says whether Put and bucket operations fsync files and
// directories before returning.
type FsyncPolicy string

// The fsync policies.
const (
	// FsyncAlways fsyncs object data, metadata and the parent directory, so
	// a Put that returned survives a power loss. The default.
	FsyncAlways FsyncPolicy = "always"
	// FsyncNever leaves flushing to the kernel; for benchmarks and tests.
	FsyncNever FsyncPolicy = "never"
)

// ParseFsyncPolicy parses "always" or "never"; "" means FsyncAlways.
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch FsyncPolicy(s) {
	case "", FsyncAlways:
		return FsyncAlways, nil
	case FsyncNever:
		return FsyncNever, nil
	}
	return "", fmt.Errorf("fs: fsync policy %q (want %q or %q): %w", s, FsyncAlways, FsyncNever, cluster.ErrBadRequest)
}

// Config configures a Store.
type Config struct {
	// Mountpaths are the directories to store objects in. Required.
	Mountpaths *Mountpaths
	// Fsync is the fsync policy; "" means FsyncAlways.
	Fsync FsyncPolicy
	// TracerProvider makes the spans; nil means a no-op provider.
	TracerProvider trace.TracerProvider
	// Logger receives warnings (failed clean-ups); nil means discard.
	Logger *slog.Logger
	// MetaCacheSize caps the in-memory cache of object metadata, in bytes
	// (see metacache.go): 0 means DefaultMetaCacheSize, negative no cache.
	MetaCacheSize int64
	// TrashRate bounds the unlinks per second of EmptyTrash (0:
	// DefaultTrashRate).
	TrashRate int
	// Busy, when set, reports foreground requests in flight or just served;
	// while it does, EmptyTrash unlinks at a quarter of TrashRate.
	Busy func() bool
	// Copies, when set, returns the number of copies the objects of a
	// bucket have (its mirror properties, cluster.BucketProps.Copies); nil
	// or a value below 2 means one (see mirror.go). It is called on every
	// write and resilver of an object, so it must be cheap.
	Copies func(cluster.Bucket) int
	// OnFault, when set, is called with the path of a mountpath that failed
	// its health check and was disabled, on the goroutine that saw the
	// failure, possibly holding an object's lock: it must not block or call
	// the Store (the target starts a resilver job in the background, which
	// brings mirrored objects back to their number of copies).
	OnFault func(path string)

	noXattr bool // tests: store metadata in sidecars as if xattrs were unsupported
}

// numStripes is the number of per-name locks; names share them by digest.
const numStripes = 256

// Store keeps buckets and objects on a set of mountpaths. It is safe for
// concurrent use. Only one Store may use a mountpath at a time.
type Store struct {
	mps     *Mountpaths
	fsync   bool
	noXattr bool
	tracer  trace.Tracer
	// tracingOff: the provider is the no-op one; start makes no spans.
	tracingOff bool
	log        *slog.Logger
	copies     func(cluster.Bucket) int // Config.Copies
	onFault    func(path string)        // Config.OnFault

	// bckMu orders bucket creation and destruction (writers) against the
	// commit step of Put (readers), so a Put never resurrects a destroyed bucket.
	bckMu sync.RWMutex
	// stripes serialize the commit of writers to one name (so versions do
	// not race) against readers that open the file and its metadata.
	stripes [numStripes]sync.RWMutex
	bufs    sync.Pool // *[]byte of copyBufSize
	// orderedFS caches orderedData by mountpath Path (flush.go).
	orderedFS sync.Map
	// meta caches decoded object metadata (metacache.go).
	meta *metaCache
	// ups are the multipart uploads in progress (multipart.go).
	ups uploads
	// trash is the state of the destroyed buckets' removal (trash.go).
	trash trash
	// faulted maps the path of a mountpath disabled by a failed health
	// check to the failure (mpops.go).
	faulted sync.Map
}

// copyBufSize is the size of the pooled buffers that Put and validation use.
const copyBufSize = 128 << 10

// NewStore returns a Store on cfg.Mountpaths. It creates the work and bucket
// root directories where missing and removes whatever a crash left in the
// work directories.
func NewStore(cfg Config) (*Store, error) {
	if cfg.Mountpaths == nil {
		return nil, errors.New("fs: Config.Mountpaths is nil")
	}
	policy, err := ParseFsyncPolicy(string(cfg.Fsync))
	if err != nil {
		return nil, err
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	_, tracingOff := tp.(noop.TracerProvider)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		mps:        cfg.Mountpaths,
		fsync:      policy == FsyncAlways,
		noXattr:    cfg.noXattr,
		tracer:     tp.Tracer("miniais/fs"),
		log:        log,
		copies:     cfg.Copies,
		onFault:    cfg.OnFault,
		tracingOff: tracingOff,
		meta:       newMetaCache(cfg.MetaCacheSize),
		trash:      newTrash(cfg.TrashRate, cfg.Busy),
	}
	s.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	for _, mp := range s.mps.List() {
		if err := s.initMountpath(mp); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// initMountpath makes the work and provider directories and empties the work
// directory of a previous run's leftovers.
func (s *Store) initMountpath(mp *Mountpath) error {
	wd := workDir(mp)
	for _, dir := range []string{wd, filepath.Join(mp.Path, providerDir), trashDir(mp)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("fs: %w", err)
		}
	}
	entries, err := os.ReadDir(wd)
	if err != nil {
		return fmt.Errorf("fs: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(wd, e.Name())); err != nil {
			return fmt.Errorf("fs: remove stale work file: %w", err)
		}
	}
	if len(entries) > 0 {
		s.log.Info("fs: removed stale work files", "mountpath", mp.Path, "count", len(entries))
	}
	return nil
}

// Mountpaths returns the store's mountpaths; adding and removing through it
// takes effect at once.
func (s *Store) Mountpaths() *Mountpaths { return s.mps }

// CreateBucket creates bck's directory on every mountpath and, when id is
// not 0, records id as its bucket ID there (see BucketIDs). It is
// idempotent: creating an existing bucket with the same ID (or id 0)
// succeeds. A mountpath whose directory of bck records another ID fails it
// with an error wrapping cluster.ErrExists: that is another bucket of the
// same name, to be destroyed first.
func (s *Store) CreateBucket(ctx context.Context, bck cluster.Bucket, id uint64) (err error) {
	ctx, span := s.start(ctx, "fs.CreateBucket", bck, "")
	defer func() { endSpan(span, err) }()
	if err := bck.Validate(); err != nil {
		return err
	}
	mps := s.mps.List()
	if len(mps) == 0 {
		return errNoMountpaths()
	}
	s.bckMu.Lock()
	defer s.bckMu.Unlock()
	for _, mp := range mps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.makeBucket(mp, bck, id); err != nil {
			return err
		}
	}
	return nil
}

// makeBucket makes bck's directories on mp with bucket ID id (0: none);
// the caller holds bckMu.
func (s *Store) makeBucket(mp *Mountpath, bck cluster.Bucket, id uint64) error {
	if err := os.MkdirAll(objectsDir(mp, bck), 0o755); err != nil {
		return fmt.Errorf("fs: create bucket %s: %w", bck, err)
	}
	if id != 0 {
		had, err := readBucketID(mp, bck)
		switch {
		case err != nil:
			return err
		case had != 0 && had != id:
			return cluster.Errorf(cluster.ErrExists, "bucket %s on %s has bucket ID %d, not %d: another bucket of that name", bck, mp.Path, had, id)
		case had == 0:
			// atomicfile fsyncs: a bucket is created rarely.
			if err := atomicfile.Write(bucketIDPath(mp, bck), []byte(strconv.FormatUint(id, 10)), 0o644); err != nil {
				return fmt.Errorf("fs: create bucket %s: %w", bck, err)
			}
		}
	}
	return s.syncDir(bucketDir(mp, bck), filepath.Join(mp.Path, providerDir))
}

// readBucketID returns the bucket ID recorded in bck's directory on mp, 0
// when none is.
func readBucketID(mp *Mountpath, bck cluster.Bucket) (uint64, error) {
	b, err := os.ReadFile(bucketIDPath(mp, bck))
	if isNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fs: bucket %s on %s: read its ID: %w", bck, mp.Path, err)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, cluster.Errorf(cluster.ErrCorrupt, "bucket %s on %s: bucket ID %q: %v", bck, mp.Path, b, err)
	}
	return id, nil
}

// BucketIDs returns the distinct bucket IDs that bck's directories on the
// readable mountpaths record (CreateBucket), sorted; none for a bucket
// created without one or missing. More than one, or one that is not the
// bucket metadata's, means the disks hold an older bucket of that name.
func (s *Store) BucketIDs(bck cluster.Bucket) ([]uint64, error) {
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	var ids []uint64
	for _, mp := range s.mps.List() {
		id, err := readBucketID(mp, bck)
		if err != nil {
			return nil, err
		}
		if id != 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// DestroyBucket removes bck and all its objects from every mountpath. On
// each mountpath the bucket disappears at once: it is renamed into the
// mountpath's trash (<mp>/.trash/<bucket>-<random>; with FsyncAlways the
// bucket root and the trash directories are synced, so the rename survives
// a crash). DestroyBucket then returns; EmptyTrash removes the files in the
// background. A bucket created again with the same name is a new, empty
// directory. A bucket missing everywhere is cluster.ErrNotFound.
func (s *Store) DestroyBucket(ctx context.Context, bck cluster.Bucket) (err error) {
	_, span := s.start(ctx, "fs.DestroyBucket", bck, "")
	defer func() { endSpan(span, err) }()
	if err := bck.Validate(); err != nil {
		return err
	}
	found := false
	s.bckMu.Lock()
	for _, mp := range s.mps.List() {
		dst := filepath.Join(trashDir(mp), bck.Name+"-"+randSuffix())
		err := os.Rename(bucketDir(mp, bck), dst)
		if errors.Is(err, os.ErrNotExist) {
			// Either the bucket or the trash (a freshly added mountpath) is missing.
			if _, serr := os.Stat(bucketDir(mp, bck)); serr != nil {
				continue
			}
			if err = os.MkdirAll(trashDir(mp), 0o755); err == nil {
				err = os.Rename(bucketDir(mp, bck), dst)
			}
		}
		if err != nil {
			s.bckMu.Unlock()
			return fmt.Errorf("fs: destroy bucket %s: %w", bck, err)
		}
		found = true
		if err := s.syncDir(filepath.Join(mp.Path, providerDir), trashDir(mp)); err != nil {
			s.bckMu.Unlock()
			return err
		}
	}
	s.bckMu.Unlock()
	s.meta.clear()
	s.dropUploads(func(u *upload) bool { return u.info.Bucket == bck })
	if !found {
		return cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
	}
	s.trash.poke()
	return nil
}

// Buckets returns the buckets present on any mountpath, sorted by name.
func (s *Store) Buckets(ctx context.Context) ([]cluster.Bucket, error) {
	seen := map[string]bool{}
	for _, mp := range s.mps.List() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		entries, err := os.ReadDir(filepath.Join(mp.Path, providerDir))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("fs: list buckets: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() && cluster.NewBucket(e.Name()).Validate() == nil {
				seen[e.Name()] = true
			}
		}
	}
	out := make([]cluster.Bucket, 0, len(seen))
	for name := range seen {
		out = append(out, cluster.NewBucket(name))
	}
	sortBuckets(out)
	return out, nil
}

// BucketExists reports whether bck has a directory on any mountpath.
func (s *Store) BucketExists(bck cluster.Bucket) bool {
	return s.bucketMountpath(bck, nil) != nil
}

// bucketMountpath returns first if bck exists there, else any mountpath
// that has bck, else nil.
func (s *Store) bucketMountpath(bck cluster.Bucket, first *Mountpath) *Mountpath {
	if first != nil && isDir(objectsDir(first, bck)) {
		return first
	}
	for _, mp := range s.mps.List() {
		if (first == nil || mp.Path != first.Path) && isDir(objectsDir(mp, bck)) {
			return mp
		}
	}
	return nil
}

func sortBuckets(b []cluster.Bucket) {
	slices.SortFunc(b, func(x, y cluster.Bucket) int { return strings.Compare(x.Name, y.Name) })
}

// randSuffix returns 16 random hex digits for work file names.
func randSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// stripe returns the lock of the object with unique name uname.
func (s *Store) stripe(uname string) *sync.RWMutex {
	return &s.stripes[cluster.Digest(uname)%numStripes]
}

func errNoMountpaths() error {
	return cluster.Errorf(cluster.ErrUnavailable, "fs: no mountpaths")
}

// internalKind is the option of every span of the package, made once.
var internalKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}

// start starts an internal span with the bucket and (if any) object
// attributes. With tracing off (a no-op provider) it allocates nothing:
// it returns ctx and a no-op span; the attributes are made only for a
// span that records.
func (s *Store) start(ctx context.Context, name string, bck cluster.Bucket, obj string) (context.Context, trace.Span) {
	if s.tracingOff {
		return ctx, noop.Span{}
	}
	ctx, span := s.tracer.Start(ctx, name, internalKind...)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("ais.bucket", bck.String()))
		if obj != "" {
			span.SetAttributes(attribute.String("ais.object", obj))
		}
	}
	return ctx, span
}

// endSpan ends span, marking err as a failure unless it is a not-found,
// which becomes the event "not found".
func endSpan(span trace.Span, err error) {
	switch {
	case err == nil, !span.IsRecording():
	case errors.Is(err, cluster.ErrNotFound):
		span.AddEvent("not found")
	default:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// setAttrs records an object's attributes on span.
func setAttrs(span trace.Span, a *ObjectAttrs) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(
		attribute.Int64("ais.size", a.Size),
		attribute.String("ais.mountpath", a.Mountpath),
		attribute.String("ais.checksum", a.Checksum.Value),
		attribute.String("ais.version", a.Version),
	)
}
