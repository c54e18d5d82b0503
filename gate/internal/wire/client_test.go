package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// scripted serves each connection by reading one request head at a time and answering
// with the next of responses (raw bytes); after the last one it closes the connection.
func scripted(t *testing.T, responses ...string) (addr string, conns *atomic.Int64) {
	return loopback.Scripted(t, loopback.Write, responses...)
}

const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

func TestClientResponses(t *testing.T) {
	cases := []struct {
		name, resp string
		head       bool
		status     int
		body       string
		closes     bool // the server closes the connection after the response
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, "hello", false},
		{"chunked", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n", false, 201, "hello world", false},
		{"no body on 204", "HTTP/1.1 204 No Content\r\n\r\n", false, 204, "", false},
		{"no body on HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true, 200, "", false},
		{"100 continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", false, 200, "ok", false},
		{"lower-case headers", "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\nnah", false, 404, "nah", false},
		{"HTTP/1.0 body to EOF", "HTTP/1.0 200 OK\r\n\r\nuntil close", false, 200, "until close", true},
		{"large body", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("z", 100000), false, 200, strings.Repeat("z", 100000), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			responses := []string{tc.resp, tc.resp}
			if tc.closes {
				responses = responses[:1]
			}
			addr, _ := scripted(t, responses...)
			c := NewClient(addr, time.Second)
			defer c.Close()
			for i := range 2 { // twice: the connection must be left ready for the next request
				var body bytes.Buffer
				res, err := c.RoundTrip(context.Background(), []byte(get), true, tc.head, time.Second, &body)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if res.Status != tc.status || body.String() != tc.body || res.Bytes != int64(len(tc.body)) {
					t.Fatalf("request %d: status %d, %d bytes %q", i, res.Status, res.Bytes, body.String())
				}
			}
		})
	}
}

func TestClientKeepsAlive(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	addr, conns := scripted(t, resp, resp, resp, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
	c := NewClient(addr, time.Second)
	defer c.Close()
	for i := range 6 {
		if _, err := c.RoundTrip(context.Background(), []byte(get), true, false, time.Second, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	// Four on the first connection (the fourth says close), two on the second.
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestClientRetriesAnIdleCloseOnce(t *testing.T) {
	// The server answers one request per connection, then closes it without saying so:
	// the next request on it fails before any byte arrives, and is sent again.
	addr, conns := scripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	c := NewClient(addr, time.Second)
	defer c.Close()
	for i := range 3 {
		if _, err := c.RoundTrip(context.Background(), []byte(get), true, false, time.Second, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
	// A POST is not replayed: the failure is reported.
	c2 := NewClient(addr, time.Second)
	defer c2.Close()
	post := []byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	if _, err := c2.RoundTrip(context.Background(), post, false, false, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := c2.RoundTrip(context.Background(), post, false, false, time.Second, nil); err == nil {
		t.Error("a POST on a closed connection was silently sent again")
	}
}

// The client's errors say what went wrong: a response that is not HTTP is ErrMalformed,
// one cut short an unexpected EOF, silence a timeout (the engine classifies them).
func TestClientErrors(t *testing.T) {
	cases := []struct {
		name, resp string
		want       error
	}{
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", ErrMalformed},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", ErrMalformed},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", ErrMalformed},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ErrMalformed},
		{"head too large", "HTTP/1.1 200 OK\r\nX-Large: " + strings.Repeat("a", MaxHeaderBytes), ErrHeadersTooLarge},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly this", io.ErrUnexpectedEOF},
		{"closed before answering", "", io.EOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := scripted(t, tc.resp)
			c := NewClient(addr, time.Second)
			defer c.Close()
			_, err := c.RoundTrip(context.Background(), []byte(get), true, false, time.Second, nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // never answers
		}
	}()
	c := NewClient(ln.Addr().String(), time.Second)
	defer c.Close()
	start := time.Now()
	_, err = c.RoundTrip(context.Background(), []byte(get), true, false, 100*time.Millisecond, nil)
	if !isTimeout(err) || time.Since(start) > time.Second {
		t.Errorf("err %v after %v, want a timeout after 100ms", err, time.Since(start))
	}
}
