package load

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/perfgate/perfgate/gate/internal/poller"
	"github.com/perfgate/perfgate/gate/internal/wire"
)

// HTTPS on the event loop: crypto/tls over the loop's own non-blocking socket. The
// handshake is made off the loop, where the dial is, on the dialled connection; the loop
// then reads and writes TLS records on a duplicate of its descriptor, as it does plain
// bytes. crypto/tls is a state machine over a net.Conn: fdConn is that net.Conn.
//
// A read that would block returns errWouldBlock, which crypto/tls keeps no memory of
// (it is a temporary net.Error): the record read so far stays in its buffer, and the
// next read, at the next readiness, carries on from there. A write cannot stop halfway
// (crypto/tls remembers any write error for good), so it waits for room in the socket:
// a request is a few hundred bytes, and a socket whose buffer is full is a target that
// reads nothing, whose deadline ends the wait.

// errWouldBlock is a read of fdConn that would block.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// fdConn is the connection under a TLS connection of the event loop: the dialled
// connection during the handshake, then the raw descriptor fd.
type fdConn struct {
	net.Conn           // the dialled connection, until handover; then nil
	fd       int       // the descriptor after handover
	local    net.Addr  // the dialled connection's addresses, kept past handover
	remote   net.Addr  //
	deadline time.Time // the end of a write's wait for room
	// stamps, when set, reads with the kernel's receive time: rx is the last stamp,
	// stamped whether the last read that returned data had one.
	stamps  *poller.StampReader
	rx      int64
	stamped bool
}

// handover moves c from the dialled connection, which it closes, to fd, a duplicate of
// its descriptor.
func (c *fdConn) handover(fd int) {
	c.local, c.remote = c.Conn.LocalAddr(), c.Conn.RemoteAddr()
	c.Conn.Close()
	c.Conn, c.fd = nil, fd
}

func (c *fdConn) Read(b []byte) (int, error) {
	if c.Conn != nil {
		return c.Conn.Read(b)
	}
	var n int
	var err error
	if c.stamps != nil {
		var stamp int64
		n, stamp, err = c.stamps.Read(c.fd, b)
		if stamp != 0 {
			c.rx = stamp
		}
		if n > 0 {
			c.stamped = c.stamps.Stamped()
		}
	} else {
		n, err = poller.Read(c.fd, b)
	}
	switch {
	case err == poller.ErrWouldBlock:
		return 0, errWouldBlock
	case err != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *fdConn) Write(b []byte) (int, error) {
	if c.Conn != nil {
		return c.Conn.Write(b)
	}
	sent := 0
	for sent < len(b) {
		n, err := poller.Write(c.fd, b[sent:])
		if err == poller.ErrWouldBlock {
			wait := time.Until(c.deadline)
			if wait <= 0 {
				return sent, &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}
			}
			if _, err := poller.WaitWritable(c.fd, wait); err != nil {
				return sent, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("ppoll", err)}
			}
			continue
		}
		if err != nil {
			return sent, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
		}
		sent += n
	}
	return sent, nil
}

// Close closes the dialled connection, if not yet handed over; the loop closes fd.
func (c *fdConn) Close() error {
	if c.Conn != nil {
		return c.Conn.Close()
	}
	return nil
}

func (c *fdConn) LocalAddr() net.Addr {
	if c.Conn != nil {
		return c.Conn.LocalAddr()
	}
	return c.local
}

func (c *fdConn) RemoteAddr() net.Addr {
	if c.Conn != nil {
		return c.Conn.RemoteAddr()
	}
	return c.remote
}

// The deadlines are the dialled connection's during the handshake; after it the loop
// keeps its own (a write's is fdConn.deadline).
func (c *fdConn) SetDeadline(t time.Time) error {
	if c.Conn != nil {
		return c.Conn.SetDeadline(t)
	}
	return nil
}

func (c *fdConn) SetReadDeadline(t time.Time) error {
	if c.Conn != nil {
		return c.Conn.SetReadDeadline(t)
	}
	return nil
}

func (c *fdConn) SetWriteDeadline(t time.Time) error {
	if c.Conn != nil {
		return c.Conn.SetWriteDeadline(t)
	}
	return nil
}

// loopTLS is a user's TLS connection on the loop.
type loopTLS struct {
	conn *tls.Conn
	raw  *fdConn
}

// handshake makes the TLS handshake on the dialled connection c, off the loop, and
// hands it over to fd (a duplicate of c's descriptor); c is closed either way.
func (l *eventLoop) handshake(ctx context.Context, c net.Conn, fd int, deadline time.Time) (*loopTLS, error) {
	raw := &fdConn{Conn: c, stamps: l.stamps}
	conn, err := wire.Handshake(ctx, raw, l.e.fastTLS, max(time.Until(deadline), time.Nanosecond), l.e.handshakes.add)
	if err != nil {
		c.Close()
		return nil, err
	}
	raw.handover(fd)
	return &loopTLS{conn: conn, raw: raw}, nil
}

// read reads decrypted bytes into b: what the socket held, or errWouldBlock's
// poller.ErrWouldBlock, or 0 bytes and no error at the end of the stream, as
// poller.Read does.
func (t *loopTLS) read(b []byte) (int, error) {
	n, err := t.conn.Read(b)
	if n > 0 {
		return n, nil // an error after data comes again at the next read
	}
	switch {
	case errors.Is(err, errWouldBlock):
		return 0, poller.ErrWouldBlock
	case err == io.EOF:
		return 0, nil
	}
	return 0, err
}

// write writes all of b, waiting for room in the socket until deadline.
func (t *loopTLS) write(b []byte, deadline time.Time) error {
	t.raw.deadline, t.raw.rx = deadline, 0
	_, err := t.conn.Write(b)
	return err
}
