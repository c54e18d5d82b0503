package poller

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// ErrWouldBlock is the error of a read from an empty non-blocking socket, or a write to
// a full one (EAGAIN).
const ErrWouldBlock = syscall.EAGAIN

// Read reads a non-blocking socket. Such a call never blocks, so it needs none of the
// runtime's bookkeeping for a system call that might (the syscall package's Read and
// Write do it on every call). 0 bytes and no error is the end of the stream.
func Read(fd int, b []byte) (int, error) { return rawIO(syscall.SYS_READ, fd, b) }

// Write writes a non-blocking socket, as much of b as it takes; see Read.
func Write(fd int, b []byte) (int, error) { return rawIO(syscall.SYS_WRITE, fd, b) }

// rawIO reads or writes a non-blocking socket without the runtime's bookkeeping.
func rawIO(trap uintptr, fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// Close closes a file descriptor, such as one DupFD gave.
func Close(fd int) error { return syscall.Close(fd) }

// DupFD takes a copy of a connection's socket, for an epoll set of the caller's own
// (the runtime's poller keeps the original); the copy shares the socket's non-blocking
// mode, and is closed on exec. The caller closes both.
func DupFD(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, errors.New("dup: the connection has no socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	syscall.CloseOnExec(fd)
	return fd, nil
}
