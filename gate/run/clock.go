package run

import "time"

// Clock is where a run reads the time and waits for window boundaries: the wall clock,
// or a fake one in tests, so that phases, windows and stops are tested without waiting.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once d has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's one-shot timer.
type Timer interface {
	// C receives the time when the timer fires.
	C() <-chan time.Time
	// Stop stops a timer that has not fired.
	Stop()
}

// Wall is the real clock.
var Wall Clock = wall{}

type wall struct{}

func (wall) Now() time.Time                 { return time.Now() }
func (wall) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

type wallTimer struct{ t *time.Timer }

func (t wallTimer) C() <-chan time.Time { return t.t.C }
func (t wallTimer) Stop()               { t.t.Stop() }

// nextBoundary is the first multiple of every after t, on the Unix epoch's scale: windows
// of every run (and every shard of one) start and end at the same instants, so that
// results recorded apart line up window for window.
func nextBoundary(t time.Time, every time.Duration) time.Time {
	n := t.UnixNano()
	return time.Unix(0, (n/int64(every)+1)*int64(every))
}
