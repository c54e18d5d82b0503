package load

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
	"github.com/perfgate/perfgate/gate/internal/wire"
)

// scripted serves each connection by reading one request head at a time and answering
// with the next of responses (raw bytes); after the last one it closes the connection.
func scripted(t *testing.T, responses ...string) (addr string, conns *atomic.Int64) {
	return loopback.Scripted(t, loopback.Write, responses...)
}

// trickled is scripted, but writes each response in three pieces, gap apart.
func trickled(t *testing.T, gap time.Duration, responses ...string) (addr string, conns *atomic.Int64) {
	return loopback.Scripted(t, func(c net.Conn, resp string) error {
		third := len(resp) / 3
		for i, piece := range []string{resp[:third], resp[third : 2*third], resp[2*third:]} {
			if i > 0 {
				time.Sleep(gap)
			}
			if _, err := c.Write([]byte(piece)); err != nil {
				return err
			}
		}
		return nil
	}, responses...)
}

const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

// A fast request that gets no answer is a timeout, and a cancelled run ends it at once.
func TestFastClientTimeoutAndCancel(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // never answers
		}
	}()
	c := wire.NewClient(ln.Addr().String(), time.Second)
	defer c.Close()
	start := time.Now()
	_, err := c.RoundTrip(context.Background(), []byte(get), true, false, 100*time.Millisecond, nil)
	if classify(err) != Timeout || time.Since(start) > time.Second {
		t.Errorf("err %v after %v, want a timeout after 100ms", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start = time.Now()
	_, err = c.RoundTrip(ctx, []byte(get), true, false, 10*time.Second, nil)
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("cancel: err %v after %v", err, time.Since(start))
	}
}

// TestFastAndStdlibAgree sends the same requests both ways to a recording server: the
// two paths must send the same method, path, query, headers and body.
func TestFastAndStdlibAgree(t *testing.T) {
	type seen struct{ method, uri, host, ua, auth, ctype, body, accEnc string }
	got := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Host, r.UserAgent(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b), r.Header.Get("Accept-Encoding")}
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(302)
	}))
	defer srv.Close()
	doc := "target: " + srv.URL + "\nsetup:\n  - {name: s, path: /s, extract: {}}\ntasks:\n  - path: /p/{{v}}?a=1\n    query: {b: 'x y'}\n    headers: {Authorization: 'Bearer {{v}}'}\n    json: {k: '{{v}}'}\n"
	doc = strings.Replace(doc, "  - {name: s, path: /s, extract: {}}\n", "", 1)
	doc = strings.Replace(doc, "{{v}}", "lit", -1)
	p := mustPlan(t, doc)
	var results []seen
	for _, opts := range [][]Option{nil, {WithStdlibClient()}} {
		e := New(p, discard{}, opts...)
		e.failed = make(chan struct{})
		u, closeConns := e.newUser(0)
		kind, err := u.do(context.Background(), &p.Tasks[0], closedRequest)
		closeConns()
		if kind != OK || err != nil {
			t.Fatalf("%s: %v %v (a 302 is a response, not followed)", e.Client(), kind, err)
		}
		results = append(results, <-got)
	}
	if results[0] != results[1] {
		t.Errorf("fast path sent %+v\nnet/http sent %+v", results[0], results[1])
	}
	if results[0].method != "POST" || results[0].uri != "/p/lit?a=1&b=x+y" || results[0].body != `{"k":"lit"}` || results[0].accEnc != "" {
		t.Errorf("request = %+v", results[0])
	}
}

// The fast path writes a plan's request as net/http would: the URL's host unless the
// request sets Host, the headers in the plan's order, perfgate's User-Agent unless the
// request sets one, and a Content-Length for a body or a method that expects one.
func TestFastRequestBytes(t *testing.T) {
	doc := "target: http://127.0.0.1:8080/base\n" + `setup:
  - {name: login, method: POST, path: /login, body: 'user={{user}}', extract: {token: $.t}}
tasks:
  - {path: '/a?q=1', headers: {Accept: text/plain, Host: 'h.{{token}}.example'}}
  - {method: POST, path: '/items/{{token}}', headers: {User-Agent: 'ua/{{token}}', Authorization: 'Bearer {{token}}'}, json: {k: '{{token}}'}}
  - {method: PUT, path: /empty}
  - {method: DELETE, path: /gone}
  - {method: HEAD, path: /, headers: {Host: ''}}
`
	doc = strings.Replace(doc, "'user={{user}}'", "'user=u'", 1)
	p := mustPlan(t, doc)
	e := New(p, discard{})
	vars := make([]string, len(p.Vars))
	for i, name := range p.Vars {
		if name == "token" {
			vars[i] = "t0k"
		}
	}
	want := []string{
		"GET /base/a?q=1 HTTP/1.1\r\nHost: h.t0k.example\r\nAccept: text/plain\r\nUser-Agent: perfgate\r\n\r\n",
		"POST /base/items/t0k HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer t0k\r\nContent-Type: application/json\r\nUser-Agent: ua/t0k\r\nContent-Length: 11\r\n\r\n{\"k\":\"t0k\"}",
		"PUT /base/empty HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: perfgate\r\nContent-Length: 0\r\n\r\n",
		"DELETE /base/gone HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: perfgate\r\n\r\n",
		"HEAD /base/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: perfgate\r\n\r\n",
	}
	wantIdem := []bool{true, false, true, true, true}
	var buf requestBuf // shared, as a user's is
	login, _, err := e.fastRequest(&p.Setup[0], vars, &buf)
	if err != nil || string(login) != "POST /base/login HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: perfgate\r\nContent-Length: 6\r\n\r\nuser=u" {
		t.Errorf("setup step: %q, %v", login, err)
	}
	for i := range p.Tasks {
		got, idem, err := e.fastRequest(&p.Tasks[i], vars, &buf)
		if err != nil || string(got) != want[i] || idem != wantIdem[i] {
			t.Errorf("task %d: %q (idempotent %v), %v\nwant %q (idempotent %v)", i, got, idem, err, want[i], wantIdem[i])
		}
	}
}
