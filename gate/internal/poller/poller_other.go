//go:build !linux

package poller

import (
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Elsewhere than Linux the primitives exist so that the package builds, and report
// ErrNotSupported; only NewSleeper works, on a Go timer.

// ErrWouldBlock is the error of a read from an empty non-blocking socket, or a write to
// a full one (EAGAIN).
const ErrWouldBlock = syscall.EAGAIN

// Epoll is an epoll set; there is none on this system.
type Epoll struct{}

// Event is what Wait reports of one file.
type Event struct{}

// Slot is the slot number the file was added with.
func (e *Event) Slot() int { return -1 }

// Events are the events that occurred.
func (e *Event) Events() uint32 { return 0 }

// NewEpoll reports ErrNotSupported.
func NewEpoll() (*Epoll, error) { return nil, ErrNotSupported }

// Add reports ErrNotSupported.
func (p *Epoll) Add(fd int, events uint32, slot int) error { return ErrNotSupported }

// Modify reports ErrNotSupported.
func (p *Epoll) Modify(fd int, events uint32, slot int) error { return ErrNotSupported }

// Delete reports ErrNotSupported.
func (p *Epoll) Delete(fd int) error { return ErrNotSupported }

// Wait reports ErrNotSupported.
func (p *Epoll) Wait(events []Event, timeout time.Duration) (int, error) {
	return 0, ErrNotSupported
}

// Close does nothing.
func (p *Epoll) Close() error { return nil }

// Waker is an eventfd; there is none on this system.
type Waker struct{}

// NewWaker reports ErrNotSupported.
func NewWaker() (*Waker, error) { return nil, ErrNotSupported }

// FD is -1: no file.
func (w *Waker) FD() int { return -1 }

// Wake does nothing.
func (w *Waker) Wake() {}

// Clear does nothing.
func (w *Waker) Clear() {}

// Close does nothing.
func (w *Waker) Close() error { return nil }

// Timer is a timerfd; there is none on this system.
type Timer struct{}

// NewTimer reports ErrNotSupported.
func NewTimer() (*Timer, error) { return nil, ErrNotSupported }

// FD is -1: no file.
func (t *Timer) FD() int { return -1 }

// Set reports ErrNotSupported.
func (t *Timer) Set(d time.Duration) error { return ErrNotSupported }

// Clear does nothing.
func (t *Timer) Clear() {}

// Close does nothing.
func (t *Timer) Close() error { return nil }

// WaitReadable reports ErrNotSupported.
func WaitReadable(timeout time.Duration, fds ...int) (int, error) { return 0, ErrNotSupported }

// WaitWritable reports ErrNotSupported.
func WaitWritable(fd int, timeout time.Duration) (bool, error) { return false, ErrNotSupported }

// StampReader reads a socket with the receive time of its data; not on this system.
type StampReader struct{}

// EnableRxStamps reports ErrNotSupported.
func EnableRxStamps(fd int) error { return ErrNotSupported }

// Read reports ErrNotSupported.
func (r *StampReader) Read(fd int, b []byte) (n int, stamp int64, err error) {
	return 0, 0, ErrNotSupported
}

// Stamped is false: nothing is stamped.
func (r *StampReader) Stamped() bool { return false }

// Read reports ErrNotSupported.
func Read(fd int, b []byte) (int, error) { return 0, ErrNotSupported }

// Write reports ErrNotSupported.
func Write(fd int, b []byte) (int, error) { return 0, ErrNotSupported }

// Close reports ErrNotSupported.
func Close(fd int) error { return ErrNotSupported }

// DupFD reports ErrNotSupported.
func DupFD(c net.Conn) (int, error) { return -1, ErrNotSupported }

// Connect reports ErrNotSupported.
func Connect(addr netip.AddrPort) (fd int, err error) { return -1, ErrNotSupported }

// ConnectError reports ErrNotSupported.
func ConnectError(fd int) error { return ErrNotSupported }
