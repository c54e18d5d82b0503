package poller

import (
	"context"
	"os"
	"sync"
	"time"
)

// A timerfd wakes the open model's schedule to the microsecond. Go's own timers wake in
// whole milliseconds (the runtime waits on epoll with a millisecond timeout), which
// sends a 2000/s schedule out in bursts of two, up to a millisecond late; a timerfd is
// a file the runtime's poller watches like a socket, and its readiness ends that same
// epoll wait at once.
type timerfdSleeper struct {
	f    *os.File
	fd   int
	buf  [8]byte
	mu   sync.Mutex
	done bool
	quit chan struct{}
	stop func() bool
}

// NewSleeper returns a Sleeper on a timerfd (on a Go timer if the system will not give
// one) whose sleeps end early, and for good, when ctx is done or stop is closed.
func NewSleeper(ctx context.Context, stop <-chan struct{}) Sleeper {
	fd, err := timerfdCreate()
	if err != nil {
		return newTimerSleeper(ctx, stop)
	}
	s := &timerfdSleeper{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd, quit: make(chan struct{})}
	s.stop = context.AfterFunc(ctx, s.interrupt)
	go func() {
		select {
		case <-stop:
			s.interrupt()
		case <-s.quit:
		}
	}()
	return s
}

// interrupt ends the sleep in progress and every later one.
func (s *timerfdSleeper) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		_ = s.f.SetReadDeadline(time.Unix(1, 0))
	}
}

func (s *timerfdSleeper) Sleep(d time.Duration) bool {
	if err := timerfdSet(s.fd, d); err != nil {
		return false
	}
	_, err := s.f.Read(s.buf[:])
	return err == nil
}

func (s *timerfdSleeper) Close() {
	s.stop()
	close(s.quit)
	s.f.Close()
}
