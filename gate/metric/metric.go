// Package metric is the one table of what a threshold rule can measure: each metric's
// name, the kind of value it is (and so the units its limit is written in), whether time
// windows keep it, and how it is read from the figures of a scope.
//
// Every place that reads a metric (rules against the measured window, drift and abort
// rules over time windows, the recorded baseline) reads it through Read, from Figures
// that each source provides; adding a metric is one entry of the table.
package metric

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Kind says what a metric measures, and so which units its limit takes.
type Kind int

// Metric kinds.
const (
	Latency Kind = iota // a duration, in seconds
	Ratio               // a fraction of requests, in 0..1
	Rate                // requests per second
	Count               // a number of requests
)

var kindNames = [...]string{Latency: "latency", Ratio: "ratio", Rate: "rate", Count: "count"}

// String names the kind as reports and result files do: latency, ratio, rate, count.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Figures are the numbers of one scope (an endpoint, or all requests) over one span (a
// hold, a time window, a recorded baseline). Every metric is read from them.
type Figures struct {
	// Requests counts completed requests, errors included; Errors those that failed.
	Requests, Errors int64
	// Throughput is requests per second over the span.
	Throughput float64
	// Latency holds every request's latency in microseconds; nil when none was kept.
	Latency *hdrhistogram.Histogram
}

// Metric is a metric of the table, or a percentile (pNN).
type Metric struct {
	// Name is the metric as rules write it: p99, p99.9, max, error_rate...
	Name string
	// Quantile is a percentile's, in (0, 100); 0 for the other metrics.
	Quantile float64
	entry    int // index into table
}

// entry is one row of the table.
type entry struct {
	name string
	kind Kind
	// overTime is set for a metric that time windows keep, which drift and abort rules
	// may follow.
	overTime bool
	// withoutRequests is set for a metric that has a value when nothing completed (0/s,
	// 0 requests); the others have none.
	withoutRequests bool
	read            func(f Figures, quantile float64) float64
}

// percentileEntry is the row of every pNN metric.
const percentileEntry = 0

// table is every metric. Latencies are read from the histogram at its resolution
// (HdrHistogram rounds a percentile up to its bucket's highest value, by at most 0.1% at
// three significant digits: a gate errs towards failing).
var table = []entry{
	percentileEntry: {name: "pNN", kind: Latency, overTime: true, read: func(f Figures, q float64) float64 {
		return seconds(f.Latency.ValueAtPercentile(q))
	}},
	{name: "max", kind: Latency, overTime: true, read: func(f Figures, _ float64) float64 { return seconds(f.Latency.Max()) }},
	{name: "mean", kind: Latency, overTime: true, read: func(f Figures, _ float64) float64 { return f.Latency.Mean() / 1e6 }},
	{name: "error_rate", kind: Ratio, overTime: true, read: func(f Figures, _ float64) float64 {
		return float64(f.Errors) / float64(f.Requests)
	}},
	{name: "throughput", kind: Rate, overTime: true, withoutRequests: true, read: func(f Figures, _ float64) float64 { return f.Throughput }},
	// A window's count depends on its length, which throughput does not: requests is
	// judged over a whole hold only.
	{name: "requests", kind: Count, withoutRequests: true, read: func(f Figures, _ float64) float64 { return float64(f.Requests) }},
}

func seconds(us int64) float64 { return float64(us) / 1e6 }

// Named lists the metrics rules may use, for help and error messages: some percentiles
// (any pNN works), then the rest of the table.
func Named() []string {
	out := []string{"p50", "p90", "p95", "p99", "p99.9"}
	for i, e := range table {
		if i != percentileEntry {
			out = append(out, e.name)
		}
	}
	return out
}

// OverTimeNamed lists the metrics drift and abort rules may follow.
func OverTimeNamed() []string {
	var out []string
	for _, name := range Named() {
		if m, _ := Lookup(name); m.OverTime() {
			out = append(out, name)
		}
	}
	return out
}

// Lookup finds a metric by name: one of the table, or a percentile such as p99 or p99.9.
func Lookup(name string) (Metric, error) {
	for i, e := range table {
		if i != percentileEntry && e.name == name {
			return Metric{Name: name, entry: i}, nil
		}
	}
	if q, ok := strings.CutPrefix(name, "p"); ok {
		v, err := strconv.ParseFloat(q, 64)
		if err == nil && v > 0 && v < 100 && !strings.ContainsAny(q, "eE+-") {
			return Metric{Name: name, Quantile: v, entry: percentileEntry}, nil
		}
	}
	return Metric{}, fmt.Errorf("unknown metric %q (known: %s, or any percentile such as p75)", name, strings.Join(Named(), ", "))
}

// Kind is what the metric measures.
func (m Metric) Kind() Kind { return table[m.entry].kind }

// OverTime reports whether time windows keep the metric, so that drift and abort rules
// may follow it.
func (m Metric) OverTime() bool { return table[m.entry].overTime }

// Read reads the metric from figures, in its base unit (seconds, a fraction, per second, a
// count). ok is false when the figures hold nothing to read it from: no requests (but
// for throughput and requests, which are then 0), or a latency without a histogram.
func (m Metric) Read(f Figures) (v float64, ok bool) {
	e := table[m.entry]
	switch {
	case f.Requests == 0 && !e.withoutRequests:
		return 0, false
	case e.kind == Latency && (f.Latency == nil || f.Latency.TotalCount() == 0):
		return 0, false
	}
	return e.read(f, m.Quantile), true
}

// String is the metric's name.
func (m Metric) String() string { return m.Name }
