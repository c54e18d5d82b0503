package load

import (
	"context"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
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

type itimerspec struct{ interval, value syscall.Timespec }

func newSleeper(ctx context.Context, failed <-chan struct{}) sleeper {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return newTimerSleeper(ctx, failed)
	}
	s := &timerfdSleeper{f: os.NewFile(fd, "timerfd"), fd: int(fd), quit: make(chan struct{})}
	s.stop = context.AfterFunc(ctx, s.interrupt)
	go func() {
		select {
		case <-failed:
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

func (s *timerfdSleeper) sleep(d time.Duration) bool {
	spec := itimerspec{value: syscall.NsecToTimespec(max(int64(d), 1))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(s.fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		return false
	}
	_, err := s.f.Read(s.buf[:])
	return err == nil
}

func (s *timerfdSleeper) close() {
	s.stop()
	close(s.quit)
	s.f.Close()
}
