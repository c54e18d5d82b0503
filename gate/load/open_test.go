package load

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func holdSamples(rec *recorder) []Sample {
	var out []Sample
	for _, s := range rec.all() {
		if s.Stage == Hold {
			out = append(out, s)
		}
	}
	return out
}

func quantile(ds []time.Duration, q float64) time.Duration {
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return sorted[int(q*float64(len(sorted)-1))]
}

// openEngines are the two ways the open model runs: on the event loop (where the plan
// allows it) and with a goroutine per worker. Each open-model test runs on both.
var openEngines = []struct {
	name string
	opts []Option
}{{"event loop", nil}, {"goroutines", []Option{WithoutEventLoop()}}}

func forEachOpenEngine(t *testing.T, test func(t *testing.T, opts []Option)) {
	for _, eng := range openEngines {
		t.Run(eng.name, func(t *testing.T) { test(t, eng.opts) })
	}
}

// workerGoroutines counts the open model's worker goroutines now running.
func workerGoroutines() int {
	var stacks bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
	return strings.Count(stacks.String(), "load.(*Engine).worker+")
}

func TestOpenModelHoldsTheRate(t *testing.T) {
	forEachOpenEngine(t, testOpenModelHoldsTheRate)
}

func testOpenModelHoldsTheRate(t *testing.T, opts []Option) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 200/s, duration: 1s}\ntasks: [{path: /a, weight: 3}, {path: /b}]\n")
	rec := &recorder{}
	workers := make(chan int, 1)
	time.AfterFunc(500*time.Millisecond, func() { workers <- workerGoroutines() })
	res := New(p, rec, opts...).Run(context.Background())
	if n := <-workers; (n == 0) != (opts == nil) {
		t.Errorf("%d worker goroutines during the run", n)
	}
	if res.SetupFailure != nil || res.Canceled || !res.Open {
		t.Fatalf("result = %+v", res)
	}
	d := res.Delivery
	if d.Planned != 200 || d.Sent != 200 || d.Generator.Late > 2 {
		t.Errorf("delivery = %+v, want 200 planned and sent", d)
	}
	hold := holdSamples(rec)
	if len(hold) != 200 {
		t.Fatalf("hold samples = %d, want 200", len(hold))
	}
	sort.Slice(hold, func(i, j int) bool { return hold[i].Offset < hold[j].Offset })
	for i, s := range hold {
		if want := time.Duration(i) * 5 * time.Millisecond; s.Offset != want {
			t.Fatalf("sample %d was due at %v, want %v: offsets are the schedule's", i, s.Offset, want)
		}
		if s.Latency < s.Service || s.Latency-s.Service > s.Lag {
			t.Fatalf("latency %v: not between service %v and service + lag %v", s.Latency, s.Service, s.Lag)
		}
	}
	var a int
	for _, s := range hold {
		if s.Endpoint == 0 {
			a++
		}
	}
	if a < 120 || a > 180 {
		t.Errorf("/a got %d of 200, want about 150 (weight 3:1)", a)
	}
}

// TestOpenModelDoesNotHideAStall is coordinated omission, automated: at 1000 requests a
// second for 3 s, the server stalls for 250 ms. Requests due during the stall wait for
// it to end, uniformly 0-250 ms, so the true p99 is 250 ms x (1 - 0.01 x 3 s / 250 ms)
// = 220 ms. A generator that measures from the actual send reports a few ms.
func TestOpenModelDoesNotHideAStall(t *testing.T) {
	forEachOpenEngine(t, testOpenModelDoesNotHideAStall)
}

func testOpenModelDoesNotHideAStall(t *testing.T, opts []Option) {
	var start atomic.Int64
	const stallAt, stallFor = 1200 * time.Millisecond, 250 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Unix(0, start.Load())
		if since := time.Since(begin); since >= stallAt && since < stallAt+stallFor {
			time.Sleep(stallAt + stallFor - since)
		}
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 1000/s, duration: 3s, max_in_flight: 20}\ntasks: [{path: /}]\n")
	rec := &recorder{}
	eng := New(p, rec, opts...)
	start.Store(time.Now().UnixNano()) // the run starts within a few ms of this, after warm-up
	res := eng.Run(context.Background())
	if res.SetupFailure != nil || res.Canceled {
		t.Fatalf("result = %+v", res)
	}
	if !res.Delivery.CapReached {
		t.Error("20 requests in flight should have been reached during the stall")
	}
	var lat, svc []time.Duration
	for _, s := range holdSamples(rec) {
		lat = append(lat, s.Latency)
		svc = append(svc, s.Service)
	}
	if len(lat) < 2990 {
		t.Fatalf("%d samples, want 3000", len(lat))
	}
	truth := 220 * time.Millisecond
	if p99 := quantile(lat, 0.99); p99 < truth*9/10 || p99 > truth*11/10 {
		t.Errorf("p99 latency = %v, want %v within 10%%", p99, truth)
	}
	// Service time hides the stall: only the 20 requests in flight (0.7%) saw it.
	if p99 := quantile(svc, 0.99); p99 > 50*time.Millisecond {
		t.Errorf("p99 service time = %v, want a few ms", p99)
	}
}

func TestOpenModelReportsAShortfall(t *testing.T) {
	forEachOpenEngine(t, testOpenModelReportsAShortfall)
}

func testOpenModelReportsAShortfall(t *testing.T, opts []Option) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 100/s, duration: 1s, max_in_flight: 2}\ndefaults: {timeout: 300ms}\ntasks: [{path: /}]\n")
	began := time.Now()
	res := New(p, &recorder{}, opts...).Run(context.Background())
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("run took %v: the backlog must stop a timeout after the schedule", took)
	}
	if d := res.Delivery; d.Planned != 100 || d.Sent > 40 || !d.CapReached || d.PeakInFlight != 2 {
		t.Errorf("delivery = %+v", d)
	}
}

func TestOpenModelRamp(t *testing.T) {
	forEachOpenEngine(t, testOpenModelRamp)
}

func testOpenModelRamp(t *testing.T, opts []Option) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 200/s, start_rate: 0/s, ramp: 1s, duration: 500ms}\ntasks: [{path: /}]\n")
	rec := &recorder{}
	res := New(p, rec, opts...).Run(context.Background())
	var ramp, hold int
	for _, s := range rec.all() {
		if s.Stage == Hold {
			hold++
		} else {
			ramp++
		}
	}
	// Ramp 0 -> 200/s over 1 s: 100 arrivals; then 100 in 0.5 s.
	if ramp != 100 || hold != 100 || res.Delivery.Planned != 100 {
		t.Errorf("ramp %d, hold %d, planned %d; want 100, 100, 100", ramp, hold, res.Delivery.Planned)
	}
	if got := res.HoldStart.Sub(res.Start); got != time.Second {
		t.Errorf("hold starts at %v, want 1s", got)
	}
}

// Requests in flight when the schedule ends finish and are counted, on both engines.
func TestOpenModelRequestsInFlightFinishAfterTheHold(t *testing.T) {
	forEachOpenEngine(t, func(t *testing.T, opts []Option) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(400 * time.Millisecond)
		}))
		defer srv.Close()
		p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 20/s, duration: 200ms}\ntasks: [{path: /x}]\n")
		rec := &recorder{}
		res := New(p, rec, opts...).Run(context.Background())
		hold := holdSamples(rec)
		for _, s := range hold {
			if s.Kind != OK || s.Service < 400*time.Millisecond {
				t.Errorf("in-flight request = %+v, want it completed", s)
			}
		}
		if len(hold) != 4 || res.Delivery.Sent != 4 {
			t.Errorf("%d hold samples, %d sent; want the 4 arrivals of 200 ms at 20/s", len(hold), res.Delivery.Sent)
		}
		if res.End.Sub(res.HoldEnd) < 150*time.Millisecond {
			t.Errorf("Run returned %v after the hold, before its requests finished", res.End.Sub(res.HoldEnd))
		}
	})
}

// TestANewWorkersSetupIsTheTargetsTime: a target that slows down needs more workers,
// each set up (connected, logged in) while the load runs; the arrivals that wait for a
// setup are late by the target's doing, not the generator's: their wait counts in their
// latency, and not as the generator falling behind. Here each login takes 30 ms and each
// request 40 ms at 300/s, so about nine workers are set up during the hold.
func TestANewWorkersSetupIsTheTargetsTime(t *testing.T) {
	var logins atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			logins.Add(1)
			time.Sleep(30 * time.Millisecond)
			_, _ = w.Write([]byte(`{"token":"t"}`))
			return
		}
		time.Sleep(40 * time.Millisecond)
	}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 300/s, duration: 2s}\n"+
		"setup: [{name: login, method: POST, path: /login, extract: {token: $.token}}]\n"+
		"tasks: [{path: /a, headers: {Authorization: 'Bearer {{token}}'}}]\n")
	rec := &recorder{}
	res := New(p, rec).Run(context.Background())
	if res.SetupFailure != nil || res.Canceled || res.Delivery.Sent < 590 {
		t.Fatalf("result = %+v", res)
	}
	if n := logins.Load(); n < 8 {
		t.Fatalf("%d workers set up, want the hold to need more than the warm-up's", n)
	}
	// Each setup delays the arrivals due meanwhile by up to 30 ms: late, but not by the
	// generator's fault. A busy machine may add a few of its own.
	if g := res.Delivery.Generator; g.Late > res.Delivery.Sent/50 || res.Delivery.Late == 0 {
		t.Errorf("%d sends late, %d of them by the generator's fault, of %d: want the setups' delays not counted as its own", res.Delivery.Late, g.Late, res.Delivery.Sent)
	}
	var slow int
	for _, s := range holdSamples(rec) {
		if s.Latency >= 40*time.Millisecond+10*time.Millisecond {
			slow++
		}
	}
	if slow == 0 {
		t.Error("no arrival's latency shows the wait for a setup")
	}
}
