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
	"miniais/internal/node"
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
	// MetaCacheSize caps the store's metadata cache in bytes
	// (fs.Config.MetaCacheSize: 0 the default, negative none).
	MetaCacheSize int64
	// TrashRate bounds the unlinks per second of the background removal
	// of destroyed buckets (default fs.DefaultTrashRate).
	TrashRate int
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

	// bg runs every goroutine of the target that outlives the request
	// that started it; Serve stops it before returning. runCtx is its
	// context; jobs run under it. rebJob is the latest rebalance (guarded
	// by mu).
	bg     *node.Group
	runCtx context.Context
	rebJob *job.Job
	// res is the latest resilver (mountpaths.go).
	res resilvers
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
	// mapSeen is signalled on every new cluster map (routing.go waits on
	// it for a map the proxy already routes by).
	mapSeen signal
	// leave ends Serve (the node leaves on the proxy's word, leave.go);
	// gone is set once the target is decommissioned.
	leave atomic.Pointer[context.CancelFunc]
	gone  atomic.Bool
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
	var t *Target // the store's Busy, Copies and OnFault ask it, once made
	store, err := fs.NewStore(fs.Config{
		Mountpaths:    mps,
		Fsync:         cfg.Fsync,
		MetaCacheSize: cfg.MetaCacheSize,
		TrashRate:     cfg.TrashRate,
		Busy:          func() bool { return t != nil && t.foregroundBusy() },
		// The number of copies a bucket's objects have is in the BMD the
		// target holds: a write made after a push of new mirror
		// properties makes the new number (make-n-copies does the rest).
		Copies: func(bck cluster.Bucket) int {
			if t == nil {
				return 1
			}
			bmd := t.bmd.Load()
			if bmd == nil {
				return 1
			}
			return bmd.Get(bck).Copies()
		},
		OnFault: func(path string) {
			if t != nil {
				t.faulted(path)
			}
		},
		TracerProvider: cfg.Tracing.TracerProvider(),
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	bg := node.NewGroup()
	t = &Target{
		cfg:     cfg,
		log:     cfg.Logger,
		tracer:  cfg.Tracing.Tracer("miniais/target"),
		self:    cluster.NewNode(cfg.ID, cluster.RoleTarget, cfg.PublicAddr, cfg.TransportAddr),
		store:   store,
		started: time.Now(),
		txns:    map[string]preparedTxn{},
		bg:      bg,
		runCtx:  bg.Context(),
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

// Run listens on PublicAddr and TransportAddr and serves them (Serve).
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
	return t.Serve(ctx, hln, tln)
}

// Serve serves the HTTP API on hln and the transport on tln (listeners the
// caller bound, at the addresses of the configuration), joins the proxy and
// keeps alive, until ctx is done; then in-flight requests finish (bounded
// by ShutdownTimeout), pending appends are dropped, and every goroutine of
// the target (keepalives, jobs, rebalance, the trash emptier) has returned
// before Serve does (internal/node). A target serves once; Serve closes
// both listeners.
func (t *Target) Serve(ctx context.Context, hln, tln net.Listener) error {
	ctx, leave := context.WithCancel(ctx) // leave.go: the node's own exit
	defer leave()
	t.leave.Store(&leave)
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
	t.log.Info("target started", "id", t.cfg.ID, "public", hln.Addr().String(), "transport", tln.Addr().String(),
		"proxy", t.cfg.ProxyAddr, "mountpaths", t.cfg.Mountpaths, "fsync", t.cfg.Fsync, "tracing", t.cfg.Tracing.Enabled())
	err := node.Serve(ctx, node.Config{
		Name: "target " + t.cfg.ID,
		HTTP: hsrv, HTTPListener: hln,
		Transport: tsrv, TransportListener: tln,
		Group: t.bg,
		Loops: []func(context.Context){t.keepalive, t.janitor, t.store.EmptyTrash, t.fshc},
		// After the last request: drop the appends still pending.
		Stopped:         func() { t.apps.expire(-1) },
		ShutdownTimeout: t.cfg.ShutdownTimeout,
		Logger:          t.log,
	})
	t.client.Close()
	t.httpc.CloseIdleConnections()
	t.log.Info("target stopped")
	return err
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
		if t.gone.Load() {
			return // decommissioned (leave.go): never join again
		}
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
	// The rebalance window opens before the map is published: a request
	// that the new map routes here finds what has not moved yet.
	if placementChanged(cur, smap) {
		auto := targetSetChanged(cur, smap) || !maintenanceChanged(cur, smap)
		if _, err := t.startRebalance(ctx, smap, job.RebalanceID(smap.Version), auto); err != nil {
			t.log.ErrorContext(ctx, "cannot start a rebalance", "smap_version", smap.Version, "err", err)
		}
	} else if t.win.cleanVersion() != 0 {
		t.win.setClean(smap.Version) // nothing moves: still clean
	}
	t.smap.Store(smap)
	t.mapSeen.bump()
	t.log.DebugContext(ctx, "new cluster map", "version", smap.Version, "targets", len(smap.Targets))
}
