package poller

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// Connect makes a connection, over IPv4 or IPv6, that is ready once its socket turns
// writable, set up as net.Dialer sets one; one that nothing listens for is refused,
// at once or when it turns writable.
func TestConnect(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		ln, err := net.Listen(network, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network])
		if err != nil {
			t.Logf("%s: no loopback listener (%v)", network, err)
			continue
		}
		addr := netip.MustParseAddrPort(ln.Addr().String())
		fd, err := Connect(addr)
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		if ok, err := WaitWritable(fd, 5*time.Second); !ok || err != nil {
			t.Fatalf("%s: not writable: %v", network, err)
		}
		if err := ConnectError(fd); err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		for _, o := range []struct {
			level, name int
			what        string
		}{{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, "TCP_NODELAY"}, {syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, "SO_KEEPALIVE"}} {
			if v, err := syscall.GetsockoptInt(fd, o.level, o.name); err != nil || v == 0 {
				t.Errorf("%s: %s is %d (%v)", network, o.what, v, err)
			}
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(fd, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2)
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := s.Read(buf); err != nil || string(buf) != "hi" {
			t.Errorf("%s: the server read %q, %v", network, buf, err)
		}
		s.Close()
		Close(fd)
		ln.Close() // nothing listens there now
		fd, err = Connect(addr)
		if err == nil {
			WaitWritable(fd, 5*time.Second)
			err = ConnectError(fd)
			Close(fd)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: a dial nothing listens for: %v, want ECONNREFUSED", network, err)
		}
	}
}
