package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	cases := []struct {
		in     string
		metric string
		q      float64
		kind   Kind
		op     string
		limit  float64
	}{
		{"p99 < 300ms", "p99", 99, KindLatency, "<", 0.3},
		{"p99.9 <= 1.5s", "p99.9", 99.9, KindLatency, "<=", 1.5},
		{"p75<250us", "p75", 75, KindLatency, "<", 0.00025},
		{"max < 2s", "max", 0, KindLatency, "<", 2},
		{"mean < 40ms", "mean", 0, KindLatency, "<", 0.04},
		{"error_rate < 1%", "error_rate", 0, KindRatio, "<", 0.01},
		{"error_rate <= 0.005", "error_rate", 0, KindRatio, "<=", 0.005},
		{"throughput > 80/s", "throughput", 0, KindRate, ">", 80},
		{"throughput >= 4800/m", "throughput", 0, KindRate, ">=", 80},
		{"throughput > 80", "throughput", 0, KindRate, ">", 80},
		{"requests >= 1000", "requests", 0, KindCount, ">=", 1000},
	}
	for _, tc := range cases {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tc.in, err)
			continue
		}
		if r.Metric != tc.metric || r.Quantile != tc.q || r.Kind != tc.kind || r.Op != tc.op || !near(r.Limit, tc.limit) {
			t.Errorf("ParseRule(%q) = %+v", tc.in, r)
		}
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestParseRuleErrors(t *testing.T) {
	cases := map[string]string{
		"p99 < 300":          "needs a unit",
		"p99 = 300ms":        "unknown operator",
		"p100 < 1s":          "unknown metric",
		"latency < 1s":       "unknown metric",
		"error_rate < 5":     "invalid error rate",
		"error_rate < 101%":  "invalid percentage",
		"throughput > 80/d":  "invalid rate unit",
		"throughput > fast":  "invalid rate",
		"requests > -1":      "invalid count",
		"p99 < 300ms or so":  "expected \"metric op value\"",
		"":                   "expected \"metric op value\"",
		"p-5 < 1s":           "unknown metric",
		"throughput > NaN/s": "invalid rate",
	}
	for in, want := range cases {
		_, err := ParseRule(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRule(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestParseThresholds(t *testing.T) {
	doc := "all:\n  - p99 < 300ms\n  - error_rate < 1%\nendpoints:\n  /b:\n    - p95 < 1s\n  /a:\n    - max < ${MAX:-2s}\n"
	th, err := ParseThresholds("t.yaml", []byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(th.All) != 2 || th.All[1].Pos.Line != 3 || th.All[1].Pos.Col != 5 {
		t.Errorf("all = %+v", th.All)
	}
	if len(th.Endpoints) != 2 || th.Endpoints[0].Name != "/b" || th.Endpoints[1].Name != "/a" {
		t.Fatalf("endpoints not in file order: %+v", th.Endpoints)
	}
	if th.Endpoints[0].Pos.Line != 5 || th.Endpoints[1].Rules[0].Limit != 2 {
		t.Errorf("endpoint rules = %+v", th.Endpoints)
	}
}

func TestThresholdErrors(t *testing.T) {
	cases := map[string]string{
		"all:\n  - p99 < 300\n":                  "t.yaml:2:5: rule \"p99 < 300\"",
		"all:\n  - latency < 1s\n":               "t.yaml:2:5: rule \"latency < 1s\": unknown metric",
		"all: p99 < 1s\n":                        "t.yaml:1:6: all: expected a list",
		"endpoints:\n  /a: [p99 < 1s]\n  /a: []": "t.yaml:3:3: endpoint \"/a\" is listed twice",
		"endpoint:\n  /a: []\n":                  "t.yaml:1:1: unknown key \"endpoint\" (did you mean \"endpoints\"?)",
		"all: []\n":                              "t.yaml:1:1: no rules",
		"all:\n  - {p99: 1s}\n":                  "t.yaml:2:5: expected a rule",
	}
	for doc, want := range cases {
		_, err := ParseThresholds("t.yaml", []byte(doc), env(nil))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("doc %q: error = %v, want prefix %q", doc, err, want)
		}
	}
}

func TestAbortRules(t *testing.T) {
	th, err := ParseThresholds("t.yaml", []byte("abort:\n  - error_rate > 50% for 20s\n  - p99 > 2s for 30s\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Abort) != 2 || th.Abort[0].For != 20*time.Second || th.Abort[0].Limit != 0.5 || th.Abort[1].Metric != "p99" || th.Abort[1].Pos.Line != 3 {
		t.Errorf("abort = %+v", th.Abort)
	}
	if th.Abort[0].Text != "error_rate > 50% for 20s" {
		t.Errorf("text = %q", th.Abort[0].Text)
	}
	bad := map[string]string{
		"abort: [error_rate > 50%]\n":        "t.yaml:1:9: abort rule \"error_rate > 50%\": expected",
		"abort: [error_rate > 50% for 20]\n": "needs a unit",
		"abort: [requests > 5 for 10s]\n":    "requests is not watched over time",
		"abort: [error_rate > 50% for 0s]\n": "must be above 0",
		"abort: [latency > 1s for 10s]\n":    "unknown metric",
	}
	for doc, want := range bad {
		if _, err := ParseThresholds("t.yaml", []byte(doc), env(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", doc, err, want)
		}
	}
}

func TestBaselineRules(t *testing.T) {
	cases := []struct {
		in, text string
		ref      BaselineRef
		base     float64
		limit    float64
	}{
		{"p99 < baseline + 15%", "p99 < baseline + 15%", BaselineRef{15, "%"}, 0.2, 0.23},
		{"throughput > baseline - 10%", "throughput > baseline - 10%", BaselineRef{-10, "%"}, 100, 90},
		{"error_rate < baseline + 0.5pp", "error_rate < baseline + 0.5pp", BaselineRef{0.5, "pp"}, 0.01, 0.015},
		{"mean <= baseline", "mean <= baseline", BaselineRef{}, 0.1, 0.1},
		{"p95<baseline+20%", "p95 < baseline + 20%", BaselineRef{20, "%"}, 1, 1.2},
	}
	for _, tc := range cases {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if r.Baseline == nil || *r.Baseline != tc.ref || r.Text != tc.text || !near(r.Baseline.Apply(tc.base), tc.limit) {
			t.Errorf("%s: %+v %+v", tc.in, r, r.Baseline)
		}
	}
	for in, want := range map[string]string{
		"p99 < baseline + 15":  "needs a unit",
		"p99 < baseline + 1pp": "pp (percentage points) is for error_rate",
		"p99 < baseline * 2":   "expected baseline + N%",
		"p99 < baseline + x%":  "invalid tolerance",
	} {
		if _, err := ParseRule(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
	_, err := ParseThresholds("t.yaml", []byte("all:\n  - p99 < 1s\n  - p99 < baseline + 10%\n"), env(nil))
	if err == nil || !strings.HasPrefix(err.Error(), `t.yaml:3:5: rule "p99 < baseline + 10%" compares with the baseline, but this file names none`) {
		t.Errorf("err = %v", err)
	}
}
