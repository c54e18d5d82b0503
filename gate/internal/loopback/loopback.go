// Package loopback is test servers on 127.0.0.1 that speak HTTP by hand: the bytes a
// test scripts, as fast as a server can, or not HTTP at all. Each stops when its test
// ends.
package loopback

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// Serve serves every connection accepted on loopback with handle, each in its own
// goroutine, and closes it when handle returns. It returns the address, host:port.
func Serve(tb testing.TB, handle func(net.Conn)) string {
	tb.Helper()
	ln := listen(tb)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// Scripted answers the requests on each connection, one at a time (a head, and a body
// of its Content-Length), with the next of responses, sent by write; after the last it
// closes the connection. conns counts the connections accepted.
func Scripted(tb testing.TB, write func(c net.Conn, resp string) error, responses ...string) (addr string, conns *atomic.Int64) {
	tb.Helper()
	conns = &atomic.Int64{}
	addr = Serve(tb, func(c net.Conn) {
		conns.Add(1)
		r := bufio.NewReader(c)
		for _, resp := range responses {
			length := 0
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if n, ok := strings.CutPrefix(line, "Content-Length: "); ok {
					fmt.Sscanf(n, "%d", &length)
				}
				if line == "\r\n" {
					break
				}
			}
			if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
				return
			}
			if err := write(c, resp); err != nil {
				return
			}
		}
	})
	return addr, conns
}

// Write sends a response whole: Scripted's usual write.
func Write(c net.Conn, resp string) error {
	_, err := io.WriteString(c, resp)
	return err
}

// Fixed answers every request (a head without a body) with resp, as fast as a server
// can: benchmarks of a client measure the client alone.
func Fixed(tb testing.TB, resp []byte) string {
	tb.Helper()
	return Serve(tb, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) == 2 {
					break
				}
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	})
}

// RefusingAfterFirst answers the first request (a run's probe) with 200 and then stops
// listening, so that every connection after it is refused: a target that went down as
// the load began.
func RefusingAfterFirst(tb testing.TB) string {
	tb.Helper()
	ln := listen(tb)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_ = Write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}()
	return ln.Addr().String()
}

// listen listens on a free loopback port until the test ends.
func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// FreeAddr is a loopback address with a port free a moment ago, for a server the test
// starts in another process.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln := listen(tb)
	defer ln.Close()
	return ln.Addr().String()
}
