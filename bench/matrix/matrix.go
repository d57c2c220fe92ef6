// Package matrix runs miniais's benchmark matrix (`make bench`): on this
// machine, in one run, a fresh system per configuration, the load generator
// (bench/loader) PUTs and then GETs objects of each size with a fixed number
// of workers, and one table compares the throughputs as ratios measured in
// the same run.
//
// # Rows
//
//   - reference: bench/refserver, the baseline (not miniais);
//   - via proxy: miniais, 1 proxy and 2 targets with 2 mountpaths each,
//     tracing compiled in but off, the client following the proxy's
//     redirect; its ratio is to the reference;
//   - direct: the same cluster, the client routing to the owner itself;
//     ratio to the reference;
//   - trace 1.0 and trace 0.01: a fresh cluster exporting to a real Jaeger
//     (a local process) with that sampling probability, via the proxy;
//     ratio to "via proxy" (tracing off);
//   - notracing build: aisnode built with -tags notracing, via the proxy;
//     the ratio shown is "via proxy" over it, the cost of tracing that is
//     compiled in but off;
//   - metrics off: AIS_METRICS=off, via the proxy; the ratio shown is "via
//     proxy" over it, the cost of counting every request for /metrics;
//   - 0.01 + tail rule: trace 0.01 with the tail rule on (traces of errors
//     and of requests over 50 ms kept); ratio to trace 0.01.
//
// Every system runs on 127.0.0.1 on free ports, under one work directory,
// with the same -fsync policy; processes are stopped by PID and the
// directory removed at the end, not between systems (on an ext4 without a
// journal, such as this machine's, creating a file costs up to a
// millisecond of kernel CPU for 30 s after many files were deleted: the
// inode allocator skips recently deleted inodes one by one). Between cells
// the driver calls sync(2), so that one cell's dirty pages are not written
// back during the next.
//
// # Memory
//
// On the "via proxy" cluster the driver also reports each node's RSS when
// idle, and the largest RSS growth of a target while 64 workers GET 16 MiB
// objects for one cell's duration.
package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"miniais/api"
	"miniais/bench/loader"
	"miniais/cluster"
)

// Config is one run of the matrix. Zero fields take the defaults of the
// issue's fixed matrix.
type Config struct {
	// BinDir holds aisnode, aisnode-notracing and refserver.
	BinDir string
	// TempDir is the parent of the run's work directory (default
	// $TMPDIR); the work directory is removed at the end.
	TempDir string
	// JaegerBin is the Jaeger all-in-one binary (for the trace rows).
	JaegerBin string
	// Duration is the length of each cell (default 3s).
	Duration time.Duration
	// Workers is the number of concurrent requests (default 16).
	Workers int
	// Sizes are the object sizes (default 4 KiB, 64 KiB, 1 MiB, 16 MiB).
	Sizes []int64
	// Fsync is the durability policy of every system: "never" (default)
	// or "always".
	Fsync string
	// Targets and Mountpaths shape the cluster (default 2 and 2).
	Targets, Mountpaths int
	// Rows selects rows by key (default all): ref, proxy, direct, trace1,
	// trace001, tail001, notracing, nometrics.
	Rows []string
	// ProfileDir, when set, gets a CPU profile of every miniais node for
	// every cell (nodes run with -pprof).
	ProfileDir string
	// Memory measures RSS on the "via proxy" cluster.
	Memory bool
	// Out receives progress and the table; JSONOut, when set, the results.
	Out     io.Writer
	JSONOut string
}

func (c *Config) setDefaults() {
	if c.Duration <= 0 {
		c.Duration = 3 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if len(c.Sizes) == 0 {
		c.Sizes = []int64{4 << 10, 64 << 10, 1 << 20, 16 << 20}
	}
	if c.Fsync == "" {
		c.Fsync = "never"
	}
	if c.Targets <= 0 {
		c.Targets = 2
	}
	if c.Mountpaths <= 0 {
		c.Mountpaths = 2
	}
	if len(c.Rows) == 0 {
		c.Rows = []string{RowRef, RowProxy, RowDirect, RowNoTracing, RowNoMetrics, RowTrace001, RowTail001, RowTrace1}
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
}

// Row keys.
const (
	RowRef       = "ref"
	RowProxy     = "proxy"
	RowDirect    = "direct"
	RowTrace1    = "trace1"
	RowTrace001  = "trace001"
	RowNoTracing = "notracing"
	RowNoMetrics = "nometrics"
	RowTail001   = "tail001"
)

var rowTitles = map[string]string{
	RowRef: "reference", RowProxy: "via proxy", RowDirect: "direct",
	RowTrace1: "trace 1.0", RowTrace001: "trace 0.01", RowNoTracing: "notracing build",
	RowNoMetrics: "metrics off", RowTail001: "0.01 + tail rule",
}

// system is a configuration of servers and the rows measured on it.
type system struct {
	name string
	rows []string
}

var systems = []system{
	{"reference", []string{RowRef}},
	{"miniais", []string{RowProxy, RowDirect}},
	{"notracing", []string{RowNoTracing}},
	{"nometrics", []string{RowNoMetrics}},
	{"trace001", []string{RowTrace001}},
	{"tail001", []string{RowTail001}},
	{"trace1", []string{RowTrace1}},
}

// Cell is the result of one row, size and operation.
type Cell struct {
	Row  string       `json:"row"`
	Size int64        `json:"size"`
	Op   string       `json:"op"`
	St   loader.Stats `json:"stats"`
	// CPUPerOp is the CPU time the servers (all nodes) used per
	// successful operation: a figure that other load on the machine
	// disturbs less than throughput.
	CPUPerOp time.Duration `json:"cpu_per_op_ns"`
}

// Memory are the RSS figures, in bytes.
type Memory struct {
	IdleProxy       int64 `json:"idle_proxy_rss"`
	IdleTarget      int64 `json:"idle_target_rss"`
	GetGrowth       int64 `json:"get16m_x64_target_rss_growth"`
	GetBaseline     int64 `json:"get16m_x64_target_rss_baseline"`
	GetMiBPerSecond float64
}

// Results are everything a run measured.
type Results struct {
	Cells   []Cell    `json:"cells"`
	Memory  *Memory   `json:"memory,omitempty"`
	Started time.Time `json:"started"`
	Took    time.Duration
	Config  struct {
		Duration        time.Duration
		Workers         int
		Fsync           string
		Targets, Mpaths int
	}
}

func (r *Results) get(row string, size int64, op string) *Cell {
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Row == row && c.Size == size && c.Op == op {
			return c
		}
	}
	return nil
}

// Run runs the matrix and prints the table to cfg.Out.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg.setDefaults()
	res := &Results{Started: time.Now()}
	res.Config.Duration, res.Config.Workers, res.Config.Fsync = cfg.Duration, cfg.Workers, cfg.Fsync
	res.Config.Targets, res.Config.Mpaths = cfg.Targets, cfg.Mountpaths
	waitForDeletions(ctx, cfg.TempDir, cfg.Out)
	workDir, err := os.MkdirTemp(cfg.TempDir, "miniais-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		os.RemoveAll(workDir)
		markDeletions(cfg.TempDir)
	}()
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	var jaeger *jaegerProc
	defer func() {
		if jaeger != nil {
			stopProcess(jaeger.Process)
		}
	}()
	for _, sys := range systems {
		var rows []string
		for _, r := range sys.rows {
			if slices.Contains(cfg.Rows, r) {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		dir := filepath.Join(workDir, sys.name)
		var env []string
		bin := filepath.Join(cfg.BinDir, "aisnode")
		switch sys.name {
		case "notracing":
			bin = filepath.Join(cfg.BinDir, "aisnode-notracing")
			env = []string{"AIS_TRACING_ENDPOINT="}
		case "trace1", "trace001", "tail001":
			if jaeger == nil {
				j, err := startJaeger(ctx, cfg.JaegerBin, workDir)
				if err != nil {
					return res, fmt.Errorf("jaeger: %w", err)
				}
				jaeger = j
			}
			prob := "1.0"
			if sys.name == "trace001" {
				prob = "0.01"
			}
			env = []string{"AIS_TRACING_ENDPOINT=" + jaeger.otlp, "AIS_TRACING_SAMPLING_PROBABILITY=" + prob}
			if sys.name == "tail001" {
				// Keep the traces of requests over 50 ms (and of errors).
				env = []string{"AIS_TRACING_ENDPOINT=" + jaeger.otlp, "AIS_TRACING_SAMPLING_PROBABILITY=0.01", "AIS_TRACING_TAIL_LATENCY=50ms"}
			}
		default:
			env = []string{"AIS_TRACING_ENDPOINT="}
		}
		if sys.name == "nometrics" {
			env = append(env, "AIS_METRICS=off")
		}
		fmt.Fprintf(cfg.Out, "# %s: starting\n", sys.name)
		var srv *servers
		var err error
		if sys.name == "reference" {
			srv, err = startRef(ctx, &cfg, dir)
		} else {
			srv, err = startCluster(ctx, &cfg, bin, dir, env)
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", sys.name, err)
		}
		err = runSystem(ctx, &cfg, srv, rows, res)
		srv.stop()
		// The data stays until the end: on an ext4 without a journal,
		// creating files is slow for 30 s after many were deleted
		// (the allocator skips recently deleted inodes one by one).
		if err != nil {
			return res, fmt.Errorf("%s: %w", sys.name, err)
		}
	}
	res.Took = time.Since(res.Started)
	PrintTable(cfg.Out, res, cfg.Sizes)
	if cfg.JSONOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.JSONOut, b, 0o644); err != nil {
			return res, err
		}
	}
	return res, nil
}

// runSystem measures rows on srv.
func runSystem(ctx context.Context, cfg *Config, srv *servers, rows []string, res *Results) error {
	if cfg.Memory && slices.Contains(rows, RowProxy) {
		time.Sleep(time.Second)
		res.Memory = &Memory{}
		res.Memory.IdleProxy, _ = rss(srv.proxy.PID())
		for _, t := range srv.targets {
			r, _ := rss(t.PID())
			res.Memory.IdleTarget = max(res.Memory.IdleTarget, r)
		}
	}
	var big []string // 16 MiB objects, for the memory test
	for _, row := range rows {
		var opts []api.Option
		if row == RowDirect {
			opts = append(opts, api.WithDirectRouting())
		}
		c := api.NewClient(srv.endpoint, opts...)
		for _, size := range cfg.Sizes {
			prefix := fmt.Sprintf("%s/%s/", row, loader.FormatSize(size))
			put, err := cell(ctx, cfg, srv, c, row, size, loader.Config{PctPut: 100, Prefix: prefix})
			if err != nil {
				return err
			}
			res.Cells = append(res.Cells, put.cell)
			if len(put.Written) == 0 {
				return fmt.Errorf("%s PUT %s: nothing written: %s", row, loader.FormatSize(size), put.Put.FirstError)
			}
			get, err := cell(ctx, cfg, srv, c, row, size, loader.Config{PctPut: 0, Prefix: prefix, Names: put.Written})
			if err != nil {
				return err
			}
			res.Cells = append(res.Cells, get.cell)
			if size == 16<<20 && big == nil {
				big = put.Written
			}
		}
	}
	if cfg.Memory && slices.Contains(rows, RowProxy) && len(big) > 0 {
		return memoryTest(ctx, cfg, srv, big, res.Memory)
	}
	return nil
}

// cellReport is a loader report and the cell it makes.
type cellReport struct {
	*loader.Report
	cell Cell
}

// cell runs one load cell, after a sync(2), and prints its line.
func cell(ctx context.Context, cfg *Config, srv *servers, c *api.Client, row string, size int64, lc loader.Config) (*cellReport, error) {
	syscall.Sync()
	lc.Client, lc.Bucket = c, cluster.NewBucket("bench")
	lc.Duration, lc.Workers = cfg.Duration, cfg.Workers
	lc.MinSize, lc.MaxSize, lc.Seed = size, size, 1
	op := loader.OpGet
	if lc.PctPut > 0 {
		op = loader.OpPut
	}
	wait := func() {}
	if cfg.ProfileDir != "" && len(srv.pprof) > 0 {
		wait = srv.profile(ctx, cfg.ProfileDir, fmt.Sprintf("%s-%s-%s", row, op, loader.FormatSize(size)), cfg.Duration-500*time.Millisecond)
	}
	cpu0 := srv.serverCPU()
	rep, err := loader.Run(ctx, lc)
	cpu := srv.serverCPU() - cpu0
	wait()
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", row, op, loader.FormatSize(size), err)
	}
	st := rep.Put
	if op == loader.OpGet {
		st = rep.Get
	}
	cr := &cellReport{Report: rep, cell: Cell{Row: row, Size: size, Op: op, St: st}}
	if st.Ops > 0 {
		cr.cell.CPUPerOp = cpu / time.Duration(st.Ops)
	}
	fmt.Fprintf(cfg.Out, "%-16s %-6s %s  cpu/op %s\n", rowTitles[row], loader.FormatSize(size), loader.FormatStats(st), cr.cell.CPUPerOp.Round(time.Microsecond))
	return cr, nil
}

// memoryTest GETs 16 MiB objects with 64 workers and records the largest
// RSS growth of a target.
func memoryTest(ctx context.Context, cfg *Config, srv *servers, names []string, mem *Memory) error {
	syscall.Sync()
	base := map[int]int64{}
	for _, t := range srv.targets {
		base[t.PID()], _ = rss(t.PID())
		mem.GetBaseline = max(mem.GetBaseline, base[t.PID()])
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for pid, b := range base {
				if r, err := rss(pid); err == nil {
					mem.GetGrowth = max(mem.GetGrowth, r-b)
				}
			}
		}
	}()
	rep, err := loader.Run(ctx, loader.Config{
		Client: api.NewClient(srv.endpoint), Bucket: cluster.NewBucket("bench"),
		Duration: cfg.Duration, Workers: 64, PctPut: 0, Names: names, Seed: 1,
	})
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("memory test: %w", err)
	}
	mem.GetMiBPerSecond = rep.Get.MiBPerSec
	fmt.Fprintf(cfg.Out, "%-16s %-6s %s\n", "64 x GET", "16MiB", loader.FormatStats(rep.Get))
	return nil
}

// column is one row of the matrix as a table column, compared with base.
type column struct {
	row, base string
}

var columns = []column{
	{RowRef, ""}, {RowProxy, RowRef}, {RowDirect, RowRef},
	{RowTrace1, RowProxy}, {RowTrace001, RowProxy}, {RowTail001, RowTrace001}, {RowNoTracing, RowProxy}, {RowNoMetrics, RowProxy},
}

// PrintTable prints the results as two Markdown tables: throughput with
// ratios, and the servers' CPU time per operation with ratios.
func PrintTable(w io.Writer, res *Results, sizes []int64) {
	var present []column
	for _, c := range columns {
		if slices.ContainsFunc(res.Cells, func(cl Cell) bool { return cl.Row == c.row }) {
			present = append(present, c)
		}
	}
	fmt.Fprintf(w, "\nThroughput in MiB/s, %d workers, %s per cell, -fsync=%s, %d targets x %d mountpaths. In parentheses: "+
		"via proxy and direct over the reference; trace rows over via proxy (tracing off), the tail rule over trace 0.01; via proxy over the notracing build and over metrics off.\n\n",
		res.Config.Workers, res.Config.Duration, res.Config.Fsync, res.Config.Targets, res.Config.Mpaths)
	table(w, res, sizes, present, func(c *Cell) float64 { return c.St.MiBPerSec }, "%.0f")
	fmt.Fprintf(w, "\nServer CPU time per operation in µs (all server processes; less disturbed by other load). In parentheses: "+
		"the cost over the reference; trace rows over via proxy, the tail rule over trace 0.01; via proxy over the notracing build and over metrics off.\n\n")
	table(w, res, sizes, present, func(c *Cell) float64 { return float64(c.CPUPerOp.Microseconds()) }, "%.0f")
	if m := res.Memory; m != nil {
		fmt.Fprintf(w, "\nMemory: idle RSS proxy %.1f MiB, target %.1f MiB.", mib(m.IdleProxy), mib(m.IdleTarget))
		if m.GetBaseline > 0 {
			fmt.Fprintf(w, " 64 concurrent GETs of 16 MiB objects (%.0f MiB/s) raise a target's RSS by %.1f MiB (from %.1f MiB).",
				m.GetMiBPerSecond, mib(m.GetGrowth), mib(m.GetBaseline))
		}
		fmt.Fprintln(w)
	}
	for _, c := range res.Cells {
		if c.St.Errors > 0 {
			fmt.Fprintf(w, "error: %s %s %s: %d errors, first: %s\n", rowTitles[c.Row], c.Op, loader.FormatSize(c.Size), c.St.Errors, c.St.FirstError)
		}
	}
	fmt.Fprintf(w, "\nMatrix took %s.\n", res.Took.Round(time.Second))
}

// table prints one metric with the ratio this/base, except for the
// notracing and metrics-off columns, which show base/this (via proxy over
// the notracing build, over metrics off: the effect of tracing compiled in
// but off, and of counting every request).
func table(w io.Writer, res *Results, sizes []int64, cols []column, metric func(*Cell) float64, format string) {
	var b strings.Builder
	b.WriteString("| size | op |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", rowTitles[c.row])
	}
	b.WriteString("\n|---|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteByte('\n')
	for _, size := range sizes {
		for _, op := range []string{loader.OpPut, loader.OpGet} {
			fmt.Fprintf(&b, "| %s | %s |", loader.FormatSize(size), op)
			for _, c := range cols {
				cl := res.get(c.row, size, op)
				if cl == nil {
					b.WriteString(" - |")
					continue
				}
				v := metric(cl)
				fmt.Fprintf(&b, " "+format, v)
				if base := res.get(c.base, size, op); base != nil && metric(base) > 0 && v > 0 {
					ratio := v / metric(base)
					if c.row == RowNoTracing || c.row == RowNoMetrics {
						ratio = 1 / ratio
					}
					fmt.Fprintf(&b, " (%.2fx)", ratio)
				}
				b.WriteString(" |")
			}
			b.WriteByte('\n')
		}
	}
	io.WriteString(w, b.String())
}

// deletionQuiet is how long after deleting many files this machine's ext4
// (no journal) keeps skipping their inodes when creating files: the
// kernel's dirty_expire_centisecs, 30 s by default, plus a margin.
const deletionQuiet = 35 * time.Second

// deletionMarker is the file in the temp dir whose mtime tells when the
// last run removed its data.
const deletionMarker = ".miniais-bench-deleted"

// waitForDeletions sleeps until deletionQuiet has passed since the last
// run removed its data, so that this run's file creations are not slowed
// by the previous run's deletions.
func waitForDeletions(ctx context.Context, tmp string, out io.Writer) {
	if tmp == "" {
		tmp = os.TempDir()
	}
	fi, err := os.Stat(filepath.Join(tmp, deletionMarker))
	if err != nil {
		return
	}
	wait := deletionQuiet - time.Since(fi.ModTime())
	if wait <= 0 {
		return
	}
	fmt.Fprintf(out, "# waiting %s: the previous run's deletions slow down creating files for 30 s (ext4 without a journal)\n", wait.Round(time.Second))
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}

func markDeletions(tmp string) {
	if tmp == "" {
		tmp = os.TempDir()
	}
	_ = os.WriteFile(filepath.Join(tmp, deletionMarker), nil, 0o644)
	now := time.Now()
	_ = os.Chtimes(filepath.Join(tmp, deletionMarker), now, now)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// errNoJaeger is returned when trace rows are asked for without a binary.
var errNoJaeger = errors.New("no Jaeger binary (-jaeger)")
