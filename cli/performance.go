package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	ucli "github.com/urfave/cli/v2"

	"miniais/cluster"
)

// showPerformanceCommand is "ais show performance [NODE_ID]" (AIStore's
// spelling): throughput and latency per node, worked out from two samples
// of every node's node_status tracker --refresh apart (the counters its
// /metrics serves), as AIStore's CLI does.
func showPerformanceCommand(env *Env) *ucli.Command {
	return &ucli.Command{
		Name:      "performance",
		Usage:     "show throughput and latency per node (from two samples of the nodes' counters)",
		ArgsUsage: "[NODE_ID]",
		Flags: append([]ucli.Flag{
			&ucli.DurationFlag{Name: "refresh", Value: 2 * time.Second, Usage: "time between the two samples of each table"},
			&ucli.IntFlag{Name: "count", Value: 1, Usage: "number of tables to print"},
		}, traceFlags()...),
		Action: action(env, 0, 1, showPerformance),
	}
}

// perfSample is one node's tracker at one time.
type perfSample struct {
	node    *cluster.Node
	tracker map[string]int64
	err     error
}

func showPerformance(r *runner, c *ucli.Context) error {
	refresh, count := c.Duration("refresh"), c.Int("count")
	if refresh <= 0 || count <= 0 {
		return usagef("--refresh and --count must be positive")
	}
	m, err := r.client.ClusterMap(r.ctx)
	if err != nil {
		return err
	}
	var nodes []*cluster.Node
	for _, id := range sortedKeys(m.Proxies) {
		nodes = append(nodes, m.Proxies[id])
	}
	nodes = append(nodes, m.TargetList()...)
	if id := c.Args().First(); id != "" {
		n := m.Node(id)
		if n == nil {
			return fmt.Errorf("node %q is not in the cluster map v%d", id, m.Version)
		}
		nodes = []*cluster.Node{n}
	}
	prev := r.sample(r.ctx, nodes)
	for i := range count {
		select {
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-time.After(refresh):
		}
		cur := r.sample(r.ctx, nodes)
		if i > 0 {
			fmt.Fprintln(r.stdout)
		}
		if err := printPerformance(r, prev, cur); err != nil {
			return err
		}
		prev = cur
	}
	return nil
}

// sample reads every node's tracker, in parallel.
func (r *runner) sample(ctx context.Context, nodes []*cluster.Node) []perfSample {
	out := make([]perfSample, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			ns, err := r.client.NodeStatus(ctx, n.ID)
			out[i] = perfSample{node: n, err: err}
			if err == nil {
				out[i].tracker = ns.Tracker
			}
		})
	}
	wg.Wait()
	return out
}

// printPerformance prints one table: the rates between two samples.
func printPerformance(r *runner, prev, cur []perfSample) error {
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "NODE\tROLE\tGET/s\tGET MiB/s\tGET LAT\tPUT/s\tPUT MiB/s\tPUT LAT\tDEL/s\tLST/s\tERR/s")
	for i := range cur {
		a, b := prev[i], cur[i]
		if a.err != nil || b.err != nil {
			err := b.err
			if err == nil {
				err = a.err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", b.node.ID, b.node.Role, firstErrorLine(err))
			continue
		}
		d := func(k string) int64 { return b.tracker[k] - a.tracker[k] }
		secs := float64(d("up.ns.time")) / 1e9
		if secs <= 0 {
			secs = 1e-9
		}
		rate := func(k string) string { return fmt.Sprintf("%.1f", float64(d(k))/secs) }
		mib := func(k string) string {
			if _, ok := b.tracker[k]; !ok {
				return "-"
			}
			return fmt.Sprintf("%.2f", float64(d(k))/secs/(1<<20))
		}
		lat := func(op string) string {
			n, ns := d(op+".n"), d(op+".ns.total")
			if _, ok := b.tracker[op+".ns.total"]; !ok || n <= 0 {
				return "-"
			}
			return time.Duration(ns / n).Round(time.Microsecond).String()
		}
		var errs int64
		for k := range b.tracker {
			if strings.HasPrefix(k, "err.") && strings.HasSuffix(k, ".n") {
				errs += d(k)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\n", b.node.ID, b.node.Role,
			rate("get.n"), mib("get.size"), lat("get"), rate("put.n"), mib("put.size"), lat("put"),
			rate("del.n"), rate("lst.n"), float64(errs)/secs)
	}
	return tw.Flush()
}

// firstErrorLine is an error's first line, for a table cell.
func firstErrorLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return "error: " + s
}
