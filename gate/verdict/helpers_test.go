package verdict

import (
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// summary builds a hold summary: endpoint 0 gets n requests of 1..n ms, errs of them 5xx;
// endpoint 1 gets none.
func summary(n, errs int) stats.Summary {
	c := stats.New(2, time.Minute)
	for i := 1; i <= n; i++ {
		k := load.OK
		if i <= errs {
			k = load.Status5xx
		}
		c.Record(load.Sample{Endpoint: 0, Stage: load.Hold, Latency: time.Duration(i) * time.Millisecond, Kind: k})
	}
	return c.Summarize(load.Hold, 10*time.Second, []stats.EndpointInfo{{Name: "/a"}, {Name: "/b"}})
}

func rule(t *testing.T, text string, endpoint int) plan.Rule {
	t.Helper()
	r, err := config.ParseRule(text)
	if err != nil {
		t.Fatal(err)
	}
	scope := "all"
	if endpoint >= 0 {
		scope = []string{"/a", "/b"}[endpoint]
	}
	return plan.Rule{Rule: r, Endpoint: endpoint, Scope: scope}
}

// delivered is what a closed-model engine reports of a 10 s hold at 10 users.
func delivered() load.Result {
	return load.Result{Start: t0, HoldStart: t0.Add(time.Second), HoldEnd: t0.Add(11 * time.Second), End: t0.Add(11 * time.Second),
		PlannedUsers: 10, PeakUsers: 10, Processors: 2, GeneratorCPU: 0.05}
}

// ran is a phase that ran with facts l and measured hold.
func ran(name string, l load.Result, hold stats.Summary) run.Phase {
	return run.Phase{Name: name, Plan: &plan.Plan{Load: plan.Load{MaxInFlight: 64}}, Ran: true, Load: l, Hold: hold}
}

// judgeOne judges rules against one phase, peak.
func judgeOne(rules []plan.Rule, l load.Result, hold stats.Summary) Verdict {
	return Judge(&plan.Plan{Rules: rules}, &run.Record{Phases: []run.Phase{ran("peak", l, hold)}, StoppedAt: -1})
}

// counts are a window's figures: requests, errors, and latencies whose p50 is p99/2, p99
// is p99 and max twice that (for 1000 requests: 500, 490 and 10 of them).
func counts(requests, errors int64, p99 time.Duration) stats.WindowCounts {
	h := hdrhistogram.New(1, (time.Minute + time.Second).Microseconds(), 3)
	us := p99.Microseconds()
	if requests > 0 {
		_ = h.RecordValues(max(us/2, 1), requests/2)
		_ = h.RecordValues(max(us, 1), requests*99/100-requests/2)
		_ = h.RecordValues(max(2*us, 1), requests-requests*99/100)
	}
	return stats.WindowCounts{Requests: requests, Errors: errors, Latency: stats.Compact(h)}
}

// windows returns n 10-second windows whose p99 is p99(i) and error rate errs(i), all of
// them on endpoint 0.
func windows(n int, p99 func(i int) time.Duration, errs func(i int) int64) []stats.Window {
	out := make([]stats.Window, n)
	for i := range out {
		c := counts(1000, errs(i), p99(i))
		out[i] = stats.Window{Start: time.Duration(i) * 10 * time.Second, Length: 10 * time.Second, All: c,
			Endpoints: []stats.WindowCounts{c, counts(0, 0, 0)}}
	}
	return out
}

// inPhase makes windows a phase's hold windows in a record.
func inPhase(phase int, ws []stats.Window) []run.Window {
	out := make([]run.Window, len(ws))
	for i, w := range ws {
		out[i] = run.Window{Window: w, Phase: phase, Stage: load.Hold}
	}
	return out
}

func flat(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }
func none(int) int64                               { return 0 }

// close allows the histograms' 0.1% resolution.
func close(a, b float64) bool { return a > b*0.998 && a < b*1.002 }

// must is metric.Lookup for a name known to be valid.
func must(name string) metric.Metric {
	m, err := metric.Lookup(name)
	if err != nil {
		panic(err)
	}
	return m
}

// codes lists the reasons' codes.
func codes(rs []Reason) []Code {
	var out []Code
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}
