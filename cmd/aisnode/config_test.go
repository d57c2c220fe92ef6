package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/fs"
)

// TestConfigPrecedence: a flag given on the command line wins over the
// config file, the file wins over the default, and what neither sets keeps
// its default; the environment still applies on top (tracing).
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := writeConfigFile(t, dir, `{"fsync": "never", "log_level": "debug", "mountpaths": ["/a", "/b"],
		"public_addr": "127.0.0.1:1111", "stall_timeout": "3s", "tracing": {"service_name_prefix": "file"}}`)
	def := defaultConfig()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c Config) (got, want any)
	}{
		{"default without a file", nil, nil,
			func(c Config) (any, any) { return c.Fsync, def.Fsync }},
		{"file over the default", []string{"-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return c.Fsync, "never" }},
		{"file over the role's address default", []string{"-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return c.PublicAddr, "127.0.0.1:1111" }},
		{"role's address default where the file is silent", []string{"-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return c.TransportAddr, "127.0.0.1:9081" }},
		{"default where the file is silent", []string{"-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return c.MaxConcurrent, 0 }},
		{"flag over the file", []string{"-config=" + cfgFile, "-log_level=warn"}, nil,
			func(c Config) (any, any) { return c.LogLevel, "warn" }},
		{"flag before -config still wins", []string{"-log_level=error", "-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return c.LogLevel, "error" }},
		{"flag list replaces the file's list", []string{"-config=" + cfgFile, "-mountpaths=/c,/d"}, nil,
			func(c Config) (any, any) { return slices.Equal(c.Mountpaths, []string{"/c", "/d"}), true }},
		{"file's list where no flag", []string{"-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return slices.Equal(c.Mountpaths, []string{"/a", "/b"}), true }},
		{"flag duration over the file", []string{"-config=" + cfgFile, "-stall_timeout=250ms"}, nil,
			func(c Config) (any, any) { return time.Duration(c.StallTimeout), 250 * time.Millisecond }},
		{"a flag given at its default value still wins", []string{"-config=" + cfgFile, "-fsync=" + string(fs.FsyncAlways)}, nil,
			func(c Config) (any, any) { return c.Fsync, string(fs.FsyncAlways) }},
		{"file's tracing section", []string{"-config=" + cfgFile}, nil,
			func(c Config) (any, any) { return c.Tracing.ServiceNamePrefix, "file" }},
		{"environment over the file's tracing section", []string{"-config=" + cfgFile}, map[string]string{"AIS_TRACING_SERVICE_PREFIX": "env"},
			func(c Config) (any, any) { return c.Tracing.ServiceNamePrefix, "env" }},
		{"metrics on by default", nil, nil,
			func(c Config) (any, any) { return c.Metrics, true }},
		{"metrics off by flag", []string{"-metrics=false"}, nil,
			func(c Config) (any, any) { return c.Metrics, false }},
		{"metrics off by the environment", nil, map[string]string{"AIS_METRICS": "off"},
			func(c Config) (any, any) { return c.Metrics, false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-role=target", "-data_dir=" + dir}, tc.args...)
			cfg, err := parseConfig(args, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tc.want(cfg); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestConfigErrors: a bad flag is refused before the file is read, and a
// bad file is refused.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeConfigFile(t, dir, `{"stall_timeout": "soon"}`)
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		name   string
		args   []string
		saying string // in the error
	}{
		{"unknown flag", []string{"-no_such_flag=1"}, "no_such_flag"},
		{"bad flag before the file is read", []string{"-config=" + missing, "-max_concurrent=x"}, "max_concurrent"},
		{"missing file", []string{"-config=" + missing}, "missing.json"},
		{"bad duration in the file", []string{"-config=" + bad}, "soon"},
		{"no role", []string{"-role="}, "-role"},
	}
	if _, err := parseConfig([]string{"-role=target", "-data_dir=" + dir}, func(k string) string {
		if k == "AIS_METRICS" {
			return "maybe"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), "AIS_METRICS") {
		t.Errorf("AIS_METRICS=maybe: %v, want an error naming it", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-role=target", "-data_dir=" + dir}, tc.args...)
			_, err := parseConfig(args, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.saying) {
				t.Fatalf("parseConfig(%v) = %v, want an error saying %q", tc.args, err, tc.saying)
			}
		})
	}
}

// writeConfigFile writes a config file holding js into dir and returns its
// path.
func writeConfigFile(t testing.TB, dir, js string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "config-*.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(js); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
