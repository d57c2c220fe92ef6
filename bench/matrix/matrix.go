// Package matrix runs miniais's benchmark matrix (`make bench`): on this
// machine, in one run, the load generator (bench/loader, in this process)
// PUTs and then GETs objects of each size with a fixed number of workers
// against several systems, and tables compare the node CPU time per
// operation and the throughput, as medians of interleaved repeats.
//
// # Rows
//
// A row is a system and a way of sending requests to it. The default rows
// are the table and its baselines:
//
//   - reference: bench/refserver, the baseline (not miniais);
//   - via proxy: miniais, 1 proxy and 2 targets with 2 mountpaths each,
//     tracing compiled in but off, a standard client following the
//     proxy's redirect; compared with the reference;
//   - direct: the same cluster, the client routing to the owner itself;
//     compared with the reference;
//   - durable via proxy: a second cluster of the same shape with
//     -fsync=always (the nodes' default), PUT only; compared with via
//     proxy (Config.Fsync, default never, is the policy of the others).
//
// More rows on request (Config.Rows): trace 1.0 and trace 0.01 (a cluster
// exporting to a real Jaeger, a local process, with that sampling
// probability; over via proxy), 0.01 + tail rule (over trace 0.01), the
// notracing build and metrics off (via proxy over them: the cost of
// tracing compiled in but off, and of counting every request).
//
// # Method
//
// Every system runs on 127.0.0.1 on free ports, under one work directory,
// all of them for the whole run (idle while another is measured), so that
// the rows can be interleaved: each repeat measures, size by size, the PUT
// cell of every row and then the GET cell of every row, in the order of
// Config.Rows in even repeats and reversed in odd ones (ABC CBA ABC), so
// that order effects fall on every row alike. GETs read objects that the
// row's PUT cells wrote, one bucket per object size. Before a cell the
// driver calls sync(2), so that one cell's dirty pages are not written
// back during the next.
//
// A cell runs the load for Config.Duration; its figures come from a window
// that leaves out Config.Warmup at the start and Config.Cooldown at the
// end: the operations completed in the window (loader.Progress), the bytes
// they moved and the CPU time (user + system, /proc/PID/stat) that the
// system's node processes used in it, summed over the nodes: the proxy
// and the targets, or the reference server; never the load generator or
// Jaeger. CPU per operation is that sum over the window's operations; it
// is disturbed by other load on the machine much less than throughput. It
// leaves out the kernel's own threads: without fsync the flusher threads
// (or the sync(2) between cells) write the dirty pages back, uncounted,
// while with -fsync=always the node's fsync does, counted. The tables show
// the median over the repeats and the spread (min-max).
//
// Processes are stopped by PID and the work directory removed at the end,
// not between systems (on an ext4 without a journal, such as this
// machine's, creating a file costs up to a millisecond of kernel CPU for
// 30 s after many files were deleted: the inode allocator skips recently
// deleted inodes one by one).
//
// # Memory
//
// Each node's RSS is read once every system has started and before any
// load (idle), and its peak RSS (VmHWM) at the end. With 16 MiB objects in
// Config.Sizes the driver also reports the largest RSS growth of a target
// of the via proxy cluster while 64 workers GET 16 MiB objects for one
// cell's duration.
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
	"time"

	"miniais/bench/loader"
)

// Config is one run of the matrix. Zero fields take the defaults of the
// issue's table.
type Config struct {
	// BinDir holds aisnode, aisnode-notracing and refserver.
	BinDir string
	// TempDir is the parent of the run's work directory (default
	// $TMPDIR); the work directory is removed at the end.
	TempDir string
	// JaegerBin is the Jaeger all-in-one binary (for the trace rows).
	JaegerBin string
	// Duration is the length of each cell (default 3s), Warmup and
	// Cooldown (default 500ms each) the parts of it left out of the
	// figures.
	Duration, Warmup, Cooldown time.Duration
	// Repeats is the number of times every cell is measured (default 3).
	Repeats int
	// Workers is the number of concurrent requests (default 16).
	Workers int
	// Sizes are the object sizes (default 4 KiB, 64 KiB, 1 MiB).
	Sizes []int64
	// Fsync is the durability policy of every system but the durable row's
	// (which is always "always"): "never" (default) or "always".
	Fsync string
	// Targets and Mountpaths shape the cluster (default 2 and 2).
	Targets, Mountpaths int
	// Rows selects rows by key, in the order of measurement in the first
	// repeat (default ref, proxy, direct, durable); the keys are the Row
	// constants.
	Rows []string
	// ProfileDir, when set, gets a CPU profile of every miniais node over
	// every cell's window (nodes run with -pprof; the profiler's own cost
	// is then in the CPU figures).
	ProfileDir string
	// Memory measures RSS.
	Memory bool
	// Out receives progress and the tables; JSONOut, when set, every
	// sample as JSON.
	Out     io.Writer
	JSONOut string
}

func (c *Config) setDefaults() {
	if c.Duration <= 0 {
		c.Duration = 3 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = 500 * time.Millisecond
	}
	if c.Cooldown <= 0 {
		c.Cooldown = 500 * time.Millisecond
	}
	if c.Repeats <= 0 {
		c.Repeats = 3
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if len(c.Sizes) == 0 {
		c.Sizes = []int64{4 << 10, 64 << 10, 1 << 20}
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
		c.Rows = DefaultRows
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
}

func (c *Config) validate() error {
	if w := c.Duration - c.Warmup - c.Cooldown; w < 500*time.Millisecond {
		return fmt.Errorf("a cell of %s leaves a window of %s after warm-up and cool-down: want at least 500ms", c.Duration, w)
	}
	for i, r := range c.Rows {
		if spec(r) == nil {
			return fmt.Errorf("unknown row %q (rows: %s)", r, rowKeys())
		}
		if slices.Contains(c.Rows[:i], r) {
			return fmt.Errorf("row %q given twice", r)
		}
	}
	return nil
}

// Row keys.
const (
	RowRef       = "ref"
	RowProxy     = "proxy"
	RowDirect    = "direct"
	RowDurable   = "durable"
	RowTrace1    = "trace1"
	RowTrace001  = "trace001"
	RowNoTracing = "notracing"
	RowNoMetrics = "nometrics"
	RowTail001   = "tail001"
)

// DefaultRows are the rows of a run without Config.Rows: the issue's
// table (via proxy), its baselines and the durable PUTs.
var DefaultRows = []string{RowRef, RowProxy, RowDirect, RowDurable}

// rowSpec says how a row is measured and compared.
type rowSpec struct {
	key, title string
	// system is the name of the system the row runs on (see startSystem).
	system string
	// direct: the client routes to the owner itself.
	direct bool
	// putOnly: no GET cells (the durable row: a GET does not fsync).
	putOnly bool
	// base is the row this one is compared with; inverse shows
	// base/this instead of this/base.
	base    string
	inverse bool
}

// rowSpecs are the rows in the order of the tables' columns.
var rowSpecs = []rowSpec{
	{key: RowRef, title: "reference", system: "reference"},
	{key: RowProxy, title: "via proxy", system: "miniais", base: RowRef},
	{key: RowDirect, title: "direct", system: "miniais", direct: true, base: RowRef},
	{key: RowDurable, title: "durable via proxy", system: "durable", putOnly: true, base: RowProxy},
	{key: RowTrace1, title: "trace 1.0", system: "trace1", base: RowProxy},
	{key: RowTrace001, title: "trace 0.01", system: "trace001", base: RowProxy},
	{key: RowTail001, title: "0.01 + tail rule", system: "tail001", base: RowTrace001},
	{key: RowNoTracing, title: "notracing build", system: "notracing", base: RowProxy, inverse: true},
	{key: RowNoMetrics, title: "metrics off", system: "nometrics", base: RowProxy, inverse: true},
}

func spec(row string) *rowSpec {
	for i := range rowSpecs {
		if rowSpecs[i].key == row {
			return &rowSpecs[i]
		}
	}
	return nil
}

func rowKeys() []string {
	var ks []string
	for _, r := range rowSpecs {
		ks = append(ks, r.key)
	}
	return ks
}

func title(row string) string {
	if s := spec(row); s != nil {
		return s.title
	}
	return row
}

// Cell is one measurement of one row, size and operation.
type Cell struct {
	Row    string `json:"row"`
	Size   int64  `json:"size"`
	Op     string `json:"op"`
	Repeat int    `json:"repeat"`
	// St are the load generator's figures over the whole cell (latency,
	// errors).
	St loader.Stats `json:"stats"`
	// Window is what the cell's figures are computed from.
	Window Window `json:"window"`
	// CPUPerOp is Window.CPU over Window.Ops (0 when no operation
	// completed in the window).
	CPUPerOp time.Duration `json:"cpu_per_op_ns"`
	// MiBPerSec is the window's throughput.
	MiBPerSec float64 `json:"mib_per_sec"`
}

// Window is the middle of a cell, between warm-up and cool-down.
type Window struct {
	Elapsed time.Duration `json:"elapsed_ns"`
	// Ops and Bytes are the successful operations completed in the
	// window and their bytes.
	Ops   int64 `json:"ops"`
	Bytes int64 `json:"bytes"`
	// CPU is the user + system time of all the system's node processes,
	// SysCPU the system (kernel) part of it.
	CPU    time.Duration `json:"cpu_ns"`
	SysCPU time.Duration `json:"sys_cpu_ns"`
	// Nodes are the same per node process.
	Nodes []NodeCPU `json:"nodes"`
}

// NodeCPU is one node's CPU time in a window.
type NodeCPU struct {
	Node   string        `json:"node"`
	CPU    time.Duration `json:"cpu_ns"`
	SysCPU time.Duration `json:"sys_cpu_ns"`
}

// NodeMemory is one node's RSS, in bytes.
type NodeMemory struct {
	System string `json:"system"`
	Node   string `json:"node"`
	// Idle is the RSS once every system has started, before any load.
	Idle int64 `json:"idle_rss"`
	// Peak is the largest RSS of the process's life, read at the end.
	Peak int64 `json:"peak_rss"`
}

// BigGet is the memory test: 64 workers GET 16 MiB objects via the proxy.
type BigGet struct {
	Growth    int64   `json:"target_rss_growth"`
	Baseline  int64   `json:"target_rss_baseline"`
	MiBPerSec float64 `json:"mib_per_sec"`
}

// Results are everything a run measured.
type Results struct {
	Cells   []Cell       `json:"cells"`
	Memory  []NodeMemory `json:"memory,omitempty"`
	BigGet  *BigGet      `json:"big_get,omitempty"`
	Started time.Time    `json:"started"`
	Took    time.Duration
	Config  struct {
		Duration, Warmup, Cooldown time.Duration
		Repeats, Workers           int
		Fsync                      string
		Targets, Mpaths            int
		Rows                       []string
		Sizes                      []int64
	}
}

// samples returns the cells of row, size and op that completed an
// operation in their window, in the order of their repeats.
func (r *Results) samples(row string, size int64, op string) []*Cell {
	var cs []*Cell
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Row == row && c.Size == size && c.Op == op && c.Window.Ops > 0 {
			cs = append(cs, c)
		}
	}
	return cs
}

// Run runs the matrix and prints the tables to cfg.Out.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	res := &Results{Started: time.Now()}
	rc := &res.Config
	rc.Duration, rc.Warmup, rc.Cooldown = cfg.Duration, cfg.Warmup, cfg.Cooldown
	rc.Repeats, rc.Workers, rc.Fsync = cfg.Repeats, cfg.Workers, cfg.Fsync
	rc.Targets, rc.Mpaths, rc.Rows, rc.Sizes = cfg.Targets, cfg.Mountpaths, cfg.Rows, cfg.Sizes
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
	// Start every system the rows need, in the order of rowSpecs.
	var jaeger *jaegerProc
	defer func() {
		if jaeger != nil {
			stopProcess(jaeger.Process)
		}
	}()
	systems := map[string]*servers{}
	var sysOrder []string
	defer func() {
		for _, s := range systems {
			s.stop()
		}
	}()
	for _, rs := range rowSpecs {
		if !slices.Contains(cfg.Rows, rs.key) || systems[rs.system] != nil {
			continue
		}
		fmt.Fprintf(cfg.Out, "# %s: starting\n", rs.system)
		srv, err := startSystem(ctx, &cfg, rs.system, filepath.Join(workDir, rs.system), &jaeger)
		if err != nil {
			return res, fmt.Errorf("%s: %w", rs.system, err)
		}
		systems[rs.system] = srv
		sysOrder = append(sysOrder, rs.system)
	}
	if cfg.Memory {
		time.Sleep(time.Second) // let start-up work (first heartbeats, map pushes) settle
		for _, name := range sysOrder {
			for _, p := range systems[name].procs {
				rss, _, err := memory(p.PID())
				if err != nil {
					return res, fmt.Errorf("%s %s: %w", name, p.Name(), err)
				}
				res.Memory = append(res.Memory, NodeMemory{System: name, Node: p.Name(), Idle: rss})
			}
		}
	}
	// written[row][size] are the objects the row's PUT cells wrote.
	written := map[string]map[int64][]string{}
	for _, r := range cfg.Rows {
		written[r] = map[int64][]string{}
	}
	for rep := range cfg.Repeats {
		fmt.Fprintf(cfg.Out, "# repeat %d of %d\n", rep+1, cfg.Repeats)
		for _, size := range cfg.Sizes {
			for _, op := range []string{loader.OpPut, loader.OpGet} {
				for _, row := range order(cfg.Rows, rep) {
					rs := spec(row)
					if op == loader.OpGet && rs.putOnly {
						continue
					}
					lc := loader.Config{PctPut: 100, Prefix: fmt.Sprintf("%s/r%d/", row, rep)}
					if op == loader.OpGet {
						lc = loader.Config{PctPut: 0, Names: written[row][size]}
						if len(lc.Names) == 0 {
							return res, fmt.Errorf("%s GET %s: no objects to read", title(row), loader.FormatSize(size))
						}
					}
					c, names, err := cell(ctx, &cfg, systems[rs.system], rs, size, rep, lc)
					if err != nil {
						return res, err
					}
					res.Cells = append(res.Cells, c)
					if op == loader.OpPut {
						if len(names) == 0 {
							return res, fmt.Errorf("%s PUT %s: nothing written: %s", title(row), loader.FormatSize(size), c.St.FirstError)
						}
						written[row][size] = append(written[row][size], names...)
					}
				}
			}
		}
	}
	if big := written[RowProxy][16<<20]; cfg.Memory && len(big) > 0 {
		res.BigGet = &BigGet{}
		if err := memoryTest(ctx, &cfg, systems["miniais"], big, res.BigGet); err != nil {
			return res, err
		}
	}
	for i := range res.Memory {
		m := &res.Memory[i]
		for _, p := range systems[m.System].procs {
			if p.Name() == m.Node {
				if _, peak, err := memory(p.PID()); err == nil {
					m.Peak = peak
				}
			}
		}
	}
	res.Took = time.Since(res.Started)
	PrintTables(cfg.Out, res)
	if cfg.JSONOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.JSONOut, b, 0o644); err != nil {
			return res, err
		}
	}
	return res, nil
}

// startSystem starts the system called name under dir; the trace systems
// start the Jaeger process on first use and keep it in *jaeger.
func startSystem(ctx context.Context, cfg *Config, name, dir string, jaeger **jaegerProc) (*servers, error) {
	if name == "reference" {
		return startRef(ctx, cfg, dir)
	}
	bin := filepath.Join(cfg.BinDir, "aisnode")
	env := []string{"AIS_TRACING_ENDPOINT="}
	fsync := cfg.Fsync
	switch name {
	case "durable":
		fsync = "always"
	case "notracing":
		bin = filepath.Join(cfg.BinDir, "aisnode-notracing")
	case "nometrics":
		env = append(env, "AIS_METRICS=off")
	case "trace1", "trace001", "tail001":
		if *jaeger == nil {
			j, err := startJaeger(ctx, cfg.JaegerBin, filepath.Dir(dir))
			if err != nil {
				return nil, fmt.Errorf("jaeger: %w", err)
			}
			*jaeger = j
		}
		prob := "1.0"
		if name != "trace1" {
			prob = "0.01"
		}
		env = []string{"AIS_TRACING_ENDPOINT=" + (*jaeger).otlp, "AIS_TRACING_SAMPLING_PROBABILITY=" + prob}
		if name == "tail001" {
			// Keep the traces of requests over 50 ms (and of errors).
			env = append(env, "AIS_TRACING_TAIL_LATENCY=50ms")
		}
	}
	return startCluster(ctx, cfg, bin, dir, fsync, env)
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
