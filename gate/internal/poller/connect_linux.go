package poller

import (
	"net/netip"
	"os"
	"syscall"
)

// keepAliveSeconds is the idle time before a kept-alive connection's first probe, and
// the time between probes: net.Dialer's KeepAlive of the event loop's dials.
const keepAliveSeconds = 30

// Connect starts a TCP connection to addr (an address without a zone) on a new
// non-blocking socket and returns without waiting for it, as an event loop needs: its
// own thread must not wait for a goroutine of the runtime's poller, which every
// processor held in epoll_wait would leave waiting. The connection is made (or has
// failed: ConnectError says which) when the socket turns writable; in an epoll set, one
// made at once is writable when added. The socket is set up as net.Dialer sets one:
// closed on exec, no Nagle delay, kept alive.
func Connect(addr netip.AddrPort) (fd int, err error) {
	ip := addr.Addr().Unmap()
	family := syscall.AF_INET6
	var sa syscall.Sockaddr
	if ip.Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	}
	fd, err = syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	for _, o := range [...]struct{ level, name, value int }{
		{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, keepAliveSeconds},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, keepAliveSeconds},
	} {
		if err := syscall.SetsockoptInt(fd, o.level, o.name, o.value); err != nil {
			syscall.Close(fd)
			return -1, os.NewSyscallError("setsockopt", err)
		}
	}
	switch err := syscall.Connect(fd, sa); err {
	case nil, syscall.EINPROGRESS, syscall.EINTR:
		return fd, nil
	default:
		syscall.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
}

// ConnectError is how the connection Connect started on fd ended, once fd is writable:
// nil when it is made.
func ConnectError(fd int) error {
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if v != 0 {
		return os.NewSyscallError("connect", syscall.Errno(v))
	}
	return nil
}
