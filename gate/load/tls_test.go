package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// tlsSeen is what an HTTPS test server saw of its requests.
type tlsSeen struct {
	mu                       sync.Mutex
	requests, http2, resumed int
	names                    map[string]int // server names sent (SNI), "" for none
}

func (s *tlsSeen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d requests, %d over HTTP/2, %d on resumed sessions, server names %v", s.requests, s.http2, s.resumed, s.names)
}

// httpsTarget starts an HTTPS server on loopback offering protocols by ALPN, whose
// every response closes its connection when closeEach is set, and returns its URL (by
// the name localhost), the path of its certificate's PEM, and what it saw.
func httpsTarget(t *testing.T, closeEach bool, protocols ...string) (url, caFile string, seen *tlsSeen) {
	t.Helper()
	cert, pem := loopback.Certificate(t)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	seen = &tlsSeen{names: map[string]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.requests++
		if r.ProtoMajor == 2 {
			seen.http2++
		}
		if r.TLS.DidResume {
			seen.resumed++
		}
		seen.names[r.TLS.ServerName]++
		seen.mu.Unlock()
		if closeEach && r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		if r.URL.Path == "/login" {
			fmt.Fprint(w, `{"t": "tok"}`)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	srv.TLS = loopback.ServerConfig(cert, protocols...)
	srv.EnableHTTP2 = strings.Contains(strings.Join(protocols, ","), "h2")
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "https://localhost:" + port, caFile, seen
}

// runHTTPS probes the target as a run does, then runs the plan with opts, and returns
// the engine and its samples.
func runHTTPS(t *testing.T, doc string, opts ...Option) (*Engine, []Sample) {
	t.Helper()
	p := mustPlan(t, doc)
	if err := Probe(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e := New(p, rec, opts...)
	e.Run(context.Background())
	samples := rec.all()
	if len(samples) == 0 {
		t.Fatal("no request completed")
	}
	for _, s := range samples {
		if s.Kind != OK {
			t.Fatalf("a request ended %v", s.Kind)
		}
	}
	return e, samples
}

// An HTTPS target that chose HTTP/1.1 is served by the lean client, on the event loop
// and in users' goroutines alike: HTTP/1.1 over TLS, the server named by SNI, its
// certificate verified against the CA file, and a new connection resuming the session
// of an earlier one (every response here closes its connection).
func TestHTTPSOnTheLeanClient(t *testing.T) {
	url, ca, seen := httpsTarget(t, true, "http/1.1")
	doc := "target: " + url + "\nload: {users: 2, duration: 300ms}\ntls: {ca_file: " + ca + "}\ntasks: [{path: /x}]\n"
	paths := []struct {
		name string
		opts []Option
		loop bool
	}{{"event loop", nil, runtime.GOOS == "linux"}, {"lean client", []Option{WithoutEventLoop()}, false}}
	for _, path := range paths {
		seen.mu.Lock()
		before := tlsSeen{requests: seen.requests, resumed: seen.resumed}
		seen.mu.Unlock()
		e, samples := runHTTPS(t, doc, path.opts...)
		if e.Client() != "fast" || e.loopEligible() != path.loop || e.plan.Protocol != "http/1.1" {
			t.Fatalf("%s: client %s, event loop %v, protocol %q", path.name, e.Client(), e.loopEligible(), e.plan.Protocol)
		}
		seen.mu.Lock()
		requests, resumed := seen.requests-before.requests, seen.resumed-before.resumed
		seen.mu.Unlock()
		t.Logf("%s: %d samples; the server saw %v", path.name, len(samples), seen)
		if requests < len(samples) || seen.http2 != 0 || seen.names["localhost"] != seen.requests {
			t.Errorf("%s: %d samples; the server saw %v", path.name, len(samples), seen)
		}
		// Each user's first connection of the run is a full handshake (the session
		// cache is the engine's); every later one resumes.
		if resumed < requests-2 {
			t.Errorf("%s: %d of %d requests on resumed sessions, want all but the first two", path.name, resumed, requests)
		}
		// The engine counted the handshakes the server made for its requests (not the
		// probe's), and timed them.
		if h := e.handshakes.get(); h.Count < int64(len(samples)) || h.Count > int64(requests) || h.Resumed < h.Count-2 || h.Max <= 0 || h.Mean() > h.Max {
			t.Errorf("%s: handshakes %+v, for %d samples and %d requests", path.name, h, len(samples), requests)
		}
	}
}

// A target that offers HTTP/2 gets it, through net/http, unless the config asks for
// HTTP/1.1; one that offers only HTTP/1.1 cannot be made to speak HTTP/2.
func TestHTTPSProtocolByALPN(t *testing.T) {
	url, ca, seen := httpsTarget(t, false, "h2", "http/1.1")
	doc := "target: " + url + "\nload: {users: 2, duration: 200ms}\ntasks: [{path: /x}]\ntls: {ca_file: " + ca
	e, _ := runHTTPS(t, doc+"}\n")
	if e.plan.Protocol != "h2" || e.Client() != "net/http" || seen.http2 != seen.requests {
		t.Errorf("auto: protocol %q, client %s; the server saw %v", e.plan.Protocol, e.Client(), seen)
	}
	// Two users, a connection each, on which HTTP/2 carries all their requests.
	if h := e.handshakes.get(); h.Count != 2 || h.Max <= 0 {
		t.Errorf("auto: handshakes %+v, want 2", h)
	}
	h2 := seen.http2
	e, _ = runHTTPS(t, doc+", protocol: http/1.1}\n")
	if e.plan.Protocol != "http/1.1" || e.Client() != "fast" || seen.http2 != h2 {
		t.Errorf("http/1.1: protocol %q, client %s; the server saw %v", e.plan.Protocol, e.Client(), seen)
	}

	url1, ca1, _ := httpsTarget(t, false, "http/1.1")
	p := mustPlan(t, "target: "+url1+"\ntasks: [{path: /x}]\ntls: {ca_file: "+ca1+", protocol: h2}\n")
	if err := Probe(context.Background(), p); err == nil {
		t.Error("a target without HTTP/2 passed the probe of a plan that asks for it")
	}
}

// Users that log in over HTTPS keep the connection of their login, TLS session and all,
// when the event loop takes them over: one handshake a user.
func TestHTTPSUsersKeepTheirConnectionOnTheLoop(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the event loop is Linux's")
	}
	url, ca, seen := httpsTarget(t, false, "http/1.1")
	e, samples := runHTTPS(t, "target: "+url+"\nload: {users: 15, spawn_rate: 300, duration: 300ms, think: 10ms}\ntls: {ca_file: "+ca+"}\n"+
		"setup: [{name: login, method: POST, path: /login, extract: {t: $.t}}]\ntasks: [{path: /x, headers: {A: '{{t}}'}}]\n")
	h := e.handshakes.get()
	if !e.loopEligible() || h.Count != 15 || len(samples) < 15*5 {
		t.Errorf("event loop %v, handshakes %+v, %d samples; the server saw %v", e.loopEligible(), h, len(samples), seen)
	}
}
