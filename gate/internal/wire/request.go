package wire

import "strconv"

// Header is one header of a request, its value as it is to be sent.
type Header struct {
	Name, Value string
}

// AppendRequest appends an HTTP/1.1 request to dst and returns the extended buffer: the
// request line, Host (host is its value: headers must not hold one), the headers in
// their order, a Content-Length for a body (hasBody, even an empty one) or a method that
// expects one (POST, PUT, PATCH), and the body. This is what net/http writes for the
// same request, less what it adds on its own (a User-Agent, Accept-Encoding: the caller
// sends what it wants sent). Nothing is checked or escaped: requestURI is a path and
// query as url.URL.RequestURI gives them.
func AppendRequest(dst []byte, method, requestURI, host string, headers []Header, body string, hasBody bool) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, requestURI...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = append(dst, "Host: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	for _, h := range headers {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, "\r\n"...)
	}
	if hasBody || method == "POST" || method == "PUT" || method == "PATCH" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, body...)
	return dst
}

// ValidHeaderValue reports whether v may be sent as a header's value: no control
// character but a tab (RFC 9110's field-value, net/http's rule too). A line break in a
// value would end the header, and let whatever follows it be read as headers of its own.
func ValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Idempotent reports whether a request with method may be sent again when its
// connection failed before any of the response arrived: the server may have closed the
// idle connection as the request was written, and a second copy changes nothing.
func Idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}
