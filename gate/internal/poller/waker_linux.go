package poller

import (
	"sync"
	"syscall"
	"unsafe"
)

// Waker is an eventfd: a file that any goroutine can make readable, to end a wait on an
// epoll set that holds it (when another goroutine has handed the waiting one work, or a
// dial it started has ended).
type Waker struct {
	mu sync.RWMutex // held to write fd, and to close it
	fd int          // -1 once closed
}

// NewWaker creates a waker, not readable until woken.
func NewWaker() (*Waker, error) {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, errno
	}
	return &Waker{fd: int(fd)}, nil
}

// FD is the waker's file, to add to an epoll set (or to WaitReadable).
func (w *Waker) FD() int { return w.fd }

// Wake makes the waker readable, from any goroutine; after Close it does nothing.
func (w *Waker) Wake() {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.fd >= 0 {
		one := uint64(1) // added to the eventfd's counter, in the machine's byte order
		_, _ = Write(w.fd, unsafe.Slice((*byte)(unsafe.Pointer(&one)), 8))
	}
}

// Clear takes the wake-ups so far: the waker is not readable until woken again. Only the
// goroutine that waits (and closes) calls it.
func (w *Waker) Clear() {
	var buf [8]byte
	_, _ = Read(w.fd, buf[:])
}

// Close closes the waker; a Wake in progress finishes first, and later ones do nothing.
func (w *Waker) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 {
		return nil
	}
	err := syscall.Close(w.fd)
	w.fd = -1
	return err
}
