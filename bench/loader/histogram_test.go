package loader

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"uniform 1ms-10ms", func(r *rand.Rand) time.Duration {
			return time.Millisecond + time.Duration(r.Int64N(int64(9*time.Millisecond)))
		}},
		{"exponential 200us", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(200*time.Microsecond)) }},
		{"tiny", func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(100)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var a, b Histogram
			var all []time.Duration
			for i := range 20000 {
				d := tt.gen(r)
				all = append(all, d)
				if i%2 == 0 {
					a.Record(d)
				} else {
					b.Record(d)
				}
			}
			a.Merge(&b)
			slices.Sort(all)
			if a.Count() != uint64(len(all)) || a.Summary().Min != all[0] || a.Summary().Max != all[len(all)-1] {
				t.Fatalf("count %d min %v max %v", a.Count(), a.Summary().Min, a.Summary().Max)
			}
			for _, q := range []float64{0.5, 0.9, 0.99} {
				want := all[int(q*float64(len(all)))-1]
				got := a.Quantile(q)
				abs := max(got-want, want-got)
				if diff := float64(abs) / float64(max(want, 1)); diff > 0.02 && abs > 2 {
					t.Errorf("p%v = %v, want %v (%.1f%%)", q*100, got, want, float64(abs)/float64(max(want, 1))*100)
				}
			}
		})
	}
}

func TestBucketBounds(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, time.Second, time.Hour} {
		i := bucketOf(d)
		if lo, hi := lowerBound(i), lowerBound(i+1); d < lo || d >= hi {
			t.Errorf("%d in bucket %d = [%d, %d)", d, i, lo, hi)
		}
	}
}
