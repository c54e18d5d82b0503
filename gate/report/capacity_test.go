package report

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/capacity"
	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/internal/golden"
	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/plan"
)

func capacityInput(end capacity.End, why string) CapacityInput {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	step := func(i int, level float64, role capacity.Role, o capacity.Outcome, why string, p90 float64, errs float64) capacity.Step {
		// A pool of 10 connections, each held 22 ms a request: full from 450/s.
		waits := 0.0
		if level > 450 {
			waits = level - 450
		}
		return capacity.Step{Level: level, Role: role, Outcome: o, Why: why, Start: start.Add(time.Duration(i) * 18 * time.Second),
			Load: 13 * time.Second, Offered: level, Achieved: level * (1 - errs/2), P50: p90 * 0.7, P90: p90, P99: p90 * 1.4,
			ErrorRate: errs, Requests: int64(level * 10),
			Resources: map[string]float64{"cpu": level / 1000, "gomaxprocs": 2, "db_in_use": min(10, level*0.022), "db_max_open": 10,
				"db_waits": waits, "memory": 42e6},
			Growth: map[string]float64{"memory": 0.01}}
	}
	steps := []capacity.Step{
		step(0, 100, capacity.Probe, capacity.Held, "", 0.012, 0),
		step(1, 200, capacity.Probe, capacity.Held, "", 0.012, 0),
		step(2, 400, capacity.Probe, capacity.Held, "", 0.013, 0),
		step(3, 800, capacity.Probe, capacity.Broke, "error_rate < 1%", 0.210, 0.25),
		step(4, 600, capacity.Bisect, capacity.Broke, "p99 < 300ms", 0.120, 0.1),
		step(5, 500, capacity.Bisect, capacity.Unsure, "error_rate < 1% inconclusive", 0.040, 0.012),
		step(6, 450, capacity.Bisect, capacity.Held, "", 0.018, 0),
		step(7, 450, capacity.ConfirmBelow, capacity.Held, "", 0.017, 0),
		step(8, 500, capacity.ConfirmAbove, capacity.Broke, why, 0.041, 0.013),
	}
	res := capacity.Result{Unit: capacity.Rate, Capacity: 450, Low: 450, High: 500, End: end, Steps: steps, Load: 9 * 13 * time.Second}
	if end != capacity.Found {
		res.Why = why
	}
	res.Knee = capacity.FindKnee(steps)
	res.Bottleneck = capacity.FindBottleneck(res)
	s := capacity.Settings{From: 100, To: 10_000}.WithDefaults()
	var rules []plan.CapacityRule
	for i, text := range []string{"capacity > 400/s", "capacity > baseline - 10%", "knee > 420/s"} {
		r, err := config.ParseCapacityRule(text)
		if err != nil {
			panic(err)
		}
		r.Pos.Line = 3 + i
		pr := plan.CapacityRule{CapacityRule: r, File: "thresholds/capacity.yaml"}
		if r.Baseline {
			pr.BaselineValue, pr.Limit, pr.Unit = 500, 450, "rate"
		}
		rules = append(rules, pr)
	}
	checks := capacity.JudgeRules(rules, res)
	return CapacityInput{Tool: "perfgate dev", Target: "http://127.0.0.1:8080", Rules: []string{"all: p99 < 300ms", "all: error_rate < 1%"},
		Settings: s, Steps: capacity.Steps{Ramp: 3 * time.Second, Hold: 10 * time.Second, MaxHold: 20 * time.Second, ConfirmHold: 20 * time.Second},
		Result: res, Checks: checks, Status: capacity.Status(res, checks), ExitCode: 1, Secrets: []string{"hunter2"}}
}

func TestCapacityGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   CapacityInput
	}{
		{"capacity", capacityInput(capacity.Found, "error_rate < 1%")},
		{"capacity-unconfirmed", capacityInput(capacity.Unconfirmed, "the budget ran out")},
	} {
		r := BuildCapacity(tc.in)
		for _, w := range []struct {
			ext   string
			write func(io.Writer, *CapacityResult) error
		}{{".console.txt", WriteCapacityConsole}, {".json", WriteCapacityJSON}, {".junit.xml", WriteCapacityJUnit}, {".summary.md", WriteCapacityMarkdown}, {".report.html", WriteCapacityHTML}} {
			var b bytes.Buffer
			if err := w.write(&b, r); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.name+w.ext, b.Bytes())
		}
	}
	junitxsd.Validate(t, filepath.Join("testdata", "capacity.junit.xml"), filepath.Join("testdata", "capacity-unconfirmed.junit.xml"))
}

// A result file read back is the one written, neutralised again; a baseline records
// its capacity and refuses a search without a confirmed one unless forced.
func TestCapacityResultBackToBaseline(t *testing.T) {
	var js bytes.Buffer
	if err := WriteCapacityJSON(&js, BuildCapacity(capacityInput(capacity.Found, ""))); err != nil {
		t.Fatal(err)
	}
	if !IsCapacityResult(js.Bytes()) || IsCapacityResult([]byte(`{"version": "perfgate.result/v2"}`)) {
		t.Fatal("IsCapacityResult")
	}
	r, err := ReadCapacityJSON(js.Bytes())
	if err != nil || r.Capacity != 450 || len(r.Steps) != 9 || r.Knee == nil {
		t.Fatalf("read back: %+v, %v", r, err)
	}
	var unconfirmed bytes.Buffer
	_ = WriteCapacityJSON(&unconfirmed, BuildCapacity(capacityInput(capacity.Unconfirmed, "the budget ran out")))
	u, _ := ReadCapacityJSON(unconfirmed.Bytes())
	c, err := CapacityBaseline([]*CapacityResult{r, r}, []string{"a.json", "b.json"}, false)
	if err != nil || c.Unit != "rate" || len(c.Searches) != 2 || c.Searches[0].Knee != 450 || c.Searches[1].Source != "b.json" {
		t.Errorf("baseline %+v, %v", c, err)
	}
	if _, err := CapacityBaseline([]*CapacityResult{r, u}, []string{"a.json", "u.json"}, false); err == nil || !strings.Contains(err.Error(), "u.json: the search found no confirmed capacity") {
		t.Errorf("unconfirmed: %v", err)
	}
	if _, err := CapacityBaseline([]*CapacityResult{u}, []string{"u.json"}, true); err != nil {
		t.Errorf("forced: %v", err)
	}
	users := *r
	users.Unit = "users"
	if _, err := CapacityBaseline([]*CapacityResult{r, &users}, []string{"a.json", "b.json"}, false); err == nil || !strings.Contains(err.Error(), "one unit") {
		t.Errorf("units: %v", err)
	}
}

// What a step's reason quotes from outside (a target's words, a secret) reaches no
// report as it came.
func TestCapacityNeutralised(t *testing.T) {
	in := capacityInput(capacity.Unconfirmed, "the target said \x1b[31mhunter2\r\nok")
	r := BuildCapacity(in)
	var console, js bytes.Buffer
	_ = WriteCapacityConsole(&console, r)
	_ = WriteCapacityJSON(&js, r)
	for _, out := range []string{console.String(), js.String(), CapacityStepLine(capacity.Rate, 8, in.Result.Steps[8], in.Secrets)} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "\x1b") || strings.Contains(out, "\r") {
			t.Errorf("unneutralised:\n%q", out)
		}
	}
}

func TestFormatLevel(t *testing.T) {
	for _, tc := range []struct {
		unit string
		v    float64
		want string
	}{{"rate", 1480.4, "1,480/s"}, {"rate", 62.5, "62.5/s"}, {"users", 1, "1 user"}, {"users", 1200, "1,200 users"}} {
		if got := FormatLevel(tc.unit, tc.v); got != tc.want {
			t.Errorf("FormatLevel(%s, %v) = %q, want %q", tc.unit, tc.v, got, tc.want)
		}
	}
}
