package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"miniais/fs"
	"miniais/tracing"
)

// Config is the node's configuration. Each field comes from, in order of
// precedence: a flag given on the command line, the JSON config file
// (-config), the default (defaultConfig, or the role's address defaults).
// The environment comes on top, as before: AIS_TRACING_* and OTEL_* for
// Tracing (tracing.FromEnv), AIS_CLUSTER_SECRET when no secret file is set.
type Config struct {
	Role          string   `json:"role"`
	ID            string   `json:"id"`
	PublicAddr    string   `json:"public_addr"`
	TransportAddr string   `json:"transport_addr"`
	Proxy         string   `json:"proxy"`
	Mountpaths    []string `json:"mountpaths"`
	DataDir       string   `json:"data_dir"`
	Fsync         string   `json:"fsync"`
	MaxObjectSize int64    `json:"max_object_size"`
	MaxConcurrent int      `json:"max_concurrent"`
	// TrashRate bounds the unlinks per second of the background removal
	// of destroyed buckets (0: fs.DefaultTrashRate).
	TrashRate int `json:"trash_rate"`
	// MetaCacheSize caps the target's in-memory cache of object metadata,
	// in bytes (default fs.DefaultMetaCacheSize; negative: no cache).
	MetaCacheSize int64 `json:"meta_cache_size"`
	// Metrics counts requests and messages for /metrics (default true;
	// env AIS_METRICS=off turns it off too).
	Metrics       bool           `json:"metrics"`
	StallTimeout  duration       `json:"stall_timeout"`
	UploadTimeout duration       `json:"upload_timeout"`
	SecretFile    string         `json:"secret_file"`
	Pprof         string         `json:"pprof"`
	LogLevel      string         `json:"log_level"`
	Tracing       tracing.Config `json:"tracing"`
	// S3Root also serves the S3 API at the root path (proxy only).
	S3Root bool `json:"s3_root"`
	// S3Domain takes virtual-hosted-style S3 requests for BUCKET.S3Domain
	// (proxy only).
	S3Domain string `json:"s3_domain"`
	// S3Credentials is the file of S3 access keys; empty runs the S3
	// gateway open (proxy only).
	S3Credentials string `json:"s3_credentials"`
	// S3Region is the region of Signature V4 and GetBucketLocation
	// (default us-east-1).
	S3Region string `json:"s3_region"`
}

// defaultConfig is the configuration before the file and the flags.
func defaultConfig() Config {
	return Config{Fsync: string(fs.FsyncAlways), MetaCacheSize: fs.DefaultMetaCacheSize, LogLevel: "info", Tracing: tracing.DefaultConfig(), Metrics: true}
}

// newFlagSet returns aisnode's flag set with every flag bound to its field
// of cfg, its default being cfg's value at the time; -config goes to file.
func newFlagSet(cfg *Config, file *string) *flag.FlagSet {
	fset := flag.NewFlagSet("aisnode", flag.ContinueOnError)
	fset.StringVar(file, "config", "", "JSON config file (flags given explicitly override it)")
	fset.StringVar(&cfg.Role, "role", cfg.Role, "node role: proxy or target")
	fset.StringVar(&cfg.ID, "id", cfg.ID, "node ID (default: persisted in data_dir/node_id, generated on first start)")
	fset.StringVar(&cfg.PublicAddr, "public_addr", cfg.PublicAddr, "HTTP API host:port (default 127.0.0.1:8080 proxy, 127.0.0.1:8081 target)")
	fset.StringVar(&cfg.TransportAddr, "transport_addr", cfg.TransportAddr, "intra-cluster transport host:port (default 127.0.0.1:9080 proxy, 127.0.0.1:9081 target)")
	fset.StringVar(&cfg.Proxy, "proxy", cfg.Proxy, "targets: the proxy's transport host:port (default 127.0.0.1:9080)")
	fset.Var((*listValue)(&cfg.Mountpaths), "mountpaths", "targets: comma-separated mountpath `directories`")
	fset.StringVar(&cfg.DataDir, "data_dir", cfg.DataDir, "directory for the node's own state")
	fset.StringVar(&cfg.Fsync, "fsync", cfg.Fsync, "object durability: always (fsync before the reply; concurrent PUTs share journal commits) or never")
	fset.Int64Var(&cfg.MetaCacheSize, "meta_cache_size", cfg.MetaCacheSize, "targets: bytes of object metadata cached in memory (negative: no cache)")
	fset.Int64Var(&cfg.MaxObjectSize, "max_object_size", cfg.MaxObjectSize, "targets: largest object accepted in bytes (0: no limit)")
	fset.IntVar(&cfg.MaxConcurrent, "max_concurrent", cfg.MaxConcurrent, "HTTP requests served at once; beyond it 503 with Retry-After (0: 4096)")
	fset.IntVar(&cfg.TrashRate, "trash_rate", cfg.TrashRate, "targets: files per second that the background removal of destroyed buckets unlinks (0: 10000)")
	fset.Var(&cfg.StallTimeout, "stall_timeout", "targets: cut off a request body or reply that makes no progress for this `duration` (0: 30s)")
	fset.Var(&cfg.UploadTimeout, "upload_timeout", "targets: drop an unflushed append or a multipart upload that receives nothing for this `duration` (0: 1h)")
	fset.StringVar(&cfg.SecretFile, "secret_file", cfg.SecretFile, "file holding the cluster secret (or env AIS_CLUSTER_SECRET)")
	fset.StringVar(&cfg.Pprof, "pprof", cfg.Pprof, "opt-in pprof listener host:port")
	fset.StringVar(&cfg.LogLevel, "log_level", cfg.LogLevel, "debug, info, warn or error")
	fset.BoolVar(&cfg.Metrics, "metrics", cfg.Metrics, "count requests and transport messages for /metrics (env AIS_METRICS=off: false)")
	fset.BoolVar(&cfg.S3Root, "s3_root", cfg.S3Root, "proxy: serve the S3 API at the root path too (/BUCKET/KEY; /v1 keeps its meaning), besides /s3")
	fset.StringVar(&cfg.S3Domain, "s3_domain", cfg.S3Domain, "proxy: take virtual-hosted-style S3 requests, Host BUCKET.`domain`")
	fset.StringVar(&cfg.S3Credentials, "s3_credentials", cfg.S3Credentials, "proxy: `file` of S3 access keys (AWS Signature V4 required); without it the S3 gateway is open")
	fset.StringVar(&cfg.S3Region, "s3_region", cfg.S3Region, "proxy: the S3 region of Signature V4 and GetBucketLocation (default us-east-1)")
	return fset
}

// parseConfig returns the configuration of args (see Config for the
// precedence) and checks it. The flags are parsed twice: once to find
// -config (and to reject a bad command line before any file is read), then
// again over the file's values, so that a flag given wins over the file and
// a flag not given leaves the file's value alone.
func parseConfig(args []string, getenv func(string) string) (Config, error) {
	var file string
	probe := defaultConfig()
	if err := newFlagSet(&probe, &file).Parse(args); err != nil {
		return probe, err
	}
	cfg := defaultConfig()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return cfg, err
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", file, err)
		}
	}
	if err := newFlagSet(&cfg, &file).Parse(args); err != nil {
		return cfg, err
	}
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
	if cfg.MaxConcurrent < 0 || cfg.StallTimeout < 0 || cfg.MaxObjectSize < 0 || cfg.UploadTimeout < 0 || cfg.TrashRate < 0 {
		return cfg, errors.New("-max_concurrent, -stall_timeout, -upload_timeout, -max_object_size and -trash_rate must not be negative")
	}
	switch v := getenv("AIS_METRICS"); v {
	case "":
	case "off", "false", "0":
		cfg.Metrics = false
	case "on", "true", "1":
		cfg.Metrics = true
	default:
		return cfg, fmt.Errorf("AIS_METRICS=%q: want on or off", v)
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

// listValue is a flag.Value of a comma-separated list; a flag given
// replaces the whole list.
type listValue []string

// String returns the list joined with commas.
func (l *listValue) String() string { return strings.Join(*l, ",") }

// Set replaces the list with the comma-separated items of s.
func (l *listValue) Set(s string) error {
	*l = strings.Split(s, ",")
	return nil
}
