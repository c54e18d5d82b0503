package poller

import (
	"context"
	"testing"
	"time"
)

// The Go-timer sleeper, where there is no timerfd, never wakes early either, and a
// cancelled or stopped run ends its sleep at once.
func TestTimerSleeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	s := newTimerSleeper(ctx, stop)
	start := time.Now()
	if !s.Sleep(2*time.Millisecond) || time.Since(start) < 2*time.Millisecond {
		t.Errorf("a 2ms sleep ended after %v, or as interrupted", time.Since(start))
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	if s.Sleep(time.Minute) || time.Since(start) > time.Second {
		t.Errorf("cancel ended the sleep after %v, or not as interrupted", time.Since(start))
	}
	s.Close()

	s = newTimerSleeper(context.Background(), stop)
	defer s.Close()
	time.AfterFunc(50*time.Millisecond, func() { close(stop) })
	if s.Sleep(time.Minute) {
		t.Error("a stopped run's sleep reported a full one")
	}
	start = time.Now()
	if s.Sleep(time.Minute) || time.Since(start) > time.Second {
		t.Errorf("a sleep after the stop ended after %v, or not as interrupted", time.Since(start))
	}
}
