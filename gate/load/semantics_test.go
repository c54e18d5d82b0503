package load

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// hostileResponses are what a target someone else controls may answer: each case is the
// whole response to one request, and the kind both clients must give it (OK or an error
// kind). The connection closes after it.
var hostileResponses = []struct {
	name, resp string
	want       Kind
}{
	{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", OK},
	{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", OK},
	{"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", OK},
	{"HTTP/1.0 body to the close", "HTTP/1.0 200 OK\r\n\r\nuntil close", OK},
	{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", OK},
	{"chunked wins over a length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", OK},
	{"a length twice, the same", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", OK},
	{"100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", OK},
	{"404", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", Status4xx},
	{"503", "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", Status5xx},
	{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", Transport},
	{"status not a number", "HTTP/1.1 2x0 OK\r\n\r\n", Transport},
	{"status of four digits", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", Transport},
	{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", Transport},
	{"length not a number", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", Transport},
	{"length of two numbers", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\nx", Transport},
	{"a length twice, not the same", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", Transport},
	{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Transport},
	{"chunk without its CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", Transport},
	{"header without a colon", "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n", Transport},
	// A name with a space is no header net/http knows: the body is then read to the close.
	{"space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", OK},
	{"header name with a space", "HTTP/1.1 200 OK\r\nX Bad: 1\r\nContent-Length: 0\r\n\r\n", OK},
	{"body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly this", ConnReset},
	{"chunked cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", ConnReset},
	{"head cut short after a line", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", ConnReset},
	{"head cut short in a header", "HTTP/1.1 200 OK\r\nContent-Length: 2", ConnReset},
	{"head cut short in a name", "HTTP/1.1 200 OK\r\nContent-Len", Transport},
	{"head cut short in the status line", "HTTP/1.1 20", Transport},
	{"nothing at all", "", ConnReset},
	{"head over 1 MB", "HTTP/1.1 200 OK\r\nX-Large: " + strings.Repeat("a", 1<<20) + "\r\n\r\n", Transport},
}

// One HTTP semantics, two clients: the lean client (in a user's goroutine, and on the
// event loop) and net/http meet the same hostile loopback servers, plain and over TLS,
// and give each response the same kind.
func TestBothClientsAgreeOnHostileResponses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the event loop is Linux's")
	}
	paths := []struct {
		name string
		opts []Option
		loop bool
	}{{"event loop", nil, true}, {"lean client", []Option{WithoutEventLoop()}, false}, {"net/http", []Option{WithStdlibClient()}, false}}
	cert, _ := loopback.Certificate(t)
	for _, scheme := range []string{"http", "https"} {
		for _, tc := range hostileResponses {
			t.Run(scheme+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				var config *tls.Config
				if scheme == "https" {
					config = loopback.ServerConfig(cert, "http/1.1")
				}
				addr, _ := loopback.ScriptedTLS(t, config, func(c net.Conn, _ string) error {
					_, err := c.Write([]byte(tc.resp))
					c.(interface{ CloseWrite() error }).CloseWrite()
					time.Sleep(20 * time.Millisecond) // let the client read to the end before the close
					return err
				}, "one")
				p := mustPlan(t, "target: "+scheme+"://"+addr+"\nload: {users: 1, duration: 150ms}\ndefaults: {timeout: 2s}\ntasks: [{path: /x}]\n"+
					"tls: {insecure: true, protocol: http/1.1}\n")
				for _, path := range paths {
					rec := &recorder{}
					e := New(p, rec, path.opts...)
					if e.loopEligible() != path.loop || (e.Client() == "fast") == (path.name == "net/http") {
						t.Fatalf("%s: client %s, the event loop is eligible: %v", path.name, e.Client(), e.loopEligible())
					}
					e.Run(context.Background())
					samples := rec.all()
					if len(samples) == 0 {
						t.Fatalf("%s: no request completed", path.name)
					}
					for _, s := range samples {
						if s.Kind != tc.want {
							t.Errorf("%s: %v, want %v", path.name, s.Kind, tc.want)
							break
						}
					}
				}
			})
		}
	}
}

// A value extracted from a response (a token a hostile login returned) that holds a line
// break is never written into a header: both clients refuse the request, which counts as
// invalid_request, and the target never sees the header it tried to smuggle in.
func TestHeaderInjectionIsRefusedByBothClients(t *testing.T) {
	var smuggled, tasks atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"token":"abc\r\nX-Smuggled: yes\u0000"}`)
	})
	mux.HandleFunc("GET /task", func(w http.ResponseWriter, r *http.Request) {
		tasks.Add(1)
		if r.Header.Get("X-Smuggled") != "" {
			smuggled.Add(1)
		}
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 2, duration: 200ms, think: 10ms}\n"+
		"setup: [{name: login, method: POST, path: /login, extract: {token: $.token}}]\n"+
		"tasks: [{name: task, path: /task, headers: {Authorization: 'Bearer {{token}}'}}]\n")
	for _, opts := range [][]Option{nil, {WithStdlibClient()}} {
		rec := &recorder{}
		New(p, rec, opts...).Run(context.Background())
		var refused int
		for _, s := range rec.all() {
			if s.Endpoint == 1 {
				if s.Kind != InvalidRequest {
					t.Fatalf("%v: a task with the smuggled header ended %v, want invalid_request", opts, s.Kind)
				}
				refused++
			}
		}
		if refused == 0 {
			t.Errorf("%v: no task was recorded at all: a refused request must count", opts)
		}
	}
	if smuggled.Load() != 0 || tasks.Load() != 0 {
		t.Errorf("the target saw %d tasks, %d with the smuggled header: none may be sent", tasks.Load(), smuggled.Load())
	}
}

// A user:password@ in the target is Basic auth on both clients, as net/http sends it.
func TestTargetUserInfoIsBasicAuth(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/x" {
			got <- r.Header.Get("Authorization")
		}
	}))
	defer srv.Close()
	target := strings.Replace(srv.URL, "http://", "http://perf%20user:p%40ss@", 1)
	p := mustPlan(t, "target: "+target+"\ntasks: [{path: /x}]\n")
	for _, opts := range [][]Option{nil, {WithStdlibClient()}} {
		e := New(p, discard{}, opts...)
		e.failed = make(chan struct{})
		u, closeConns := e.newUser(0)
		kind, err := u.do(context.Background(), &p.Tasks[0], closedRequest)
		closeConns()
		if kind != OK {
			t.Fatalf("%s: %v %v", e.Client(), kind, err)
		}
		if auth := <-got; auth != "Basic cGVyZiB1c2VyOnBAc3M=" { // "perf user:p@ss"
			t.Errorf("%s sent Authorization %q", e.Client(), auth)
		}
	}
}
