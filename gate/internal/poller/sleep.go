package poller

import (
	"context"
	"time"
)

// Sleeper waits until the next arrival of a schedule is due, in a goroutine of its own
// (the open model's dispatcher when it does not run on an event loop).
type Sleeper interface {
	// Sleep waits d; false if the sleeper was interrupted first.
	Sleep(d time.Duration) bool
	// Close releases the sleeper.
	Close()
}

// timerSleeper sleeps on a Go timer.
type timerSleeper struct {
	t    *time.Timer
	done <-chan struct{}
	stop <-chan struct{}
}

func newTimerSleeper(ctx context.Context, stop <-chan struct{}) Sleeper {
	return &timerSleeper{t: time.NewTimer(time.Hour), done: ctx.Done(), stop: stop}
}

func (s *timerSleeper) Sleep(d time.Duration) bool {
	s.t.Reset(d)
	select {
	case <-s.t.C:
		return true
	case <-s.done:
	case <-s.stop:
	}
	return false
}

func (s *timerSleeper) Close() { s.t.Stop() }
