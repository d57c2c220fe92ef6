package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only on the opt-in -pprof listener
	"os"
	"path/filepath"
	"strings"
	"time"

	"miniais/fs"
	"miniais/proxy"
	"miniais/target"
	"miniais/tracing"
)

// version is the build's version, set with -ldflags "-X main.version=...".
var version = "dev"

// Config is the node's configuration: the JSON config file, overridden by
// flags given on the command line.
type Config struct {
	Role          string         `json:"role"`
	ID            string         `json:"id"`
	PublicAddr    string         `json:"public_addr"`
	TransportAddr string         `json:"transport_addr"`
	Proxy         string         `json:"proxy"`
	Mountpaths    []string       `json:"mountpaths"`
	DataDir       string         `json:"data_dir"`
	Fsync         string         `json:"fsync"`
	MaxObjectSize int64          `json:"max_object_size"`
	MaxConcurrent int            `json:"max_concurrent"`
	StallTimeout  duration       `json:"stall_timeout"`
	SecretFile    string         `json:"secret_file"`
	Pprof         string         `json:"pprof"`
	LogLevel      string         `json:"log_level"`
	Tracing       tracing.Config `json:"tracing"`
}

func parseConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := Config{Fsync: string(fs.FsyncAlways), LogLevel: "info", Tracing: tracing.DefaultConfig()}
	fset := flag.NewFlagSet("aisnode", flag.ContinueOnError)
	var (
		configFile = fset.String("config", "", "JSON config file (flags given explicitly override it)")
		role       = fset.String("role", "", "node role: proxy or target")
		id         = fset.String("id", "", "node ID (default: persisted in data_dir/node_id, generated on first start)")
		public     = fset.String("public_addr", "", "HTTP API host:port (default 127.0.0.1:8080 proxy, 127.0.0.1:8081 target)")
		transp     = fset.String("transport_addr", "", "intra-cluster transport host:port (default 127.0.0.1:9080 proxy, 127.0.0.1:9081 target)")
		proxyAddr  = fset.String("proxy", "", "targets: the proxy's transport host:port (default 127.0.0.1:9080)")
		mpaths     = fset.String("mountpaths", "", "targets: comma-separated mountpath directories")
		dataDir    = fset.String("data_dir", "", "directory for the node's own state")
		fsync      = fset.String("fsync", "", "object durability: always or never (default always)")
		maxObj     = fset.Int64("max_object_size", 0, "targets: largest object accepted in bytes (0: no limit)")
		maxConc    = fset.Int("max_concurrent", 0, "HTTP requests served at once; beyond it 503 with Retry-After (default 4096)")
		stall      = fset.Duration("stall_timeout", 0, "targets: cut off a request body or reply that makes no progress this long (default 30s)")
		secretFile = fset.String("secret_file", "", "file holding the cluster secret (or env AIS_CLUSTER_SECRET)")
		pprofAddr  = fset.String("pprof", "", "opt-in pprof listener host:port")
		logLevel   = fset.String("log_level", "", "debug, info, warn or error")
	)
	if err := fset.Parse(args); err != nil {
		return cfg, err
	}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return cfg, err
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", *configFile, err)
		}
	}
	fset.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "role":
			cfg.Role = *role
		case "id":
			cfg.ID = *id
		case "public_addr":
			cfg.PublicAddr = *public
		case "transport_addr":
			cfg.TransportAddr = *transp
		case "proxy":
			cfg.Proxy = *proxyAddr
		case "mountpaths":
			cfg.Mountpaths = strings.Split(*mpaths, ",")
		case "data_dir":
			cfg.DataDir = *dataDir
		case "fsync":
			cfg.Fsync = *fsync
		case "max_object_size":
			cfg.MaxObjectSize = *maxObj
		case "max_concurrent":
			cfg.MaxConcurrent = *maxConc
		case "stall_timeout":
			cfg.StallTimeout = duration(*stall)
		case "secret_file":
			cfg.SecretFile = *secretFile
		case "pprof":
			cfg.Pprof = *pprofAddr
		case "log_level":
			cfg.LogLevel = *logLevel
		}
	})
	switch cfg.Role {
	case "proxy":
		cfg.PublicAddr = or(cfg.PublicAddr, "127.0.0.1:8080")
		cfg.TransportAddr = or(cfg.TransportAddr, "127.0.0.1:9080")
	case "target":
		cfg.PublicAddr = or(cfg.PublicAddr, "127.0.0.1:8081")
		cfg.TransportAddr = or(cfg.TransportAddr, "127.0.0.1:9081")
		cfg.Proxy = or(cfg.Proxy, "127.0.0.1:9080")
	default:
		return cfg, fmt.Errorf("-role must be proxy or target, not %q", cfg.Role)
	}
	if cfg.DataDir == "" {
		return cfg, errors.New("-data_dir is required")
	}
	if cfg.MaxConcurrent < 0 || cfg.StallTimeout < 0 || cfg.MaxObjectSize < 0 {
		return cfg, errors.New("-max_concurrent, -stall_timeout and -max_object_size must not be negative")
	}
	tc, err := tracing.FromEnv(cfg.Tracing, getenv)
	if err != nil {
		return cfg, err
	}
	cfg.Tracing = tc
	return cfg, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("-log_level: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	if cfg.ID, err = nodeID(cfg.DataDir, cfg.ID, cfg.Role); err != nil {
		return err
	}
	log := slog.New(tracing.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))).
		With("node", cfg.ID)
	secret, err := clusterSecret(cfg.SecretFile, getenv)
	if err != nil {
		return err
	}
	fsync, err := fs.ParseFsyncPolicy(cfg.Fsync)
	if err != nil {
		return err
	}
	tp, err := tracing.New(ctx, cfg.Tracing, tracing.Options{Role: cfg.Role, NodeID: cfg.ID, Version: version, Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			log.Warn("tracing shutdown", "err", err)
		}
		log.Info("tracing flushed", "exported", tp.Exported(), "dropped", tp.Dropped())
	}()
	if cfg.Pprof != "" {
		go func() {
			log.Info("pprof listening", "addr", cfg.Pprof)
			log.Warn("pprof stopped", "err", http.ListenAndServe(cfg.Pprof, nil))
		}()
	}
	if cfg.Role == "proxy" {
		p, err := proxy.New(proxy.Config{
			ID: cfg.ID, PublicAddr: cfg.PublicAddr, TransportAddr: cfg.TransportAddr, DataDir: cfg.DataDir,
			Secret: secret, Tracing: tp, Logger: log, MaxConcurrent: cfg.MaxConcurrent,
		})
		if err != nil {
			return err
		}
		return p.Run(ctx)
	}
	t, err := target.New(target.Config{
		ID: cfg.ID, PublicAddr: cfg.PublicAddr, TransportAddr: cfg.TransportAddr, ProxyAddr: cfg.Proxy,
		DataDir: cfg.DataDir, Mountpaths: cfg.Mountpaths, Fsync: fsync, MaxObjectSize: cfg.MaxObjectSize,
		Secret: secret, Tracing: tp, Logger: log,
		MaxConcurrent: cfg.MaxConcurrent, StallTimeout: time.Duration(cfg.StallTimeout),
	})
	if err != nil {
		return err
	}
	return t.Run(ctx)
}

// nodeID returns the node's ID: the one given (which must match a persisted
// one), else the persisted one, else a new one that is persisted.
func nodeID(dataDir, given, role string) (string, error) {
	path := filepath.Join(dataDir, "node_id")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		persisted := strings.TrimSpace(string(b))
		if given != "" && given != persisted {
			return "", fmt.Errorf("-id %s differs from the ID %s persisted in %s", given, persisted, path)
		}
		return persisted, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	id := given
	if id == "" {
		var r [4]byte
		rand.Read(r[:])
		id = role[:1] + hex.EncodeToString(r[:])
	}
	return id, fs.WriteFileAtomic(path, []byte(id+"\n"), 0o644)
}

func clusterSecret(file string, getenv func(string) string) ([]byte, error) {
	if file == "" {
		return []byte(getenv("AIS_CLUSTER_SECRET")), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}
