package poller

import (
	"net"
	"testing"
	"time"
)

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
	if client, err = DupFD(c); err != nil {
		b.Fatal(err)
	}
	if server, err = DupFD(s); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { Close(client); Close(server) })
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
			var r StampReader
			if stamped {
				if err := EnableRxStamps(client); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Write(server, msg); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < len(msg); {
					var n int
					var err error
					if stamped {
						n, _, err = r.Read(client, buf)
					} else {
						n, err = Read(client, buf)
					}
					if err != nil && err != ErrWouldBlock {
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
	ep, err := NewEpoll()
	if err != nil {
		b.Fatal(err)
	}
	defer ep.Close()
	w, err := NewWaker()
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	const wakeSlot = -2
	if err := ep.Add(w.FD(), Readable, wakeSlot); err != nil {
		b.Fatal(err)
	}
	events := make([]Event, 8)
	b.ReportAllocs()
	for b.Loop() {
		w.Wake()
		n, err := ep.Wait(events, 5*time.Millisecond)
		if err != nil || n != 1 || events[0].Slot() != wakeSlot {
			b.Fatalf("%d events, %v", n, err)
		}
		w.Clear()
	}
}
