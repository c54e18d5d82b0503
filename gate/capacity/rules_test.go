package capacity

import (
	"testing"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/verdict"
)

func capRule(t *testing.T, text string) plan.CapacityRule {
	t.Helper()
	r, err := config.ParseCapacityRule(text)
	if err != nil {
		t.Fatal(err)
	}
	return plan.CapacityRule{CapacityRule: r}
}

func TestJudgeCapacityRules(t *testing.T) {
	found := Result{End: Found, Capacity: 480, Low: 480, High: 490, Knee: &Knee{Level: 400}}
	atLeast := Result{End: AtLeast, Capacity: 1000}
	unconfirmed := Result{End: Unconfirmed, Capacity: 480, Why: "the budget ran out"}
	base := capRule(t, "capacity > baseline - 10%")
	base.Limit, base.Unit = 450, "rate" // a baseline of 500/s
	for _, tc := range []struct {
		rule string
		res  Result
		want verdict.Status
	}{
		{"capacity > 400/s", found, verdict.Pass},
		{"capacity > 500/s", found, verdict.Fail},
		{"capacity < 500/s", found, verdict.Pass},
		{"knee >= 400/s", found, verdict.Pass},
		{"knee > 400/s", found, verdict.Fail},
		{"capacity > 400/s", atLeast, verdict.Pass},     // already beyond it
		{"capacity > 2000/s", atLeast, verdict.Invalid}, // it may be
		{"capacity < 800/s", atLeast, verdict.Fail},     // it cannot be
		{"capacity < 2000/s", atLeast, verdict.Invalid}, // it may not be
		{"knee > 100/s", atLeast, verdict.Invalid},      // never broke
		{"capacity > 400/s", unconfirmed, verdict.Invalid},
		{"knee > 100/s", Result{End: Found, Capacity: 480}, verdict.Invalid},
	} {
		c := JudgeRules([]plan.CapacityRule{capRule(t, tc.rule)}, tc.res)[0]
		if c.Status != tc.want || (c.Status == verdict.Invalid) != (c.Why != "") {
			t.Errorf("%s on %v %v: %v (%s), want %v", tc.rule, tc.res.End, tc.res.Capacity, c.Status, c.Why, tc.want)
		}
	}
	if c := JudgeRules([]plan.CapacityRule{base}, found)[0]; c.Status != verdict.Pass || c.Limit != 450 || c.Measured != 480 {
		t.Errorf("against the baseline: %+v", c)
	}
	pass, fail, invalid := Check{Status: verdict.Pass}, Check{Status: verdict.Fail}, Check{Status: verdict.Invalid}
	for _, tc := range []struct {
		res    Result
		checks []Check
		want   verdict.Status
	}{
		{found, nil, verdict.Pass}, {atLeast, nil, verdict.Pass}, {unconfirmed, nil, verdict.Invalid},
		{found, []Check{pass, pass}, verdict.Pass}, {found, []Check{pass, invalid}, verdict.Invalid},
		{found, []Check{invalid, fail}, verdict.Fail},
	} {
		if got := Status(tc.res, tc.checks); got != tc.want {
			t.Errorf("Status(%v, %d checks) = %v, want %v", tc.res.End, len(tc.checks), got, tc.want)
		}
	}
	if r, bad := UnitMismatch([]plan.CapacityRule{capRule(t, "capacity > 400/s"), capRule(t, "capacity > 5 users")}, Rate); !bad || r.Unit != "users" {
		t.Errorf("mismatch %v %+v", bad, r)
	}
}
