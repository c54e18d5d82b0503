package wire

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

// rawServer answers every request on a connection with a fixed 100-byte response, as
// fast as a server can: the benchmarks below measure the client alone.
func rawServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n" + string(bytes.Repeat([]byte("x"), 100)))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					// Read one request head (these requests have no body).
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
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkClientRoundTrip is one keep-alive request and its response on loopback: the
// client's cost per request, allocations included (the engine's BenchmarkRequest/fast
// adds a user's bookkeeping to it).
func BenchmarkClientRoundTrip(b *testing.B) {
	addr := rawServer(b)
	c := NewClient(addr, time.Second)
	defer c.Close()
	req := []byte("GET /index.txt HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/plain\r\nUser-Agent: perfgate\r\n\r\n")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.RoundTrip(ctx, req, true, false, time.Second, nil)
		if err != nil || res.Status != 200 || res.Bytes != 100 {
			b.Fatalf("%+v, %v", res, err)
		}
	}
}
