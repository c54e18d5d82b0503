package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/internal/wire"
	"github.com/perfgate/perfgate/gate/plan"
)

// newTransport gives each user its own connection pool, as a real client has: one
// user's slow connection does not queue another user's requests. An engine's
// transports make their HTTPS connections with tlsConf, telling handshook of each
// handshake; the probe's (tlsConf nil) leaves them to net/http.
func newTransport(p *plan.Plan, tlsConf *tls.Config, handshook func(time.Duration, bool)) *http.Transport {
	dialer := &net.Dialer{Timeout: p.Timeout, KeepAlive: 30 * time.Second}
	// The protocol the plan speaks, or, left to the target, either.
	var protocols http.Protocols
	protocols.SetHTTP1(p.Protocol != plan.HTTP2)
	protocols.SetHTTP2(p.Protocol != plan.HTTP1)
	var dialTLSContext func(context.Context, string, string) (net.Conn, error)
	if tlsConf != nil {
		dialTLSContext = dialTLS(dialer, tlsConf, p.Timeout, handshook)
	} else {
		tlsConf = p.TLS
	}
	tlsConf = tlsConf.Clone() // HTTP/2 set-up writes to it: one per transport
	return &http.Transport{
		Protocols:           &protocols,
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		DialTLSContext:      dialTLSContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: p.Timeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		// Bytes received are counted as sent; the fast path asks for no compression either.
		DisableCompression: true,
		// The lean client's limit too: a head past it is an error on either path.
		MaxResponseHeaderBytes: wire.MaxHeaderBytes,
	}
}

// noRedirects makes a redirect a response like any other: a gate measures the request it
// was given, not the chain it leads to.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Probe sends one GET to the target's base URL and succeeds on any HTTP response, so that
// an unreachable or non-HTTP target is reported before any load, in plain words. A plan
// that leaves the protocol to the target learns it here: p.Protocol is set to the one
// the target chose.
func Probe(ctx context.Context, p *plan.Plan) error {
	tr := newTransport(p, nil, nil)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Target.String()+"/", nil)
	if err != nil {
		return fmt.Errorf("target %s: %v", p.RedactedTarget(), err)
	}
	resp, err := (&http.Client{Transport: tr, CheckRedirect: noRedirects}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach target %s: %s", p.RedactedTarget(), probeReason(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCheckedBody))
	resp.Body.Close()
	if p.Protocol == "" {
		p.Protocol = plan.HTTP1
		if resp.ProtoMajor == 2 {
			p.Protocol = plan.HTTP2
		}
	}
	return nil
}

// probeReason words why the probe failed, for someone who may have mistyped the URL.
func probeReason(err error) string {
	var dnsErr *net.DNSError
	k := classify(err)
	msg := describe(k, err)
	switch {
	case errors.As(err, &dnsErr):
		return "host " + dnsErr.Name + " not found"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "it answers plain HTTP, not HTTPS (use an http:// URL)"
	case k == TLSFailure:
		return "TLS failed: " + msg + " (trust its CA with tls.ca_file, or set tls.insecure)"
	case k == Transport:
		return "it did not answer with HTTP (" + msg + ")"
	}
	return msg
}
