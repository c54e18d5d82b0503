package load

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"
)

// countdown is a Recorder that stops a benchmark's event loop after n samples. The loop
// calls it from its own goroutine only.
type countdown struct {
	n    int
	stop chan struct{}
}

func (c *countdown) Record(Sample) {
	c.n--
	if c.n == 0 {
		close(c.stop)
	}
}

// BenchmarkEventLoopRequest is one request of a closed-model user on the event loop,
// against the raw server of BenchmarkRequest: the loop's cost per request, allocations
// included.
func BenchmarkEventLoopRequest(b *testing.B) {
	target := rawServer(b)
	p := mustPlan(b, "target: "+target+"\nload: {users: 1}\ntasks: [{path: /index.txt, headers: {Accept: text/plain}}]\n")
	stop := make(chan struct{})
	e := New(p, &countdown{n: b.N, stop: stop})
	if !e.loopEligible() {
		b.Fatal("not on the event loop")
	}
	e.failed, e.allActive = make(chan struct{}), make(chan struct{})
	l, err := e.newEventLoop()
	if err != nil {
		b.Fatal(err)
	}
	e.start = time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	l.pending <- 0
	l.wake()
	l.run(context.Background(), stop)
}

// loopbackFDs returns both ends of a loopback TCP connection as non-blocking descriptors
// of their own.
func loopbackFDs(b *testing.B) (client, server int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if client, err = dupFD(c); err != nil {
		b.Fatal(err)
	}
	if server, err = dupFD(s); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { syscall.Close(client); syscall.Close(server) })
	return client, server
}

// BenchmarkRead is a 100-byte response written on loopback and read, plainly and with
// its kernel receive stamp: what the stamp adds to a read.
func BenchmarkRead(b *testing.B) {
	msg := make([]byte, 100)
	buf := make([]byte, 4096)
	for _, stamped := range []bool{false, true} {
		name := "plain"
		if stamped {
			name = "stamped"
		}
		b.Run(name, func(b *testing.B) {
			client, server := loopbackFDs(b)
			var r stampReader
			if stamped {
				if err := enableRxStamps(client); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rawIO(syscall.SYS_WRITE, server, msg); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < len(msg); {
					var n int
					var err error
					if stamped {
						n, _, err = r.read(client, buf)
					} else {
						n, err = rawIO(syscall.SYS_READ, client, buf)
					}
					if err != nil && err != syscall.EAGAIN {
						b.Fatal(err)
					}
					got += n
				}
			}
		})
	}
}

// BenchmarkWake is one wake-up of an event loop: its eventfd written, epoll's wait
// returning it, and the eventfd read.
func BenchmarkWake(b *testing.B) {
	e := New(mustPlan(b, "target: http://127.0.0.1:9\nload: {users: 1}\ntasks: [{path: /}]\n"), discard{})
	l, err := e.newEventLoop()
	if err != nil {
		b.Fatal(err)
	}
	defer l.closeAll()
	events := make([]syscall.EpollEvent, 8)
	var buf [8]byte
	b.ReportAllocs()
	for b.Loop() {
		l.wake()
		n, err := syscall.EpollWait(l.ep, events, 5)
		if err != nil || n != 1 || events[0].Fd != wakeSlot {
			b.Fatalf("%d events, %v", n, err)
		}
		if _, err := rawIO(syscall.SYS_READ, l.wakeFD, buf[:]); err != nil {
			b.Fatal(err)
		}
	}
}
