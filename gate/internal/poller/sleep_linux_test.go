package poller

import (
	"context"
	"testing"
	"time"
)

// The schedule's sleeper never wakes early, and a cancelled run or a failed one ends a
// sleep at once. (How precisely it wakes is measured by the peer harness, not here.)
func TestTimerfdSleeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	failed := make(chan struct{})
	s := NewSleeper(ctx, failed)
	if _, ok := s.(*timerfdSleeper); !ok {
		t.Fatalf("sleeper is %T, want the timerfd", s)
	}
	for _, d := range []time.Duration{time.Microsecond, 300 * time.Microsecond, 2 * time.Millisecond} {
		start := time.Now()
		if !s.Sleep(d) {
			t.Fatal("sleep ended as interrupted")
		}
		if took := time.Since(start); took < d {
			t.Errorf("asked for %v, woke after %v", d, took)
		}
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if s.Sleep(time.Minute) {
		t.Error("a cancelled sleep reported a full one")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancel ended the sleep after %v", took)
	}
	s.Close()

	s = NewSleeper(context.Background(), failed)
	defer s.Close()
	time.AfterFunc(50*time.Millisecond, func() { close(failed) })
	if s.Sleep(time.Minute) {
		t.Error("a failed run's sleep reported a full one")
	}
	if s.Sleep(time.Millisecond) {
		t.Error("a sleep after the run failed did not end at once")
	}
}
