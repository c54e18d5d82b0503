package load

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runOnLoop runs the plan of doc on the event loop (the test fails if the loop would not
// take it) and returns its samples.
func runOnLoop(t *testing.T, doc string) []Sample {
	t.Helper()
	rec := &recorder{}
	e := New(mustPlan(t, doc), rec)
	if !e.loopEligible() {
		t.Fatal("not on the event loop")
	}
	e.Run(context.Background())
	return rec.all()
}

// The event loop must run a plan as the goroutine-per-user engine does: the same
// requests, the same weights, the same stages; it must only cost less.
func TestEventLoopRunsThePlanAsUsersDo(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[fmt.Sprintf("%s %s %s ua=%s", r.Method, r.RequestURI, r.Host, r.UserAgent())]++
		mu.Unlock()
		if r.URL.Path == "/b" {
			w.WriteHeader(503)
		}
		fmt.Fprint(w, strings.Repeat("x", 100))
	}))
	defer srv.Close()
	doc := "target: " + srv.URL + "\nload: {users: 40, spawn_rate: 400, duration: 400ms}\ntasks:\n  - {name: a, weight: 3, path: '/a?q=1'}\n  - {name: b, path: /b}\n"
	for _, tc := range []struct {
		name string
		opts []Option
		loop bool
	}{{"event loop", nil, true}, {"goroutines", []Option{WithoutEventLoop()}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			clear(seen)
			mu.Unlock()
			p := mustPlan(t, doc)
			rec := &recorder{}
			e := New(p, rec, tc.opts...)
			if e.loopEligible() != tc.loop {
				t.Fatalf("event loop eligible = %v", !tc.loop)
			}
			done := make(chan Result)
			go func() { done <- e.Run(context.Background()) }()
			time.Sleep(200 * time.Millisecond)
			// 40 users: 40 goroutines running Engine.user, or none on the event loop.
			var stacks bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			users := strings.Count(stacks.String(), "load.(*Engine).user+")
			res := <-done
			if tc.loop && users != 0 || !tc.loop && users == 0 {
				t.Errorf("%d goroutines of users during the run", users)
			}
			if res.SetupFailure != nil || res.Canceled || res.PeakUsers != 40 || res.HoldDuration() < 400*time.Millisecond {
				t.Fatalf("result = %+v", res)
			}
			byEndpoint := map[int]int{}
			stages := map[Stage]int{}
			for _, s := range rec.all() {
				byEndpoint[s.Endpoint]++
				stages[s.Stage]++
				want := OK
				if s.Endpoint == 1 {
					want = Status5xx
				}
				if s.Kind != want || s.Bytes != 100 || s.User < 0 || s.User >= 40 || s.Latency <= 0 {
					t.Fatalf("sample %+v", s)
				}
			}
			a, b := byEndpoint[0], byEndpoint[1]
			if ratio := float64(a) / float64(b); b == 0 || ratio < 2.5 || ratio > 3.5 {
				t.Errorf("a:b = %d:%d, want about 3:1", a, b)
			}
			if stages[Ramp] == 0 || stages[Hold] == 0 {
				t.Errorf("stages = %v", stages)
			}
			mu.Lock()
			defer mu.Unlock()
			host := strings.TrimPrefix(srv.URL, "http://")
			if len(seen) != 2 || seen["GET /a?q=1 "+host+" ua=perfgate"] != a || seen["GET /b "+host+" ua=perfgate"] != b {
				t.Errorf("the server saw %v; %d and %d samples", seen, a, b)
			}
		})
	}
}

func TestEventLoopIsOnlyForPlansItServesExactly(t *testing.T) {
	base := "target: http://127.0.0.1:9\nload: {users: 2, think: 0s}\n"
	cases := map[string]string{
		"think time":               "target: http://127.0.0.1:9\nload: {users: 20, think: 10ms}\ntasks: [{path: /}]\n",
		"think time, few requests": "target: http://127.0.0.1:9\nload: {users: 200, think: 1s..3s}\ntasks: [{path: /}]\n",
		"setup and variables":      base + "setup: [{path: /login, extract: {t: $.t}}]\ntasks: [{path: /, headers: {A: '{{t}}'}}]\n",
		"body check":               base + "tasks: [{path: /, expect: {contains: ok}}]\n",
		"open model":               "target: http://127.0.0.1:9\nload: {rate: 10/s}\ntasks: [{path: /}]\n",
		"open model and setup":     "target: http://127.0.0.1:9\nload: {rate: 10/s}\nsetup: [{path: /login}]\ntasks: [{path: /}]\n",
		"HTTPS, ALPN unknown":      "target: https://127.0.0.1:9\nload: {users: 2}\ntasks: [{path: /}]\n",
		"HTTPS":                    "target: https://127.0.0.1:9\nload: {users: 2}\ntls: {protocol: http/1.1}\ntasks: [{path: /}]\n",
		"HTTP/2":                   "target: https://127.0.0.1:9\nload: {users: 2}\ntls: {protocol: h2}\ntasks: [{path: /}]\n",
		"eligible":                 base + "tasks: [{path: /, expect: {status: [200]}}]\n",
		"net/http asked for":       base + "tasks: [{path: /}]\n",
	}
	for name, doc := range cases {
		var opts []Option
		if name == "net/http asked for" {
			opts = append(opts, WithStdlibClient())
		}
		got := New(mustPlan(t, doc), discard{}, opts...).loopEligible()
		want := map[string]bool{"eligible": true, "open model": true, "think time": true, "setup and variables": true, "HTTPS": true}[name]
		if got != want {
			t.Errorf("%s: eligible = %v, want %v", name, got, want)
		}
	}
}

// A cancelled run on the event loop stops at once and leaves no connection open.
func TestEventLoopStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, load := range []string{"{users: 10, spawn_rate: 1000, duration: 1m}", "{rate: 500/s, duration: 1m}"} {
		p := mustPlan(t, "target: "+srv.URL+"\nload: "+load+"\ntasks: [{path: /}]\n")
		e := New(p, &recorder{})
		if !e.loopEligible() {
			t.Fatal("not on the event loop")
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		res := e.Run(ctx)
		if took := time.Since(start); took > time.Second || !res.Canceled {
			t.Errorf("%s: cancelled after 300ms, returned after %v, canceled %v", load, took, res.Canceled)
		}
	}
}

// A request the target never answers times out on the loop's own clock, in either
// model.
func TestEventLoopTimesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	for _, load := range []string{"{users: 2, spawn_rate: 100, duration: 400ms}", "{rate: 20/s, duration: 400ms}"} {
		p := mustPlan(t, "target: "+srv.URL+"\nload: "+load+"\ndefaults: {timeout: 100ms}\ntasks: [{path: /slow}]\n")
		rec := &recorder{}
		New(p, rec).Run(context.Background())
		timedOutAt100ms(t, load, rec.all())
	}
}

// timedOutAt100ms checks that every one of a run's samples (at least 4) is a timeout
// at 100 ms, late by up to two ticks and what a busy machine adds: a loop's thread
// descheduled beside a CPU hog (stress-ng --cpu 2) was seen 40 ms late.
func timedOutAt100ms(t *testing.T, load string, samples []Sample) {
	t.Helper()
	if len(samples) < 4 {
		t.Fatalf("%s: %d samples", load, len(samples))
	}
	for _, s := range samples {
		if s.Kind != Timeout || s.Service < 100*time.Millisecond || s.Service > 100*time.Millisecond+2*loopTick+100*time.Millisecond {
			t.Errorf("%s: sample %v after %v, want a timeout at 100ms (+ up to two ticks and a busy machine's 100ms)", load, s.Kind, s.Service)
		}
	}
}

// An idle connection the target closes is dropped at once (not polled again and again)
// and the next arrival dials a new one.
func TestOpenLoopDropsAnIdleConnectionTheTargetCloses(t *testing.T) {
	// One keep-alive response per connection, then the target closes it while idle.
	addr, accepted := scripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	cpu := cpuTime()
	samples := runOnLoop(t, "target: http://"+addr+"\nload: {rate: 20/s, duration: 500ms, max_in_flight: 1}\ntasks: [{path: /}]\n")
	// Ten arrivals 50 ms apart: a loop that polled a closed connection until the next
	// arrival would burn most of the half second.
	if used := cpuTime() - cpu; used > 200*time.Millisecond {
		t.Errorf("the run used %v of CPU for 10 requests", used)
	}
	for _, s := range samples {
		if s.Kind != OK {
			t.Errorf("sample %+v", s)
		}
	}
	if n := len(samples); n != 10 || accepted.Load() < 10 {
		t.Errorf("%d requests on %d connections, want 10 on 10", n, accepted.Load())
	}
}

// Above openLoopRate several loops share the schedule: every arrival is sent once, at
// its own time, and max_in_flight holds across the loops.
func TestOpenLoopsShareTheScheduleAndTheCap(t *testing.T) {
	if processors < 2 {
		t.Skip("one CPU: one loop")
	}
	defer func(r float64) { openLoopRate = r }(openLoopRate)
	openLoopRate = 100
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if r.URL.Path == "/slow" {
			time.Sleep(20 * time.Millisecond)
		}
	}))
	defer srv.Close()

	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 400/s, duration: 500ms}\ntasks: [{path: /}]\n")
	if n := openLoops(p.Rate); n < 2 {
		t.Fatalf("%d loops at 400/s", n)
	}
	rec := &recorder{}
	res := New(p, rec).Run(context.Background())
	if d := res.Delivery; d.Planned != 200 || d.Sent != 200 {
		t.Errorf("delivery %+v", d)
	}
	seen := map[time.Duration]bool{}
	for _, s := range holdSamples(rec) {
		if seen[s.Offset] || s.Offset%(2500*time.Microsecond) != 0 || s.Kind != OK {
			t.Fatalf("sample %+v: each arrival once, on the schedule", s)
		}
		seen[s.Offset] = true
	}
	if len(seen) != 200 {
		t.Errorf("%d arrivals answered, want 200", len(seen))
	}

	// 400/s to a 20 ms handler needs 8 in flight; at most 2 are allowed, in all.
	peak.Store(0)
	p = mustPlan(t, "target: "+srv.URL+"\nload: {rate: 400/s, duration: 300ms, max_in_flight: 2}\ndefaults: {timeout: 2s}\ntasks: [{path: /slow}]\n")
	res = New(p, &recorder{}).Run(context.Background())
	if !res.Delivery.CapReached || res.Delivery.PeakInFlight != 2 || peak.Load() > 2 {
		t.Errorf("cap reached %v, peak in flight %d (server saw %d), want the cap of 2 held across loops",
			res.Delivery.CapReached, res.Delivery.PeakInFlight, peak.Load())
	}
}

// A dial that ends (here, refused at once) wakes the loop: its request is not left
// waiting for the loop's next tick.
func TestEventLoopWakesWhenADialEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial is refused
	for _, load := range []string{"{users: 1, duration: 300ms}", "{rate: 100/s, duration: 300ms}"} {
		var lat []time.Duration
		for _, s := range runOnLoop(t, "target: http://"+addr+"\nload: "+load+"\ntasks: [{path: /}]\n") {
			if s.Kind != ConnRefused {
				t.Fatalf("%s: sample %+v, want connect_refused", load, s)
			}
			lat = append(lat, s.Service)
		}
		if len(lat) < 10 {
			t.Fatalf("%s: %d samples", load, len(lat))
		}
		if p50 := quantile(lat, 0.5); p50 > loopTick/2 {
			t.Errorf("%s: refused dials took a median %v, want far less than the loop's %v tick", load, p50, loopTick)
		}
	}
}

// The loop hears of a connection's data once per arrival (edge-triggered): a response
// that comes in pieces, fills the buffer many times over, or ends with the connection
// must still be read whole, in either model.
func TestEventLoopReadsResponsesThatArriveInPieces(t *testing.T) {
	const gap = 10 * time.Millisecond
	cases := []struct {
		name, resp string
		body       int
		closes     bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 5, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 11, false},
		{"large body", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("z", 100000), 100000, false},
		{"body to EOF", "HTTP/1.0 200 OK\r\n\r\nuntil close", 11, true},
	}
	for _, tc := range cases {
		// The last: an open loop that sleeps through responses (see deferResponses).
		for _, load := range []string{"{users: 2, spawn_rate: 100, duration: 300ms}", "{rate: 20/s, duration: 300ms, max_in_flight: 4}", "{rate: 1000/s, duration: 100ms}"} {
			responses := []string{tc.resp}
			if !tc.closes {
				responses = slices.Repeat(responses, 100)
			}
			addr, _ := trickled(t, gap, responses...)
			samples := runOnLoop(t, "target: http://"+addr+"\nload: "+load+"\ndefaults: {timeout: 2s}\ntasks: [{path: /}]\n")
			if len(samples) < 5 {
				t.Errorf("%s, %s: %d samples", tc.name, load, len(samples))
			}
			for _, s := range samples {
				// The last piece leaves the target two gaps after the first, but an open
				// loop's latency ends at the kernel's receive stamp, and a piece that comes
				// while the reader holds the socket (descheduled in recvmsg on a busy host)
				// is merged into the one before it, keeping that one's stamp: at least the
				// second piece is always a gap after the request.
				if s.Kind != OK || s.Status != 200 || s.Bytes != int64(tc.body) || s.Latency < gap {
					t.Errorf("%s, %s: sample %v status %d, %d bytes in %v", tc.name, load, s.Kind, s.Status, s.Bytes, s.Latency)
					break
				}
			}
		}
	}
}

// Users with a setup, variables and think time run on the event loop as they do in
// goroutines of their own: each logs in once, on the connection its tasks then use,
// sends its own token, and waits its think time between responses and requests; no
// goroutine of a user remains once the setups are done.
func TestEventLoopRunsUsersThatThinkAsUsersDo(t *testing.T) {
	const users = 20
	for _, tc := range []struct {
		name string
		opts []Option
		loop bool
	}{{"event loop", nil, true}, {"goroutines", []Option{WithoutEventLoop()}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var logins, conns int
			last := map[string]time.Time{} // by token: the last task's arrival
			minGap := time.Hour
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if r.URL.Path == "/login" {
					logins++
					fmt.Fprintf(w, `{"t": "tok-%d"}`, logins)
					return
				}
				tok, now := r.Header.Get("A"), time.Now()
				if prev, ok := last[tok]; ok {
					minGap = min(minGap, now.Sub(prev))
				}
				last[tok] = now
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					mu.Lock()
					conns++
					mu.Unlock()
				}
			}
			srv.Start()
			defer srv.Close()
			p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 20, spawn_rate: 400, duration: 600ms, think: 10ms..20ms}\n"+
				"setup: [{name: login, method: POST, path: /login, extract: {t: $.t}}]\ntasks: [{name: a, path: /a, headers: {A: '{{t}}'}}]\n")
			rec := &recorder{}
			e := New(p, rec, tc.opts...)
			if e.loopEligible() != tc.loop {
				t.Fatalf("event loop eligible = %v", !tc.loop)
			}
			done := make(chan Result)
			go func() { done <- e.Run(context.Background()) }()
			time.Sleep(300 * time.Millisecond)
			var stacks bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			goroutines := strings.Count(stacks.String(), "load.(*Engine).user+") + strings.Count(stacks.String(), "load.(*Engine).setupForLoop")
			res := <-done
			if tc.loop && goroutines != 0 || !tc.loop && goroutines == 0 {
				t.Errorf("%d goroutines of users during the hold", goroutines)
			}
			if res.SetupFailure != nil || res.PeakUsers != users || res.HoldDuration() < 600*time.Millisecond {
				t.Fatalf("result = %+v", res)
			}
			tasks := 0
			for _, s := range rec.all() {
				if s.Kind != OK {
					t.Fatalf("sample %+v", s)
				}
				if s.Endpoint == 1 {
					tasks++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("%d logins, %d tokens, %d connections, %d tasks, closest %v, wakes %+v", logins, len(last), conns, tasks, minGap, res.Wakes)
			// A user thinks 10-20 ms: in 600 ms of hold (and the ramp) some 30-60 tasks.
			if logins != users || len(last) != users || conns != users || tasks < users*10 || minGap < 10*time.Millisecond {
				t.Errorf("%d logins, %d tokens used, %d connections, %d tasks, closest tasks of a user %v apart (think 10ms..20ms)",
					logins, len(last), conns, tasks, minGap)
			}
			if res.Wakes.Periods == 0 {
				t.Errorf("no wake from think time noted: %+v", res.Wakes)
			}
		})
	}
}

// A closed model's loop times each response by when the kernel received it: a loop
// held up after its wait (its thread descheduled, or waiting for a processor the
// runtime lent out) adds nothing to the latency of the responses that came meanwhile,
// which one thread serves for every user of the loop.
func TestEventLoopTimesResponsesByTheirStamps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	const held = 3 * time.Millisecond
	bound := min(held/2, stampBound(t, srv))
	rec := &recorder{}
	e := New(mustPlan(t, "target: "+srv.URL+"\nload: {users: 10, spawn_rate: 400, duration: 300ms, think: 5ms..10ms}\ntasks: [{path: /}]\n"), rec)
	if !e.loopEligible() {
		t.Fatal("not on the event loop")
	}
	e.heldUp = func() { time.Sleep(held) }
	e.Run(context.Background())
	var latency []time.Duration
	for _, s := range holdSamples(rec) {
		if s.Kind != OK {
			t.Fatalf("sample %+v", s)
		}
		latency = append(latency, s.Latency)
	}
	if len(latency) < 20 {
		t.Fatalf("%d hold samples", len(latency))
	}
	if med := quantile(latency, 0.5); med > bound {
		t.Errorf("median latency %v, over %v with the loop held up %v after each wait: responses are timed by the loop, not by their arrival", med, bound, held)
	}
}
