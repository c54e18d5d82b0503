package poller

import (
	"syscall"
	"time"
	"unsafe"
)

// Timer is a timerfd on the monotonic clock: a file that becomes readable when the time
// it is set for comes, so that it wakes an epoll wait (or WaitReadable) to the
// microsecond, where Go's own timers wake in whole milliseconds (see NewSleeper).
type Timer struct {
	fd int // -1 once closed
}

type itimerspec struct{ interval, value syscall.Timespec }

// timerfdCreate makes a non-blocking timerfd on the monotonic clock.
func timerfdCreate() (int, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// timerfdSet arms the timerfd to fire once, d from now; a d of zero or less fires at once
// (a zero time would disarm it).
func timerfdSet(fd int, d time.Duration) error {
	spec := itimerspec{value: syscall.NsecToTimespec(max(int64(d), 1))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// NewTimer creates a timer, not set.
func NewTimer() (*Timer, error) {
	fd, err := timerfdCreate()
	if err != nil {
		return nil, err
	}
	return &Timer{fd: fd}, nil
}

// FD is the timer's file, to add to an epoll set (or to WaitReadable).
func (t *Timer) FD() int { return t.fd }

// Set makes the timer fire once, d from now (at once if d is zero or less), in place of
// any time it was set for.
func (t *Timer) Set(d time.Duration) error { return timerfdSet(t.fd, d) }

// Clear takes the timer's expiry: it is not readable until it fires again.
func (t *Timer) Clear() {
	var buf [8]byte
	_, _ = Read(t.fd, buf[:])
}

// Close closes the timer; a closed timer stays closed.
func (t *Timer) Close() error {
	if t.fd < 0 {
		return nil
	}
	err := syscall.Close(t.fd)
	t.fd = -1
	return err
}
