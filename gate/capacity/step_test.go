package capacity

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
	"github.com/perfgate/perfgate/gate/verdict"
)

func rule(t *testing.T, text, name string, ref *config.Ref, drift bool, phase int) plan.Rule {
	t.Helper()
	m, err := metric.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Rule{Rule: config.Rule{Text: text, Metric: m, Op: "<", Ref: ref, Drift: drift}, Endpoint: -1, Scope: "all", Phase: phase}
}

// A step is judged by the main phase's own rules on latency and error rate, nothing else.
func TestRules(t *testing.T) {
	p := &plan.Plan{Main: 1, Rules: []plan.Rule{
		rule(t, "p99 < 300ms", "p99", nil, false, 1),
		rule(t, "error_rate < 1%", "error_rate", nil, false, 1),
		rule(t, "throughput > 80/s", "throughput", nil, false, 1),
		rule(t, "p99 < baseline + 10%", "p99", &config.Ref{Factor: 1}, false, 1),
		rule(t, "p99 drift < 20%", "p99", nil, true, 1),
		rule(t, "p99 < 100ms", "p99", nil, false, 0),
	}}
	rules, err := Rules(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Text != "p99 < 300ms" || rules[1].Text != "error_rate < 1%" || rules[0].Phase != 0 {
		t.Errorf("rules %+v", rules)
	}
	if _, err := Rules(&plan.Plan{Rules: p.Rules[2:3]}); err != ErrNoRules {
		t.Errorf("err %v, want ErrNoRules", err)
	}
}

func TestStepPlan(t *testing.T) {
	base := &plan.Plan{Main: 0, Phases: []plan.Phase{{Name: "peak", Load: plan.Load{Users: 200, SpawnRate: 10, Hold: 5 * time.Minute, MaxInFlight: 500}}},
		Aborts: []plan.AbortRule{{}}}
	s := Steps{Ramp: 3 * time.Second, Hold: 10 * time.Second, MaxHold: 20 * time.Second, ConfirmHold: 30 * time.Second}
	p := s.Plan(base, nil, Rate, 400, Bisect)
	l := p.Load
	if !l.Open || l.Rate != 400 || l.StartRate != 40 || l.RateRamp != 3*time.Second || l.Hold != 10*time.Second ||
		l.MaxHold != 20*time.Second || l.MaxInFlight != 500 || len(p.Phases) != 1 || p.Phases[0].Name != plan.MainPhase || p.Aborts != nil {
		t.Errorf("rate step: %+v", p)
	}
	p = s.Plan(base, nil, Users, 60, ConfirmAbove)
	if l := p.Load; l.Open || l.Users != 60 || l.SpawnRate != 20 || l.Hold != 30*time.Second || l.MaxHold != 30*time.Second {
		t.Errorf("users confirmation: %+v", p.Load)
	}
	if base.Phases[0].Load.Users != 200 || len(base.Aborts) != 1 {
		t.Error("the base plan changed")
	}
	if got := s.Cost(Probe, Rate, 400); got != 23*time.Second {
		t.Errorf("a probe may cost %v, want 23s", got)
	}
	if got := s.Cost(ConfirmBelow, Rate, 400); got != 33*time.Second {
		t.Errorf("a confirmation may cost %v, want 33s", got)
	}

	// With a number of requests to see: a low rate's inconclusive hold goes on until it
	// has seen them (800 at 20/s: 40 s), at most LongestHold; a high rate's is as before;
	// users that do not think have no rate to count by, and users that think 2 s make
	// at most half a request a second each (800 from 40 users: 40 s).
	s.Requests, s.LongestHold = 800, time.Minute
	for _, tc := range []struct {
		unit  Unit
		level float64
		role  Role
		want  time.Duration
	}{
		{Rate, 20, Probe, 40 * time.Second}, {Rate, 5, Probe, time.Minute}, {Rate, 400, Probe, 20 * time.Second},
		{Rate, 20, ConfirmBelow, 40 * time.Second}, {Rate, 400, ConfirmAbove, 30 * time.Second}, {Users, 20, Probe, 20 * time.Second},
		{Users, 40, Probe, 40 * time.Second},
	} {
		s.PerUser = 0
		if tc.unit == Users && tc.level == 40 {
			s.PerUser = 0.5
		}
		p := s.Plan(base, nil, tc.unit, tc.level, tc.role)
		if p.Load.MaxHold != tc.want || s.Cost(tc.role, tc.unit, tc.level) != s.Ramp+tc.want {
			t.Errorf("%v %v %v: longest hold %v, cost %v; want %v", tc.unit, tc.level, tc.role, p.Load.MaxHold, s.Cost(tc.role, tc.unit, tc.level), tc.want)
		}
	}
}

// TestMinRequests: enough requests for none failed to tell the lowest error-rate limit
// at the share of the run's confidence the last look spends, and 30% more; latency rules need none.
func TestMinRequests(t *testing.T) {
	r := func(text string) plan.Rule {
		cr, err := config.ParseRule(text)
		if err != nil {
			t.Fatal(err)
		}
		return plan.Rule{Rule: cr, Endpoint: -1}
	}
	// Tasks a, b, a of weights 1, 1, 2: endpoint 0 has 3 of 4 parts, 1 the other.
	p := &plan.Plan{Confidence: 0.95, Tasks: []plan.Request{{Endpoint: 0, Weight: 1}, {Endpoint: 1, Weight: 1}, {Endpoint: 0, Weight: 2}}}
	on := func(endpoint int, text string) plan.Rule { x := r(text); x.Endpoint = endpoint; return x }
	five := []plan.Rule{r("p99 < 300ms"), r("p95 < 200ms"), r("error_rate < 1%"), r("p99 < 500ms"), r("error_rate < 5%")}
	if got := MinRequests(p, five); got != 949 {
		t.Errorf("five rules at 95%%, the lowest limit 1%%: %d, want 949", got)
	}
	five[2] = on(0, "error_rate < 1%")
	if got := MinRequests(p, five); got != 1266 {
		t.Errorf("the lowest limit on an endpoint with 3/4 of the requests: %d, want 1266", got)
	}
	five[4] = on(1, "error_rate < 5%")
	if got := MinRequests(p, five); got != 1266 {
		t.Errorf("5%% on an endpoint with 1/4 of the requests needs fewer: %d, want 1266", got)
	}
	if got := MinRequests(p, five[:2]); got != 0 {
		t.Errorf("latency rules only: %d", got)
	}
	if got := MinRequests(p, []plan.Rule{r("error_rate > 1%")}); got != 0 {
		t.Errorf("a lower bound on the error rate: %d", got)
	}
}

// JudgeStep reads a step's outcome from its verdict: the generator's limits first, then a
// breached rule, then what the load did.
func TestJudgeStep(t *testing.T) {
	open := &plan.Plan{Load: plan.Load{Open: true, Rate: 100}}
	start := time.Unix(1_700_000_000, 0)
	record := func(requests, errors int64, throughput float64) *run.Record {
		h := hdrhistogram.New(1, 60_000_000, 3)
		for range requests {
			_ = h.RecordValue(20_000) // 20 ms
		}
		all := stats.Endpoint{Requests: requests, Errors: errors, Throughput: throughput, Hist: h}
		return &run.Record{Start: start, Phases: []run.Phase{{
			Load: load.Result{Start: start, HoldStart: start.Add(3 * time.Second), HoldEnd: start.Add(13 * time.Second), End: start.Add(14 * time.Second)},
			Hold: stats.Summary{All: all},
		}}}
	}
	failed := verdict.Verdict{Status: verdict.Fail, Checks: []verdict.Check{
		{Rule: rule(t, "p95 < 1s", "p95", nil, false, 0), Status: verdict.Pass},
		{Rule: rule(t, "p99 < 10ms", "p99", nil, false, 0), Status: verdict.Fail},
	}}
	invalid := func(codes ...verdict.Code) verdict.Verdict {
		v := verdict.Verdict{Status: verdict.Invalid, Checks: failed.Checks[:1]}
		for _, c := range codes {
			v.Reasons = append(v.Reasons, verdict.Reason{Code: c, Check: 0})
		}
		return v
	}
	cases := []struct {
		name string
		rec  *run.Record
		v    verdict.Verdict
		want Outcome
		why  string
	}{
		{"held", record(1000, 0, 99), verdict.Verdict{Status: verdict.Pass}, Held, ""},
		{"a rule breached", record(1000, 0, 99), failed, Broke, "p99 < 10ms"},
		{"fewer completed than offered", record(1000, 0, 90), verdict.Verdict{Status: verdict.Pass}, Broke, "completed 90/s of 100/s offered"},
		{"arrivals held back", record(1000, 0, 99), invalid(verdict.RateShort), Broke, "rate_short"},
		{"inconclusive", record(1000, 0, 99), invalid(verdict.InconclusiveRule), Unsure, "p95 < 1s inconclusive"},
		{"the generator's limit wins", record(1000, 0, 99), invalid(verdict.RateShort, verdict.GeneratorBusy), GeneratorLimit, "generator_busy"},
		{"contended", record(1000, 0, 99), invalid(verdict.Contended), Contended, "contended"},
		{"a breached rule beside an inconclusive one", record(1000, 0, 99),
			verdict.Verdict{Status: verdict.Fail, Checks: failed.Checks, Reasons: []verdict.Reason{{Code: verdict.InconclusiveRule, Check: 0}}}, Broke, "p99 < 10ms"},
		{"cancelled", func() *run.Record { r := record(10, 0, 99); r.Cancelled = true; return r }(), invalid(verdict.Cancelled), Stopped, "cancelled"},
		{"unreachable", &run.Record{Unreachable: "connection refused"}, invalid(verdict.Unreachable), Stopped, "the target did not answer: connection refused"},
	}
	for _, tc := range cases {
		st := JudgeStep(open, tc.rec, tc.v)
		if st.Outcome != tc.want || st.Why != tc.why {
			t.Errorf("%s: %v (%q), want %v (%q)", tc.name, st.Outcome, st.Why, tc.want, tc.why)
		}
	}
	st := JudgeStep(open, record(1000, 600, 99), verdict.Verdict{Status: verdict.Fail})
	if !st.Collapsed || st.ErrorRate != 0.6 || st.Load != 13*time.Second || st.Offered != 100 || st.P99 < 0.0199 || st.P99 > 0.0201 {
		t.Errorf("figures %+v", st)
	}
}
