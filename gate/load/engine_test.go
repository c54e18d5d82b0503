package load

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
)

// recorder keeps every sample, for assertions.
type recorder struct {
	mu      sync.Mutex
	samples []Sample
}

func (r *recorder) Record(s Sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

func (r *recorder) all() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.samples...)
}

func mustPlan(t testing.TB, doc string) *plan.Plan {
	t.Helper()
	cfg, err := config.ParseConfig(filepath.Join(t.TempDir(), "perfgate.yaml"), []byte(doc), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	th, err := config.ParseThresholds("t.yaml", []byte("all: [p99 < 10s]"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg, []*config.Thresholds{th})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedAPI is the article's API: a login that hands out tokens, two endpoints that need one.
type seedAPI struct {
	logins, unauthorized, list, detail atomic.Int64
}

func (a *seedAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/token", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Username, Password string }
		if json.NewDecoder(r.Body).Decode(&c) != nil || c.Password != "testpass" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := a.logins.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d"}`, n)
	})
	auth := func(counter *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
				a.unauthorized.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			counter.Add(1)
			fmt.Fprint(w, `{"ok":true}`)
		}
	}
	mux.HandleFunc("GET /api/products", auth(&a.list))
	mux.HandleFunc("GET /api/products/{id}", auth(&a.detail))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

const seedTasks = `setup:
  - name: login
    method: POST
    path: /auth/token
    json: {username: testuser, password: testpass}
    extract: {token: $.access_token}
tasks:
  - {name: /api/products, weight: 3, path: /api/products, headers: {Authorization: "Bearer {{token}}"}}
  - {name: /api/products/:id, weight: 1, path: /api/products/12345, headers: {Authorization: "Bearer {{token}}"}}
`

func TestClosedModelRunsTheSeedScenario(t *testing.T) {
	api := &seedAPI{}
	srv := httptest.NewServer(api.handler())
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 10, spawn_rate: 50, duration: 1500ms, think: 5ms..15ms}\n"+seedTasks)
	rec := &recorder{}
	res := New(p, rec, WithSeed(1)).Run(context.Background())

	if res.SetupFailure != nil || res.Canceled || res.HoldStart.IsZero() {
		t.Fatalf("run did not hold: %+v", res)
	}
	if res.PeakUsers != 10 {
		t.Errorf("peak users = %d, want 10", res.PeakUsers)
	}
	if h := res.HoldDuration(); h < 1500*time.Millisecond || h > 1800*time.Millisecond {
		t.Errorf("hold = %v, want 1.5s (+ up to 300ms)", h)
	}
	if n := api.logins.Load(); n != 10 {
		t.Errorf("logins = %d, want one per user (10)", n)
	}
	if n := api.unauthorized.Load(); n != 0 {
		t.Errorf("%d requests lacked the extracted token", n)
	}
	list, detail := float64(api.list.Load()), float64(api.detail.Load())
	if detail < 50 || list/detail < 2.4 || list/detail > 3.75 {
		t.Errorf("list:detail = %v:%v, want about 3:1", list, detail)
	}
	holdStart := res.HoldStart.Sub(res.Start)
	var hold int
	for _, s := range rec.all() {
		if s.Kind != OK {
			t.Fatalf("sample %+v is an error", s)
		}
		if (s.Stage == Hold) != (s.Offset >= holdStart) {
			t.Fatalf("sample at %v labelled %v; hold starts at %v", s.Offset, s.Stage, holdStart)
		}
		if s.Stage == Hold {
			hold++
			if s.Endpoint == 0 {
				t.Errorf("a login happened during the hold")
			}
		}
	}
	if hold == 0 {
		t.Error("no samples in the hold")
	}
}

func TestRampStartsUsersAtTheSpawnRate(t *testing.T) {
	api := &seedAPI{}
	var mu sync.Mutex
	var firsts []time.Time
	h := api.handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/token" {
			mu.Lock()
			firsts = append(firsts, time.Now())
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 5, spawn_rate: 10, duration: 200ms, think: 10ms}\n"+seedTasks)
	res := New(p, &recorder{}).Run(context.Background())
	if len(firsts) != 5 {
		t.Fatalf("logins = %d", len(firsts))
	}
	// User i starts at i/10 s: the ramp lasts 0.4 s.
	ramp := res.HoldStart.Sub(res.Start)
	if ramp < 400*time.Millisecond || ramp > 600*time.Millisecond {
		t.Errorf("ramp = %v, want 0.4s (+ up to 200ms)", ramp)
	}
	for i, at := range firsts {
		want := time.Duration(i) * 100 * time.Millisecond
		if got := at.Sub(res.Start); got < want || got > want+150*time.Millisecond {
			t.Errorf("user %d logged in at %v, want %v (+ up to 150ms)", i, got, want)
		}
	}
}

func TestSettleDelaysTheHold(t *testing.T) {
	api := &seedAPI{}
	srv := httptest.NewServer(api.handler())
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 1, duration: 200ms, think: 10ms, settle: 300ms}\n"+seedTasks)
	rec := &recorder{}
	res := New(p, rec).Run(context.Background())
	if settle := res.HoldStart.Sub(res.Start); settle < 300*time.Millisecond || settle > 450*time.Millisecond {
		t.Errorf("hold began %v after the start, want 300ms (+ up to 150ms)", settle)
	}
	if hold := res.HoldDuration(); hold < 200*time.Millisecond || hold > 300*time.Millisecond {
		t.Errorf("hold = %v, want 200ms (+ up to 100ms)", hold)
	}
	stages := map[Stage]int{}
	for _, s := range rec.all() {
		if s.Endpoint > 0 { // tasks, not the login
			stages[s.Stage]++
		}
	}
	// One user with 10 ms of think: about 25 tasks settling, 17 in the hold.
	if stages[Ramp] < 10 || stages[Hold] < 8 {
		t.Errorf("tasks by stage = %v: the settling time counts with the ramp", stages)
	}
}

func TestFailedSetupStopsTheRun(t *testing.T) {
	api := &seedAPI{}
	srv := httptest.NewServer(api.handler())
	defer srv.Close()
	doc := strings.Replace(seedTasks, "password: testpass", "password: wrong-hunter2", 1)
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 3, spawn_rate: 100, duration: 30s}\n"+doc)
	start := time.Now()
	res := New(p, &recorder{}).Run(context.Background())
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a failing login took %v to end the run; it should stop after %d attempts", took, setupAttempts)
	}
	f := res.SetupFailure
	if f == nil || f.Worker || f.N < 1 || f.N > 3 || f.Attempts != setupAttempts || !strings.Contains(f.Err, `step "login": status 401`) {
		t.Fatalf("setup failure = %+v", f)
	}
	if strings.Contains(f.Err, "hunter2") {
		t.Errorf("the failure leaks the password: %q", f.Err)
	}
	if res.RunningUsers >= 3 {
		t.Errorf("%d users running, although none could log in", res.RunningUsers)
	}
	if !res.HoldStart.IsZero() {
		t.Error("the hold started although no user could log in")
	}
}

func TestMissingTokenIsASetupFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"token_type":"bearer"}`)
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 1, duration: 1s}\n"+seedTasks)
	rec := &recorder{}
	res := New(p, rec).Run(context.Background())
	if f := res.SetupFailure; f == nil || !strings.Contains(f.Err, "cannot extract token: $.access_token not found in the response") {
		t.Errorf("setup failure = %+v", f)
	}
	for _, s := range rec.all() {
		if s.Kind != SetupFailed {
			t.Errorf("sample kind = %v, want setup", s.Kind)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	mux.HandleFunc("/201", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "nope") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + closed.Addr().String()
	closed.Close()

	cases := []struct {
		target, task string
		want         Kind
	}{
		{srv.URL, "{path: /500}", Status5xx},
		{srv.URL, "{path: /404}", Status4xx},
		{srv.URL, "{path: /201, expect: {status: 200}}", Expectation},
		{srv.URL, "{path: /404, expect: {status: [404]}}", OK},
		{srv.URL, "{path: /body, expect: {contains: yes}}", Expectation},
		{srv.URL, "{path: /slow, timeout: 100ms}", Timeout},
		{srv.URL, "{path: /reset}", ConnReset},
		{refused, "{path: /}", ConnRefused},
	}
	for _, tc := range cases {
		t.Run(tc.task, func(t *testing.T) {
			p := mustPlan(t, "target: "+tc.target+"\nload: {users: 1, duration: 250ms, think: 20ms}\ntasks: ["+tc.task+"]\n")
			rec := &recorder{}
			New(p, rec).Run(context.Background())
			samples := rec.all()
			if len(samples) == 0 {
				t.Fatal("no samples")
			}
			for _, s := range samples {
				if s.Kind != tc.want {
					t.Fatalf("kind = %v, want %v", s.Kind, tc.want)
				}
			}
		})
	}
}

func TestRequestsInFlightFinishAfterTheHold(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 1, duration: 100ms}\ntasks: [{path: /x}]\n")
	rec := &recorder{}
	res := New(p, rec).Run(context.Background())
	var hold int
	for _, s := range rec.all() {
		if s.Stage == Hold {
			hold++
			if s.Kind != OK || s.Latency < 400*time.Millisecond {
				t.Errorf("in-flight request = %+v, want it completed", s)
			}
		}
	}
	if hold != 1 {
		t.Errorf("hold samples = %d, want the 1 request in flight when the hold ended", hold)
	}
	if res.End.Sub(res.HoldEnd) < 250*time.Millisecond {
		t.Errorf("Run returned %v after the hold, before its requests finished", res.End.Sub(res.HoldEnd))
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 4, spawn_rate: 100, duration: 30s}\ntasks: [{path: /x}]\n")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := New(p, &recorder{}).Run(ctx)
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("cancelled run took %v to stop", took)
	}
	if !res.Canceled || res.CanceledIn != Hold || res.Stopped {
		t.Errorf("result = %+v, want cancelled in the hold", res)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tls  string
		want Kind
	}{
		{"{}", TLSFailure},
		{"{ca_file: " + ca + "}", OK},
		{"{insecure: true}", OK},
	}
	for _, tc := range cases {
		p := mustPlan(t, "target: "+srv.URL+"\ntls: "+tc.tls+"\nload: {users: 1, duration: 100ms, think: 20ms}\ntasks: [{path: /}]\n")
		rec := &recorder{}
		New(p, rec).Run(context.Background())
		for _, s := range rec.all() {
			if s.Kind != tc.want {
				t.Fatalf("tls %s: kind %v, want %v", tc.tls, s.Kind, tc.want)
			}
		}
		err := Probe(context.Background(), p)
		if (err == nil) != (tc.want == OK) || (err != nil && !strings.Contains(err.Error(), "TLS failed")) {
			t.Errorf("tls %s: probe error %v", tc.tls, err)
		}
	}
}

func TestProbe(t *testing.T) {
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()

	garbage, _ := net.Listen("tcp", "127.0.0.1:0")
	defer garbage.Close()
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\r\n"))
			c.Close()
		}
	}()
	ok := httptest.NewServer(http.NotFoundHandler())
	defer ok.Close()

	cases := map[string]string{
		"http://" + refused:                      "connection refused",
		"http://" + garbage.Addr().String():      "did not answer with HTTP",
		"https://" + ok.Listener.Addr().String(): "answers plain HTTP, not HTTPS",
		ok.URL:                                   "",
	}
	for target, want := range cases {
		p := mustPlan(t, "target: "+target+"\ndefaults: {timeout: 2s}\ntasks: [{path: /}]\n")
		err := Probe(context.Background(), p)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v (any HTTP status, even 404, means reachable)", target, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cannot reach target") {
			t.Errorf("%s: error %v, want %q", target, err, want)
		}
	}
}

var _ = tls.VersionTLS12

// TestEndHoldEndsTheHoldAsPlanned: a hold planned for a minute, ended after a moment,
// ends as a hold of that length would, in both models: not cancelled nor stopped, the
// request in flight finishes and counts, and the open model's planned arrivals are those
// due before the end.
func TestEndHoldEndsTheHoldAsPlanned(t *testing.T) {
	for _, tc := range []struct {
		model string
		opts  []Option
	}{
		{"users: 2, think: 50ms", nil}, {"rate: 50/s, max_in_flight: 8", nil},
		{"users: 2, think: 50ms", []Option{WithStdlibClient()}}, {"rate: 50/s, max_in_flight: 8", []Option{WithStdlibClient()}},
	} {
		model := tc.model
		t.Run(fmt.Sprintf("%s, %d options", model, len(tc.opts)), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(20 * time.Millisecond)
			}))
			defer srv.Close()
			p := mustPlan(t, "target: "+srv.URL+"\nload: {"+model+", duration: 1m}\ntasks: [{path: /x}]\n")
			e := New(p, &recorder{}, tc.opts...)
			done := make(chan Result, 1)
			go func() { done <- e.Run(context.Background()) }()
			deadline := time.Now().Add(10 * time.Second)
			for e.Status().Stage != Hold && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond)
			e.EndHold()
			e.EndHold() // twice is once
			var res Result
			select {
			case res = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the run went on after EndHold")
			}
			if res.Canceled || res.Stopped || res.HoldStart.IsZero() {
				t.Errorf("result %+v: want a hold that ended as planned", res)
			}
			if d := res.HoldDuration(); d < 400*time.Millisecond || d > 5*time.Second {
				t.Errorf("hold lasted %v, want about half a second", d)
			}
			if res.Open {
				// 50/s over the hold's length, give or take an arrival.
				want := 50 * res.HoldDuration().Seconds()
				if got := float64(res.Delivery.Planned); got < want-2 || got > want+2 || res.Delivery.Sent < res.Delivery.Planned-1 {
					t.Errorf("planned %d, sent %d in a %v hold; want about %.0f of each", res.Delivery.Planned, res.Delivery.Sent, res.HoldDuration(), want)
				}
			}
		})
	}
}
