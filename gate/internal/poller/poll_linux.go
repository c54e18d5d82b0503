package poller

import (
	"errors"
	"syscall"
	"time"
	"unsafe"
)

// pollFD is struct pollfd of poll(2).
type pollFD struct {
	fd              int32
	events, revents int16
}

// maxPollFDs is how many files WaitReadable waits on at most.
const maxPollFDs = 4

// WaitReadable waits until one of fds (at most four) is readable, or timeout passes (a
// negative one waits for as long as it takes), and reports how many are: a ppoll(2),
// for a wait on a few files that must not end for the others of their epoll set (an
// event loop sleeping until its timer or its waker, but not for its connections). A
// wait a signal interrupted reports none.
func WaitReadable(timeout time.Duration, fds ...int) (int, error) {
	const pollIn = 0x1
	return wait(pollIn, timeout, fds...)
}

// WaitWritable waits until fd has room for a write, or timeout passes (a negative one
// waits for as long as it takes), and reports whether it has: a write that must finish
// before the caller goes on (a TLS record, which cannot be left half written) waits so
// on a non-blocking socket whose buffer is full. A wait a signal interrupted reports
// false.
func WaitWritable(fd int, timeout time.Duration) (bool, error) {
	const pollOut = 0x4
	n, err := wait(pollOut, timeout, fd)
	return n > 0, err
}

// wait is ppoll(2) of events on fds.
func wait(events int16, timeout time.Duration, fds ...int) (int, error) {
	if len(fds) > maxPollFDs {
		return 0, errors.New("poll: more than four files")
	}
	var pfds [maxPollFDs]pollFD
	for i, fd := range fds {
		pfds[i] = pollFD{fd: int32(fd), events: events}
	}
	var limit *syscall.Timespec // nil: no limit
	if timeout >= 0 {
		ts := syscall.NsecToTimespec(int64(timeout))
		limit = &ts
	}
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(limit)), 0, 0, 0)
	if errno == syscall.EINTR {
		return 0, nil
	}
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
