package loader

import (
	"math"
	"math/bits"
	"time"
)

// subBuckets is the number of linear sub-buckets per power of two: the
// histogram's relative error is below 1/subBuckets (about 1.6%).
const subBucketBits = 6

const subBuckets = 1 << subBucketBits

// Histogram records latencies in constant memory: log-linear buckets of
// nanoseconds, so that quantiles are exact to within about 1.6%. The zero
// value is empty and ready to use. It is not safe for concurrent use.
type Histogram struct {
	counts   [64 * subBuckets]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < subBuckets {
		return int(v)
	}
	exp := bits.Len64(v) - subBucketBits // >= 1
	return exp*subBuckets + int(v>>(exp-1)) - subBuckets
}

// lowerBound returns the smallest duration of bucket i.
func lowerBound(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(i)
	}
	exp := i / subBuckets
	return time.Duration(uint64(i%subBuckets+subBuckets) << (exp - 1))
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucketOf(d)]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every latency of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of latencies recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns the latency below which a fraction q of the recorded
// ones fall (0 when empty), clamped to [Min, Max].
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			// The middle of the bucket.
			lo, hi := lowerBound(i), lowerBound(i+1)
			return min(max((lo+hi)/2, h.min), h.max)
		}
	}
	return h.max
}

// Latency summarizes a Histogram.
type Latency struct {
	Min time.Duration `json:"min_ns"`
	Avg time.Duration `json:"avg_ns"`
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Summary returns the min, mean, p50, p90, p99 and max.
func (h *Histogram) Summary() Latency {
	if h.n == 0 {
		return Latency{}
	}
	return Latency{
		Min: h.min, Avg: h.sum / time.Duration(h.n),
		P50: h.Quantile(0.50), P90: h.Quantile(0.90), P99: h.Quantile(0.99),
		Max: h.max,
	}
}
