package stats

import (
	"time"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
)

// Window is every request that completed in one interval of the run: the data behind
// "latency over time", for all requests and per endpoint, with latency histograms of the
// hold's settings, so that windows merge exactly and any metric can be read from them
// later.
type Window struct {
	// Start is the interval's start from the start of the run; Length its length.
	Start, Length time.Duration
	// All is every request's figures; Endpoints each endpoint's, in the plan's order.
	All       WindowCounts
	Endpoints []WindowCounts
}

// WindowCounts are one scope's figures in a window.
type WindowCounts struct {
	Requests, Errors int64
	// Latency holds the requests' latencies in microseconds.
	Latency Hist
}

// ErrorRate is errors over requests; 0 without requests.
func (w WindowCounts) ErrorRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.Requests)
}

// Throughput is all requests per second over the window.
func (w Window) Throughput() float64 { return w.RateOf(w.All.Requests) }

// RateOf is n requests per second over the window.
func (w Window) RateOf(n int64) float64 {
	if w.Length <= 0 {
		return 0
	}
	return float64(n) / w.Length.Seconds()
}

// Of returns endpoint i's figures, or all requests' for i < 0.
func (w Window) Of(i int) WindowCounts {
	if i < 0 || i >= len(w.Endpoints) {
		return w.All
	}
	return w.Endpoints[i]
}

// Figures are endpoint i's figures (all requests' for i < 0), to read metrics from. A
// window of no length has no throughput to read: it counts as having no requests.
func (w Window) Figures(i int) metric.Figures {
	c := w.Of(i)
	if w.Length <= 0 {
		return metric.Figures{}
	}
	f := metric.Figures{Requests: c.Requests, Errors: c.Errors, Throughput: w.RateOf(c.Requests)}
	if c.Requests > 0 {
		f.Latency = c.Latency.Histogram()
	}
	return f
}

// seen is what one endpoint had recorded, all stages together, when the last window
// closed: the next window is what was recorded since.
type seen struct {
	requests, errors int64
	latency          Hist
}

// CloseWindow closes the window from start to end (offsets from the start of the run)
// and returns what completed in it: everything recorded since the last window closed.
// Only one goroutine may close windows.
//
// A window is taken as the difference between what the shards hold now and what they
// held when the last one closed, so recording a sample costs nothing for windows, and
// memory does not grow with the number of shards or windows kept open.
func (c *Collector) CloseWindow(start, end time.Duration) Window {
	w := Window{Start: start, Length: end - start, Endpoints: make([]WindowCounts, c.endpoints)}
	if c.seen == nil {
		c.seen = make([]seen, c.endpoints)
		c.scratch = c.newHist()
		c.empty = Compact(c.scratch)
	}
	settings := c.empty
	w.All.Latency = settings
	for e := range c.endpoints {
		now, any := c.cumulative(e)
		if !any {
			w.Endpoints[e].Latency = settings
			continue
		}
		counts := c.scratch.Export().Counts
		prev := &c.seen[e]
		win := WindowCounts{Requests: now.requests - prev.requests, Errors: now.errors - prev.errors, Latency: since(counts, prev.latency, settings)}
		prev.requests, prev.errors = now.requests, now.errors
		prev.latency = since(counts, Hist{}, settings)
		w.Endpoints[e] = win
		w.All.Requests += win.Requests
		w.All.Errors += win.Errors
		w.All.Latency, _ = w.All.Latency.Merge(win.Latency) // same settings by construction
	}
	return w
}

// cumulative merges every stage of endpoint e, over the shards, into the scratch
// histogram, and counts its requests and errors; any is false when it has none.
func (c *Collector) cumulative(e int) (now seen, any bool) {
	c.scratch.Reset()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for st := range sh.cells {
			cl := sh.cells[st][e]
			if cl == nil {
				continue
			}
			any = true
			c.scratch.Merge(cl.hist)
			for k, n := range cl.kinds {
				now.requests += targetRequests(load.Kind(k), n)
				now.errors += targetErrors(load.Kind(k), n)
			}
		}
		sh.mu.Unlock()
	}
	return now, any
}
