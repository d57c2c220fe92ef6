package matrix

import (
	"os"
	"strings"
	"testing"
	"time"

	"miniais/bench/loader"
)

func TestPrintTableRatios(t *testing.T) {
	res := &Results{}
	res.Config.Workers, res.Config.Duration, res.Config.Fsync = 16, time.Second, "never"
	add := func(row string, mibs float64, cpu time.Duration) {
		res.Cells = append(res.Cells, Cell{Row: row, Size: 4 << 10, Op: loader.OpGet, St: loader.Stats{MiBPerSec: mibs}, CPUPerOp: cpu})
	}
	add(RowRef, 100, 50*time.Microsecond)
	add(RowProxy, 50, 100*time.Microsecond)
	add(RowDirect, 90, 60*time.Microsecond)
	add(RowTrace1, 45, 120*time.Microsecond)
	add(RowNoTracing, 51, 99*time.Microsecond)
	var b strings.Builder
	PrintTable(&b, res, []int64{4 << 10})
	out := b.String()
	tests := []struct{ name, want string }{
		{"header", "| size | op | reference | via proxy | direct | trace 1.0 | notracing build |"},
		{"throughput", "| 4KiB | GET | 100 | 50 (0.50x) | 90 (0.90x) | 45 (0.90x) | 51 (0.98x) |"},
		{"cpu", "| 4KiB | GET | 50 | 100 (2.00x) | 60 (1.20x) | 120 (1.20x) | 99 (1.01x) |"},
		{"missing rows are dropped", "| 4KiB | PUT | - | - | - | - | - |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(out, tt.want) {
				t.Errorf("table lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestProcFigures(t *testing.T) {
	// Burn a little CPU so that the clock-tick counter moves.
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	n, err := rss(os.Getpid())
	if err != nil || n < 1<<20 {
		t.Errorf("rss of this process: %d, %v", n, err)
	}
	cpu, err := cpuTime(os.Getpid())
	if err != nil || cpu < 10*time.Millisecond {
		t.Errorf("cpu time of this process: %v, %v", cpu, err)
	}
}
