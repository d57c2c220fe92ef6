package matrix

import (
	"os"
	"strings"
	"testing"
	"time"

	"miniais/bench/loader"
)

// add appends one sample per value of mibs and cpus (in µs) to res, in
// repeat order.
func add(res *Results, row string, size int64, op string, mibs []float64, cpus []int) {
	for i := range mibs {
		res.Cells = append(res.Cells, Cell{Row: row, Size: size, Op: op, Repeat: i,
			Window: Window{Ops: 100}, MiBPerSec: mibs[i], CPUPerOp: time.Duration(cpus[i]) * time.Microsecond})
	}
}

func TestPrintTables(t *testing.T) {
	res := &Results{}
	c := &res.Config
	c.Workers, c.Duration, c.Warmup, c.Cooldown, c.Repeats, c.Fsync = 16, 3*time.Second, 500*time.Millisecond, 500*time.Millisecond, 3, "never"
	c.Sizes = []int64{4 << 10, 64 << 10}
	add(res, RowRef, 4<<10, loader.OpGet, []float64{100, 90, 110}, []int{50, 40, 60})
	add(res, RowProxy, 4<<10, loader.OpGet, []float64{50, 40, 60}, []int{100, 80, 120})
	add(res, RowProxy, 4<<10, loader.OpPut, []float64{10, 20, 30}, []int{300, 500, 400})
	add(res, RowDurable, 4<<10, loader.OpPut, []float64{9, 10, 27}, []int{330, 550, 440})
	add(res, RowNoTracing, 4<<10, loader.OpGet, []float64{100, 100, 100}, []int{50, 50, 50})
	// A cell whose window saw no operation is left out of the figures.
	res.Cells = append(res.Cells, Cell{Row: RowRef, Size: 4 << 10, Op: loader.OpGet, Repeat: 3, MiBPerSec: 1e6})
	res.Memory = []NodeMemory{{System: "miniais", Node: "proxy", Idle: 14 << 20, Peak: 20 << 20}, {System: "miniais", Node: "target0", Idle: 31 << 20, Peak: 40 << 20}}
	var b strings.Builder
	PrintTables(&b, res)
	out := b.String()
	tests := []struct{ name, want string }{
		{"goal met", "| PUT 4KiB | 400 (300–500) | <= 380 | 1.05x | 20.0 (10.0–30.0) |"},
		{"goal not met", "| GET 4KiB | 100 (80–120) | <= 90 | 1.11x | 50.0 (40.0–60.0) |"},
		{"durable ratio of medians, spread of per-repeat ratios", "| 4KiB | 20.0 (10.0–30.0) | 10.0 (9.0–27.0) | 0.50x (0.50–0.90) | >= 0.8x | 400 (300–500) | 440 (330–550) |"},
		{"header", "| size | op | reference | via proxy | durable via proxy | notracing build |"},
		// The notracing column shows via proxy over it.
		{"cpu with ratios", "| 4KiB | GET | 50 (40–60) | 100 (80–120) (2.00x) | - | 50 (50–50) (2.00x) |"},
		{"throughput with ratios", "| 4KiB | GET | 100 (90–110) | 50 (40–60) (0.50x) | - | 100 (100–100) (0.50x) |"},
		{"missing cells", "| 64KiB | PUT | - | - | - | - |"},
		{"memory", "| miniais | target0 | 31.0 | 40.0 |"},
		{"memory bound", "Idle RSS at or over 30 MiB: miniais target0."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(out, tt.want) {
				t.Errorf("tables lack %q:\n%s", tt.want, out)
			}
		})
	}
	t.Run("a met goal says so", func(t *testing.T) {
		res.Cells = append(res.Cells[:0:0], res.Cells...)
		for i := range res.Cells {
			if c := &res.Cells[i]; c.Row == RowProxy && c.Op == loader.OpPut {
				c.CPUPerOp /= 2
			}
		}
		var b strings.Builder
		PrintTables(&b, res)
		if want := "| PUT 4KiB | 200 (150–250) | <= 380 | 0.53x met |"; !strings.Contains(b.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, b.String())
		}
	})
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"none", nil, Summary{}},
		{"one", []float64{7}, Summary{N: 1, Median: 7, Min: 7, Max: 7}},
		{"odd, unsorted", []float64{9, 1, 5}, Summary{N: 3, Median: 5, Min: 1, Max: 9}},
		{"even: mean of the middle two", []float64{4, 1, 10, 2}, Summary{N: 4, Median: 3, Min: 1, Max: 10}},
		{"outlier does not move the median", []float64{100, 101, 1e6}, Summary{N: 3, Median: 101, Min: 100, Max: 1e6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.in...)
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Errorf("summarize changed its input: %v, was %v", tt.in, in)
				}
			}
		})
	}
	formats := []struct {
		s    Summary
		want string
	}{
		{Summary{}, "-"},
		{Summary{N: 1, Median: 7, Min: 7, Max: 7}, "7"},
		{Summary{N: 3, Median: 5, Min: 1, Max: 9}, "5 (1–9)"},
	}
	for _, f := range formats {
		if got := f.s.format("%.0f"); got != f.want {
			t.Errorf("%+v.format = %q, want %q", f.s, got, f.want)
		}
	}
}

func TestOrder(t *testing.T) {
	rows := []string{"a", "b", "c"}
	want := []string{"abc", "cba", "abc", "cba"}
	for rep, w := range want {
		if got := strings.Join(order(rows, rep), ""); got != w {
			t.Errorf("repeat %d: order %q, want %q", rep, got, w)
		}
	}
	if strings.Join(rows, "") != "abc" {
		t.Errorf("order changed its input: %v", rows)
	}
	// Over an even number of repeats every row is measured before every
	// other row as often as after it.
	before := map[[2]string]int{}
	for rep := range 4 {
		o := order(rows, rep)
		for i := range o {
			for j := i + 1; j < len(o); j++ {
				before[[2]string{o[i], o[j]}]++
			}
		}
	}
	for p, n := range before {
		if m := before[[2]string{p[1], p[0]}]; n != m {
			t.Errorf("%s before %s %d times, after it %d times", p[0], p[1], n, m)
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, stat string
		want       cpuTime
		wantErr    bool
	}{
		// utime 1234 and stime 56 ticks: fields 14 and 15.
		{"plain", "4242 (aisnode) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 56 0 0 20 0 12 0 100 1000000 3000 18446744073709551615\n",
			cpuTime{user: 1234 * clockTick, sys: 56 * clockTick}, false},
		{"name with spaces and parentheses", "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1\n", cpuTime{3 * clockTick, 4 * clockTick}, false},
		{"no name", "7 a R 1", cpuTime{}, true},
		{"too few fields", "7 (a) R 1 7 7 0 -1 0 0 0 0 0 3\n", cpuTime{}, true},
		{"not a number", "7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 4 0\n", cpuTime{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStat = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\taisnode\nVmPeak:\t 1263000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   14336 kB\nThreads:\t12\n"
	rss, peak, err := parseStatus([]byte(status))
	if err != nil || rss != 14<<20 || peak != 20<<20 {
		t.Errorf("parseStatus = %d, %d, %v; want %d, %d", rss, peak, err, 14<<20, 20<<20)
	}
	for _, bad := range []string{"Name:\tx\nVmRSS:\t 1 kB\n", "VmHWM:\t 1 kB\nVmRSS:\t x kB\n"} {
		if _, _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("parseStatus(%q): no error", bad)
		}
	}
}

// TestProcFigures reads this process's own figures from the real /proc.
func TestProcFigures(t *testing.T) {
	c, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	before := c.total()
	// Burn CPU until the clock-tick counter has moved by at least 5 ticks.
	deadline := time.Now().Add(10 * time.Second)
	var after time.Duration
	for after < before+5*clockTick && time.Now().Before(deadline) {
		for range 1_000_000 {
		}
		if c, err = processCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		after = c.total()
	}
	if after < before+5*clockTick {
		t.Errorf("cpu time of this process moved from %v to %v in 10 s of spinning", before, after)
	}
	rss, peak, err := memory(os.Getpid())
	if err != nil || rss < 1<<20 || peak < rss {
		t.Errorf("memory of this process: rss %d, peak %d, %v", rss, peak, err)
	}
}
