package job

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"miniais/cluster"
)

// Defaults of a Registry's retention.
const (
	DefaultMaxEnded = 256
	DefaultTTL      = time.Hour
)

// Registry holds a node's jobs by ID: every running job, and the ended ones
// within its retention. It is safe for concurrent use.
type Registry struct {
	// MaxEnded bounds the ended jobs kept (0: DefaultMaxEnded).
	MaxEnded int
	// TTL is how long an ended job is kept (0: DefaultTTL).
	TTL time.Duration

	mu   sync.Mutex
	jobs map[string]*Job
	now  func() time.Time // tests
}

// Add registers j. It fails with an error wrapping cluster.ErrExists when a
// job with j's ID is registered.
func (r *Registry) Add(j *Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[string]*Job{}
	}
	if r.jobs[j.ID()] != nil {
		return cluster.Errorf(cluster.ErrExists, "job %s", j.ID())
	}
	r.prune()
	r.jobs[j.ID()] = j
	return nil
}

// Get returns the job with id, or nil.
func (r *Registry) Get(id string) *Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
	return r.jobs[id]
}

// Filter selects jobs; its zero value selects every one.
type Filter struct {
	// ID, when set, selects that job only.
	ID string
	// Kind, when set, selects jobs of that kind.
	Kind string
	// Bucket, when its Name is set, selects jobs about it (Job.Touches).
	Bucket cluster.Bucket
	// OnlyRunning leaves out the jobs that have ended.
	OnlyRunning bool
}

// Match reports whether f selects j.
func (f *Filter) Match(j *Job) bool {
	switch {
	case f.ID != "" && j.ID() != f.ID:
		return false
	case f.Kind != "" && j.Kind() != f.Kind:
		return false
	case f.Bucket.Name != "" && !j.Touches(f.Bucket):
		return false
	case f.OnlyRunning && !j.Running():
		return false
	}
	return true
}

// Select returns the jobs f selects, oldest first.
func (r *Registry) Select(f Filter) []*Job {
	r.mu.Lock()
	r.prune()
	var out []*Job
	for _, j := range r.jobs {
		if f.Match(j) {
			out = append(out, j)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *Job) int {
		if c := a.StartTime().Compare(b.StartTime()); c != 0 {
			return c
		}
		return cmp.Compare(a.ID(), b.ID())
	})
	return out
}

// prune drops ended jobs older than the TTL, then the oldest ended ones
// beyond MaxEnded. Callers hold r.mu.
func (r *Registry) prune() {
	ttl, maxEnded := r.TTL, r.MaxEnded
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if maxEnded <= 0 {
		maxEnded = DefaultMaxEnded
	}
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	type ended struct {
		id  string
		end time.Time
	}
	var kept []ended
	for id, j := range r.jobs {
		st, end, _ := j.State()
		switch {
		case st == Running:
		case now().Sub(end) > ttl:
			delete(r.jobs, id)
		default:
			kept = append(kept, ended{id, end})
		}
	}
	if len(kept) <= maxEnded {
		return
	}
	slices.SortFunc(kept, func(a, b ended) int { return a.end.Compare(b.end) })
	for _, e := range kept[:len(kept)-maxEnded] {
		delete(r.jobs, e.id)
	}
}
