package stats

import (
	"sync"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/load"
)

func TestSummarizeMergesShards(t *testing.T) {
	c := New(2, 10*time.Second)
	var wg sync.WaitGroup
	// 100 users, each 100 samples: latencies 1..100 ms on endpoint 0, errors on endpoint 1.
	for u := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 100; i++ {
				c.Record(load.Sample{User: u, Endpoint: 0, Stage: load.Hold, Latency: time.Duration(i) * time.Millisecond, Status: 200, Bytes: 10})
			}
			c.Record(load.Sample{User: u, Endpoint: 1, Stage: load.Hold, Latency: time.Second, Status: 503, Kind: load.Status5xx})
			c.Record(load.Sample{User: u, Endpoint: 1, Stage: load.Ramp, Latency: time.Millisecond, Kind: load.ConnRefused})
		}()
	}
	wg.Wait()
	s := c.Summarize(load.Hold, 10*time.Second, []EndpointInfo{{Name: "a"}, {Name: "b"}})
	a, b := s.Endpoints[0], s.Endpoints[1]
	if a.Name != "a" || a.Requests != 10000 || a.Errors != 0 || a.Bytes != 100000 || a.Status[200] != 10000 {
		t.Errorf("a = %+v", a)
	}
	if got := a.Throughput; got != 1000 {
		t.Errorf("throughput = %v, want 1000/s", got)
	}
	// HdrHistogram at 3 significant digits: within 0.1%.
	for q, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := a.Quantile(q); !within(got, want, 0.001) {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
	if got := a.Mean(); !within(got, 50500*time.Microsecond, 0.001) {
		t.Errorf("mean = %v", got)
	}
	if b.Requests != 100 || b.Errors != 100 || b.ByKind[load.Status5xx] != 100 || b.ByKind[load.ConnRefused] != 0 {
		t.Errorf("b = %+v (ramp samples must stay out of the hold)", b)
	}
	if s.All.Requests != 10100 || s.All.Errors != 100 || !near(s.All.ErrorRate(), 100.0/10100) {
		t.Errorf("all = %d requests %d errors", s.All.Requests, s.All.Errors)
	}
	ramp := c.Summarize(load.Ramp, time.Second, nil)
	if ramp.All.ByKind[load.ConnRefused] != 100 {
		t.Errorf("ramp = %+v", ramp.All)
	}
	p := c.Progress()
	if p.Requests != 10200 || p.Errors != 200 {
		t.Errorf("progress = %+v", p)
	}
}

func TestLatencyClamped(t *testing.T) {
	c := New(1, 5*time.Second)
	c.Record(load.Sample{Endpoint: 0, Stage: load.Hold, Latency: 10 * time.Minute})
	c.Record(load.Sample{Endpoint: 0, Stage: load.Hold, Latency: 0})
	c.Record(load.Sample{Endpoint: 7, Stage: load.Hold}) // out of range: ignored, no panic
	s := c.Summarize(load.Hold, time.Second, nil)
	if s.All.Requests != 2 || s.All.Max() < 59*time.Second {
		t.Errorf("requests %d max %v: an overlong latency must be kept, clamped to the range", s.All.Requests, s.All.Max())
	}
}

func TestEmpty(t *testing.T) {
	s := New(1, time.Second).Summarize(load.Hold, 0, nil)
	if s.All.Requests != 0 || s.All.ErrorRate() != 0 || s.All.Throughput != 0 {
		t.Errorf("empty summary = %+v", s.All)
	}
}

func within(got, want time.Duration, frac float64) bool {
	d := float64(got - want)
	return d <= float64(want)*frac && -d <= float64(want)*frac
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }

func BenchmarkRecord(b *testing.B) {
	c := New(4, 10*time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			c.Record(load.Sample{User: i, Endpoint: i & 3, Stage: load.Hold, Latency: time.Duration(i%5000) * time.Microsecond, Status: 200})
		}
	})
}

func TestWindows(t *testing.T) {
	c := New(1, time.Second)
	for i := 1; i <= 100; i++ {
		c.Record(load.Sample{User: i, Latency: time.Duration(i) * time.Millisecond, Stage: load.Ramp})
	}
	w1 := c.CloseWindow(10 * time.Second)
	c.Record(load.Sample{Latency: 500 * time.Millisecond, Stage: load.Hold, Kind: load.Timeout})
	w2 := c.CloseWindow(15 * time.Second)
	w3 := c.CloseWindow(20 * time.Second)
	if w1.Start != 0 || w1.Length != 10*time.Second || w1.Requests != 100 || w1.Throughput() != 10 {
		t.Errorf("w1 = %+v", w1)
	}
	if !within(w1.P99, 99*time.Millisecond, 0.01) || !within(w1.P50, 50*time.Millisecond, 0.01) {
		t.Errorf("w1 p50 %v p99 %v, want 50ms and 99ms within 1%%", w1.P50, w1.P99)
	}
	if w2.Start != 10*time.Second || w2.Requests != 1 || w2.Errors != 1 || !within(w2.Max, 500*time.Millisecond, 0.01) {
		t.Errorf("w2 = %+v: windows must not carry earlier samples", w2)
	}
	if w3.Requests != 0 || w3.P99 != 0 || w3.Length != 5*time.Second {
		t.Errorf("w3 = %+v", w3)
	}
}

func TestWindowsPerEndpoint(t *testing.T) {
	c := New(3, time.Second)
	for i := 1; i <= 200; i++ {
		s := load.Sample{User: i, Endpoint: i % 2, Latency: time.Duration(i) * time.Millisecond, Stage: load.Hold}
		if i%2 == 1 {
			s.Latency = 3 * time.Millisecond
			if i%10 == 1 {
				s.Kind = load.Status5xx
			}
		}
		c.Record(s)
	}
	w := c.CloseWindow(4 * time.Second)
	even, odd, none := w.Of(0), w.Of(1), w.Of(2)
	if len(w.Endpoints) != 3 || even.Requests != 100 || odd.Requests != 100 || none.Requests != 0 || w.Requests != 200 {
		t.Fatalf("requests: all %d, per endpoint %+v", w.Requests, w.Endpoints)
	}
	if odd.Errors != 20 || even.Errors != 0 || w.Errors != 20 || odd.ErrorRate() != 0.2 || w.RateOf(odd.Requests) != 25 {
		t.Errorf("errors: all %d, even %d, odd %d", w.Errors, even.Errors, odd.Errors)
	}
	if !within(even.P99, 198*time.Millisecond, 0.01) || !within(odd.P99, 3*time.Millisecond, 0.01) || !within(w.P99, 196*time.Millisecond, 0.01) {
		t.Errorf("p99: even %v, odd %v, all %v", even.P99, odd.P99, w.P99)
	}
	if w.Of(-1) != w.WindowStats || none.P99 != 0 {
		t.Errorf("Of(-1) = %+v", w.Of(-1))
	}
	if next := c.CloseWindow(5 * time.Second); next.Requests != 0 || next.Of(1).Requests != 0 {
		t.Errorf("the next window carried samples: %+v", next)
	}
}

func TestOpenModelKeepsServiceAndLag(t *testing.T) {
	c := New(1, time.Second, OpenModel())
	for i := 1; i <= 100; i++ {
		c.Record(load.Sample{User: i, Stage: load.Hold, Service: 2 * time.Millisecond, Lag: time.Duration(i) * time.Millisecond,
			Latency: time.Duration(i+2) * time.Millisecond})
	}
	s := c.Summarize(load.Hold, time.Second, nil)
	if s.Service == nil || s.Lag == nil {
		t.Fatal("no service or lag histogram in the open model")
	}
	if got := s.Service.ValueAtPercentile(99); got < 1999 || got > 2003 {
		t.Errorf("service p99 = %dus, want 2ms", got)
	}
	if got := s.Lag.ValueAtPercentile(99); got < 98900 || got > 99100 {
		t.Errorf("lag p99 = %dus, want 99ms", got)
	}
	if got := s.All.Quantile(99); !within(got, 101*time.Millisecond, 0.001) {
		t.Errorf("latency p99 = %v, want 101ms", got)
	}
	if closed := New(1, time.Second).Summarize(load.Hold, time.Second, nil); closed.Service != nil {
		t.Error("the closed model has no separate service time")
	}
}
