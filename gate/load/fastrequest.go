package load

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/perfgate/perfgate/gate/plan"
)

// The fast path: plain-HTTP/1.1 keep-alive requests written and read by hand (package
// wire says why) on a connection that belongs to one user. Anything unusual (HTTPS, a
// proxy, the stdlib client asked for) goes through net/http instead.

// fastEligible decides whether the fast path can serve the plan's target: plain HTTP,
// not through a proxy. It returns the address to dial, or "".
func fastEligible(p *plan.Plan) string {
	if p.Target.Scheme != "http" {
		return ""
	}
	probe := &http.Request{URL: p.Target}
	if proxy, err := http.ProxyFromEnvironment(probe); err != nil || proxy != nil {
		return ""
	}
	host := p.Target.Host
	if p.Target.Port() == "" {
		host += ":80"
	}
	return host
}

// prepareStatic serialises every request that has no {{variable}}, once.
func (e *Engine) prepareStatic() {
	e.static = map[*plan.Request][]byte{}
	for _, list := range [][]plan.Request{e.plan.Setup, e.plan.Tasks} {
		for i := range list {
			r := &list[i]
			if !r.URL.Static() || !r.Body.Static() {
				continue
			}
			static := true
			for _, h := range r.Headers {
				static = static && h.Value.Static()
			}
			if !static {
				continue
			}
			if req, _, err := e.serialize(r, nil, nil); err == nil {
				e.static[r] = req
			}
		}
	}
}

// fastRequest returns r serialised: shared from the cache, or rendered into the
// caller's buffer, which keeps its grown capacity for the next request.
func (e *Engine) fastRequest(r *plan.Request, vars []string, buf *[]byte) ([]byte, bool, error) {
	if req, ok := e.static[r]; ok {
		return req, idempotent(r.Method), nil
	}
	req, idem, err := e.serialize(r, vars, (*buf)[:0])
	*buf = req
	return req, idem, err
}

func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// serialize writes an HTTP/1.1 request as net/http would for the same plan.Request.
func (e *Engine) serialize(r *plan.Request, vars []string, dst []byte) ([]byte, bool, error) {
	u, err := url.Parse(r.URL.Render(vars))
	if err != nil {
		return nil, false, errors.New("the request URL is invalid after filling in its variables")
	}
	host := u.Host
	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	dst = append(dst, u.RequestURI()...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	var hasUA bool
	var hostSet string
	for _, h := range r.Headers {
		if h.Name == "Host" {
			hostSet = h.Value.Render(vars)
		}
	}
	if hostSet != "" {
		host = hostSet
	}
	dst = append(dst, "Host: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	for _, h := range r.Headers {
		if h.Name == "Host" {
			continue
		}
		hasUA = hasUA || h.Name == "User-Agent"
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value.Render(vars)...)
		dst = append(dst, "\r\n"...)
	}
	if !hasUA {
		dst = append(dst, "User-Agent: perfgate\r\n"...)
	}
	var body string
	if r.HasBody {
		body = r.Body.Render(vars)
	}
	if r.HasBody || r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, body...)
	return dst, idempotent(r.Method), nil
}
