package stats

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// windowSigFigs is the resolution of per-window latency: 1%, enough to draw a trend,
// and 20 KB per shard instead of 139 KB.
const windowSigFigs = 2

// Window is every request that completed in one interval of the run, all endpoints
// together: the data behind "latency over time".
type Window struct {
	// Start is the interval's start from the start of the run; Length its length.
	Start, Length           time.Duration
	Requests                int64
	Errors                  int64
	P50, P90, P95, P99, Max time.Duration
}

// ErrorRate is errors over requests in the window; 0 without requests.
func (w Window) ErrorRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.Requests)
}

// Throughput is requests per second over the window.
func (w Window) Throughput() float64 {
	if w.Length <= 0 {
		return 0
	}
	return float64(w.Requests) / w.Length.Seconds()
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
	w := Window{Start: c.windowStart, Length: offset - c.windowStart}
	merged := hdrhistogram.New(minLatencyUs, c.maxUs, windowSigFigs)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		merged.Merge(sh.window.hist)
		w.Requests += sh.window.requests
		w.Errors += sh.window.errors
		sh.window.hist.Reset()
		sh.window.requests, sh.window.errors = 0, 0
		sh.mu.Unlock()
	}
	if w.Requests > 0 {
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		w.P50, w.P90, w.P95 = us(merged.ValueAtPercentile(50)), us(merged.ValueAtPercentile(90)), us(merged.ValueAtPercentile(95))
		w.P99, w.Max = us(merged.ValueAtPercentile(99)), us(merged.Max())
	}
	c.windowStart = offset
	return w
}
