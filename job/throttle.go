package job

import (
	"context"
	"time"
)

// Defaults of a Throttle.
const (
	// DefaultDuty is the share of time a job works while foreground
	// requests are being served.
	DefaultDuty = 0.05
	// DefaultMaxPause bounds one pause.
	DefaultMaxPause = 50 * time.Millisecond
)

// Throttle paces a job's work on one node so that foreground requests keep
// their latency: after each unit of work (one object) that took d, it
// pauses for d*(1-Duty)/Duty while Busy reports foreground activity, so
// that the job takes at most about Duty of the node's time then; when the
// node is idle the job runs at full speed. It is safe for concurrent use
// if Busy is.
type Throttle struct {
	// Busy reports whether foreground requests are in flight or were
	// served very recently. Nil means never busy.
	Busy func() bool
	// Duty is the share of time the job may work while busy, in (0, 1];
	// 0 means DefaultDuty.
	Duty float64
	// MaxPause bounds one pause (0: DefaultMaxPause).
	MaxPause time.Duration
}

// Pause returns how long to pause after a unit of work that took took, and
// whether the node is busy (a pause is due).
func (th *Throttle) Pause(took time.Duration, remoteBusy bool) time.Duration {
	busy := remoteBusy || (th.Busy != nil && th.Busy())
	if !busy {
		return 0
	}
	duty, maxPause := th.Duty, th.MaxPause
	if duty <= 0 || duty > 1 {
		duty = DefaultDuty
	}
	if maxPause <= 0 {
		maxPause = DefaultMaxPause
	}
	d := time.Duration(float64(took) * (1 - duty) / duty)
	return min(max(d, time.Millisecond), maxPause)
}

// Wait pauses after a unit of work that took took (see Pause); remoteBusy
// says that the peer the work went to is busy. It returns ctx's error when
// ctx ends first.
func (th *Throttle) Wait(ctx context.Context, took time.Duration, remoteBusy bool) error {
	d := th.Pause(took, remoteBusy)
	if d == 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
