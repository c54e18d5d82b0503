package config

import (
	"strings"
	"testing"
)

func TestParseCapacityRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CapacityRule
	}{
		{"capacity > 400/s", CapacityRule{Text: "capacity > 400/s", Metric: "capacity", Op: ">", Limit: 400, Unit: "rate"}},
		{"capacity >= 6000/m", CapacityRule{Text: "capacity >= 6000/m", Metric: "capacity", Op: ">=", Limit: 100, Unit: "rate"}},
		{"knee > 50 users", CapacityRule{Text: "knee > 50 users", Metric: "knee", Op: ">", Limit: 50, Unit: "users"}},
		{"capacity > 1 user", CapacityRule{Text: "capacity > 1 user", Metric: "capacity", Op: ">", Limit: 1, Unit: "users"}},
		{"capacity > baseline - 10%", CapacityRule{Text: "capacity > baseline - 10%", Metric: "capacity", Op: ">", Baseline: true, Amount: -10}},
		{"capacity >= baseline-5%", CapacityRule{Text: "capacity >= baseline - 5%", Metric: "capacity", Op: ">=", Baseline: true, Amount: -5}},
		{"capacity > baseline", CapacityRule{Text: "capacity > baseline", Metric: "capacity", Op: ">", Baseline: true}},
	} {
		got, err := ParseCapacityRule(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"capacity > 400", "needs a unit"},
		{"throughput > 400/s", `unknown metric "throughput"`},
		{"capacity = 400/s", "unknown operator"},
		{"capacity > baseline * 2", "expected baseline + N% or baseline - N%"},
		{"capacity > baseline - 10", "a percentage of the baseline's capacity"},
		{"capacity > -3 users", "invalid number of users"},
		{"capacity >", "expected \"metric op value\""},
	} {
		if _, err := ParseCapacityRule(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestCapacityRulesInAThresholdsFile(t *testing.T) {
	th, err := ParseThresholds("t.yaml", []byte("baseline: b.json\ncapacity:\n  - capacity > 400/s\n  - knee > baseline - 20%\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Capacity) != 2 || th.Capacity[1].Pos.Line != 4 || !th.Capacity[1].Baseline {
		t.Errorf("capacity rules %+v", th.Capacity)
	}
	for _, tc := range []struct{ doc, want string }{
		{"capacity:\n  - capacity > 400\n", "t.yaml:2:5: capacity rule"},
		{"capacity:\n  - capacity > baseline\n", "t.yaml:2:5: capacity rule \"capacity > baseline\" compares with the baseline, but this file names none"},
	} {
		if _, err := ParseThresholds("t.yaml", []byte(tc.doc), env(nil)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
