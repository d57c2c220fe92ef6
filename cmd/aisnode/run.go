package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only on the opt-in -pprof listener
	"os"
	"path/filepath"
	"strings"
	"time"

	"miniais/cluster"
	"miniais/fs"
	"miniais/internal/atomicfile"
	"miniais/metrics"
	"miniais/proxy"
	"miniais/target"
	"miniais/tracing"
)

// version is the build's version, set with -ldflags "-X main.version=...".
var version = "dev"

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
	tp, err := tracing.New(ctx, cfg.Tracing, tracing.Options{Role: cfg.Role, NodeID: cfg.ID, Version: version, Logger: log, Secret: secret})
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
		ps := &http.Server{Addr: cfg.Pprof, ReadHeaderTimeout: 10 * time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			log.Info("pprof listening", "addr", cfg.Pprof)
			log.Warn("pprof stopped", "err", ps.ListenAndServe())
		}()
		defer func() { ps.Close(); <-done }()
	}
	if cfg.Role == "proxy" {
		s3cfg, err := s3Config(cfg)
		if err != nil {
			return err
		}
		p, err := proxy.New(proxy.Config{
			ID: cfg.ID, PublicAddr: cfg.PublicAddr, TransportAddr: cfg.TransportAddr, DataDir: cfg.DataDir,
			Secret: secret, Tracing: tp, Logger: log, MaxConcurrent: cfg.MaxConcurrent, S3: s3cfg,
			Metrics: metrics.New(metrics.Config{Role: cluster.RoleProxy, NodeID: cfg.ID, Off: !cfg.Metrics}),
		})
		if err != nil {
			return err
		}
		return p.Run(ctx)
	}
	t, err := target.New(target.Config{
		ID: cfg.ID, PublicAddr: cfg.PublicAddr, TransportAddr: cfg.TransportAddr, ProxyAddr: cfg.Proxy,
		DataDir: cfg.DataDir, Mountpaths: cfg.Mountpaths, Fsync: fsync, MetaCacheSize: cfg.MetaCacheSize, MaxObjectSize: cfg.MaxObjectSize, TrashRate: cfg.TrashRate,
		Secret: secret, Tracing: tp, Logger: log,
		MaxConcurrent: cfg.MaxConcurrent, StallTimeout: time.Duration(cfg.StallTimeout), UploadTimeout: time.Duration(cfg.UploadTimeout),
		Metrics: metrics.New(metrics.Config{Role: cluster.RoleTarget, NodeID: cfg.ID, Off: !cfg.Metrics}),
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
	return id, atomicfile.Write(path, []byte(id+"\n"), 0o644)
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
