package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/perfgate/perfgate/gate/internal/wire"
)

// The fast path: plain-HTTP/1.1 keep-alive requests written and read by hand on a
// connection that belongs to one user. net/http costs several times the CPU per request
// (contexts, header maps, a goroutine per connection, buffered copies); a load generator
// that spends its CPU on itself measures itself. Anything unusual (HTTPS, a proxy, the
// stdlib client asked for) goes through net/http instead. Both paths send the same
// request, follow no redirect, ask for no compression, and count body bytes as received.

// bodyReadBuf is the read buffer of a connection that meets a large body (see
// wire.ReadBufSize).
const bodyReadBuf = 64 << 10

// fastClient is one user's connection to the target.
type fastClient struct {
	addr    string // host:port to dial
	dialer  net.Dialer
	conn    net.Conn
	stopped func() bool // unregisters the cancellation hook of conn
	buf     []byte      // read buffer; buf[r:w] is unread
	r, w    int
	used    bool // conn has carried a response before: it may have been closed idle
	parser  wire.ResponseParser
}

func newFastClient(addr string, timeout time.Duration) *fastClient {
	return &fastClient{
		addr:   addr,
		dialer: net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		buf:    make([]byte, wire.ReadBufSize),
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
	p := &c.parser
	p.Reset(head, body)
	for {
		n, err := p.Feed(c.buf[c.r:c.w])
		c.r += n
		if err != nil {
			return res, true, err
		}
		if p.Done() {
			break
		}
		if p.Remaining() > int64(len(c.buf)) && len(c.buf) < bodyReadBuf {
			grown := make([]byte, bodyReadBuf) // a large body: fewer, larger reads
			c.w = copy(grown, c.buf[c.r:c.w])
			c.r, c.buf = 0, grown
		}
		if err := c.fill(); err != nil {
			if err == io.EOF {
				if err = p.EOF(gotBytes); err == nil {
					break
				}
			}
			return res, gotBytes, err
		}
		gotBytes = true
	}
	if p.CloseAfter() {
		c.close()
	}
	return fastResult{status: p.Status(), bytes: p.BodyBytes()}, true, nil
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
			if len(c.buf) >= wire.MaxHeaderBytes {
				return wire.ErrHeadersTooLarge
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
