package load

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"
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
	return "http://" + ln.Addr().String()
}

type discard struct{}

func (discard) Record(Sample) {}

// BenchmarkRequest is one request of a closed-model user: the generator's cost per
// request, allocations included, for the fast path and for net/http.
func BenchmarkRequest(b *testing.B) {
	target := rawServer(b)
	for _, tc := range []struct {
		name string
		opts []Option
	}{{"fast", nil}, {"net-http", []Option{WithStdlibClient()}}} {
		b.Run(tc.name, func(b *testing.B) {
			p := mustPlan(b, "target: "+target+"\ntasks: [{path: /index.txt, headers: {Accept: text/plain}}]\n")
			e := New(p, discard{}, tc.opts...)
			e.failed = make(chan struct{})
			u, closeConns := e.newUser(0)
			defer closeConns()
			ctx := context.Background()
			task := &p.Tasks[0]
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := u.do(ctx, task, closedRequest); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
