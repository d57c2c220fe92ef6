package loader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"miniais/api"
	"miniais/cluster"
)

// Operation kinds.
const (
	OpPut = "PUT"
	OpGet = "GET"
)

// DefaultPrefix starts the names of the objects a run writes by default.
const DefaultPrefix = "aisloader/"

// Config is one load run.
type Config struct {
	// Client sends the requests (with or without direct routing).
	Client *api.Client
	// Bucket is created when it does not exist.
	Bucket cluster.Bucket
	// Duration bounds the run (0: until MaxOps, or ctx).
	Duration time.Duration
	// MaxOps bounds the number of operations (0: no bound).
	MaxOps int64
	// Workers is the number of concurrent requests (default 1).
	Workers int
	// PctPut is the percentage of PUTs (0-100).
	PctPut int
	// MinSize and MaxSize bound the size of PUT objects (bytes).
	MinSize, MaxSize int64
	// Seed makes object sizes, contents and the choice of operations
	// reproducible (0: a random seed).
	Seed uint64
	// Prefix starts the names of the objects the run writes (default
	// DefaultPrefix + "<seed>/"); at start, when PctPut < 100 and Names is
	// empty, the objects with this prefix (default: DefaultPrefix) are
	// listed for GETs.
	Prefix string
	// Names are objects to GET in addition to those the run writes; when
	// set, the bucket is not listed.
	Names []string
	// GetOrder is "random" (default) or "seq".
	GetOrder string
	// Verify checks the checksum of every GET (costs client CPU).
	Verify bool
	// Cleanup deletes the objects the run wrote at the end.
	Cleanup bool
	// Interval is the period of the interval reports (0: none).
	Interval time.Duration
	// Out receives the interval reports (nil: none).
	Out io.Writer
	// JSON prints the interval reports as JSON lines.
	JSON bool
	// Progress, when set, counts every successful operation as it
	// completes (PUT and GET together).
	Progress *Progress
}

// Stats are the figures of one operation kind over a period.
type Stats struct {
	Op        string        `json:"op"`
	Ops       int64         `json:"ops"`
	Bytes     int64         `json:"bytes"`
	Errors    int64         `json:"errors"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	OpsPerSec float64       `json:"ops_per_sec"`
	MiBPerSec float64       `json:"mib_per_sec"`
	Latency   Latency       `json:"latency"`
	// FirstError is the first error seen, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Report is the result of a run: one Stats per operation kind that ran.
type Report struct {
	Put, Get Stats
	// Written are the names of the objects the run wrote (and did not
	// clean up).
	Written []string `json:"-"`
}

// opStats accumulates one operation kind; guarded by the loader's mutex.
type opStats struct {
	ops, bytes, errs int64
	hist             Histogram
	firstErr         error
}

func (s *opStats) stats(op string, elapsed time.Duration) Stats {
	st := Stats{Op: op, Ops: s.ops, Bytes: s.bytes, Errors: s.errs, Elapsed: elapsed, Latency: s.hist.Summary()}
	if sec := elapsed.Seconds(); sec > 0 {
		st.OpsPerSec = float64(s.ops) / sec
		st.MiBPerSec = float64(s.bytes) / sec / (1 << 20)
	}
	if s.firstErr != nil {
		st.FirstError = s.firstErr.Error()
	}
	return st
}

type run struct {
	cfg  Config
	data []byte

	mu            sync.Mutex
	total, intvl  [2]opStats // PUT, GET
	names         []string
	written       []string
	nextName      atomic.Int64
	ops           atomic.Int64
	seq           atomic.Int64
	intervalStart time.Time
}

// Run runs the load described by cfg and returns its report. It fails only
// when the run cannot start (bad config, bucket); operation errors are
// counted in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Client == nil {
		return nil, errors.New("loader: no client")
	}
	if err := cfg.Bucket.Validate(); err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	if cfg.PctPut < 0 || cfg.PctPut > 100 {
		return nil, fmt.Errorf("loader: pctput %d is not in [0, 100]", cfg.PctPut)
	}
	if cfg.MinSize < 0 || cfg.MaxSize < cfg.MinSize {
		return nil, fmt.Errorf("loader: sizes [%d, %d] are not a range", cfg.MinSize, cfg.MaxSize)
	}
	if cfg.Duration <= 0 && cfg.MaxOps <= 0 {
		return nil, errors.New("loader: neither a duration nor a number of operations")
	}
	cfg.Workers = max(cfg.Workers, 1)
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	listPrefix := cfg.Prefix
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("%s%x/", DefaultPrefix, cfg.Seed)
		listPrefix = DefaultPrefix
	}
	if cfg.GetOrder == "" {
		cfg.GetOrder = "random"
	}
	if cfg.GetOrder != "random" && cfg.GetOrder != "seq" {
		return nil, fmt.Errorf("loader: getorder %q (want random or seq)", cfg.GetOrder)
	}
	if err := ensureBucket(ctx, cfg.Client, cfg.Bucket); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, names: append([]string(nil), cfg.Names...)}
	if cfg.PctPut < 100 && len(cfg.Names) == 0 {
		ents, err := cfg.Client.ListObjects(ctx, cfg.Bucket, api.ListOptions{Prefix: listPrefix, Props: "name"})
		if err != nil {
			return nil, fmt.Errorf("loader: list %s: %w", cfg.Bucket, err)
		}
		for _, e := range ents {
			r.names = append(r.names, e.Name)
		}
	}
	if cfg.PctPut == 0 && len(r.names) == 0 {
		return nil, fmt.Errorf("loader: GET only, but %s has no objects with prefix %q", cfg.Bucket, listPrefix)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	if cfg.PctPut > 0 {
		r.data = make([]byte, cfg.MaxSize)
		for i := 0; i+8 <= len(r.data); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				r.data[i+j] = byte(v >> (8 * j))
			}
		}
	}
	return r.run(ctx)
}

// ensureBucket creates bck unless it exists.
func ensureBucket(ctx context.Context, c *api.Client, bck cluster.Bucket) error {
	_, err := c.HeadBucket(ctx, bck)
	if errors.Is(err, cluster.ErrNotFound) {
		err = c.CreateBucket(ctx, bck)
		if errors.Is(err, cluster.ErrExists) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("loader: bucket %s: %w", bck, err)
	}
	return nil
}

func (r *run) run(ctx context.Context) (*Report, error) {
	rctx := ctx
	if r.cfg.Duration > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, r.cfg.Duration)
		defer cancel()
	}
	start := time.Now()
	r.intervalStart = start
	var wg sync.WaitGroup
	for w := range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(rctx, rand.New(rand.NewPCG(r.cfg.Seed, uint64(w)+1)))
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if r.cfg.Interval > 0 && r.cfg.Out != nil {
		tick := time.NewTicker(r.cfg.Interval)
	loop:
		for {
			select {
			case <-done:
				break loop
			case <-tick.C:
				r.printInterval()
			}
		}
		tick.Stop()
	}
	<-done
	elapsed := time.Since(start)
	r.mu.Lock()
	rep := &Report{Put: r.total[0].stats(OpPut, elapsed), Get: r.total[1].stats(OpGet, elapsed)}
	written := r.written
	r.mu.Unlock()
	if r.cfg.Cleanup {
		r.cleanup(ctx, written)
	} else {
		rep.Written = written
	}
	return rep, nil
}

func (r *run) printInterval() {
	now := time.Now()
	r.mu.Lock()
	elapsed := now.Sub(r.intervalStart)
	r.intervalStart = now
	put, get := r.intvl[0].stats(OpPut, elapsed), r.intvl[1].stats(OpGet, elapsed)
	r.intvl = [2]opStats{}
	r.mu.Unlock()
	for _, st := range []Stats{put, get} {
		if st.Ops == 0 && st.Errors == 0 {
			continue
		}
		if r.cfg.JSON {
			b, _ := json.Marshal(struct {
				Interval bool `json:"interval"`
				Stats
			}{true, st})
			fmt.Fprintf(r.cfg.Out, "%s\n", b)
		} else {
			fmt.Fprintln(r.cfg.Out, FormatStats(st))
		}
	}
}

// FormatStats renders st as one line of text.
func FormatStats(st Stats) string {
	l := st.Latency
	return fmt.Sprintf("%-3s %9.1f ops/s %9.1f MiB/s  lat min %s avg %s p50 %s p90 %s p99 %s max %s  errors %d",
		st.Op, st.OpsPerSec, st.MiBPerSec, fmtDur(l.Min), fmtDur(l.Avg), fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.Max), st.Errors)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}

func (r *run) worker(ctx context.Context, rng *rand.Rand) {
	for ctx.Err() == nil {
		if r.cfg.MaxOps > 0 && r.ops.Add(1) > r.cfg.MaxOps {
			return
		}
		r.mu.Lock()
		haveNames := len(r.names) > 0
		r.mu.Unlock()
		if r.cfg.PctPut > 0 && (!haveNames || rng.IntN(100) < r.cfg.PctPut) {
			r.put(ctx, rng)
		} else {
			r.get(ctx, rng)
		}
	}
}

func (r *run) put(ctx context.Context, rng *rand.Rand) {
	size := r.cfg.MinSize
	if r.cfg.MaxSize > r.cfg.MinSize {
		size += rng.Int64N(r.cfg.MaxSize - r.cfg.MinSize + 1)
	}
	name := fmt.Sprintf("%s%08x", r.cfg.Prefix, r.nextName.Add(1))
	start := time.Now()
	_, err := r.cfg.Client.PutObject(ctx, r.cfg.Bucket, name, bytes.NewReader(r.data[:size]), api.PutOptions{Size: size})
	lat := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return // cut off by the end of the run
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(0, lat, size, err)
	if err == nil {
		r.names = append(r.names, name)
		r.written = append(r.written, name)
	}
}

func (r *run) get(ctx context.Context, rng *rand.Rand) {
	r.mu.Lock()
	var name string
	if r.cfg.GetOrder == "seq" {
		name = r.names[int(r.seq.Add(1)-1)%len(r.names)]
	} else {
		name = r.names[rng.IntN(len(r.names))]
	}
	r.mu.Unlock()
	start := time.Now()
	var n int64
	var err error
	if r.cfg.Verify {
		var cw countWriter
		_, err = r.cfg.Client.GetObject(ctx, r.cfg.Bucket, name, &cw, api.GetOptions{})
		n = cw.n
	} else {
		var rc io.ReadCloser
		rc, _, err = r.cfg.Client.GetObjectReader(ctx, r.cfg.Bucket, name, api.GetOptions{})
		if err == nil {
			n, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
	}
	lat := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	r.record(1, lat, n, err)
	r.mu.Unlock()
}

// record adds one operation to the totals and the interval; r.mu is held.
func (r *run) record(i int, lat time.Duration, n int64, err error) {
	for _, s := range []*opStats{&r.total[i], &r.intvl[i]} {
		if err != nil {
			s.errs++
			if s.firstErr == nil {
				s.firstErr = err
			}
			continue
		}
		s.ops++
		s.bytes += n
		s.hist.Record(lat)
	}
	if err == nil && r.cfg.Progress != nil {
		r.cfg.Progress.add(n)
	}
}

// cleanup deletes names with the configured number of workers.
func (r *run) cleanup(ctx context.Context, names []string) {
	ch := make(chan string)
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range ch {
				_ = r.cfg.Client.DeleteObject(ctx, r.cfg.Bucket, name)
			}
		}()
	}
	for _, n := range names {
		ch <- n
	}
	close(ch)
	wg.Wait()
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// String renders the report as text: one line per operation kind that ran.
func (rep *Report) String() string {
	var b strings.Builder
	for _, st := range []Stats{rep.Put, rep.Get} {
		if st.Ops > 0 || st.Errors > 0 {
			b.WriteString(FormatStats(st))
			if st.FirstError != "" {
				b.WriteString("\n    first error: " + st.FirstError)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}
