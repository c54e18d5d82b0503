package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// parseAll feeds resp to a parser in pieces of size step (0: all at once), as reads
// would bring them, and closes the connection at the end when eof is set.
func parseAll(t *testing.T, resp string, head, eof bool, step int) (ResponseParser, *bytes.Buffer, error) {
	t.Helper()
	var p ResponseParser
	body := &bytes.Buffer{}
	p.Reset(head, body)
	var buf []byte
	for i := 0; i < len(resp); {
		n := len(resp) - i
		if step > 0 {
			n = min(step, n)
		}
		buf = append(buf, resp[i:i+n]...)
		i += n
		used, err := p.Feed(buf)
		if err != nil {
			return p, body, err
		}
		buf = buf[used:]
		if p.Done() {
			return p, body, nil
		}
	}
	if eof {
		return p, body, p.EOF(len(resp) > 0, buf)
	}
	return p, body, errors.New("incomplete")
}

func TestRespParser(t *testing.T) {
	cases := []struct {
		name, resp      string
		head, eof       bool
		status          int
		body            string
		closeAfter      bool
		wantErrContains string
	}{
		{name: "length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello"},
		{name: "empty", resp: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n", status: 200, body: "hello world"},
		{name: "to eof", resp: "HTTP/1.1 200 OK\r\n\r\nuntil close", eof: true, status: 200, body: "until close", closeAfter: true},
		{name: "continue first", resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", status: 201, body: "ok"},
		{name: "head", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", head: true, status: 200},
		{name: "no content", resp: "HTTP/1.1 204 No Content\r\n\r\n", status: 204},
		{name: "1.0 closes", resp: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", closeAfter: true},
		{name: "connection close", resp: "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", status: 503, body: "x", closeAfter: true},
		{name: "any case", resp: "HTTP/1.0 200 OK\r\nCONNECTION: Keep-Alive\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", status: 200, body: "x"},
		{name: "bare LF", resp: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok"},
		{name: "blanks around", resp: "HTTP/1.1 200 OK\r\ncontent-length:\t 2 \r\nX-Content-Lengtx: 9\r\nConnection:close\r\n\r\nok", status: 200, body: "ok", closeAfter: true},
		{name: "a length twice", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x"},
		{name: "two lengths", resp: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nContent-Length: 1\r\n\r\nx", wantErrContains: "two different Content-Length"},
		{name: "closed after a header line", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", eof: true, wantErrContains: "unexpected EOF"},
		{name: "closed in a header", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2", eof: true, wantErrContains: "unexpected EOF"},
		{name: "closed in a name", resp: "HTTP/1.1 200 OK\r\nContent-Len", eof: true, wantErrContains: "malformed"},
		{name: "closed in the status line", resp: "HTTP/1.1 20", eof: true, wantErrContains: "malformed"},
		{name: "garbage", resp: "HELLO\r\n\r\n", wantErrContains: "malformed"},
		{name: "no colon", resp: "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok", wantErrContains: "malformed"},
		{name: "signed length", resp: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", wantErrContains: "bad Content-Length"},
		{name: "empty length", resp: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", wantErrContains: "bad Content-Length"},
		{name: "huge length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", wantErrContains: "bad Content-Length"},
		{name: "bad length", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErrContains: "bad Content-Length"},
		{name: "bad chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErrContains: "bad chunk size"},
		{name: "cut short", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", eof: true, wantErrContains: "unexpected EOF"},
	}
	for _, tc := range cases {
		// Every way the bytes may arrive gives the same response.
		for _, step := range []int{0, 1, 2, 3, 7, 64} {
			p, body, err := parseAll(t, tc.resp, tc.head, tc.eof, step)
			if tc.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrContains) {
					t.Errorf("%s, pieces of %d: error %v, want %q", tc.name, step, err, tc.wantErrContains)
				}
				continue
			}
			if err != nil || p.Status() != tc.status || body.String() != tc.body || p.BodyBytes() != int64(len(tc.body)) || p.CloseAfter() != tc.closeAfter {
				t.Errorf("%s, pieces of %d: status %d, body %q (%d bytes), close %v, err %v", tc.name, step, p.Status(), body, p.BodyBytes(), p.CloseAfter(), err)
			}
		}
	}
}

func TestRespParserCountsBodiesItDoesNotKeep(t *testing.T) {
	var p ResponseParser
	p.Reset(false, nil)
	head := "HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n"
	n, err := p.Feed([]byte(head))
	if err != nil || n != len(head) {
		t.Fatalf("head: %d %v", n, err)
	}
	chunk := make([]byte, 64<<10)
	for !p.Done() {
		if _, err := p.Feed(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if p.BodyBytes() != 3000000 {
		t.Errorf("counted %d body bytes", p.BodyBytes())
	}
}

// A response parsed whole allocates nothing, whatever its headers.
func TestRespParserDoesNotAllocate(t *testing.T) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\nTransfer-Encoding: identity\r\n\r\nabc")
	var p ResponseParser
	allocs := testing.AllocsPerRun(100, func() {
		p.Reset(false, nil)
		if _, err := p.Feed(resp); err != nil || !p.Done() {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per response", allocs)
	}
}

// BenchmarkRespParser parses nginx's answer to the throughput benchmark, whole.
func BenchmarkRespParser(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Fri, 27 Nov 2026 01:27:48 GMT\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nLast-Modified: Fri, 27 Nov 2026 01:20:00 GMT\r\nConnection: keep-alive\r\nETag: \"6766e0a0-64\"\r\nAccept-Ranges: bytes\r\n\r\n" + strings.Repeat("n", 100))
	var p ResponseParser
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		p.Reset(false, nil)
		if _, err := p.Feed(resp); err != nil || !p.Done() {
			b.Fatal(err)
		}
	}
}

// FuzzRespParser: whatever the bytes, the parser does not panic, and the response (or
// the error) is the same however the bytes arrive.
func FuzzRespParser(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 3)
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 1)
	f.Add("HTTP/1.0 100 Continue\n\nHTTP/1.1 204 x\nConnection: close\n\n", 2)
	f.Fuzz(func(t *testing.T, resp string, step int) {
		step = 1 + abs(step)%16
		whole, _, werr := parseAll(t, resp, false, true, 0)
		piece, _, perr := parseAll(t, resp, false, true, step)
		if (werr == nil) != (perr == nil) || werr == nil && (whole.Status() != piece.Status() || whole.BodyBytes() != piece.BodyBytes() || whole.CloseAfter() != piece.CloseAfter()) {
			t.Errorf("whole: %d %d %v %v; in pieces of %d: %d %d %v %v", whole.Status(), whole.BodyBytes(), whole.CloseAfter(), werr, step, piece.Status(), piece.BodyBytes(), piece.CloseAfter(), perr)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
