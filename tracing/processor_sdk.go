//go:build !notracing

package tracing

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// queueProcessor is a span processor with a bounded queue that never blocks
// the goroutine ending a span. One worker goroutine exports batches; every
// sampled span that is not exported is counted as dropped.
//
// The SDK's BatchSpanProcessor drops the same way but does not expose an
// exact count, hence this one.
type queueProcessor struct {
	exp       sdktrace.SpanExporter
	stats     *exportStats
	logger    *slog.Logger
	batchSize int
	// batchBytes bounds the estimated encoded size of one export request.
	batchBytes int
	interval   time.Duration
	timeout    time.Duration
	logEvery   time.Duration

	mu     sync.RWMutex // read-held while enqueueing, write-held to close
	closed bool
	queue  chan sdktrace.ReadOnlySpan

	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	// ctx bounds every export; cancelled when a shutdown deadline passes.
	ctx    context.Context
	cancel context.CancelFunc

	shutdownOnce sync.Once
	shutdownErr  error

	// Owned by the worker goroutine.
	lastLogged uint64
	lastLog    time.Time
	lastErr    error
}

var _ sdktrace.SpanProcessor = (*queueProcessor)(nil)

// processorSettings are the knobs of a queueProcessor.
type processorSettings struct {
	queueSize, batchSize int
	batchBytes           int
	interval, timeout    time.Duration
	logEvery             time.Duration
}

// newQueueProcessor starts the worker goroutine; Shutdown stops it.
func newQueueProcessor(exp sdktrace.SpanExporter, stats *exportStats, logger *slog.Logger, s processorSettings) *queueProcessor {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queueProcessor{
		exp:        exp,
		stats:      stats,
		logger:     logger,
		batchSize:  s.batchSize,
		batchBytes: s.batchBytes,
		interval:   s.interval,
		timeout:    s.timeout,
		logEvery:   s.logEvery,
		queue:      make(chan sdktrace.ReadOnlySpan, s.queueSize),
		flushReq:   make(chan chan struct{}),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		ctx:        ctx,
		cancel:     cancel,
	}
	go q.run()
	return q
}

// OnStart does nothing.
func (q *queueProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span, or counts it as dropped when the queue is
// full or the processor is shut down. It never blocks.
func (q *queueProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		q.stats.dropped.Add(1)
		return
	}
	select {
	case q.queue <- s:
	default:
		q.stats.dropped.Add(1)
	}
	q.mu.RUnlock()
}

// ForceFlush exports the spans queued now and waits for that within the
// deadline of ctx.
func (q *queueProcessor) ForceFlush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case q.flushReq <- reply:
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown refuses further spans, exports the queued ones within the
// deadline of ctx (the rest are counted as dropped) and shuts the exporter
// down. Only the first call does anything.
func (q *queueProcessor) Shutdown(ctx context.Context) error {
	q.shutdownOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.stop)
		select {
		case <-q.done:
		case <-ctx.Done():
			// Abort the export in flight; the worker counts what is left.
			q.cancel()
			q.shutdownErr = ctx.Err()
			return
		}
		q.cancel()
		q.shutdownErr = q.exp.Shutdown(ctx)
	})
	return q.shutdownErr
}

// run is the worker goroutine.
func (q *queueProcessor) run() {
	defer close(q.done)
	ticker := time.NewTicker(q.interval)
	defer ticker.Stop()
	batch := make([]sdktrace.ReadOnlySpan, 0, q.batchSize)
	for {
		select {
		case s := <-q.queue:
			batch = append(batch, s)
			if len(batch) >= q.batchSize {
				batch = q.export(batch)
			}
		case <-ticker.C:
			batch = q.export(batch)
			q.logDrops(false)
		case reply := <-q.flushReq:
			batch = q.drain(batch, len(q.queue))
			batch = q.export(batch)
			close(reply)
		case <-q.stop:
			// OnEnd no longer enqueues: what is queued now is all there is.
			batch = q.drain(batch, -1)
			q.export(batch)
			q.logDrops(true)
			return
		}
	}
}

// drain moves up to n queued spans (all of them if n < 0) into batch,
// exporting every full batch, and returns the partly filled remainder.
func (q *queueProcessor) drain(batch []sdktrace.ReadOnlySpan, n int) []sdktrace.ReadOnlySpan {
	for i := 0; n < 0 || i < n; i++ {
		select {
		case s := <-q.queue:
			batch = append(batch, s)
			if len(batch) >= q.batchSize {
				batch = q.export(batch)
			}
		default:
			return batch
		}
	}
	return batch
}

// export sends batch, in as many requests as batchBytes needs, and counts
// its spans as exported or dropped. It returns batch emptied for reuse.
func (q *queueProcessor) export(batch []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	start, size := 0, requestOverhead
	for i, s := range batch {
		n := spanSize(s)
		if i > start && q.batchBytes > 0 && size+n > q.batchBytes {
			q.exportChunk(batch[start:i])
			start, size = i, requestOverhead
		}
		size += n
	}
	q.exportChunk(batch[start:])
	clear(batch) // release the spans
	return batch[:0]
}

// requestOverhead is what spanSize leaves out of an export request: the
// resource and scope, once per request.
const requestOverhead = 4 << 10

// spanSize estimates the OTLP encoding of s in bytes, from above: the
// fixed fields, its name, and its attributes, events and links.
func spanSize(s sdktrace.ReadOnlySpan) int {
	n := 96 + len(s.Name()) + len(s.Status().Description) + attrsSize(s.Attributes())
	for _, e := range s.Events() {
		n += 24 + len(e.Name) + attrsSize(e.Attributes)
	}
	for _, l := range s.Links() {
		n += 64 + attrsSize(l.Attributes)
	}
	return n
}

// attrsSize estimates the encoding of attributes.
func attrsSize(kvs []attribute.KeyValue) int {
	n := 0
	for _, kv := range kvs {
		n += 12 + len(kv.Key)
		switch kv.Value.Type() {
		case attribute.STRING:
			n += len(kv.Value.AsString())
		case attribute.STRINGSLICE:
			for _, v := range kv.Value.AsStringSlice() {
				n += 4 + len(v)
			}
		case attribute.BOOLSLICE:
			n += 2 * len(kv.Value.AsBoolSlice())
		case attribute.INT64SLICE:
			n += 10 * len(kv.Value.AsInt64Slice())
		case attribute.FLOAT64SLICE:
			n += 9 * len(kv.Value.AsFloat64Slice())
		default:
			n += 10
		}
	}
	return n
}

// exportChunk sends one request and counts its spans as exported or
// dropped.
func (q *queueProcessor) exportChunk(batch []sdktrace.ReadOnlySpan) {
	if len(batch) == 0 {
		return
	}
	n := uint64(len(batch))
	if q.ctx.Err() != nil {
		q.stats.dropped.Add(n)
	} else {
		ctx, cancel := context.WithTimeout(q.ctx, q.timeout)
		err := q.exp.ExportSpans(ctx, batch)
		cancel()
		if err != nil {
			q.stats.dropped.Add(n)
			q.lastErr = err
		} else {
			q.stats.exported.Add(n)
		}
	}
}

// logDrops logs the dropped count when it grew, at most every logEvery
// unless final.
func (q *queueProcessor) logDrops(final bool) {
	d := q.stats.dropped.Load()
	if d == q.lastLogged || (!final && time.Since(q.lastLog) < q.logEvery) {
		return
	}
	args := []any{
		slog.Uint64("dropped", d-q.lastLogged),
		slog.Uint64("dropped_total", d),
		slog.Uint64("exported_total", q.stats.exported.Load()),
	}
	if q.lastErr != nil {
		args = append(args, slog.String("last_error", q.lastErr.Error()))
	}
	q.logger.Warn("tracing: spans dropped", args...)
	q.lastLogged, q.lastLog = d, time.Now()
}
