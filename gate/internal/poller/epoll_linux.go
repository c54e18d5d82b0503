package poller

import (
	"syscall"
	"time"
	"unsafe"
)

// Epoll is an epoll set whose entries carry a slot number as their data: the caller's
// index of whatever a file belongs to (a connection's user, its waker, its timer), which
// Wait hands back with the file's events.
type Epoll struct {
	fd int // -1 once closed
}

// Event is what Wait reports of one file.
type Event struct {
	ev syscall.EpollEvent // of the kernel's layout, which differs by architecture
}

// Slot is the slot number the file was added with.
func (e *Event) Slot() int { return int(e.ev.Fd) }

// Events are the events that occurred (Readable, Writable, PeerClosed, Hangup, Error).
func (e *Event) Events() uint32 { return e.ev.Events }

// NewEpoll creates an empty epoll set.
func NewEpoll() (*Epoll, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &Epoll{fd: fd}, nil
}

// Add watches fd for events, reporting them with slot.
func (p *Epoll) Add(fd int, events uint32, slot int) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(slot)}
	return syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_ADD, fd, &ev)
}

// Modify changes what fd is watched for, and its slot.
func (p *Epoll) Modify(fd int, events uint32, slot int) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(slot)}
	return syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_MOD, fd, &ev)
}

// Delete stops watching fd (closing fd does it too, once every copy of it is closed).
func (p *Epoll) Delete(fd int) error {
	return syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_DEL, fd, nil)
}

// Wait waits until a watched file has events or timeout passes (in whole milliseconds;
// 0 does not wait, a negative timeout waits for as long as it takes), fills events with
// what occurred and reports how many. A wait a signal interrupted reports none.
func (p *Epoll) Wait(events []Event, timeout time.Duration) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	msec := int(timeout / time.Millisecond)
	if timeout < 0 {
		msec = -1
	}
	// Event is a syscall.EpollEvent and nothing more: the kernel fills them in place.
	evs := unsafe.Slice(&events[0].ev, len(events))
	n, err := syscall.EpollWait(p.fd, evs, msec)
	if err == syscall.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Close closes the set; a closed set stays closed.
func (p *Epoll) Close() error {
	if p.fd < 0 {
		return nil
	}
	err := syscall.Close(p.fd)
	p.fd = -1
	return err
}
