package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// The fast path: plain-HTTP/1.1 keep-alive requests written and read by hand on a
// connection that belongs to one user. net/http costs several times the CPU per request
// (contexts, header maps, a goroutine per connection, buffered copies); a load generator
// that spends its CPU on itself measures itself. Anything unusual (HTTPS, a proxy, the
// stdlib client asked for) goes through net/http instead. Both paths send the same
// request, follow no redirect, ask for no compression, and count body bytes as received.

const (
	// Most responses of a load test are small: a user starts with a small buffer, and
	// one that meets a large body gets a larger one, to read it in fewer syscalls.
	fastReadBuf    = 4 << 10
	bodyReadBuf    = 64 << 10
	maxHeaderBytes = 1 << 20
)

var errMalformed = errors.New("malformed HTTP response")

// fastClient is one user's connection to the target.
type fastClient struct {
	addr    string // host:port to dial
	dialer  net.Dialer
	conn    net.Conn
	stopped func() bool // unregisters the cancellation hook of conn
	buf     []byte      // read buffer; buf[r:w] is unread
	r, w    int
	used    bool // conn has carried a response before: it may have been closed idle
}

func newFastClient(addr string, timeout time.Duration) *fastClient {
	return &fastClient{
		addr:   addr,
		dialer: net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		buf:    make([]byte, fastReadBuf),
	}
}

// close drops the connection.
func (c *fastClient) close() {
	if c.conn != nil {
		c.stopped()
		c.conn.Close()
		c.conn = nil
	}
	c.r, c.w, c.used = 0, 0, false
}

func (c *fastClient) connect(ctx context.Context) error {
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	// A cancelled run unblocks whatever this connection is doing.
	c.stopped = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// fastResult is what a round trip gives back.
type fastResult struct {
	status int
	bytes  int64
}

// roundTrip writes req (a whole serialised request) and reads the response. The first
// keep bytes of the body are appended to body (when body is not nil); the rest is
// counted and dropped. A request on a reused connection that fails before any byte of
// the response arrived is sent once more on a new one, if idempotent: the server may
// have closed the idle connection as we wrote.
func (c *fastClient) roundTrip(ctx context.Context, req []byte, idempotent, head bool, timeout time.Duration, body *bytes.Buffer) (fastResult, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil && c.used
		if c.conn == nil {
			if err := c.connect(ctx); err != nil {
				return fastResult{}, err
			}
		}
		_ = c.conn.SetDeadline(time.Now().Add(timeout))
		res, gotBytes, err := c.exchange(req, head, body)
		if err == nil {
			c.used = true
			return res, nil
		}
		c.close()
		if !reused || gotBytes || !idempotent || attempt > 0 || ctx.Err() != nil || isTimeout(err) {
			return res, err
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// exchange is one write and one response. gotBytes says whether any of the response
// arrived, which rules out a retry.
func (c *fastClient) exchange(req []byte, head bool, body *bytes.Buffer) (res fastResult, gotBytes bool, err error) {
	if _, err := c.conn.Write(req); err != nil {
		return res, false, err
	}
	c.r, c.w = 0, 0
	for {
		status, closeAfter, length, chunked, err := c.readHeader()
		if err != nil {
			return res, c.w > 0, err
		}
		if status >= 100 && status < 200 {
			continue // 100 Continue, 103 Early Hints: the real response follows
		}
		res.status = status
		switch {
		case head || status == 204 || status == 304:
		case chunked:
			res.bytes, err = c.readChunked(body)
		case length >= 0:
			res.bytes, err = c.readN(length, body)
		default:
			res.bytes, err = c.readToEOF(body)
			closeAfter = true
		}
		if err != nil {
			return res, true, err
		}
		if closeAfter {
			c.close()
		}
		return res, true, nil
	}
}

// fill reads more into the buffer, compacting or growing it as needed.
func (c *fastClient) fill() error {
	if c.r > 0 && c.r == c.w {
		c.r, c.w = 0, 0
	}
	if c.w == len(c.buf) {
		if c.r > 0 {
			copy(c.buf, c.buf[c.r:c.w])
			c.w -= c.r
			c.r = 0
		} else {
			if len(c.buf) >= maxHeaderBytes {
				return errors.New("response headers are larger than 1 MB")
			}
			grown := make([]byte, 2*len(c.buf))
			copy(grown, c.buf[:c.w])
			c.buf = grown
		}
	}
	n, err := c.conn.Read(c.buf[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readHeader parses a status line and headers.
func (c *fastClient) readHeader() (status int, closeAfter bool, length int64, chunked bool, err error) {
	length = -1
	var end int
	for {
		if i := bytes.Index(c.buf[c.r:c.w], []byte("\r\n\r\n")); i >= 0 {
			end = c.r + i + 4
			break
		}
		if err := c.fill(); err != nil {
			if err == io.EOF && c.w > c.r {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, -1, false, err
		}
	}
	head := c.buf[c.r:end]
	c.r = end
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// HTTP/1.x NNN reason
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, -1, false, errMalformed
	}
	status = atoi3(line[9:12])
	if status < 100 || (len(line) > 12 && line[12] != ' ') {
		return 0, false, -1, false, errMalformed
	}
	closeAfter = line[7] == '0' // HTTP/1.0 closes unless it says keep-alive
	for len(rest) > 2 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, -1, false, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case equalFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return 0, false, -1, false, fmt.Errorf("%w: bad Content-Length", errMalformed)
			}
			length = n
		case equalFold(name, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case equalFold(name, "connection"):
			v := bytes.ToLower(value)
			if bytes.Contains(v, []byte("close")) {
				closeAfter = true
			} else if bytes.Contains(v, []byte("keep-alive")) {
				closeAfter = false
			}
		}
	}
	return status, closeAfter, length, chunked, nil
}

func atoi3(b []byte) int {
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return -1
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

// equalFold compares an ASCII header name with a lower-case one.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// take consumes up to n buffered bytes, keeping what fits in body.
func (c *fastClient) take(n int64, body *bytes.Buffer) int64 {
	avail := int64(c.w - c.r)
	if n > avail {
		n = avail
	}
	if body != nil && body.Len() < maxCheckedBody {
		keep := min(n, int64(maxCheckedBody-body.Len()))
		body.Write(c.buf[c.r : c.r+int(keep)])
	}
	c.r += int(n)
	return n
}

// growForBody gives a user who reads a large body a larger buffer.
func (c *fastClient) growForBody(remaining int64) {
	if remaining > int64(len(c.buf)) && len(c.buf) < bodyReadBuf {
		grown := make([]byte, bodyReadBuf)
		c.w = copy(grown, c.buf[c.r:c.w])
		c.r = 0
		c.buf = grown
	}
}

// readN reads a body of n bytes.
func (c *fastClient) readN(n int64, body *bytes.Buffer) (int64, error) {
	c.growForBody(n - int64(c.w-c.r))
	var got int64
	for got < n {
		if c.r == c.w {
			if err := c.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return got, err
			}
		}
		got += c.take(n-got, body)
	}
	return got, nil
}

// readToEOF reads a body that ends when the server closes the connection.
func (c *fastClient) readToEOF(body *bytes.Buffer) (int64, error) {
	c.growForBody(bodyReadBuf)
	var got int64
	for {
		got += c.take(int64(c.w-c.r), body)
		if err := c.fill(); err != nil {
			if err == io.EOF {
				return got + c.take(int64(c.w-c.r), body), nil
			}
			return got, err
		}
	}
}

// readLine returns the next CRLF-terminated line, without the CRLF.
func (c *fastClient) readLine() ([]byte, error) {
	for {
		if i := bytes.Index(c.buf[c.r:c.w], []byte("\r\n")); i >= 0 {
			line := c.buf[c.r : c.r+i]
			c.r += i + 2
			return line, nil
		}
		if c.w-c.r > 4096 {
			return nil, fmt.Errorf("%w: chunk line too long", errMalformed)
		}
		if err := c.fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// readChunked reads a chunked body and its trailer.
func (c *fastClient) readChunked(body *bytes.Buffer) (int64, error) {
	var total int64
	for {
		line, err := c.readLine()
		if err != nil {
			return total, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return total, fmt.Errorf("%w: bad chunk size", errMalformed)
		}
		if size == 0 {
			for { // trailer lines, then an empty line
				l, err := c.readLine()
				if err != nil {
					return total, err
				}
				if len(l) == 0 {
					return total, nil
				}
			}
		}
		n, err := c.readN(size, body)
		total += n
		if err != nil {
			return total, err
		}
		if l, err := c.readLine(); err != nil {
			return total, err
		} else if len(l) != 0 {
			return total, fmt.Errorf("%w: chunk not followed by CRLF", errMalformed)
		}
	}
}
