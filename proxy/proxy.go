package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	"miniais/internal/atomicfile"
	"miniais/internal/node"
	"miniais/metrics"
	"miniais/tracing"
	"miniais/transport"
)

// Config configures a proxy. Zero durations take the documented defaults.
type Config struct {
	// ID is the proxy's daemon ID (stable across restarts; the main
	// persists it).
	ID string
	// PublicAddr is the host:port the HTTP API listens on and advertises.
	PublicAddr string
	// TransportAddr is the host:port of the intra-cluster transport listener.
	TransportAddr string
	// DataDir holds the persisted cluster map and bucket metadata.
	DataDir string
	// Secret authenticates cluster members on the transport (empty: off).
	Secret []byte
	// Tracing provides the tracer provider and propagator.
	Tracing *tracing.Provider
	// Metrics is the node's Prometheus registry (nil: the node makes its
	// own); the node serves it at GET /metrics.
	Metrics *metrics.Node
	// Logger receives the node's logs.
	Logger *slog.Logger
	// KeepaliveTimeout is how long a target may stay silent before it is
	// flagged down (default 4s).
	KeepaliveTimeout time.Duration
	// PushTimeout bounds each push of a map or bucket metadata version to a
	// target, and each phase of a bucket transaction (default 5s).
	PushTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests on shutdown
	// (default 10s).
	ShutdownTimeout time.Duration
	// MaxConcurrent bounds the HTTP requests served at once; beyond it a
	// request gets 503 with Retry-After (default 4096).
	MaxConcurrent int
	// S3 configures the S3 gateway (s3.go).
	S3 S3Config
}

func (c *Config) setDefaults() {
	if c.KeepaliveTimeout == 0 {
		c.KeepaliveTimeout = 4 * time.Second
	}
	if c.PushTimeout == 0 {
		c.PushTimeout = 5 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Proxy is a running gateway node. Create it with New and start it with Run.
type Proxy struct {
	cfg    Config
	log    *slog.Logger
	tracer trace.Tracer
	self   *cluster.Node
	// started is when New ran, for the uptime in stats.
	started time.Time

	client *transport.Client
	// bg runs every goroutine of the proxy that outlives the request that
	// started it; Serve stops it before returning.
	bg *node.Group
	// pushes sends map, bucket metadata and configuration versions to the
	// targets, one in flight per target (push.go).
	pushes pushers

	// mu serializes changes of smap and bmd (and their persistence); readers
	// load the atomic pointers without it. Published versions are immutable.
	mu   sync.Mutex
	smap atomic.Pointer[cluster.Map]
	bmd  atomic.Pointer[cluster.BMD]

	// txnMu serializes bucket transactions.
	txnMu sync.Mutex

	// lastSeen maps a target ID to the unix nanoseconds of its last
	// keepalive or join.
	seenMu   sync.Mutex
	lastSeen map[string]int64

	// conf is the cluster configuration (cluster.go); rev relays
	// /v1/reverse/daemon requests (daemon.go).
	conf clusterConf
	rev  reverser

	// summaries are the bucket summary jobs (summary.go).
	summaries summaries
	// jobs are the jobs the proxy started on every target (jobs.go).
	jobs proxyJobs
	// s3 is the S3 gateway's client to targets (s3.go).
	s3 s3Gateway
	// members serializes maintenance, shutdown and decommission
	// (maintenance.go).
	members membership
}

// New loads the proxy's persisted state (or starts a fresh cluster map and
// bucket metadata) and returns a proxy ready to Run.
func New(cfg Config) (*Proxy, error) {
	cfg.setDefaults()
	if cfg.ID == "" || cfg.PublicAddr == "" || cfg.TransportAddr == "" || cfg.DataDir == "" || cfg.Tracing == nil {
		return nil, errors.New("proxy: ID, PublicAddr, TransportAddr, DataDir and Tracing are required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{
		cfg:      cfg,
		log:      cfg.Logger,
		tracer:   cfg.Tracing.Tracer("miniais/proxy"),
		self:     cluster.NewNode(cfg.ID, cluster.RoleProxy, cfg.PublicAddr, cfg.TransportAddr),
		lastSeen: map[string]int64{},
		started:  time.Now(),
		bg:       node.NewGroup(),
	}
	p.jobs.run(p.bg.Context())
	p.initMetrics()
	p.client = transport.NewClient(p.transportConfig())
	if err := p.loadState(); err != nil {
		return nil, err
	}
	if err := p.loadConfig(); err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	for id := range p.smap.Load().Targets {
		p.lastSeen[id] = now // a grace period for targets after a proxy restart
	}
	return p, nil
}

func (p *Proxy) transportConfig() transport.Config {
	return transport.Config{
		NodeID:         p.cfg.ID,
		Secret:         p.cfg.Secret,
		TracerProvider: p.cfg.Tracing.TracerProvider(),
		Propagator:     p.cfg.Tracing.Propagator(),
		Logger:         p.log,
		Observer:       p.cfg.Metrics,
	}
}

// Run listens on PublicAddr and TransportAddr and serves them (Serve).
func (p *Proxy) Run(ctx context.Context) error {
	hln, err := net.Listen("tcp", p.cfg.PublicAddr)
	if err != nil {
		return fmt.Errorf("proxy: listen: %w", err)
	}
	tln, err := net.Listen("tcp", p.cfg.TransportAddr)
	if err != nil {
		hln.Close()
		return fmt.Errorf("proxy: listen transport: %w", err)
	}
	return p.Serve(ctx, hln, tln)
}

// Serve serves the HTTP API on hln and the transport on tln (listeners the
// caller bound, at the addresses of the configuration) until ctx is done,
// then shuts down: in-flight HTTP requests finish (bounded by
// ShutdownTimeout), and every goroutine of the proxy (the keepalive
// monitor, job watchers, pushes, summaries) has returned before Serve
// does (internal/node). A proxy serves once; Serve closes both listeners.
func (p *Proxy) Serve(ctx context.Context, hln, tln net.Listener) error {
	tsrv := transport.NewServer(p.transportConfig())
	tsrv.Handle(transport.KindJoin, p.handleJoin)
	tsrv.Handle(transport.KindKeepalive, p.handleKeepalive)
	tsrv.Handle(transport.KindJobDone, p.handleJobDone)
	tsrv.Handle(transport.KindPing, func(context.Context, *transport.Message, *transport.Header) ([]byte, error) { return nil, nil })

	hsrv := &http.Server{
		Handler: p.cfg.Tracing.Handler(p.cfg.Metrics.Middleware(server.LimitConcurrency(p.router(), p.cfg.MaxConcurrent, p.cfg.ID, 1)), spanName,
			tracing.WithQuiet(server.Quiet)),
		ReadHeaderTimeout: 10 * time.Second,
		// The proxy reads only small control bodies and writes small replies.
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	p.log.Info("proxy started", "id", p.cfg.ID, "public", hln.Addr().String(), "transport", tln.Addr().String(),
		"smap_version", p.smap.Load().Version, "bmd_version", p.bmd.Load().Version, "tracing", p.cfg.Tracing.Enabled())
	err := node.Serve(ctx, node.Config{
		Name: "proxy " + p.cfg.ID,
		HTTP: hsrv, HTTPListener: hln,
		Transport: tsrv, TransportListener: tln,
		Group:           p.bg,
		Loops:           []func(context.Context){p.monitor},
		ShutdownTimeout: p.cfg.ShutdownTimeout,
		Logger:          p.log,
	})
	p.client.Close()
	p.rev.client(p).CloseIdleConnections() // the relays' connections to other nodes
	p.log.Info("proxy stopped")
	return err
}

// Smap returns the current cluster map. It must not be modified.
func (p *Proxy) Smap() *cluster.Map { return p.smap.Load() }

// BMD returns the current bucket metadata. It must not be modified.
func (p *Proxy) BMD() *cluster.BMD { return p.bmd.Load() }

const (
	smapFile = "smap.msgp"
	bmdFile  = "bmd.msgp"
)

// loadState reads the persisted map and metadata, or makes fresh ones.
func (p *Proxy) loadState() error {
	smap := cluster.NewMap(newUUID(), p.self)
	if b, err := os.ReadFile(filepath.Join(p.cfg.DataDir, smapFile)); err == nil {
		var m cluster.Map
		if _, err := m.UnmarshalMsg(b); err != nil {
			return fmt.Errorf("proxy: corrupt %s: %w", smapFile, err)
		}
		smap = m.Clone()
		delete(smap.Proxies, smap.Primary.ID)
		smap.Primary = p.self // the address may have changed
		smap.Proxies[p.self.ID] = p.self
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("proxy: %w", err)
	}
	bmd := cluster.NewBMD(smap.UUID)
	if b, err := os.ReadFile(filepath.Join(p.cfg.DataDir, bmdFile)); err == nil {
		if _, err := bmd.UnmarshalMsg(b); err != nil {
			return fmt.Errorf("proxy: corrupt %s: %w", bmdFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("proxy: %w", err)
	}
	if bmd.Buckets == nil {
		bmd.Buckets = map[string]*cluster.BucketProps{}
	}
	p.smap.Store(smap)
	p.bmd.Store(bmd)
	return nil
}

// persist writes v (a map or bucket metadata) durably. Callers hold p.mu.
func (p *Proxy) persist(name string, v interface{ MarshalMsg([]byte) ([]byte, error) }) error {
	b, err := v.MarshalMsg(nil)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(p.cfg.DataDir, name), b, 0o644)
}

func newUUID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
