package report

import (
	"math"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/stats"
)

// Every metric a rule accepts is readable from every source it is accepted for: the
// measured window's summary, a time window (drift and abort rules) and a recorded
// baseline; and the three give the same value for the same requests.
func TestEveryMetricIsReadableWhereverItIsAccepted(t *testing.T) {
	col := stats.New(1, 10*time.Second)
	for i := range 5000 {
		s := load.Sample{User: i, Stage: load.Hold, Latency: time.Duration(200+i*37%90000) * time.Microsecond}
		if i%40 == 0 {
			s.Kind = load.Status5xx
		}
		col.Record(s)
	}
	const span = 10 * time.Second
	hold := col.Summarize(load.Hold, span, []stats.EndpointInfo{{Name: "/a"}})
	window := col.CloseWindow(0, span)
	ep, err := newEndpoint(&histEncoder{}, &hold.All)
	if err != nil {
		t.Fatal(err)
	}
	recorded := metricsOf(ep)

	names := append(metric.Named(), "p75", "p99.99", "p1")
	for _, name := range names {
		m, err := metric.Lookup(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		limit := map[metric.Kind]string{metric.Latency: "1s", metric.Ratio: "1%", metric.Rate: "1/s", metric.Count: "1"}[m.Kind()]
		if r, err := config.ParseRule(name + " < " + limit); err != nil || r.Metric != m {
			t.Errorf("rule over %s: %v", name, err)
		}
		want, ok := m.Read(hold.All.Figures())
		if !ok {
			t.Errorf("%s: not readable from the measured window", name)
			continue
		}
		got, err := recorded.Value(m)
		if err != nil || !same(got, want) {
			t.Errorf("%s: baseline %v (%v), measured window %v", name, got, err, want)
		}
		change := map[bool]string{true: "0.5pp", false: "10%"}[m.Kind() == metric.Ratio]
		_, driftErr := config.ParseRule(name + " drift < " + change)
		_, abortErr := config.ParseAbortRule(name + " > " + limit + " for 10s")
		if !m.OverTime() {
			if driftErr == nil || abortErr == nil {
				t.Errorf("%s is not kept over time, yet drift (%v) or abort (%v) rules accept it", name, driftErr, abortErr)
			}
			continue
		}
		if driftErr != nil || abortErr != nil {
			t.Errorf("%s is kept over time, yet drift (%v) or abort (%v) rules refuse it", name, driftErr, abortErr)
		}
		got, ok = m.Read(window.Figures(-1))
		if !ok || !same(got, want) {
			t.Errorf("%s: window %v (%v), measured window %v", name, got, ok, want)
		}
	}
}

// same compares values that went through JSON or a rate's division.
func same(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
