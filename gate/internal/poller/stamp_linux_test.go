package poller

import (
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The kernel's stamp is when the data arrived, however late the reader is.
func TestRxStampIsTheArrivalNotTheRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	fd, err := DupFD(client)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := EnableRxStamps(fd); err != nil {
		t.Fatal(err)
	}

	var r StampReader
	buf := make([]byte, 64)
	// The kernel turns stamping on for the whole stack a moment after it is first asked
	// for (the first packets may go unstamped).
	for deadline := time.Now().Add(time.Second); ; {
		if _, err := server.Write([]byte("warm")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
		if _, stamp, err := r.Read(fd, buf); err == nil && stamp != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no receive stamp in a second")
		}
	}
	for i := range 3 {
		before := time.Now()
		if _, err := server.Write([]byte("response")); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		time.Sleep(30 * time.Millisecond) // the reader is late
		n, stamp, err := r.Read(fd, buf)
		now := time.Now()
		if err != nil || n != len("response") || stamp == 0 || !r.Stamped() {
			t.Fatalf("read %d: %d bytes, stamp %d (the reader stamped: %v), %v", i, n, stamp, r.Stamped(), err)
		}
		// The wall clock may be slewed, not stepped, in a test: 1 ms covers it.
		at := ArrivedAt(stamp, before, now)
		if at.Before(before) || at.After(after.Add(time.Millisecond)) {
			t.Errorf("read %d: arrived %v after the write began (which took %v), read %v after",
				i, at.Sub(before), after.Sub(before), now.Sub(before))
		}
	}
	// Without stamps asked for, a read says so.
	plain, err := DupFD(server)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(plain)
	if _, err := client.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if n, stamp, err := r.Read(plain, buf); err != nil || n != len("request") || stamp != 0 || r.Stamped() {
		t.Errorf("unstamped read: %d bytes, stamp %d (the reader stamped: %v), %v", n, stamp, r.Stamped(), err)
	}
}

// The control messages are walked by their lengths; a truncated or foreign one gives no
// stamp rather than a wrong one.
func TestStampReaderFindsTheTimestampMessage(t *testing.T) {
	put := func(oob []byte, level, typ int32, data []byte) int {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		h.Level, h.Type = level, typ
		h.SetLen(syscall.CmsgLen(len(data)))
		copy(oob[syscall.CmsgLen(0):], data)
		return syscall.CmsgSpace(len(data))
	}
	ts := syscall.NsecToTimespec(1_700_000_000_123_456_789)
	tsBytes := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))

	var r StampReader
	n := put(r.oob[:], syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, tsBytes)
	if got := r.stamp(n); got != 1_700_000_000_123_456_789 {
		t.Errorf("one message: stamp %d", got)
	}
	if got := r.stamp(n - 1); got != 0 {
		t.Errorf("truncated: stamp %d, want none", got)
	}

	r = StampReader{}
	n = put(r.oob[:], syscall.IPPROTO_IP, 1, []byte{1, 2, 3})
	n += put(r.oob[n:], syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, tsBytes)
	if got := r.stamp(n); got != 1_700_000_000_123_456_789 {
		t.Errorf("after another message: stamp %d", got)
	}
	if got := r.stamp(0); got != 0 {
		t.Errorf("no messages: stamp %d", got)
	}
}
