package wire

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"
)

// Client is one user's connection to the target: HTTP/1.1 keep-alive requests written
// and read by hand, one at a time, each call blocking until its response is read, over
// plain TCP or TLS. It follows no redirect, asks for no compression, and counts body
// bytes as received. It is not safe for concurrent use.
type Client struct {
	addr   string // host:port to dial
	dialer net.Dialer
	tls    *tls.Config // nil: plain HTTP
	// Handshake, when set, is told of every TLS handshake: how long it took (the TCP
	// connection's set-up not included) and whether it resumed a session.
	Handshake func(took time.Duration, resumed bool)
	// Wrap, when set, wraps every connection dialled, before any byte is sent on it
	// (under TLS, if any): a caller that will take the connection over (Release) keeps
	// its hold of it so.
	Wrap    func(net.Conn) net.Conn
	conn    net.Conn
	stopped func() bool // unregisters the cancellation hook of conn
	buf     []byte      // read buffer; buf[r:w] is unread
	r, w    int
	used    bool // conn has carried a response before: it may have been closed idle
	parser  ResponseParser
}

// NewClient returns a client that dials addr (host:port) when it first needs a
// connection, giving up on a dial after timeout.
func NewClient(addr string, timeout time.Duration) *Client {
	return &Client{
		addr:   addr,
		dialer: net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		buf:    make([]byte, ReadBufSize),
	}
}

// NewTLSClient returns a client that speaks HTTP/1.1 over TLS with config (which
// should offer "http/1.1" alone by ALPN, name the server, and keep a session cache for
// resumption: see TLSConfig), dialling addr (host:port) as NewClient does; the
// handshake has timeout too.
func NewTLSClient(addr string, timeout time.Duration, config *tls.Config) *Client {
	c := NewClient(addr, timeout)
	c.tls = config
	return c
}

// TLSConfig is base made fit for a lean client of host: HTTP/1.1 alone by ALPN (a
// server that offers HTTP/2 must not choose it for a client that speaks only HTTP/1.1),
// the server named as net/http names it (for SNI and verification: a host name, or an
// IP address, which is verified but not sent), and a session cache, shared by every
// connection made with the result, so that a new connection resumes a session rather
// than making a full handshake, as a browser's does.
func TLSConfig(base *tls.Config, host string) *tls.Config {
	c := base.Clone()
	if c == nil {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	c.NextProtos = []string{"http/1.1"}
	if c.ClientSessionCache == nil {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return c
}

// Release hands the client's connection over to the caller, who must close it, and
// forgets it; nil when there is none. The next round trip dials a new one.
func (c *Client) Release() net.Conn {
	conn := c.conn
	if conn != nil {
		c.stopped()
		c.conn = nil
	}
	c.r, c.w, c.used = 0, 0, false
	return conn
}

// Close drops the connection; the next round trip dials a new one.
func (c *Client) Close() {
	if c.conn != nil {
		c.stopped()
		c.conn.Close()
		c.conn = nil
	}
	c.r, c.w, c.used = 0, 0, false
}

func (c *Client) connect(ctx context.Context) error {
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if c.Wrap != nil {
		conn = c.Wrap(conn)
	}
	if c.tls != nil {
		tc, err := Handshake(ctx, conn, c.tls, c.dialer.Timeout, c.Handshake)
		if err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	c.conn = conn
	// A cancelled run unblocks whatever this connection is doing.
	c.stopped = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// Handshake makes a TLS client handshake on conn with config, within timeout (none when
// 0) and ctx, and tells done (when not nil) how long it took and whether it resumed a
// session. conn is left to the caller to close on failure.
func Handshake(ctx context.Context, conn net.Conn, config *tls.Config, timeout time.Duration, done func(time.Duration, bool)) (*tls.Conn, error) {
	tc := tls.Client(conn, config)
	start := time.Now()
	if timeout > 0 {
		_ = conn.SetDeadline(start.Add(timeout))
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	if done != nil {
		done(time.Since(start), tc.ConnectionState().DidResume)
	}
	return tc, nil
}

// Result is what a round trip gives back: the response's status, 0 when none arrived,
// and how many body bytes arrived.
type Result struct {
	Status int
	Bytes  int64
}

// RoundTrip writes req (a whole request, as AppendRequest writes it) and reads the
// response, all within timeout; head says req is a HEAD request. The first MaxKeptBody
// bytes of the body are appended to body (when body is not nil); the rest is counted and
// dropped. A request on a reused connection that fails before any byte of the response
// arrived is sent once more on a new one, if idempotent: the server may have closed the
// idle connection as we wrote.
func (c *Client) RoundTrip(ctx context.Context, req []byte, idempotent, head bool, timeout time.Duration, body *bytes.Buffer) (Result, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil && c.used
		if c.conn == nil {
			if err := c.connect(ctx); err != nil {
				return Result{}, err
			}
		}
		_ = c.conn.SetDeadline(time.Now().Add(timeout))
		res, gotBytes, err := c.exchange(req, head, body)
		if err == nil {
			c.used = true
			return res, nil
		}
		c.Close()
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
func (c *Client) exchange(req []byte, head bool, body *bytes.Buffer) (res Result, gotBytes bool, err error) {
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
				if err = p.EOF(gotBytes, c.buf[c.r:c.w]); err == nil {
					break
				}
			}
			return res, gotBytes, err
		}
		gotBytes = true
	}
	if p.CloseAfter() {
		c.Close()
	}
	return Result{Status: p.Status(), Bytes: p.BodyBytes()}, true, nil
}

// fill reads more into the buffer, compacting or growing it as needed.
func (c *Client) fill() error {
	if c.r > 0 && c.r == c.w {
		c.r, c.w = 0, 0
	}
	if c.w == len(c.buf) {
		if c.r > 0 {
			copy(c.buf, c.buf[c.r:c.w])
			c.w -= c.r
			c.r = 0
		} else {
			if len(c.buf) >= MaxHeaderBytes {
				return ErrHeadersTooLarge
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
