package wire

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

func TestAppendRequest(t *testing.T) {
	cases := []struct {
		name, method, uri, host string
		headers                 []Header
		body                    string
		hasBody                 bool
		want                    string
	}{
		{"get", "GET", "/a?q=1", "h:1", []Header{{"Accept", "text/plain"}, {"User-Agent", "perfgate"}}, "", false,
			"GET /a?q=1 HTTP/1.1\r\nHost: h:1\r\nAccept: text/plain\r\nUser-Agent: perfgate\r\n\r\n"},
		{"no headers", "DELETE", "/x", "h", nil, "", false, "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"post without a body", "POST", "/", "h", nil, "", false, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
		{"put without a body", "PUT", "/", "h", nil, "", false, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
		{"an empty body", "GET", "/", "h", nil, "", true, "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
		{"patch", "PATCH", "/p", "h", []Header{{"Content-Type", "application/json"}}, `{"k":1}`, true,
			"PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"k\":1}"},
	}
	for _, tc := range cases {
		prefix := []byte("kept")
		got := AppendRequest(prefix, tc.method, tc.uri, tc.host, tc.headers, tc.body, tc.hasBody)
		if string(got) != "kept"+tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, "kept"+tc.want)
		}
	}
}

// What AppendRequest writes is the request net/http's server reads.
func TestAppendRequestReadsBackAsWritten(t *testing.T) {
	raw := AppendRequest(nil, "POST", "/items/7?b=x+y", "example.test:8080",
		[]Header{{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}, {"User-Agent", "perfgate"}}, `{"k":"v"}`, true)
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.RequestURI != "/items/7?b=x+y" || req.Host != "example.test:8080" ||
		req.Header.Get("Authorization") != "Bearer t" || req.UserAgent() != "perfgate" ||
		req.ContentLength != 9 || string(body) != `{"k":"v"}` || len(req.Header) != 4 {
		t.Errorf("read back %s %s host %s, headers %v, length %d, body %q", req.Method, req.RequestURI, req.Host, req.Header, req.ContentLength, body)
	}
}

func TestIdempotent(t *testing.T) {
	for method, want := range map[string]bool{
		"GET": true, "HEAD": true, "OPTIONS": true, "TRACE": true, "PUT": true, "DELETE": true,
		"POST": false, "PATCH": false, "CONNECT": false, "get": false,
	} {
		if got := Idempotent(method); got != want {
			t.Errorf("Idempotent(%q) = %v, want %v", method, got, want)
		}
	}
}

// BenchmarkAppendRequest writes a request with a few headers and a small JSON body into
// a buffer reused from the last: what a request with variables costs to serialise once
// they are rendered.
func BenchmarkAppendRequest(b *testing.B) {
	headers := []Header{{"Authorization", "Bearer tok-12345"}, {"Content-Type", "application/json"}, {"User-Agent", "perfgate"}}
	body := `{"id":12345,"name":"widget"}`
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendRequest(dst[:0], "POST", "/api/products/12345?page=1", "127.0.0.1:8080", headers, body, true)
	}
	b.SetBytes(int64(len(dst)))
}
