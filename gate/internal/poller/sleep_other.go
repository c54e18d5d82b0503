//go:build !linux

package poller

import "context"

// NewSleeper returns a Sleeper on a Go timer (there is no timerfd on this system) whose
// sleeps end early, and for good, when ctx is done or stop is closed.
func NewSleeper(ctx context.Context, stop <-chan struct{}) Sleeper {
	return newTimerSleeper(ctx, stop)
}
