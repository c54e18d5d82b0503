package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/plan"
)

// newTransport gives each user its own connection pool, as a real client has: one
// user's slow connection does not queue another user's requests.
func newTransport(p *plan.Plan) *http.Transport {
	dialer := &net.Dialer{Timeout: p.Timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     p.TLS,
		TLSHandshakeTimeout: p.Timeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
}

// Probe sends one GET to the target's base URL and succeeds on any HTTP response, so that
// an unreachable or non-HTTP target is reported before any load, in plain words.
func Probe(ctx context.Context, p *plan.Plan) error {
	tr := newTransport(p)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Target.String()+"/", nil)
	if err != nil {
		return fmt.Errorf("target %s: %v", p.RedactedTarget(), err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		k := classify(err)
		msg := describe(k, err)
		if k == Transport && isMalformed(err) {
			msg = "it did not answer with HTTP"
		}
		if k == TLSFailure {
			msg = "TLS failed: " + msg + " (trust its CA with tls.ca_file, or set tls.insecure)"
		}
		return fmt.Errorf("cannot reach target %s: %s", p.RedactedTarget(), msg)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCheckedBody))
	resp.Body.Close()
	return nil
}

func isMalformed(err error) bool {
	s := err.Error()
	for _, m := range []string{"malformed HTTP", "server gave HTTP response to HTTPS", "first record does not look like a TLS handshake"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
