package verdict

import (
	"slices"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
)

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

func TestPhases(t *testing.T) {
	healthy := summary(1000, 0) // p99 990 ms
	slow := summary(2000, 0)    // p99 1.98 s
	leak := windows(12, func(i int) time.Duration { return time.Duration(100+10*i) * time.Millisecond }, none)
	steady := windows(12, flat(100*time.Millisecond), func(i int) int64 { return int64(i % 2) })
	rec := &run.Record{StoppedAt: -1, Phases: []run.Phase{
		ran("single-user", delivered(), healthy), ran("peak", delivered(), slow), ran("recovery", delivered(), slow),
	}}
	rec.Windows = append(inPhase(0, steady), inPhase(1, leak)...)
	at := func(text string, endpoint, phase, ref int) plan.Rule {
		r := rule(t, text, endpoint)
		r.Phase, r.RefPhase = phase, ref
		return r
	}
	rules := []plan.Rule{
		at("p99 < 2.5 * single-user.p99", -1, 2, 0), // 1.98 s < 2.475 s: holds
		at("p99 < single-user.p99 + 50%", -1, 2, 0), // 1.98 s > 1.485 s: breached
		at("p99 drift < 20%", -1, 1, 0),             // 100+10i: 115 ms -> 195 ms, +70%: breached
		at("p99 drift < 20%", -1, 0, 0),             // flat: holds
		at("error_rate drift < 0.5pp", -1, 0, 0),    // 0.05% both ends: holds
		at("p99 drift < 20%", 0, 1, 0),              // endpoint /a carries the leak too
	}
	p := &plan.Plan{Rules: rules}
	v := Judge(p, rec)
	if v.Status != Fail || len(v.Reasons) > 0 {
		t.Fatalf("status %v, reasons %+v", v.Status, v.Reasons)
	}
	want := []Status{Pass, Fail, Fail, Pass, Pass, Fail}
	for i, c := range v.Checks {
		if c.Status != want[i] {
			t.Errorf("%s in phase %d: %v, measured %v, limit %v", c.Rule.Text, c.Rule.Phase, c.Status, c.Measured, c.Limit)
		}
	}
	if c := v.Checks[0]; !close(c.Reference, 0.99) || !close(c.Limit, 2.475) || c.Rule.Limit != 0 {
		t.Errorf("reference %v, limit %v (the plan's rule keeps its own %v)", c.Reference, c.Limit, c.Rule.Limit)
	}
	if c := v.Checks[2]; !close(c.From, 0.115) || !close(c.To, 0.195) || !close(c.Measured, 0.195/0.115-1) {
		t.Errorf("drift from %v to %v, measured %v", c.From, c.To, c.Measured)
	}
	if c := v.Checks[5]; !close(c.From, 0.115) || !close(c.To, 0.195) {
		t.Errorf("drift of /a from %v to %v", c.From, c.To)
	}
	// The questions, in the order their first rule comes, and each phase's own verdict.
	var groups []string
	for _, g := range v.Groups {
		groups = append(groups, g.Name+":"+g.Status.String())
	}
	if !slices.Equal(groups, []string{"recovery:fail", "peak drift:fail", "single-user drift:pass"}) {
		t.Errorf("groups %v", groups)
	}
	if g := v.Groups[0]; g.Rules != 2 || g.Failed != 1 {
		t.Errorf("recovery: %+v", g)
	}
	var phases []string
	for _, ph := range v.Phases {
		phases = append(phases, ph.Name+":"+ph.Status.String())
	}
	if !slices.Equal(phases, []string{"single-user:pass", "peak:fail", "recovery:fail"}) {
		t.Errorf("phases %v", phases)
	}

	// Drift of an endpoint without requests, too few windows, a referenced phase without
	// samples: no verdict, saying why.
	quiet := []plan.Rule{at("p99 drift < 20%", 1, 1, 0)}
	rec.Phases[1].Hold = summary(1000, 0)
	if v := Judge(&plan.Plan{Rules: quiet}, rec); v.Status != Invalid || !slices.Equal(codes(v.Reasons), []Code{NoSamples}) {
		t.Errorf("drift of an endpoint without requests: %v %+v", v.Status, v.Reasons)
	}
	rec.Windows = append(inPhase(0, steady), inPhase(1, leak[:5])...)
	rec.Phases[0].Hold = summary(0, 0)
	v = Judge(&plan.Plan{Rules: rules[:3]}, rec)
	if v.Status != Invalid || !slices.Equal(codes(v.Reasons), []Code{NoReference, NoReference, TooFewWindows}) {
		t.Fatalf("status %v, reasons %+v", v.Status, v.Reasons)
	}
	if r := v.Reasons[2]; r.Count != 5 || r.Of != MinDriftWindows || r.Check != 2 || r.Phase != "peak" {
		t.Errorf("too few windows: %+v", r)
	}
	if v.Phases[1].Status != Invalid || v.Phases[2].Status != Invalid || v.Groups[0].Status != Invalid {
		t.Errorf("phases %+v, groups %+v", v.Phases, v.Groups)
	}

	// A phase that never ran adds no reason of its own when an abort rule stopped the
	// run (which then fails); otherwise it is a reason.
	rec.Phases[0].Hold = healthy
	rec.Phases[2] = run.Phase{Name: "recovery"}
	v = Judge(&plan.Plan{Rules: rules[:1]}, rec)
	if v.Status != Invalid || !slices.Equal(codes(v.Reasons), []Code{PhaseNotRun}) || v.Checks[0].Status != NotRun || v.Phases[2].Status != NotRun {
		t.Errorf("not run: status %v, reasons %+v", v.Status, v.Reasons)
	}
	if v.Groups[0].Status != NotRun {
		t.Errorf("group of a phase not run: %+v", v.Groups[0])
	}
}
