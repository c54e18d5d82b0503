package verdict

import (
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
)

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

func TestEvaluateRules(t *testing.T) {
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
		v := Evaluate([]plan.Rule{rule(t, tc.rule, tc.endpoint)}, s, load.Result{})
		c := v.Checks[0]
		if c.Passed != tc.pass || c.Samples != 1000 || c.Measured < tc.measured*0.999 || c.Measured > tc.measured*1.001 {
			t.Errorf("%s: passed %v measured %v samples %d; want %v, %v", tc.rule, c.Passed, c.Measured, c.Samples, tc.pass, tc.measured)
		}
		want := Pass
		if !tc.pass {
			want = Fail
		}
		if v.Status != want {
			t.Errorf("%s: status %v, want %v", tc.rule, v.Status, want)
		}
	}
}

func TestNoSamplesFailsClosed(t *testing.T) {
	s := summary(100, 0)
	v := Evaluate([]plan.Rule{rule(t, "p99 < 1s", -1), rule(t, "p99 < 1s", 1)}, s, load.Result{})
	if v.Status != Invalid || v.Checks[1].Passed || !v.Checks[1].NoData {
		t.Fatalf("verdict = %+v, want invalid with a failed no-data check", v)
	}
	if !strings.Contains(v.Reasons[0], "p99 < 1s [/b] had no samples") {
		t.Errorf("reasons = %q", v.Reasons)
	}
	// A lower-bound rule must not pass on zero either.
	v = Evaluate([]plan.Rule{rule(t, "requests >= 0", 1)}, s, load.Result{})
	if v.Status != Invalid {
		t.Errorf("requests >= 0 over no samples: %v, want invalid", v.Status)
	}
}

func TestUndeliveredLoadIsInvalidEvenIfRulesPass(t *testing.T) {
	v := Evaluate([]plan.Rule{rule(t, "p99 < 1s", -1)}, summary(100, 0), load.Result{Invalid: []string{"only 3 of 10 users were running"}})
	if v.Status != Invalid || !v.Checks[0].Passed || v.Reasons[0] != "only 3 of 10 users were running" {
		t.Errorf("verdict = %+v", v)
	}
	// A failed run's own reason is not buried under one "no samples" line per rule.
	v = Evaluate([]plan.Rule{rule(t, "p99 < 1s", 1)}, summary(100, 0), load.Result{Invalid: []string{"cannot reach target"}})
	if v.Status != Invalid || len(v.Reasons) != 1 || !v.Checks[0].NoData || v.Checks[0].Passed {
		t.Errorf("verdict = %+v", v)
	}
	// Invalid wins over a breach: the numbers of an undelivered run prove nothing.
	v = Evaluate([]plan.Rule{rule(t, "p99 < 1ms", -1)}, summary(100, 0), load.Result{Canceled: true, Invalid: []string{"cancelled"}})
	if v.Status != Invalid || len(v.Failed()) != 1 {
		t.Errorf("verdict = %+v", v)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{Pass: "pass", Fail: "fail", Invalid: "invalid"} {
		if s.String() != want {
			t.Errorf("%d = %q", s, s.String())
		}
	}
}
