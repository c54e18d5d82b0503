package stats

import (
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

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

// pct reads a percentile of a window's histogram.
func pct(w WindowCounts, q float64) time.Duration {
	if w.Requests == 0 {
		return 0
	}
	return time.Duration(w.Latency.Histogram().ValueAtPercentile(q)) * time.Microsecond
}

func TestWindows(t *testing.T) {
	c := New(1, time.Second)
	for i := 1; i <= 100; i++ {
		c.Record(load.Sample{User: i, Latency: time.Duration(i) * time.Millisecond, Stage: load.Ramp})
	}
	w1 := c.CloseWindow(0, 10*time.Second)
	c.Record(load.Sample{Latency: 500 * time.Millisecond, Stage: load.Hold, Kind: load.Timeout})
	w2 := c.CloseWindow(10*time.Second, 15*time.Second)
	w3 := c.CloseWindow(15*time.Second, 20*time.Second)
	if w1.Start != 0 || w1.Length != 10*time.Second || w1.All.Requests != 100 || w1.Throughput() != 10 {
		t.Errorf("w1 = %+v", w1)
	}
	// The hold's resolution: 0.1%.
	if !within(pct(w1.All, 99), 99*time.Millisecond, 0.001) || !within(pct(w1.All, 50), 50*time.Millisecond, 0.001) {
		t.Errorf("w1 p50 %v p99 %v, want 50ms and 99ms within 0.1%%", pct(w1.All, 50), pct(w1.All, 99))
	}
	if w2.Start != 10*time.Second || w2.All.Requests != 1 || w2.All.Errors != 1 || w2.All.Latency.Total() != 1 ||
		!within(time.Duration(w2.All.Latency.Histogram().Max())*time.Microsecond, 500*time.Millisecond, 0.001) {
		t.Errorf("w2 = %+v: windows must not carry earlier samples", w2)
	}
	if w3.All.Requests != 0 || w3.All.Latency.Total() != 0 || w3.Length != 5*time.Second {
		t.Errorf("w3 = %+v", w3)
	}
	if f := w3.Figures(-1); f.Throughput != 0 || f.Latency != nil {
		t.Errorf("an empty window's figures = %+v", f)
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
	w := c.CloseWindow(0, 4*time.Second)
	even, odd, none := w.Of(0), w.Of(1), w.Of(2)
	if len(w.Endpoints) != 3 || even.Requests != 100 || odd.Requests != 100 || none.Requests != 0 || w.All.Requests != 200 {
		t.Fatalf("requests: all %d, per endpoint %+v", w.All.Requests, w.Endpoints)
	}
	if odd.Errors != 20 || even.Errors != 0 || w.All.Errors != 20 || odd.ErrorRate() != 0.2 || w.RateOf(odd.Requests) != 25 {
		t.Errorf("errors: all %d, even %d, odd %d", w.All.Errors, even.Errors, odd.Errors)
	}
	if !within(pct(even, 99), 198*time.Millisecond, 0.001) || !within(pct(odd, 99), 3*time.Millisecond, 0.001) || !within(pct(w.All, 99), 196*time.Millisecond, 0.001) {
		t.Errorf("p99: even %v, odd %v, all %v", pct(even, 99), pct(odd, 99), pct(w.All, 99))
	}
	if w.Of(-1).Requests != w.All.Requests || none.Latency.Total() != 0 {
		t.Errorf("Of(-1) = %+v", w.Of(-1))
	}
	if next := c.CloseWindow(4*time.Second, 5*time.Second); next.All.Requests != 0 || next.Of(1).Requests != 0 {
		t.Errorf("the next window carried samples: %+v", next)
	}
}

// The windows of a run add up, bucket for bucket, to its stages: merging them is exact.
func TestWindowsAddUpToTheStages(t *testing.T) {
	c := New(2, 5*time.Second)
	infos := []EndpointInfo{{Name: "a"}, {Name: "b"}}
	var windows []Window
	for w := range 7 {
		for i := range 500 + 300*w {
			stage := load.Hold
			if w < 2 {
				stage = load.Ramp
			}
			c.Record(load.Sample{User: i, Endpoint: i % 2, Stage: stage, Latency: time.Duration(1+(i*7919+w*104729)%900000) * time.Microsecond,
				Kind: load.Kind(i % 11 / 10)})
		}
		windows = append(windows, c.CloseWindow(time.Duration(w)*time.Second, time.Duration(w+1)*time.Second))
	}
	hold, ramp := c.Summarize(load.Hold, time.Second, infos), c.Summarize(load.Ramp, time.Second, infos)
	for e := -1; e < 2; e++ {
		var sum Hist
		var requests, errors int64
		for _, w := range windows {
			var err error
			if sum, err = sum.Merge(w.Of(e).Latency); err != nil {
				t.Fatal(err)
			}
			requests += w.Of(e).Requests
			errors += w.Of(e).Errors
		}
		h, r := &hold.All, &ramp.All
		if e >= 0 {
			h, r = &hold.Endpoints[e], &ramp.Endpoints[e]
		}
		want := hdrhistogram.New(1, h.Hist.HighestTrackableValue(), 3)
		want.Merge(h.Hist)
		want.Merge(r.Hist)
		if !sum.Histogram().Equals(want) || requests != h.Requests+r.Requests || errors != h.Errors+r.Errors {
			t.Errorf("endpoint %d: the windows hold %d requests (%d errors), the stages %d (%d); histograms equal: %v",
				e, requests, errors, h.Requests+r.Requests, h.Errors+r.Errors, sum.Histogram().Equals(want))
		}
	}
}

func TestHistCompactRoundTripsAndMerges(t *testing.T) {
	a, b, both := hdrhistogram.New(1, 60e6, 3), hdrhistogram.New(1, 60e6, 3), hdrhistogram.New(1, 60e6, 3)
	for i := int64(1); i < 20000; i++ {
		v := i*i%59_000_000 + 1
		if i%3 == 0 {
			_ = a.RecordValue(v)
		} else {
			_ = b.RecordValue(v)
		}
		_ = both.RecordValue(v)
	}
	ca, cb := Compact(a), Compact(b)
	if !ca.Histogram().Equals(a) || ca.Total() != a.TotalCount() {
		t.Error("a compact histogram does not round-trip")
	}
	m, err := ca.Merge(cb)
	if err != nil || !m.Histogram().Equals(both) {
		t.Errorf("merge: %v, equal to one histogram of both: %v", err, err == nil && m.Histogram().Equals(both))
	}
	if _, err := ca.Merge(Compact(hdrhistogram.New(1, 60e6, 2))); err == nil {
		t.Error("histograms of other settings merged")
	}
	if z, err := (Hist{}).Merge(ca); err != nil || !z.Histogram().Equals(a) {
		t.Errorf("the zero histogram does not merge: %v", err)
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

// The generator's own failures are counted by kind, and nowhere in the target's
// requests, errors, latency or windows.
func TestGeneratorFailuresAreNotTheTargets(t *testing.T) {
	c := New(1, 10*time.Second)
	for i := range 10 {
		c.Record(load.Sample{User: i, Stage: load.Hold, Latency: 5 * time.Millisecond, Status: 200})
		c.Record(load.Sample{User: i, Stage: load.Hold, Latency: 9 * time.Second, Kind: load.Generator})
	}
	s := c.Summarize(load.Hold, time.Second, []EndpointInfo{{Name: "a"}})
	a := s.Endpoints[0]
	if a.Requests != 10 || a.Errors != 0 || a.ByKind[load.Generator] != 10 || a.Throughput != 10 || a.Max() > 6*time.Millisecond {
		t.Errorf("a = %d requests, %d errors, %d generator, %v/s, max %v", a.Requests, a.Errors, a.ByKind[load.Generator], a.Throughput, a.Max())
	}
	if s.All.Requests != 10 || s.All.Errors != 0 {
		t.Errorf("all = %d requests, %d errors", s.All.Requests, s.All.Errors)
	}
	w := c.CloseWindow(0, time.Second)
	if w.All.Requests != 10 || w.All.Errors != 0 {
		t.Errorf("window = %d requests, %d errors", w.All.Requests, w.All.Errors)
	}
	if p := c.Progress(); p.Requests != 10 || p.Errors != 0 {
		t.Errorf("progress = %+v", p)
	}
}
