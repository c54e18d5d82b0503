package verdict

import (
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
)

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

func flat(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }
func none(int) int64                               { return 0 }

func TestDrift(t *testing.T) {
	// A leak: p99 climbs 2 ms per window from 100 ms. First third (windows 0-3): median
	// 103 ms; last third (8-11): median 119 ms.
	leak := windows(12, func(i int) time.Duration { return time.Duration(100+2*i) * time.Millisecond }, none)
	from, to, n := Drift(must("p99"), leak, -1)
	if n != 12 || !close(from, 0.103) || !close(to, 0.119) {
		t.Errorf("leak: from %v to %v over %d", from, to, n)
	}
	// One terrible window at the end does not move the median of the last third.
	spike := windows(12, flat(100*time.Millisecond), none)
	spike[11].All = counts(1000, 0, 5*time.Second)
	spike[0].Endpoints[0].Errors = 900
	if from, to, _ := Drift(must("p99"), spike, -1); from != to {
		t.Errorf("one slow window moved the drift: %v -> %v", from, to)
	}
	if from, to, _ := Drift(must("error_rate"), spike, 0); from != 0 || to != 0 {
		t.Errorf("one failing window moved the error-rate drift: %v -> %v", from, to)
	}
	// A short last window and empty windows are left out; fewer than 9 cannot be judged.
	short := windows(9, flat(time.Millisecond), none)
	short[8].Length = time.Second
	short[3].All = counts(0, 0, 0)
	if _, _, n := Drift(must("p99"), short, 1); n != 0 {
		t.Errorf("an endpoint without requests judged %d windows", n)
	}
	if _, _, n := Drift(must("p99"), short, -1); n != 7 {
		t.Errorf("judged %d windows, want 7", n)
	}
	if _, _, n := Drift(must("throughput"), short, -1); n != 8 {
		t.Errorf("throughput judged %d windows, want 8 (an empty window counts: nothing came back)", n)
	}
}


// close allows the histograms' 0.1% resolution.
func close(a, b float64) bool { return a > b*0.998 && a < b*1.002 }

func TestEvaluatePhases(t *testing.T) {
	healthy := summary(1000, 0) // p99 990 ms
	slow := summary(2000, 0)    // p99 1.98 s
	leak := windows(12, func(i int) time.Duration { return time.Duration(100+10*i) * time.Millisecond }, none)
	steady := windows(12, flat(100*time.Millisecond), func(i int) int64 { return int64(i % 2) })
	phases := []PhaseResult{
		{Name: "single-user", Hold: healthy, Windows: steady},
		{Name: "peak", Hold: slow, Windows: leak},
		{Name: "recovery", Hold: slow},
	}
	at := func(text string, phase, ref int) plan.Rule {
		r := rule(t, text, -1)
		r.Phase, r.RefPhase = phase, ref
		return r
	}
	rules := []plan.Rule{
		at("p99 < 2.5 * single-user.p99", 2, 0), // 1.98 s < 2.475 s: holds
		at("p99 < single-user.p99 + 50%", 2, 0), // 1.98 s > 1.485 s: breached
		at("p99 drift < 20%", 1, 0),             // 100+10i: 115 ms -> 195 ms, +70%: breached
		at("p99 drift < 20%", 0, 0),             // flat: holds
		at("error_rate drift < 0.5pp", 0, 0),    // 0.05% both ends: holds
	}
	perEndpoint := rule(t, "p99 drift < 20%", 0) // endpoint /a carries the leak too
	perEndpoint.Phase = 1
	quiet := rule(t, "p99 drift < 20%", 1) // endpoint /b had no requests: no windows to judge
	rules = append(rules, perEndpoint)
	v := EvaluatePhases(rules, phases, load.Result{})
	if v.Status != Fail || len(v.Reasons) > 0 {
		t.Fatalf("status %v, reasons %v", v.Status, v.Reasons)
	}
	wantPassed := []bool{true, false, false, true, true, false}
	for i, c := range v.Checks {
		if c.Passed != wantPassed[i] {
			t.Errorf("%s in phase %d: passed %v, measured %v, limit %v", c.Rule.Text, c.Rule.Phase, c.Passed, c.Measured, c.Rule.Limit)
		}
	}
	if c := v.Checks[0]; !close(c.Reference, 0.99) || !close(c.Rule.Limit, 2.475) {
		t.Errorf("reference %v, limit %v", c.Reference, c.Rule.Limit)
	}
	if c := v.Checks[2]; !close(c.From, 0.115) || !close(c.To, 0.195) || !close(c.Measured, 0.195/0.115-1) {
		t.Errorf("drift from %v to %v, measured %v", c.From, c.To, c.Measured)
	}

	if c := v.Checks[5]; !close(c.From, 0.115) || !close(c.To, 0.195) {
		t.Errorf("drift of /a from %v to %v", c.From, c.To)
	}
	quiet.Phase = 1
	phases[1].Hold = summary(1000, 0)
	if v := EvaluatePhases([]plan.Rule{quiet}, phases, load.Result{}); v.Status != Invalid {
		t.Errorf("drift of an endpoint without requests: %v %v", v.Status, v.Reasons)
	}

	// Too few windows, a referenced phase without samples: no verdict, saying why.
	phases[1].Windows = leak[:5]
	phases[0].Hold = summary(0, 0)
	v = EvaluatePhases(rules[:3], phases, load.Result{})
	if v.Status != Invalid || len(v.Reasons) != 3 ||
		!strings.Contains(v.Reasons[0], "single-user.p99 had no samples to compare with") ||
		!strings.Contains(v.Reasons[2], "drift needs at least 9 time windows of the hold, and it had 5") {
		t.Errorf("status %v, reasons %q", v.Status, v.Reasons)
	}

	// A phase that never ran adds no reason of its own when the run says why (an abort
	// rule stopped it: the run fails); otherwise it is a reason.
	phases[2].NotRun = true
	v = EvaluatePhases(rules[:1], phases, load.Result{Stopped: true})
	if v.Status != Fail || len(v.Reasons) != 0 || !v.Checks[0].NoData {
		t.Errorf("not run after a stop: status %v, reasons %v", v.Status, v.Reasons)
	}
	v = EvaluatePhases(rules[:1], phases, load.Result{})
	if v.Status != Invalid || len(v.Reasons) != 1 || !strings.Contains(v.Reasons[0], "phase recovery did not run") {
		t.Errorf("not run: status %v, reasons %v", v.Status, v.Reasons)
	}
}

// must is metric.Lookup for a name known to be valid.
func must(name string) metric.Metric {
	m, err := metric.Lookup(name)
	if err != nil {
		panic(err)
	}
	return m
}
