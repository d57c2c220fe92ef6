package matrix

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"miniais/bench/loader"
)

// goal is a CPU per operation goal of issue 16, via proxy.
type goal struct {
	size int64
	op   string
	cpu  time.Duration
}

// cpuGoals are the table, in its order.
var cpuGoals = []goal{
	{4 << 10, loader.OpPut, 380 * time.Microsecond},
	{4 << 10, loader.OpGet, 90 * time.Microsecond},
	{64 << 10, loader.OpPut, 290 * time.Microsecond},
	{64 << 10, loader.OpGet, 105 * time.Microsecond},
	{1 << 20, loader.OpPut, 1500 * time.Microsecond},
	{1 << 20, loader.OpGet, 240 * time.Microsecond},
}

// durableGoal is the bound on durable over no-fsync PUT
// throughput, at the sizes it names.
const durableGoal = 0.8

var durableGoalSizes = []int64{4 << 10, 1 << 20}

// idleRSSBound is the bound on an idle node's RSS.
const idleRSSBound = 30 << 20

// Metrics of a cell, for the tables.
func cpuMicros(c *Cell) float64 { return float64(c.CPUPerOp) / float64(time.Microsecond) }
func mibPerSec(c *Cell) float64 { return c.MiBPerSec }

// summary returns the median and spread of metric over the cells of row,
// size and op.
func (r *Results) summary(row string, size int64, op string, metric func(*Cell) float64) Summary {
	var vs []float64
	for _, c := range r.samples(row, size, op) {
		vs = append(vs, metric(c))
	}
	return summarize(vs)
}

func (r *Results) hasRow(row string) bool {
	return slices.ContainsFunc(r.Cells, func(c Cell) bool { return c.Row == row })
}

// PrintTables prints the results as Markdown tables: the table
// (CPU per operation via proxy against the goals), durable over no-fsync
// PUT, then CPU per operation and throughput of every row, and memory.
// Every figure is the median over the repeats with the spread (min-max).
func PrintTables(w io.Writer, res *Results) {
	c := res.Config
	fmt.Fprintf(w, "\n%d workers, cells of %s (figures from the %s between %s of warm-up and %s of cool-down), %d repeats interleaved (row order reversed every other repeat), "+
		"-fsync=%s but the durable row, %d targets x %d mountpaths. CPU/op: user+system time of all node processes (proxy + targets, or the reference server; not the load generator) "+
		"in the window over the operations completed in it. Each figure: median (min–max) over the repeats.\n",
		c.Workers, c.Duration, c.Duration-c.Warmup-c.Cooldown, c.Warmup, c.Cooldown, c.Repeats, c.Fsync, c.Targets, c.Mpaths)
	if res.hasRow(RowProxy) {
		printGoals(w, res)
	}
	if res.hasRow(RowProxy) && res.hasRow(RowDurable) {
		printDurable(w, res)
	}
	var rows []string
	for _, rs := range rowSpecs {
		if res.hasRow(rs.key) {
			rows = append(rows, rs.key)
		}
	}
	fmt.Fprintf(w, "\nNode CPU time per operation in µs. In parentheses after the spread: the median over the median of the row it is compared with "+
		"(via proxy and direct over the reference, durable and trace rows over via proxy, the tail rule over trace 0.01; via proxy over the notracing build and over metrics off).\n\n")
	table(w, res, rows, cpuMicros)
	fmt.Fprintf(w, "\nThroughput in MiB/s, same comparisons.\n\n")
	table(w, res, rows, mibPerSec)
	printMemory(w, res)
	for _, c := range res.Cells {
		if c.St.Errors > 0 {
			fmt.Fprintf(w, "error: %s %s %s repeat %d: %d errors, first: %s\n", title(c.Row), c.Op, loader.FormatSize(c.Size), c.Repeat+1, c.St.Errors, c.St.FirstError)
		}
	}
	fmt.Fprintf(w, "\nMatrix took %s.\n", res.Took.Round(time.Second))
}

// printGoals prints the table: via proxy against the goals.
func printGoals(w io.Writer, res *Results) {
	fmt.Fprintf(w, "\nIssue 16, via proxy (a client following redirects):\n\n")
	fmt.Fprintf(w, "| cell | CPU/op µs, median (min–max) | goal | median / goal | MiB/s, median (min–max) |\n|---|---:|---:|---:|---:|\n")
	for _, g := range cpuGoals {
		cpu := res.summary(RowProxy, g.size, g.op, cpuMicros)
		if cpu.N == 0 {
			continue
		}
		goalUS := float64(g.cpu) / float64(time.Microsecond)
		verdict := fmt.Sprintf("%.2fx", cpu.Median/goalUS)
		if cpu.Median <= goalUS {
			verdict += " met"
		}
		fmt.Fprintf(w, "| %s %s | %s | <= %.0f | %s | %s |\n", g.op, loader.FormatSize(g.size), cpu.format("%.0f"), goalUS, verdict,
			res.summary(RowProxy, g.size, g.op, mibPerSec).format("%.1f"))
	}
}

// printDurable prints durable over no-fsync PUT throughput, both via the
// proxy: the ratio of the medians and the spread of the ratios of the
// pairs measured in the same repeat.
func printDurable(w io.Writer, res *Results) {
	fmt.Fprintf(w, "\nDurable PUT (-fsync=always) over no-fsync PUT, both via proxy, %d workers; ratio: of the medians (min–max of the per-repeat ratios):\n\n", res.Config.Workers)
	fmt.Fprintf(w, "| size | no fsync MiB/s | durable MiB/s | durable / no fsync | goal | no fsync CPU/op µs | durable CPU/op µs |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, size := range res.Config.Sizes {
		nf, du := res.summary(RowProxy, size, loader.OpPut, mibPerSec), res.summary(RowDurable, size, loader.OpPut, mibPerSec)
		if nf.N == 0 || du.N == 0 {
			continue
		}
		var pairs []float64
		for _, d := range res.samples(RowDurable, size, loader.OpPut) {
			for _, n := range res.samples(RowProxy, size, loader.OpPut) {
				if n.Repeat == d.Repeat && n.MiBPerSec > 0 {
					pairs = append(pairs, d.MiBPerSec/n.MiBPerSec)
				}
			}
		}
		pr := summarize(pairs)
		ratio := fmt.Sprintf("%.2fx", du.Median/nf.Median)
		if pr.N > 1 {
			ratio += fmt.Sprintf(" (%.2f–%.2f)", pr.Min, pr.Max)
		}
		gl := "-"
		if slices.Contains(durableGoalSizes, size) {
			gl = fmt.Sprintf(">= %.1fx", durableGoal)
			if du.Median/nf.Median >= durableGoal {
				gl += " met"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", loader.FormatSize(size), nf.format("%.1f"), du.format("%.1f"), ratio, gl,
			res.summary(RowProxy, size, loader.OpPut, cpuMicros).format("%.0f"), res.summary(RowDurable, size, loader.OpPut, cpuMicros).format("%.0f"))
	}
}

// table prints one metric of every row, size and operation: the median
// (min–max), then the median over the median of the row's base (base over
// this for the inverse rows).
func table(w io.Writer, res *Results, rows []string, metric func(*Cell) float64) {
	var b strings.Builder
	b.WriteString("| size | op |")
	for _, r := range rows {
		fmt.Fprintf(&b, " %s |", title(r))
	}
	b.WriteString("\n|---|---|")
	for range rows {
		b.WriteString("---:|")
	}
	b.WriteByte('\n')
	for _, size := range res.Config.Sizes {
		for _, op := range []string{loader.OpPut, loader.OpGet} {
			fmt.Fprintf(&b, "| %s | %s |", loader.FormatSize(size), op)
			for _, r := range rows {
				s := res.summary(r, size, op, metric)
				b.WriteString(" " + s.format("%.0f"))
				if rs := spec(r); s.N > 0 && rs.base != "" {
					if base := res.summary(rs.base, size, op, metric); base.N > 0 && base.Median > 0 && s.Median > 0 {
						ratio := s.Median / base.Median
						if rs.inverse {
							ratio = 1 / ratio
						}
						fmt.Fprintf(&b, " (%.2fx)", ratio)
					}
				}
				b.WriteString(" |")
			}
			b.WriteByte('\n')
		}
	}
	io.WriteString(w, b.String())
}

// printMemory prints every node's idle and peak RSS against the issue's
// bound, and the memory test.
func printMemory(w io.Writer, res *Results) {
	if len(res.Memory) > 0 {
		fmt.Fprintf(w, "\nMemory (RSS, MiB): idle once every system had started, before any load; peak (VmHWM) over the node's life, read at the end. Bound: idle under %d MiB.\n\n", idleRSSBound>>20)
		fmt.Fprintf(w, "| system | node | idle | peak |\n|---|---|---:|---:|\n")
		var over []string
		for _, m := range res.Memory {
			fmt.Fprintf(w, "| %s | %s | %.1f | %.1f |\n", m.System, m.Node, mib(m.Idle), mib(m.Peak))
			if m.Idle >= idleRSSBound {
				over = append(over, m.System+" "+m.Node)
			}
		}
		if len(over) > 0 {
			fmt.Fprintf(w, "\nIdle RSS at or over %d MiB: %s.\n", idleRSSBound>>20, strings.Join(over, ", "))
		}
	}
	if g := res.BigGet; g != nil {
		fmt.Fprintf(w, "\n64 concurrent GETs of 16 MiB objects via proxy (%.0f MiB/s) raised a target's RSS by %.1f MiB (from %.1f MiB).\n",
			g.MiBPerSec, mib(g.Growth), mib(g.Baseline))
	}
}
