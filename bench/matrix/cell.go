package matrix

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"miniais/api"
	"miniais/bench/loader"
	"miniais/cluster"
)

// sample is a reading of a cell's progress and of the nodes' CPU time.
type sample struct {
	at         time.Time
	ops, bytes int64
	cpu        []cpuTime // per node, in the order of servers.procs
}

// cell runs one load cell on srv, after a sync(2), prints its line and
// returns it with the names of the objects it wrote. The figures are
// those of the window between two samples taken cfg.Warmup after the
// start and cfg.Cooldown before the end.
func cell(ctx context.Context, cfg *Config, srv *servers, rs *rowSpec, size int64, repeat int, lc loader.Config) (Cell, []string, error) {
	syscall.Sync()
	var opts []api.Option
	if rs.direct {
		opts = append(opts, api.WithDirectRouting())
	}
	prog := &loader.Progress{}
	lc.Client, lc.Bucket = api.NewClient(srv.endpoint, opts...), bucket(size)
	lc.Duration, lc.Workers, lc.Progress = cfg.Duration, cfg.Workers, prog
	lc.MinSize, lc.MaxSize, lc.Seed = size, size, uint64(repeat)+1
	op := loader.OpGet
	if lc.PctPut > 0 {
		op = loader.OpPut
	}
	what := fmt.Sprintf("%s %s %s (repeat %d)", rs.title, op, loader.FormatSize(size), repeat+1)
	window := cfg.Duration - cfg.Warmup - cfg.Cooldown
	take := func() (sample, error) {
		cpu, err := srv.cpu()
		ops, bytes := prog.Load()
		return sample{at: time.Now(), ops: ops, bytes: bytes, cpu: cpu}, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		s   [2]sample
		err error
	}
	sampled := make(chan result, 1)
	go func() {
		var r result
		defer func() { sampled <- r }()
		if !sleep(wctx, cfg.Warmup) {
			r.err = wctx.Err()
			return
		}
		if r.s[0], r.err = take(); r.err != nil {
			return
		}
		wait := func() {}
		if cfg.ProfileDir != "" && len(srv.pprof) > 0 {
			wait = srv.profile(wctx, cfg.ProfileDir, fmt.Sprintf("%s-%s-%s-r%d", rs.key, op, loader.FormatSize(size), repeat), window)
		}
		defer wait()
		if !sleep(wctx, window) {
			r.err = wctx.Err()
			return
		}
		r.s[1], r.err = take()
	}()
	rep, err := loader.Run(ctx, lc)
	if err != nil {
		cancel()
		<-sampled
		return Cell{}, nil, fmt.Errorf("%s: %w", what, err)
	}
	sr := <-sampled
	if sr.err != nil {
		return Cell{}, nil, fmt.Errorf("%s: sampling the window: %w", what, sr.err)
	}
	st := rep.Put
	if op == loader.OpGet {
		st = rep.Get
	}
	c := Cell{Row: rs.key, Size: size, Op: op, Repeat: repeat, St: st, Window: Window{
		Elapsed: sr.s[1].at.Sub(sr.s[0].at),
		Ops:     sr.s[1].ops - sr.s[0].ops,
		Bytes:   sr.s[1].bytes - sr.s[0].bytes,
	}}
	for i, p := range srv.procs {
		d := sr.s[1].cpu[i].sub(sr.s[0].cpu[i])
		c.Window.CPU += d.total()
		c.Window.SysCPU += d.sys
		c.Window.Nodes = append(c.Window.Nodes, NodeCPU{Node: p.Name(), CPU: d.total(), SysCPU: d.sys})
	}
	if c.Window.Ops > 0 {
		c.CPUPerOp = c.Window.CPU / time.Duration(c.Window.Ops)
	}
	if sec := c.Window.Elapsed.Seconds(); sec > 0 {
		c.MiBPerSec = float64(c.Window.Bytes) / sec / (1 << 20)
	}
	sysPct := 0.0
	if c.Window.CPU > 0 {
		sysPct = 100 * float64(c.Window.SysCPU) / float64(c.Window.CPU)
	}
	var detail strings.Builder
	fmt.Fprintf(&detail, "%.0f%% kernel", sysPct)
	if n := c.Window.Ops; n > 0 && len(c.Window.Nodes) > 1 {
		detail.WriteString(";")
		for _, nc := range c.Window.Nodes {
			fmt.Fprintf(&detail, " %s %s", nc.Node, (nc.CPU / time.Duration(n)).Round(time.Microsecond))
		}
	}
	fmt.Fprintf(cfg.Out, "%-18s r%d %-6s %s  window %7.1f MiB/s cpu/op %s (%s)\n", rs.title, repeat+1, loader.FormatSize(size),
		loader.FormatStats(st), c.MiBPerSec, c.CPUPerOp.Round(time.Microsecond), detail.String())
	return c, rep.Written, nil
}

// bucket is the bucket of the objects of one size.
func bucket(size int64) cluster.Bucket { return cluster.NewBucket("bench-" + loader.FormatSize(size)) }

// sleep waits for d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// memoryTest GETs 16 MiB objects with 64 workers via the proxy of srv and
// records the largest RSS growth of a target.
func memoryTest(ctx context.Context, cfg *Config, srv *servers, names []string, big *BigGet) error {
	syscall.Sync()
	base := map[int]int64{}
	for _, t := range srv.targets {
		base[t.PID()], _, _ = memory(t.PID())
		big.Baseline = max(big.Baseline, base[t.PID()])
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for pid, b := range base {
				if r, _, err := memory(pid); err == nil {
					big.Growth = max(big.Growth, r-b)
				}
			}
		}
	})
	rep, err := loader.Run(ctx, loader.Config{
		Client: api.NewClient(srv.endpoint), Bucket: bucket(16 << 20),
		Duration: cfg.Duration, Workers: 64, PctPut: 0, Names: names, Seed: 1,
	})
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("memory test: %w", err)
	}
	big.MiBPerSec = rep.Get.MiBPerSec
	fmt.Fprintf(cfg.Out, "%-18s    %-6s %s\n", "64 x GET", "16MiB", loader.FormatStats(rep.Get))
	return nil
}
