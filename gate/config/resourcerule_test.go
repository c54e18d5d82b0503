package config

import (
	"strings"
	"testing"
)

func TestParseResourceRule(t *testing.T) {
	for _, tc := range []struct {
		in    string
		name  string
		op    string
		limit float64
		share bool
	}{
		{"cpu < 80%", "cpu", "<", 0.8, true},
		{"db_waits == 0", "db_waits", "==", 0, false},
		{"db_waits == 0/s", "db_waits", "==", 0, false},
		{"memory < 512MB", "memory", "<", 512e6, false},
		{"memory <= 1GiB", "memory", "<=", 1 << 30, false},
		{"goroutines < 400", "goroutines", "<", 400, false},
		{"sched_latency < 1ms", "sched_latency", "<", 0.001, false},
		{"sched_latency < 250us", "sched_latency", "<", 0.00025, false},
	} {
		r, err := ParseResourceRule(tc.in)
		if err != nil || r.Name != tc.name || r.Op != tc.op || r.Limit != tc.limit || r.Share != tc.share || r.Text != tc.in {
			t.Errorf("%q: %+v, %v", tc.in, r, err)
		}
	}
	for _, bad := range []string{"cpu < ", "cpu ~ 80%", "cpu < lots", "cpu < -1", "cpu < 80 %", "sched_latency < -1ms"} {
		if _, err := ParseResourceRule(bad); err == nil || !strings.Contains(err.Error(), "resource rule") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	r, _ := ParseResourceRule("db_waits == 0")
	if !r.Holds(0) || r.Holds(0.1) {
		t.Error("== 0")
	}
}

func TestResourceRulesInAThresholdsFile(t *testing.T) {
	th, err := ParseThresholds("t.yaml", []byte("resources:\n  - cpu < 80%\n  - db_waits == 0\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Resources) != 2 || th.Resources[1].Pos.Line != 3 {
		t.Errorf("resource rules %+v", th.Resources)
	}
	if _, err := ParseThresholds("t.yaml", []byte("resources:\n  - cpu < eighty\n"), env(nil)); err == nil || !strings.HasPrefix(err.Error(), "t.yaml:2:5: resource rule") {
		t.Errorf("error %v", err)
	}
}
