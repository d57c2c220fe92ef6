package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"miniais/api/server"
	"miniais/cluster"
	"miniais/fs"
	"miniais/internal/atomicfile"
	"miniais/job"
	"miniais/metrics"
	"miniais/tracing"
	"miniais/transport"
)

// Config configures a target. Zero durations take the documented defaults.
type Config struct {
	// ID is the target's daemon ID (stable across restarts; the main
	// persists it).
	ID string
	// PublicAddr is the host:port the HTTP API listens on and advertises.
	PublicAddr string
	// TransportAddr is the host:port of the intra-cluster transport listener.
	TransportAddr string
	// ProxyAddr is the proxy's transport host:port, where the target joins.
	ProxyAddr string
	// DataDir holds the target's persisted bucket metadata.
	DataDir string
	// Mountpaths are the directories objects are stored on.
	Mountpaths []string
	// Fsync is the durability policy of object writes.
	Fsync fs.FsyncPolicy
	// MaxObjectSize refuses larger PUTs (0: no limit).
	MaxObjectSize int64
	// Secret authenticates cluster members on the transport (empty: off).
	Secret []byte
	// Tracing provides the tracer provider and propagator.
	Tracing *tracing.Provider
	// Metrics is the node's Prometheus registry (nil: the node makes its
	// own); the node serves it at GET /metrics.
	Metrics *metrics.Node
	// Logger receives the node's logs.
	Logger *slog.Logger
	// KeepaliveInterval is the period of keepalives to the proxy (default 1s).
	KeepaliveInterval time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests on shutdown
	// (default 10s).
	ShutdownTimeout time.Duration
	// MaxConcurrent bounds the HTTP requests served at once; beyond it a
	// request gets 503 with Retry-After (default 4096).
	MaxConcurrent int
	// StallTimeout cuts off a request body that sends nothing, or a reply
	// that the client does not read, for this long (default 30s).
	StallTimeout time.Duration
	// UploadTimeout is how long an unflushed append or a multipart upload
	// may receive nothing before it is dropped and its work files removed
	// (default 1h).
	UploadTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 4096
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = 30 * time.Second
	}
	if c.UploadTimeout == 0 {
		c.UploadTimeout = time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Target is a running storage node. Create it with New and start it with Run.
type Target struct {
	cfg     Config
	log     *slog.Logger
	tracer  trace.Tracer
	self    *cluster.Node
	store   *fs.Store
	client  *transport.Client
	started time.Time

	// mu serializes applying new map and bucket metadata versions.
	mu   sync.Mutex
	smap atomic.Pointer[cluster.Map]
	bmd  atomic.Pointer[cluster.BMD]

	// txns holds prepared bucket transactions by ID.
	txnMu sync.Mutex
	txns  map[string]preparedTxn

	inFlight atomic.Int64
	// mpStats caches the mountpath counts of /metrics (metrics.go).
	mpStats mpStats

	// runCtx is Run's context; jobs run under it. rebJob is the latest
	// rebalance (guarded by mu).
	runCtx context.Context
	rebJob *job.Job
	// jobs are this target's shares of jobs (jobs.go); fgLast is the unix
	// nanoseconds of the end of the last foreground HTTP request (jobs
	// slow down while requests come).
	jobs   job.Registry
	fgLast atomic.Int64
	// prepared holds the shares prepared but not yet run, by job ID
	// (chan context.Context: the run message's).
	prepared sync.Map
	// httpc asks other targets for objects that have not moved here yet.
	httpc *http.Client
	// conf is the cluster configuration version held (daemon.go).
	conf nodeConf
	// win is the rebalance window (window.go).
	win window
	// apps are the pending appends (append.go); archMu serialize the
	// appends to one archive (archive.go).
	apps   appendTable
	archMu [64]sync.Mutex
}

// New opens the target's mountpaths (removing work files a crash left) and
// its persisted bucket metadata.
func New(cfg Config) (*Target, error) {
	cfg.setDefaults()
	if cfg.ID == "" || cfg.PublicAddr == "" || cfg.TransportAddr == "" || cfg.ProxyAddr == "" || cfg.DataDir == "" || cfg.Tracing == nil {
		return nil, errors.New("target: ID, PublicAddr, TransportAddr, ProxyAddr, DataDir and Tracing are required")
	}
	if len(cfg.Mountpaths) == 0 {
		return nil, errors.New("target: at least one mountpath is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	mps, err := fs.NewMountpaths(cfg.Mountpaths)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	store, err := fs.NewStore(fs.Config{
		Mountpaths:     mps,
		Fsync:          cfg.Fsync,
		TracerProvider: cfg.Tracing.TracerProvider(),
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	t := &Target{
		cfg:     cfg,
		log:     cfg.Logger,
		tracer:  cfg.Tracing.Tracer("miniais/target"),
		self:    cluster.NewNode(cfg.ID, cluster.RoleTarget, cfg.PublicAddr, cfg.TransportAddr),
		store:   store,
		started: time.Now(),
		txns:    map[string]preparedTxn{},
		runCtx:  context.Background(),
		httpc:   &http.Client{Transport: cfg.Tracing.Transport(neighborTransport())},
	}
	t.initMetrics()
	t.client = transport.NewClient(t.transportConfig())
	t.smap.Store(cluster.NewMap("", nil))
	bmd := cluster.NewBMD("")
	if b, err := os.ReadFile(filepath.Join(cfg.DataDir, bmdFile)); err == nil {
		if _, err := bmd.UnmarshalMsg(b); err != nil {
			return nil, fmt.Errorf("target: corrupt %s: %w", bmdFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("target: %w", err)
	}
	if bmd.Buckets == nil {
		bmd.Buckets = map[string]*cluster.BucketProps{}
	}
	t.bmd.Store(bmd)
	return t, nil
}

const bmdFile = "bmd.msgp"

// neighborTransport is the HTTP transport of neighbour lookups: no overall
// timeout (a large GET streams for as long as it takes; the request's
// context bounds it), but a peer must start answering within 10 s.
func neighborTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 10 * time.Second
	tr.MaxIdleConnsPerHost = 16
	return tr
}

func (t *Target) transportConfig() transport.Config {
	return transport.Config{
		NodeID:         t.cfg.ID,
		Secret:         t.cfg.Secret,
		TracerProvider: t.cfg.Tracing.TracerProvider(),
		Propagator:     t.cfg.Tracing.Propagator(),
		Logger:         t.log,
		Observer:       t.cfg.Metrics,
	}
}

// Run serves the HTTP API and the transport, joins the proxy and keeps
// alive, until ctx is done; then in-flight requests finish (bounded by
// ShutdownTimeout).
func (t *Target) Run(ctx context.Context) error {
	hln, err := net.Listen("tcp", t.cfg.PublicAddr)
	if err != nil {
		return fmt.Errorf("target: listen: %w", err)
	}
	tln, err := net.Listen("tcp", t.cfg.TransportAddr)
	if err != nil {
		hln.Close()
		return fmt.Errorf("target: listen transport: %w", err)
	}
	tsrv := transport.NewServer(t.transportConfig())
	t.registerControl(tsrv)

	hsrv := &http.Server{
		Handler: t.cfg.Tracing.Handler(t.cfg.Metrics.Middleware(server.LimitConcurrency(t.router(), t.cfg.MaxConcurrent, t.cfg.ID, 1)), spanName,
			tracing.WithQuiet(server.Quiet)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(t.log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.mu.Lock()
	t.runCtx = ctx
	t.mu.Unlock()
	errc := make(chan error, 2)
	go func() { errc <- tsrv.Serve(ctx, tln) }()
	go func() { errc <- hsrv.Serve(hln) }()
	go t.keepalive(ctx)
	janitorDone := make(chan struct{})
	go func() { defer close(janitorDone); t.janitor(ctx.Done()) }()
	t.log.Info("target started", "id", t.cfg.ID, "public", t.cfg.PublicAddr, "transport", t.cfg.TransportAddr,
		"proxy", t.cfg.ProxyAddr, "mountpaths", t.cfg.Mountpaths, "fsync", t.cfg.Fsync, "tracing", t.cfg.Tracing.Enabled())

	select {
	case <-ctx.Done():
	case err = <-errc:
		t.log.Error("target: server stopped", "err", err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), t.cfg.ShutdownTimeout)
	defer scancel()
	herr := hsrv.Shutdown(sctx)
	<-janitorDone // after the last request: it drops what is still pending
	tsrv.Close()
	t.client.Close()
	t.log.Info("target stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return herr
}

// keepalive joins the proxy (retrying with backoff) and then sends a
// keepalive every KeepaliveInterval; when the proxy no longer knows this
// target, it joins again. Keepalives are never traced (an idle cluster adds
// no traces); a join is.
func (t *Target) keepalive(ctx context.Context) {
	quiet := tracing.WithoutRoot(ctx)
	joined := false
	backoff := 100 * time.Millisecond
	for {
		var err error
		if !joined {
			err = t.join(ctx)
			joined = err == nil
		} else {
			err = t.sendKeepalive(quiet)
			if errors.Is(err, cluster.ErrNotFound) {
				t.log.Warn("the proxy does not know this target: joining again")
				joined = false
				continue
			}
		}
		wait := t.cfg.KeepaliveInterval
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.log.Warn("cannot reach the proxy", "proxy", t.cfg.ProxyAddr, "joined", joined, "err", err)
			wait = backoff + rand.N(backoff/2)
			backoff = min(2*backoff, t.cfg.KeepaliveInterval)
		} else {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (t *Target) join(ctx context.Context) error {
	ctx, span := t.tracer.Start(ctx, "target.join")
	defer span.End()
	body, err := t.self.MarshalMsg(nil)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	reply, rbody, err := t.client.Call(cctx, t.cfg.ProxyAddr, &transport.Header{Kind: transport.KindJoin}, body)
	if err != nil {
		return fmt.Errorf("join %s: %w", t.cfg.ProxyAddr, err)
	}
	smap := &cluster.Map{}
	if _, err := smap.UnmarshalMsg(rbody); err != nil {
		return fmt.Errorf("join: malformed cluster map: %w", err)
	}
	bmd := &cluster.BMD{}
	if _, err := bmd.UnmarshalMsg(reply.Opaque); err != nil {
		return fmt.Errorf("join: malformed bucket metadata: %w", err)
	}
	t.applySmap(ctx, smap)
	if err := t.applyBMD(ctx, bmd); err != nil {
		return err
	}
	t.log.Info("joined the cluster", "proxy", t.cfg.ProxyAddr, "smap_version", smap.Version, "bmd_version", bmd.Version, "targets", len(smap.Targets))
	return nil
}

func (t *Target) sendKeepalive(ctx context.Context) error {
	v := cluster.Versions{Smap: t.smap.Load().Version, BMD: t.bmd.Load().Version, Config: t.conf.load().Version}
	body, err := v.MarshalMsg(nil)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, t.cfg.KeepaliveInterval*2)
	defer cancel()
	_, _, err = t.client.Call(cctx, t.cfg.ProxyAddr, &transport.Header{Kind: transport.KindKeepalive}, body)
	return err
}

// applySmap installs smap if it is newer than the current map.
func (t *Target) applySmap(ctx context.Context, smap *cluster.Map) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.smap.Load()
	if smap.Version <= cur.Version && cur.Version != 0 {
		return
	}
	if smap.Proxies == nil {
		smap.Proxies = map[string]*cluster.Node{}
	}
	if smap.Targets == nil {
		smap.Targets = map[string]*cluster.Node{}
	}
	t.smap.Store(smap)
	if targetSetChanged(cur, smap) {
		if _, err := t.startRebalance(ctx, smap, job.RebalanceID(smap.Version), true); err != nil {
			t.log.ErrorContext(ctx, "cannot start a rebalance", "smap_version", smap.Version, "err", err)
		}
	} else if t.win.cleanVersion() != 0 {
		t.win.setClean(smap.Version) // nothing moves: still clean
	}
	t.log.DebugContext(ctx, "new cluster map", "version", smap.Version, "targets", len(smap.Targets))
}

// applyBMD installs bmd if it is newer than the current bucket metadata:
// buckets it adds get their directories, buckets it drops are destroyed,
// and it is persisted.
func (t *Target) applyBMD(ctx context.Context, bmd *cluster.BMD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.bmd.Load()
	if bmd.Version <= cur.Version && cur.Version != 0 {
		return nil
	}
	if bmd.Buckets == nil {
		bmd.Buckets = map[string]*cluster.BucketProps{}
	}
	for name, props := range bmd.Buckets {
		if err := t.store.CreateBucket(ctx, cluster.Bucket{Provider: props.Provider, Name: name}); err != nil {
			return fmt.Errorf("apply bucket metadata v%d: %w", bmd.Version, err)
		}
	}
	for name, props := range cur.Buckets {
		if bmd.Buckets[name] == nil {
			if err := t.store.DestroyBucket(ctx, cluster.Bucket{Provider: props.Provider, Name: name}); err != nil && !errors.Is(err, cluster.ErrNotFound) {
				t.log.ErrorContext(ctx, "destroy bucket", "bucket", name, "err", err)
			}
		}
	}
	b, err := bmd.MarshalMsg(nil)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(t.cfg.DataDir, bmdFile), b, 0o644); err != nil {
		return fmt.Errorf("persist bucket metadata: %w", err)
	}
	t.bmd.Store(bmd)
	t.log.InfoContext(ctx, "new bucket metadata", "version", bmd.Version, "buckets", len(bmd.Buckets))
	return nil
}
