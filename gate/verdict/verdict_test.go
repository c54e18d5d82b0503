package verdict

import (
	"slices"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
)

func TestRules(t *testing.T) {
	s := summary(1000, 20) // p99 = 990 ms, error rate 2%, 100/s
	cases := []struct {
		rule     string
		endpoint int
		pass     bool
		measured float64
	}{
		{"p99 < 1s", -1, true, 0.990},
		{"p99 < 900ms", -1, false, 0.990},
		{"p50 <= 501ms", 0, true, 0.500}, // histogram values round up, by at most 0.1%,
		{"max < 1s", -1, false, 1.000},
		{"max <= 1001ms", -1, true, 1.000},
		{"mean < 600ms", -1, true, 0.5005},
		{"error_rate < 1%", -1, false, 0.02},
		{"error_rate <= 2%", -1, true, 0.02},
		{"throughput > 80/s", -1, true, 100},
		{"throughput >= 101/s", 0, false, 100},
		{"requests >= 1000", -1, true, 1000},
	}
	for _, tc := range cases {
		v := judgeOne([]plan.Rule{rule(t, tc.rule, tc.endpoint)}, delivered(), s)
		c := v.Checks[0]
		want := Pass
		if !tc.pass {
			want = Fail
		}
		if c.Status != want || c.Samples != 1000 || c.Measured < tc.measured*0.999 || c.Measured > tc.measured*1.001 || c.Limit != c.Rule.Limit {
			t.Errorf("%s: %v measured %v samples %d; want %v, %v", tc.rule, c.Status, c.Measured, c.Samples, want, tc.measured)
		}
		if v.Status != want || len(v.Reasons) != 0 || c.Group != "peak" {
			t.Errorf("%s: status %v, reasons %v, group %q; want %v", tc.rule, v.Status, v.Reasons, c.Group, want)
		}
	}
}

func TestNoSamplesFailsClosed(t *testing.T) {
	s := summary(100, 0)
	v := judgeOne([]plan.Rule{rule(t, "p99 < 1s", -1), rule(t, "p99 < 1s", 1)}, delivered(), s)
	if v.Status != Invalid || v.Checks[0].Status != Pass || v.Checks[1].Status != Invalid || v.Checks[1].Judged() {
		t.Fatalf("verdict = %+v, want invalid with an unjudged check", v)
	}
	if len(v.Reasons) != 1 || v.Reasons[0].Code != NoSamples || v.Reasons[0].Check != 1 || v.Reasons[0].Phase != "peak" {
		t.Errorf("reasons = %+v", v.Reasons)
	}
	// A lower-bound rule must not pass on zero either.
	if v := judgeOne([]plan.Rule{rule(t, "requests >= 0", 1)}, delivered(), s); v.Status != Invalid {
		t.Errorf("requests >= 0 over no samples: %v, want invalid", v.Status)
	}
}

func TestUndeliveredLoadIsInvalidEvenIfRulesPass(t *testing.T) {
	short := delivered()
	short.HoldStart, short.RunningUsers = time.Time{}, 3
	v := judgeOne([]plan.Rule{rule(t, "p99 < 1s", -1)}, short, summary(100, 0))
	if v.Status != Invalid || v.Checks[0].Status != Pass || len(v.Reasons) != 1 {
		t.Fatalf("verdict = %+v", v)
	}
	if r := v.Reasons[0]; r.Code != PeakNotReached || r.Count != 3 || r.Of != 10 || r.Check != -1 {
		t.Errorf("reason = %+v", r)
	}
	// A target that never answered: its reason, and not one "no samples" per rule.
	rec := &run.Record{Unreachable: "cannot reach target http://127.0.0.1:9: connection refused", StoppedAt: -1,
		Phases: []run.Phase{{Name: "peak"}}}
	v = Judge(&plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 1s", 1)}}, rec)
	if v.Status != Invalid || !slices.Equal(codes(v.Reasons), []Code{Unreachable}) || v.Reasons[0].Detail != rec.Unreachable ||
		v.Checks[0].Status != NotRun || v.Phases[0].Status != NotRun {
		t.Errorf("verdict = %+v", v)
	}
	rec.Cancelled = true
	if v := Judge(&plan.Plan{}, rec); !slices.Equal(codes(v.Reasons), []Code{Cancelled}) || v.Reasons[0].Phase != "" {
		t.Errorf("cancelled before the start: %+v", v.Reasons)
	}
	// Invalid wins over a breach: the numbers of an undelivered run prove nothing.
	cancelled := delivered()
	cancelled.Canceled, cancelled.CanceledIn = true, load.Hold
	v = judgeOne([]plan.Rule{rule(t, "p99 < 1ms", -1)}, cancelled, summary(100, 0))
	if v.Status != Invalid || v.Checks[0].Status != Fail || v.Reasons[0].Code != Cancelled || v.Reasons[0].Stage != load.Hold {
		t.Errorf("verdict = %+v", v)
	}
}

// What an engine delivered decides whether a phase can be judged at all.
func TestValidity(t *testing.T) {
	open := func(d load.Delivery) load.Result {
		l := delivered()
		l.Open, l.Delivery = true, d
		return l
	}
	with := func(f func(*load.Result)) load.Result {
		l := delivered()
		f(&l)
		return l
	}
	setup := &load.SetupFailure{N: 2, Attempts: 3, Err: `step "login": status 401`}
	behind := func(n, of int) load.Lateness {
		return load.Lateness{Late: int64(50 * n), Behind: n, Periods: of, Period: time.Second}
	}
	cases := []struct {
		name string
		load load.Result
		want []Code
	}{
		{"delivered", delivered(), nil},
		{"setup failed before the hold", with(func(l *load.Result) { l.SetupFailure, l.HoldStart, l.RunningUsers = setup, time.Time{}, 1 }),
			[]Code{SetupFailed, PeakNotReached}},
		{"stopped by an abort rule in the ramp", with(func(l *load.Result) { l.Stopped, l.HoldStart = true, time.Time{} }), nil},
		{"cancelled in the ramp", with(func(l *load.Result) { l.Canceled, l.HoldStart = true, time.Time{} }), []Code{Cancelled, PeakNotReached}},
		{"rate 0.5% short", open(load.Delivery{Planned: 1000, Sent: 995}), nil},
		{"rate 1.1% short", open(load.Delivery{Planned: 1000, Sent: 989}), []Code{RateShort}},
		{"a hiccup: late sends in no period past the share", open(load.Delivery{Planned: 1000, Sent: 1000, Generator: behind(0, 10)}), nil},
		{"one period of ten behind", open(load.Delivery{Planned: 1000, Sent: 1000, Generator: behind(1, 10)}), nil},
		{"two periods of ten behind", open(load.Delivery{Planned: 1000, Sent: 1000, Generator: behind(2, 10)}), []Code{GeneratorLate}},
		{"15 periods of 300 behind (5%)", open(load.Delivery{Planned: 30000, Sent: 30000, Generator: behind(15, 300)}), nil},
		{"16 periods of 300 behind", open(load.Delivery{Planned: 30000, Sent: 30000, Generator: behind(16, 300)}), []Code{GeneratorLate}},
		{"open and cancelled: no delivery judged", func() load.Result {
			l := open(load.Delivery{Planned: 1000, Sent: 10})
			l.Canceled = true
			return l
		}(), []Code{Cancelled}},
		{"generator at 90%", with(func(l *load.Result) { l.GeneratorCPU = 0.90 }), nil},
		{"generator at 95%", with(func(l *load.Result) { l.GeneratorCPU = 0.95 }), []Code{GeneratorBusy}},
		{"generator at 95%, cancelled", with(func(l *load.Result) { l.GeneratorCPU, l.Canceled = 0.95, true }), []Code{Cancelled}},
		{"one request the generator could not make", with(func(l *load.Result) { l.GeneratorFailures, l.GeneratorFailure = 1, "out of file descriptors" }), []Code{GeneratorFailed}},
	}
	for _, tc := range cases {
		ph := ran("peak", tc.load, summary(100, 0))
		got := codes(phaseReasons(ph))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: reasons %v, want %v", tc.name, got, tc.want)
		}
		if ends := EndsRun(ph); ends != (len(tc.want) > 0 || tc.load.Stopped) {
			t.Errorf("%s: ends the run %v", tc.name, ends)
		}
	}
	// The figures travel with the reason.
	rs := phaseReasons(ran("peak", open(load.Delivery{Planned: 1000, Sent: 500, CapReached: true}), summary(1, 0)))
	if r := rs[0]; r.Count != 500 || r.Of != 1000 || !r.CapReached || r.MaxInFlight != 64 {
		t.Errorf("rate short: %+v", r)
	}
	rs = phaseReasons(ran("peak", with(func(l *load.Result) { l.GeneratorFailures, l.GeneratorFailure = 5, "out of ports" }), summary(100, 0)))
	if r := rs[0]; r.Count != 5 || r.Of != 105 || r.Detail != "out of ports" {
		t.Errorf("generator failed: %+v", r)
	}
	rs = phaseReasons(ran("peak", with(func(l *load.Result) { l.SetupFailure = setup }), summary(1, 0)))
	if r := rs[0]; r.Setup != setup || r.Phase != "peak" {
		t.Errorf("setup failed: %+v", r)
	}
}

func TestStatusAndCodeNames(t *testing.T) {
	for s, want := range map[Status]string{Pass: "pass", Fail: "fail", Invalid: "invalid", NotRun: "not run", Status(9): "invalid"} {
		if s.String() != want {
			t.Errorf("%d = %q", s, s.String())
		}
	}
	for c := Unreachable; c <= GeneratorFailed; c++ {
		if name := c.String(); name == "unknown" || name == "" {
			t.Errorf("code %d has no name", c)
		}
	}
	if Code(0).String() != "unknown" {
		t.Error("code 0 named")
	}
}
