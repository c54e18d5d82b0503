package poller

import (
	"net"
	"testing"
	"time"
)

// A connection without a socket of its own is refused, not a panic.
func TestDupFDNeedsASocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if fd, err := DupFD(a); err == nil || fd != -1 {
		t.Errorf("DupFD of a pipe: %d, %v", fd, err)
	}
}

// Read and Write move bytes on a non-blocking socket, and an empty one would block.
func TestReadWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fd, err := DupFD(c)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	buf := make([]byte, 16)
	if n, err := Read(fd, buf); n != 0 || err != ErrWouldBlock {
		t.Errorf("read of an empty socket: %d, %v; want %v", n, err, ErrWouldBlock)
	}
	if n, err := Write(fd, []byte("ping")); n != 4 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	got := make([]byte, 4)
	if _, err := s.Read(got); err != nil || string(got) != "ping" {
		t.Fatalf("the peer read %q, %v", got, err)
	}
	if _, err := s.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Second); ; {
		n, err := Read(fd, buf)
		if err == ErrWouldBlock && time.Now().Before(deadline) {
			continue
		}
		if err != nil || string(buf[:n]) != "pong" {
			t.Errorf("read: %q, %v", buf[:n], err)
		}
		break
	}
	if n, err := Read(fd, nil); n != 0 || err != nil {
		t.Errorf("read into nothing: %d, %v", n, err)
	}
}
