package poller

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Epoll is an epoll set whose entries carry a slot number as their data: the caller's
// index of whatever a file belongs to (a connection's user, its waker, its timer), which
// Wait hands back with the file's events.
type Epoll struct {
	fd int // -1 once closed
	// parked is the set as a file of Go's own poller, for WaitParked: a duplicate of fd
	// (an epoll set is readable while it has events), made at the first park.
	parked *os.File
	conn   syscall.RawConn
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

// WaitParked is Wait, except that a wait that would block parks the calling goroutine in
// Go's own poller, where the set's descriptor is watched like a socket's, instead of
// blocking its thread in the kernel. A thread blocked in a system call keeps its Go
// processor (P) until the runtime takes it back, which it does only at its monitor's
// pace (up to 10 ms when it has been idle): meanwhile every other goroutine of the
// process that becomes ready (an in-process server, a dial, a clock) waits for a P. A
// parked goroutine gives its P back at once. Events already there are taken without a
// park.
func (p *Epoll) WaitParked(events []Event, timeout time.Duration) (int, error) {
	n, err := p.Wait(events, 0)
	if n > 0 || err != nil || timeout == 0 {
		return n, err
	}
	if p.conn == nil {
		if err := p.park(); err != nil {
			return p.Wait(events, timeout) // not pollable here: block as Wait does
		}
	}
	if timeout > 0 {
		_ = p.parked.SetReadDeadline(time.Now().Add(timeout))
	} else {
		_ = p.parked.SetReadDeadline(time.Time{})
	}
	rerr := p.conn.Read(func(uintptr) bool {
		n, err = p.Wait(events, 0)
		return n > 0 || err != nil
	})
	if rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		return 0, rerr
	}
	return n, err
}

// park makes the set a file of Go's poller.
func (p *Epoll) park() error {
	fd, err := syscall.Dup(p.fd)
	if err != nil {
		return err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	f := os.NewFile(uintptr(fd), "epoll")
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return err
	}
	// A file the poller could not watch would make every read block in the kernel.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return err
	}
	p.parked, p.conn = f, conn
	return nil
}

// Close closes the set; a closed set stays closed.
func (p *Epoll) Close() error {
	if p.fd < 0 {
		return nil
	}
	if p.parked != nil {
		p.parked.Close()
		p.parked, p.conn = nil, nil
	}
	err := syscall.Close(p.fd)
	p.fd = -1
	return err
}
