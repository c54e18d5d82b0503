package config

import (
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/metric"
)

func TestParseRule(t *testing.T) {
	cases := []struct {
		in     string
		metric string
		q      float64
		kind   metric.Kind
		op     string
		limit  float64
	}{
		{"p99 < 300ms", "p99", 99, metric.Latency, "<", 0.3},
		{"p99.9 <= 1.5s", "p99.9", 99.9, metric.Latency, "<=", 1.5},
		{"p75<250us", "p75", 75, metric.Latency, "<", 0.00025},
		{"max < 2s", "max", 0, metric.Latency, "<", 2},
		{"mean < 40ms", "mean", 0, metric.Latency, "<", 0.04},
		{"error_rate < 1%", "error_rate", 0, metric.Ratio, "<", 0.01},
		{"error_rate <= 0.005", "error_rate", 0, metric.Ratio, "<=", 0.005},
		{"throughput > 80/s", "throughput", 0, metric.Rate, ">", 80},
		{"throughput >= 4800/m", "throughput", 0, metric.Rate, ">=", 80},
		{"throughput > 80", "throughput", 0, metric.Rate, ">", 80},
		{"requests >= 1000", "requests", 0, metric.Count, ">=", 1000},
	}
	for _, tc := range cases {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tc.in, err)
			continue
		}
		if r.Metric.Name != tc.metric || r.Metric.Quantile != tc.q || r.Metric.Kind() != tc.kind || r.Op != tc.op || !near(r.Limit, tc.limit) {
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
	if len(th.Abort) != 2 || th.Abort[0].For != 20*time.Second || th.Abort[0].Limit != 0.5 || th.Abort[1].Metric.Name != "p99" || th.Abort[1].Pos.Line != 3 {
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
		amount   float64
		unit     string
		base     float64
		limit    float64
	}{
		{"p99 < baseline + 15%", "p99 < baseline + 15%", 15, "%", 0.2, 0.23},
		{"throughput > baseline - 10%", "throughput > baseline - 10%", -10, "%", 100, 90},
		{"error_rate < baseline + 0.5pp", "error_rate < baseline + 0.5pp", 0.5, "pp", 0.01, 0.015},
		{"mean <= baseline", "mean <= baseline", 0, "", 0.1, 0.1},
		{"p95<baseline+20%", "p95 < baseline + 20%", 20, "%", 1, 1.2},
	}
	for _, tc := range cases {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !r.AgainstBaseline() || r.Ref.Amount != tc.amount || r.Ref.Unit != tc.unit || r.Ref.Metric != r.Metric ||
			r.Text != tc.text || !near(r.Ref.Apply(tc.base), tc.limit) {
			t.Errorf("%s: %+v %+v", tc.in, r, r.Ref)
		}
	}
	for in, want := range map[string]string{
		"p99 < baseline + 15":  "needs a unit",
		"p99 < baseline + 1pp": "pp (percentage points) is for error_rate",
		"p99 < baseline * 2":   "invalid factor",
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

func TestParseRuleReferences(t *testing.T) {
	cases := []struct {
		in, text string
		ref      Ref
		base     float64 // a referenced value
		limit    float64 // what the limit becomes
	}{
		{"p99 < baseline + 15%", "p99 < baseline + 15%", Ref{Metric: mustMetric(t, "p99"), Factor: 1, Amount: 15, Unit: "%"}, 0.2, 0.23},
		{"error_rate < baseline+0.5pp", "error_rate < baseline + 0.5pp", Ref{Metric: mustMetric(t, "error_rate"), Factor: 1, Amount: 0.5, Unit: "pp"}, 0.01, 0.015},
		{"p99 < 2 * single-user.p99", "p99 < 2 * single-user.p99", Ref{Phase: "single-user", Metric: mustMetric(t, "p99"), Factor: 2}, 0.05, 0.1},
		{"p95 <= single-user.p50 + 50%", "p95 <= single-user.p50 + 50%", Ref{Phase: "single-user", Metric: mustMetric(t, "p50"), Factor: 1, Amount: 50, Unit: "%"}, 0.04, 0.06},
		{"throughput > 0.8*peak.throughput", "throughput > 0.8 * peak.throughput", Ref{Phase: "peak", Metric: mustMetric(t, "throughput"), Factor: 0.8}, 100, 80},
		{"error_rate < warm_up.error_rate - 1pp", "error_rate < warm_up.error_rate - 1pp", Ref{Phase: "warm_up", Metric: mustMetric(t, "error_rate"), Factor: 1, Amount: -1, Unit: "pp"}, 0.05, 0.04},
	}
	for _, tc := range cases {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tc.in, err)
			continue
		}
		if r.Ref == nil || *r.Ref != tc.ref || r.Text != tc.text {
			t.Errorf("ParseRule(%q) = %q, ref %+v; want %q, %+v", tc.in, r.Text, r.Ref, tc.text, tc.ref)
			continue
		}
		if got := r.Ref.Apply(tc.base); !near(got, tc.limit) {
			t.Errorf("%q applied to %v = %v, want %v", tc.in, tc.base, got, tc.limit)
		}
	}
}

func TestParseDriftRules(t *testing.T) {
	cases := []struct {
		in    string
		op    string
		limit float64
	}{
		{"p99 drift < 20%", "<", 0.2},
		{"error_rate drift < 0.5pp", "<", 0.005},
		{"throughput drift > -10%", ">", -0.1},
		{"max drift <= 100%", "<=", 1},
		{"p75 drift < 10%", "<", 0.1},
		{"mean drift < 5%", "<", 0.05},
	}
	for _, tc := range cases {
		r, err := ParseRule(tc.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tc.in, err)
			continue
		}
		if !r.Drift || r.Op != tc.op || !near(r.Limit, tc.limit) || r.Text != tc.in {
			t.Errorf("ParseRule(%q) = %+v", tc.in, r)
		}
	}
}

func TestParseRuleReferenceErrors(t *testing.T) {
	cases := map[string]string{
		"p99 < 2 * fast":                  "expected baseline or PHASE.METRIC",
		"p99 < 0 * single-user.p99":       "invalid factor",
		"p99 < single-user.error_rate":    "measure different things",
		"p99 < single-user.latency":       "unknown metric",
		"p99 < single-user.p99 + 10":      "needs a unit",
		"p99 < single-user.p99 + 1pp":     "pp (percentage points) is for error_rate",
		"p99 drift < 20ms":                "a percentage of the value at the start",
		"error_rate drift < 1%":           "percentage points",
		"requests drift < 10%":            "drift is followed over time windows",
		"p99 drift < 2 * single-user.p99": "a percentage of the value at the start",
	}
	for in, want := range cases {
		_, err := ParseRule(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRule(%q) error = %v, want %q", in, err, want)
		}
	}
	if _, err := ParseAbortRule("p99 drift > 20% for 30s"); err == nil || !strings.Contains(err.Error(), "fixed limit") {
		t.Errorf("a drift abort rule: %v", err)
	}
}

func TestParsePhaseThresholds(t *testing.T) {
	doc := `phases:
  single-user: [p99 < 100ms]
  recovery:
    all: [p99 < 2 * single-user.p99]
    endpoints:
      /a: [error_rate < 1%]
`
	th, err := ParseThresholds("t.yaml", []byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Phases) != 2 || th.Phases[0].Name != "single-user" || th.Phases[1].Name != "recovery" {
		t.Fatalf("phases = %+v", th.Phases)
	}
	if th.Phases[0].Pos.Line != 2 || len(th.Phases[0].All) != 1 || th.Phases[0].All[0].Pos.Line != 2 {
		t.Errorf("single-user = %+v", th.Phases[0])
	}
	rec := th.Phases[1]
	if len(rec.All) != 1 || rec.All[0].Ref == nil || len(rec.Endpoints) != 1 || rec.Endpoints[0].Rules[0].Pos.Line != 6 {
		t.Errorf("recovery = %+v", rec)
	}
	bad := map[string]string{
		"phases:\n  a: [p99 < 1s]\n  a: [p99 < 2s]\n": "t.yaml:3:3: phase \"a\" is listed twice",
		"phases:\n  a:\n    al: [p99 < 1s]\n":         "t.yaml:3:5: unknown key \"al\" (did you mean \"all\"?)",
		"phases: [p99 < 1s]\n":                        "t.yaml:1:9: phases: expected a mapping of phase name to rules",
		"phases:\n  a: p99 < 1s\n":                    "t.yaml:2:6: a: expected",
	}
	for doc, want := range bad {
		_, err := ParseThresholds("t.yaml", []byte(doc), env(nil))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error = %v, want prefix %q", doc, err, want)
		}
	}
}

func mustMetric(t *testing.T, name string) metric.Metric {
	t.Helper()
	m, err := metric.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
