// Package stats turns the engine's samples into summaries: per endpoint and for all
// requests, latency in HdrHistograms, request and error counts by kind, status codes,
// bytes received and throughput over the measured window; and into time windows, each
// with latency histograms of the same settings, kept compact (Hist).
//
// Recording takes no global lock: samples go to one of a small fixed number of shards
// (by user), each with its own lock and its own histograms, and shards are merged only
// when a summary or a window is read. A window is what the stage histograms gained since
// the last one, so recording costs nothing more for windows. Memory is fixed by the
// shard, stage and endpoint counts, never by the run's number of users; a run's windows
// add a few kilobytes each.
package stats

import (
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
)

// Histogram range: 1 us to at least 60 s at 3 significant digits (0.1% resolution).
const (
	sigFigs        = 3
	minLatencyUs   = 1
	defaultMaxSpan = 60 * time.Second
)

var _ load.Recorder = (*Collector)(nil)

// Collector records samples; it is safe for concurrent use.
type Collector struct {
	endpoints int
	maxUs     int64
	shards    []shard
	schedule  bool // open model: keep service time and lag apart

	// Owned by CloseWindow's caller: what each endpoint had recorded when the last
	// window closed, a histogram to merge shards into, and an empty compact histogram
	// of the collector's settings.
	seen    []seen
	scratch *hdrhistogram.Histogram
	empty   Hist
}

// Option adjusts a Collector.
type Option func(*Collector)

// OpenModel keeps service time and schedule lag beside latency, for each stage.
func OpenModel() Option { return func(c *Collector) { c.schedule = true } }

type shard struct {
	mu      sync.Mutex
	cells   [load.NumStages][]*cell
	service [load.NumStages]*hdrhistogram.Histogram // open model only
	lag     [load.NumStages]*hdrhistogram.Histogram
	_       [64]byte // keep neighbouring shards' locks off one cache line
}

type cell struct {
	hist   *hdrhistogram.Histogram
	kinds  [load.NumKinds]int64
	status map[int]int64
	bytes  int64
}

// New returns a Collector for a number of endpoints whose latencies reach at most
// maxLatency (the longest request timeout); longer values are clamped to it.
func New(endpoints int, maxLatency time.Duration, opts ...Option) *Collector {
	// Twice the processors keeps lock contention negligible; every shard costs its own
	// histograms, so no more than that. (The CPUs, not GOMAXPROCS: one CPU has a spare.)
	n := min(max(load.Processors()*2, 2), 32)
	c := &Collector{endpoints: endpoints, maxUs: maxUsOf(maxLatency), shards: make([]shard, n)}
	for _, o := range opts {
		o(c)
	}
	for i := range c.shards {
		if c.schedule {
			for st := range load.NumStages {
				c.shards[i].service[st] = c.newHist()
				c.shards[i].lag[st] = c.newHist()
			}
		}
		for s := range c.shards[i].cells {
			c.shards[i].cells[s] = make([]*cell, endpoints)
		}
	}
	return c
}

func (c *Collector) newCell() *cell {
	return &cell{hist: c.newHist(), status: map[int]int64{}}
}

func (c *Collector) newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(minLatencyUs, c.maxUs, sigFigs)
}

// maxUsOf is the highest latency a Collector for maxLatency keeps, in microseconds.
func maxUsOf(maxLatency time.Duration) int64 {
	return max(defaultMaxSpan, maxLatency+time.Second).Microseconds()
}

// NewHist returns an empty latency histogram of the settings a Collector for maxLatency
// gives its own, so that it merges exactly with theirs.
func NewHist(maxLatency time.Duration) *hdrhistogram.Histogram {
	return hdrhistogram.New(minLatencyUs, maxUsOf(maxLatency), sigFigs)
}

func (c *Collector) clamp(d time.Duration) int64 {
	return min(max(d.Microseconds(), minLatencyUs), c.maxUs)
}

// Record implements load.Recorder.
func (c *Collector) Record(s load.Sample) {
	if s.Endpoint < 0 || s.Endpoint >= c.endpoints || s.Stage >= load.NumStages {
		return
	}
	us := c.clamp(s.Latency)
	sh := &c.shards[s.User%len(c.shards)]
	sh.mu.Lock()
	cl := sh.cells[s.Stage][s.Endpoint]
	if cl == nil {
		cl = c.newCell()
		sh.cells[s.Stage][s.Endpoint] = cl
	}
	cl.kinds[s.Kind]++
	if s.Kind == load.Generator {
		// perfgate's own failure: counted by kind, and nowhere in the target's figures.
		sh.mu.Unlock()
		return
	}
	_ = cl.hist.RecordValue(us) // in range by construction
	if s.Status != 0 {
		cl.status[s.Status]++
	}
	cl.bytes += s.Bytes
	if c.schedule {
		_ = sh.service[s.Stage].RecordValue(c.clamp(s.Service))
		_ = sh.lag[s.Stage].RecordValue(c.clamp(s.Lag))
	}
	sh.mu.Unlock()
}

// Endpoint is the summary of one endpoint, or of all requests together.
type Endpoint struct {
	Name  string
	Setup bool
	// Requests counts completed requests, errors included; the generator's own failures
	// (load.Generator) are no request of the target's, and are counted only in ByKind.
	Requests int64
	Errors   int64
	// ByKind counts requests by outcome kind, errors and "ok".
	ByKind [load.NumKinds]int64
	Status map[int]int64
	Bytes  int64
	// Throughput is requests per second over the window.
	Throughput float64
	// Hist holds latencies in microseconds, every request's, errors included.
	Hist *hdrhistogram.Histogram
}

// Quantile returns the latency at percentile q (0-100).
func (e *Endpoint) Quantile(q float64) time.Duration {
	return time.Duration(e.Hist.ValueAtPercentile(q)) * time.Microsecond
}

// Max returns the highest latency.
func (e *Endpoint) Max() time.Duration { return time.Duration(e.Hist.Max()) * time.Microsecond }

// Mean returns the mean latency.
func (e *Endpoint) Mean() time.Duration {
	return time.Duration(e.Hist.Mean() * float64(time.Microsecond))
}

// Figures are the endpoint's figures, to read metrics from.
func (e *Endpoint) Figures() metric.Figures {
	return metric.Figures{Requests: e.Requests, Errors: e.Errors, Throughput: e.Throughput, Latency: e.Hist}
}

// ErrorRate is errors over requests; 0 when there were none.
func (e *Endpoint) ErrorRate() float64 {
	if e.Requests == 0 {
		return 0
	}
	return float64(e.Errors) / float64(e.Requests)
}

// StatusCodes returns the status codes seen, in order.
func (e *Endpoint) StatusCodes() []int {
	codes := make([]int, 0, len(e.Status))
	for c := range e.Status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	return codes
}

// Summary is every endpoint of one stage, and all of them together.
type Summary struct {
	Stage     load.Stage
	Window    time.Duration
	All       Endpoint
	Endpoints []Endpoint
	// Service and Lag (open model only, else nil) hold, for all requests, the time from
	// the actual send and how late the send was against the schedule, in microseconds.
	Service, Lag *hdrhistogram.Histogram
}

// EndpointInfo names an endpoint for Summarize.
type EndpointInfo struct {
	Name  string
	Setup bool
}

// Summarize merges the shards of one stage. Throughput is over window.
func (c *Collector) Summarize(stage load.Stage, window time.Duration, endpoints []EndpointInfo) Summary {
	s := Summary{Stage: stage, Window: window, All: c.emptyEndpoint("all", false)}
	for i := range c.endpoints {
		info := EndpointInfo{}
		if i < len(endpoints) {
			info = endpoints[i]
		}
		e := c.emptyEndpoint(info.Name, info.Setup)
		for j := range c.shards {
			sh := &c.shards[j]
			sh.mu.Lock()
			if cl := sh.cells[stage][i]; cl != nil {
				e.add(cl)
				s.All.add(cl)
			}
			sh.mu.Unlock()
		}
		s.Endpoints = append(s.Endpoints, e)
	}
	for i := range s.Endpoints {
		s.Endpoints[i].finish(window)
	}
	s.All.finish(window)
	if c.schedule {
		s.Service, s.Lag = c.newHist(), c.newHist()
		for j := range c.shards {
			sh := &c.shards[j]
			sh.mu.Lock()
			s.Service.Merge(sh.service[stage])
			s.Lag.Merge(sh.lag[stage])
			sh.mu.Unlock()
		}
	}
	return s
}

func (c *Collector) emptyEndpoint(name string, setup bool) Endpoint {
	return Endpoint{Name: name, Setup: setup, Status: map[int]int64{}, Hist: c.newHist()}
}

func (e *Endpoint) add(cl *cell) {
	e.Hist.Merge(cl.hist)
	for k, n := range cl.kinds {
		e.ByKind[k] += n
	}
	for code, n := range cl.status {
		e.Status[code] += n
	}
	e.Bytes += cl.bytes
}

func (e *Endpoint) finish(window time.Duration) {
	e.Requests, e.Errors = 0, 0
	for k, n := range e.ByKind {
		e.Requests += targetRequests(load.Kind(k), n)
		e.Errors += targetErrors(load.Kind(k), n)
	}
	if window > 0 {
		e.Throughput = float64(e.Requests) / window.Seconds()
	}
}

// Progress is a running total over the whole run so far, for progress lines.
type Progress struct {
	Requests int64
	Errors   int64
	P99      time.Duration
}

// Progress merges every stage and endpoint; it is meant for a line every few seconds.
func (c *Collector) Progress() Progress {
	all := c.emptyEndpoint("all", false)
	for j := range c.shards {
		sh := &c.shards[j]
		sh.mu.Lock()
		for _, cells := range sh.cells {
			for _, cl := range cells {
				if cl != nil {
					all.add(cl)
				}
			}
		}
		sh.mu.Unlock()
	}
	all.finish(0)
	p := Progress{Requests: all.Requests, Errors: all.Errors}
	if all.Requests > 0 {
		p.P99 = all.Quantile(99)
	}
	return p
}

// targetRequests is how many of n requests of kind k the target saw: all but the
// generator's own failures. targetErrors is how many of those were errors.
func targetRequests(k load.Kind, n int64) int64 {
	if k == load.Generator {
		return 0
	}
	return n
}

func targetErrors(k load.Kind, n int64) int64 {
	if k == load.OK {
		return 0
	}
	return targetRequests(k, n)
}
