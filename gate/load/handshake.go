package load

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/perfgate/perfgate/gate/internal/wire"
	"github.com/perfgate/perfgate/gate/plan"
)

// Handshakes counts and times a run's TLS handshakes, in every stage, on every path:
// each is a new connection's, whose time (with the TCP connection's) is also in the
// latency of the request that opened it, as a user waits for it; here it is apart.
type Handshakes struct {
	// Count is how many handshakes completed, Resumed how many of them resumed a
	// session (an abbreviated handshake, as a returning browser makes).
	Count, Resumed int64
	// Total and Max are their summed and longest time.
	Total, Max time.Duration
}

// Mean is the handshakes' mean time.
func (h Handshakes) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Total / time.Duration(h.Count)
}

// handshakes is a run's Handshakes, added to from any goroutine.
type handshakes struct {
	mu sync.Mutex
	h  Handshakes
}

// add counts a handshake that took d.
func (hs *handshakes) add(d time.Duration, resumed bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.h.Count++
	if resumed {
		hs.h.Resumed++
	}
	hs.h.Total += d
	hs.h.Max = max(hs.h.Max, d)
}

func (hs *handshakes) get() Handshakes {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.h
}

// tlsConfig is the TLS configuration of an engine's HTTPS connections on net/http: the
// plan's, with the server named and a session cache shared by all the engine's users
// (see wire.TLSConfig), offering by ALPN the protocol the plan speaks (both, when it
// leaves it to the target).
func tlsConfig(p *plan.Plan) *tls.Config {
	c := wire.TLSConfig(p.TLS, p.Target.Hostname())
	switch p.Protocol {
	case plan.HTTP2:
		c.NextProtos = []string{"h2"}
	case "":
		c.NextProtos = []string{"h2", "http/1.1"}
	}
	return c
}

// dialTLS is net/http's dial of an HTTPS connection, made as the lean client makes
// its own (wire.Handshake), so that its handshake is counted and timed with theirs.
func dialTLS(dialer *net.Dialer, config *tls.Config, timeout time.Duration, done func(time.Duration, bool)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := config
		if host, _, err := net.SplitHostPort(addr); err == nil && host != c.ServerName {
			c = c.Clone()
			c.ServerName = host
		}
		tc, err := wire.Handshake(ctx, conn, c, timeout, done)
		if err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}
