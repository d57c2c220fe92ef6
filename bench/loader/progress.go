package loader

import "sync/atomic"

// Progress counts a run's successful operations as they complete, so that
// a caller can sample a window of the run (the benchmark matrix measures
// the nodes' CPU time between two samples, away from the start and the end
// of a cell). Its methods are safe for concurrent use; the zero value is
// ready.
type Progress struct {
	ops, bytes atomic.Int64
}

// add counts one successful operation of n bytes.
func (p *Progress) add(n int64) {
	p.bytes.Add(n)
	p.ops.Add(1)
}

// Load returns the operations and bytes counted so far. The two are read
// one after the other, not as one snapshot: at most the operations that
// complete in between are off by one.
func (p *Progress) Load() (ops, bytes int64) {
	return p.ops.Load(), p.bytes.Load()
}
