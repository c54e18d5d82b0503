package wire

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// rawServer answers every request on a connection with a fixed 100-byte response, as
// fast as a server can: the benchmarks below measure the client alone.
func rawServer(tb testing.TB) string {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 100))
	return loopback.Fixed(tb, resp)
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
