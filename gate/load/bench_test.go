package load

import (
	"context"
	"strings"
	"testing"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// rawServer answers every request on a connection with a fixed 100-byte response, as
// fast as a server can: the benchmarks below measure the client alone.
func rawServer(tb testing.TB) string {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 100))
	return "http://" + loopback.Fixed(tb, resp)
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
