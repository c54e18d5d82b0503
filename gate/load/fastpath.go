package load

import (
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/perfgate/perfgate/gate/internal/wire"
	"github.com/perfgate/perfgate/gate/plan"
)

// The fast path: HTTP/1.1 keep-alive requests written and read by hand (package wire
// says why) on a connection that belongs to one user, plain or over TLS. Anything
// unusual (HTTP/2, a proxy, the stdlib client asked for) goes through net/http instead.

// fastEligible decides whether the fast path can serve the plan's target: HTTP/1.1,
// plain or over TLS (when the target chose HTTP/1.1, or the plan asks for it), not
// through a proxy. It returns the address to dial, or "", and for HTTPS the TLS
// configuration of its connections.
func fastEligible(p *plan.Plan) (string, *tls.Config) {
	port := "80"
	switch {
	case p.Target.Scheme == "https" && p.Protocol == plan.HTTP1:
		port = "443"
	case p.Target.Scheme != "http":
		return "", nil
	}
	probe := &http.Request{URL: p.Target}
	if proxy, err := http.ProxyFromEnvironment(probe); err != nil || proxy != nil {
		return "", nil
	}
	host := p.Target.Host
	if p.Target.Port() == "" {
		host += ":" + port
	}
	if port == "80" {
		return host, nil
	}
	return host, wire.TLSConfig(p.TLS, p.Target.Hostname())
}

// requestBuf is where a user renders its requests that have variables: the bytes and
// the headers keep their grown capacity from one request to the next.
type requestBuf struct {
	bytes   []byte
	headers []wire.Header
}

// prepareStatic serialises every request that has no {{variable}}, once, and parses
// every URL that has none, for the requests whose headers or body have some.
func (e *Engine) prepareStatic() {
	e.static = map[*plan.Request][]byte{}
	e.targets = map[*plan.Request]requestTarget{}
	for _, list := range [][]plan.Request{e.plan.Setup, e.plan.Tasks} {
		for i := range list {
			r := &list[i]
			if !r.URL.Static() {
				continue
			}
			if t, err := parseTarget(r.URL.Render(nil)); err == nil {
				e.targets[r] = t
			}
			if !r.Body.Static() {
				continue
			}
			static := true
			for _, h := range r.Headers {
				static = static && h.Value.Static()
			}
			if !static {
				continue
			}
			if req, _, err := e.serialize(r, nil, &requestBuf{}); err == nil {
				e.static[r] = req
			}
		}
	}
}

// fastRequest returns r serialised: shared from the cache, or rendered into the
// caller's buffer, which keeps its grown capacity for the next request.
func (e *Engine) fastRequest(r *plan.Request, vars []string, buf *requestBuf) ([]byte, bool, error) {
	if req, ok := e.static[r]; ok {
		return req, wire.Idempotent(r.Method), nil
	}
	return e.serialize(r, vars, buf)
}

// serialize writes an HTTP/1.1 request as net/http would for the same plan.Request: to
// the URL's host unless the request sets Host, with perfgate's User-Agent unless it sets
// its own, with the URL's user:password as Basic auth unless it sets Authorization; a
// header value that no header may hold is refused. The bytes are buf's until its next
// use.
func (e *Engine) serialize(r *plan.Request, vars []string, buf *requestBuf) ([]byte, bool, error) {
	target, ok := e.targets[r]
	if !ok {
		var err error
		if target, err = parseTarget(r.URL.Render(vars)); err != nil {
			return nil, false, err
		}
	}
	host := target.host
	var hasUA, hasAuth bool
	var hostSet string
	headers := buf.headers[:0]
	for _, h := range r.Headers {
		v := h.Value.Render(vars)
		if !wire.ValidHeaderValue(v) {
			return nil, false, errInvalidHeader
		}
		if h.Name == "Host" {
			hostSet = v
			continue
		}
		hasUA = hasUA || h.Name == "User-Agent"
		hasAuth = hasAuth || h.Name == "Authorization"
		headers = append(headers, wire.Header{Name: h.Name, Value: v})
	}
	if hostSet != "" {
		host = hostSet
	}
	if !hasUA {
		headers = append(headers, wire.Header{Name: "User-Agent", Value: defaultUserAgent})
	}
	if target.auth != "" && !hasAuth {
		headers = append(headers, wire.Header{Name: "Authorization", Value: target.auth})
	}
	var body string
	if r.HasBody {
		body = r.Body.Render(vars)
	}
	buf.bytes = wire.AppendRequest(buf.bytes[:0], r.Method, target.uri, host, headers, body, r.HasBody)
	buf.headers = headers
	return buf.bytes, wire.Idempotent(r.Method), nil
}

// requestTarget is what a request's URL gives serialize: the request-target, the host,
// and the Authorization a user:password@ in it makes ("" without one).
type requestTarget struct {
	uri, host, auth string
}

// parseTarget parses a rendered URL for serialize: once for a URL without variables
// (prepareStatic), at every request for one with some.
func parseTarget(raw string) (requestTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return requestTarget{}, errInvalidURL
	}
	t := requestTarget{uri: u.RequestURI(), host: u.Host}
	if u.User != nil {
		// A user:password@ of the target is Basic auth, as net/http sends it.
		pw, _ := u.User.Password()
		t.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
	}
	return t, nil
}
