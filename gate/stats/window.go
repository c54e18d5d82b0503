package stats

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// windowSigFigs is the resolution of per-window latency: 1%, enough to draw a trend,
// and 20 KB per shard instead of 139 KB.
const windowSigFigs = 2

// Window is every request that completed in one interval of the run: the data behind
// "latency over time", for all requests and per endpoint.
type Window struct {
	// Start is the interval's start from the start of the run; Length its length.
	Start, Length time.Duration
	// WindowStats are all requests' figures.
	WindowStats
	// Endpoints are each endpoint's, in the plan's order (nil when none were kept).
	Endpoints []WindowStats
}

// WindowStats are the figures of one window.
type WindowStats struct {
	Requests                int64
	Errors                  int64
	P50, P90, P95, P99, Max time.Duration
}

// ErrorRate is errors over requests in the window; 0 without requests.
func (w WindowStats) ErrorRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.Requests)
}

// Throughput is all requests per second over the window.
func (w Window) Throughput() float64 { return w.RateOf(w.Requests) }

// RateOf is n requests per second over the window.
func (w Window) RateOf(n int64) float64 {
	if w.Length <= 0 {
		return 0
	}
	return float64(n) / w.Length.Seconds()
}

// Of returns endpoint i's figures, or all requests' for i < 0.
func (w Window) Of(i int) WindowStats {
	if i < 0 || i >= len(w.Endpoints) {
		return w.WindowStats
	}
	return w.Endpoints[i]
}

// windowCell is a shard's share of the current window.
type windowCell struct {
	hist     *hdrhistogram.Histogram
	requests int64
	errors   int64
}

// CloseWindow ends the current window at offset from the start of the run and returns
// it; the next window starts there. Only one goroutine may close windows.
func (c *Collector) CloseWindow(offset time.Duration) Window {
	w := Window{Start: c.windowStart, Length: offset - c.windowStart, Endpoints: make([]WindowStats, c.endpoints)}
	if c.merged == nil {
		c.merged = make([]*hdrhistogram.Histogram, c.endpoints+1)
		for i := range c.merged {
			c.merged[i] = hdrhistogram.New(minLatencyUs, c.maxUs, windowSigFigs)
		}
	}
	all := c.merged[c.endpoints]
	all.Reset()
	for e := range c.endpoints {
		m := c.merged[e]
		m.Reset()
		for i := range c.shards {
			sh := &c.shards[i]
			sh.mu.Lock()
			if cell := sh.window[e]; cell != nil {
				m.Merge(cell.hist)
				w.Endpoints[e].Requests += cell.requests
				w.Endpoints[e].Errors += cell.errors
				cell.hist.Reset()
				cell.requests, cell.errors = 0, 0
			}
			sh.mu.Unlock()
		}
		w.Endpoints[e].fill(m)
		all.Merge(m)
		w.Requests += w.Endpoints[e].Requests
		w.Errors += w.Endpoints[e].Errors
	}
	w.WindowStats.fill(all)
	c.windowStart = offset
	return w
}

// fill sets the latencies from h, when there were requests.
func (w *WindowStats) fill(h *hdrhistogram.Histogram) {
	if w.Requests == 0 {
		return
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	w.P50, w.P90, w.P95 = us(h.ValueAtPercentile(50)), us(h.ValueAtPercentile(90)), us(h.ValueAtPercentile(95))
	w.P99, w.Max = us(h.ValueAtPercentile(99)), us(h.Max())
}
