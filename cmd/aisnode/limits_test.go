package main

import (
	"testing"
	"time"
)

func TestLimitFlags(t *testing.T) {
	dir := t.TempDir()
	cfgFile := writeConfigFile(t, dir, `{"max_concurrent": 7, "stall_timeout": "3s", "max_object_size": 99}`)
	tests := []struct {
		name    string
		args    []string
		conc    int
		stall   time.Duration
		maxObj  int64
		wantErr bool
	}{
		{"defaults", nil, 0, 0, 0, false},
		{"flags", []string{"-max_concurrent=16", "-stall_timeout=1500ms", "-max_object_size=1024"}, 16, 1500 * time.Millisecond, 1024, false},
		{"config file", []string{"-config=" + cfgFile}, 7, 3 * time.Second, 99, false},
		{"flags override the file", []string{"-config=" + cfgFile, "-stall_timeout=1s"}, 7, time.Second, 99, false},
		{"negative", []string{"-max_concurrent=-1"}, 0, 0, 0, true},
		{"bad duration", []string{"-stall_timeout=soon"}, 0, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-role=target", "-data_dir=" + dir}, tc.args...)
			cfg, err := parseConfig(args, func(string) string { return "" })
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseConfig(%v) succeeded", tc.args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxConcurrent != tc.conc || time.Duration(cfg.StallTimeout) != tc.stall || cfg.MaxObjectSize != tc.maxObj {
				t.Fatalf("got %d %v %d, want %d %v %d", cfg.MaxConcurrent, time.Duration(cfg.StallTimeout), cfg.MaxObjectSize, tc.conc, tc.stall, tc.maxObj)
			}
		})
	}
}
