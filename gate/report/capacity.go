package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/capacity"
	"github.com/perfgate/perfgate/gate/internal/safetext"
	"github.com/perfgate/perfgate/gate/verdict"
)

// CapacityVersion is the schema of a capacity search's result file.
const CapacityVersion = "perfgate.capacity/v1"

// CapacityResult is a capacity search's result file: what was searched, what it found,
// and every step's figures, so that the latency/throughput curve can be drawn again.
type CapacityResult struct {
	Version string `json:"version"`
	Tool    string `json:"tool"`
	Target  string `json:"target"`
	// Unit is "rate" (arrivals a second, the open model) or "users" (the closed model).
	Unit string `json:"unit"`
	// Capacity is the highest level that held; BracketLow and BracketHigh bound where
	// the target stops holding (BracketHigh 0: no level broke).
	Capacity    float64 `json:"capacity"`
	BracketLow  float64 `json:"bracket_low"`
	BracketHigh float64 `json:"bracket_high"`
	// End is how the search ended: found, unconfirmed, at least, none held, target
	// down, generator limited or cancelled; Why says why for any but found.
	End       string `json:"end"`
	Why       string `json:"why,omitempty"`
	Confirmed bool   `json:"confirmed"`
	// Knee is the step at which latency starts to climb steeply.
	Knee *CapacityKnee `json:"knee,omitempty"`
	// Bottleneck is what ran out first, when the target's resources were read
	// (resources: in the config).
	Bottleneck *CapacityBottleneck `json:"bottleneck,omitempty"`
	// Verdict is the capacity rules' outcome (pass, fail or invalid), Checks each
	// rule's; without rules, pass when a capacity was found.
	Verdict string          `json:"verdict"`
	Checks  []CapacityCheck `json:"checks"`
	// Rules are the rules each step was judged by.
	Rules       []string       `json:"rules"`
	Settings    CapacityConfig `json:"settings"`
	LoadSeconds float64        `json:"load_seconds"`
	Steps       []CapacityStep `json:"steps"`
	ExitCode    int            `json:"exit_code"`
}

// CapacityConfig is how the search was shaped.
type CapacityConfig struct {
	From          float64 `json:"from"`
	To            float64 `json:"to"`
	Factor        float64 `json:"factor"`
	Precision     float64 `json:"precision"`
	BudgetSeconds float64 `json:"budget_seconds"`
	RampSeconds   float64 `json:"step_ramp_seconds"`
	HoldSeconds   float64 `json:"step_hold_seconds"`
	// MaxHoldSeconds is how long a step's hold may go on while a rule is inconclusive;
	// ConfirmSeconds a confirmation's hold.
	MaxHoldSeconds  float64 `json:"step_max_hold_seconds"`
	ConfirmSeconds  float64 `json:"confirm_hold_seconds"`
	CooldownSeconds float64 `json:"cooldown_seconds"`
	// Requests is how many requests an inconclusive step of the open model goes on
	// to, up to LongestHoldSeconds.
	Requests           int     `json:"step_requests,omitempty"`
	LongestHoldSeconds float64 `json:"step_longest_hold_seconds,omitempty"`
}

// CapacityCheck is one capacity rule's outcome.
type CapacityCheck struct {
	Rule     string  `json:"rule"`
	File     string  `json:"file"`
	Line     int     `json:"line"`
	Status   string  `json:"status"`
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Message  string  `json:"message"`
}

// CapacityBottleneck is what ran out first as the load grew (kind cpu, memory, pool,
// connections, or "none visible"), and how each resource stood at the knee.
type CapacityBottleneck struct {
	Kind  string        `json:"kind"`
	Level float64       `json:"level,omitempty"`
	Why   string        `json:"why"`
	At    float64       `json:"at"`
	Uses  []CapacityUse `json:"resources"`
}

// CapacityUse is one resource's utilisation (-1: its limit unknown) and saturation.
type CapacityUse struct {
	Kind        string  `json:"kind"`
	Utilisation float64 `json:"utilisation"`
	Saturation  float64 `json:"saturation"`
	Detail      string  `json:"detail"`
	RanOut      bool    `json:"ran_out"`
}

// CapacityKnee is where latency starts to climb steeply.
type CapacityKnee struct {
	Step  int     `json:"step"`
	Level float64 `json:"level"`
	P90Ms float64 `json:"p90_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// CapacityStep is one step of a search.
type CapacityStep struct {
	Level   float64 `json:"level"`
	Role    string  `json:"role"`
	Outcome string  `json:"outcome"`
	Why     string  `json:"why,omitempty"`
	// Collapsed is set when most of the step's requests failed.
	Collapsed   bool      `json:"collapsed,omitempty"`
	Start       time.Time `json:"start"`
	LoadSeconds float64   `json:"load_seconds"`
	Offered     float64   `json:"offered_per_second,omitempty"`
	Achieved    float64   `json:"achieved_per_second"`
	Requests    int64     `json:"requests"`
	ErrorRate   float64   `json:"error_rate"`
	P50Ms       float64   `json:"p50_ms"`
	P90Ms       float64   `json:"p90_ms"`
	P99Ms       float64   `json:"p99_ms"`
	// Resources are the target's over the hold: each one's mean, by name.
	Resources map[string]float64 `json:"resources,omitempty"`
}

// CapacityInput is what a capacity search's report is built from.
type CapacityInput struct {
	Tool, Target string
	Rules        []string
	Settings     capacity.Settings
	Steps        capacity.Steps
	Result       capacity.Result
	Checks       []capacity.Check
	Status       verdict.Status
	ExitCode     int
	// Secrets never appear in the result.
	Secrets []string
}

// BuildCapacity builds a capacity search's result, neutralised: nothing from outside
// (a rule's text, a reason quoting the target) reaches a report unescaped.
func BuildCapacity(in CapacityInput) *CapacityResult {
	res, s := in.Result, in.Settings
	out := &CapacityResult{
		Version: CapacityVersion, Tool: in.Tool, Target: in.Target, Unit: res.Unit.String(),
		Capacity: res.Capacity, BracketLow: res.Low, BracketHigh: res.High, End: res.End.String(), Why: res.Why,
		Confirmed: res.End == capacity.Found, Rules: in.Rules, LoadSeconds: res.Load.Seconds(), ExitCode: in.ExitCode,
		Settings: CapacityConfig{
			From: s.From, To: s.To, Factor: s.Factor, Precision: s.Precision, BudgetSeconds: s.Budget.Seconds(),
			RampSeconds: in.Steps.Ramp.Seconds(), HoldSeconds: in.Steps.Hold.Seconds(),
			MaxHoldSeconds: in.Steps.MaxHold.Seconds(), ConfirmSeconds: in.Steps.ConfirmHold.Seconds(),
			CooldownSeconds: s.Cooldown.Seconds(),
		},
		Steps: []CapacityStep{}, Verdict: in.Status.String(), Checks: []CapacityCheck{},
	}
	if res.Unit == capacity.Rate && in.Steps.Requests > 0 {
		out.Settings.Requests, out.Settings.LongestHoldSeconds = in.Steps.Requests, in.Steps.LongestHold.Seconds()
	}
	unit := res.Unit.String()
	for _, c := range in.Checks {
		cc := CapacityCheck{Rule: c.Rule.Text, File: c.Rule.File, Line: c.Rule.Pos.Line, Status: c.Status.String(),
			Measured: c.Measured, Limit: c.Limit}
		switch c.Status {
		case verdict.Invalid:
			cc.Message = "no verdict: " + c.Why
		default:
			cc.Message = fmt.Sprintf("%s %s, limit %s %s", c.Rule.Metric, FormatLevel(unit, c.Measured), c.Rule.Op, FormatLevel(unit, c.Limit))
			if c.Rule.Baseline {
				cc.Message += fmt.Sprintf(" (the baseline's %s)", FormatLevel(unit, c.Rule.BaselineValue))
			}
		}
		out.Checks = append(out.Checks, cc)
	}
	if out.Rules == nil {
		out.Rules = []string{}
	}
	if k := res.Knee; k != nil {
		out.Knee = &CapacityKnee{Step: k.Step, Level: k.Level, P90Ms: ms(k.P90), P99Ms: ms(k.P99)}
	}
	if b := res.Bottleneck; b != nil {
		out.Bottleneck = &CapacityBottleneck{Kind: b.Kind, Level: b.Level, Why: b.Why, At: b.At, Uses: []CapacityUse{}}
		for _, u := range b.Uses {
			out.Bottleneck.Uses = append(out.Bottleneck.Uses, CapacityUse{Kind: u.Kind, Utilisation: round(u.Utilisation, 4),
				Saturation: round(u.Saturation, 4), Detail: u.Detail, RanOut: u.RanOut})
		}
	}
	for _, st := range res.Steps {
		out.Steps = append(out.Steps, capacityStep(st))
	}
	neutralize(out, in.Secrets)
	return out
}

func capacityStep(st capacity.Step) CapacityStep {
	return CapacityStep{
		Level: st.Level, Role: st.Role.String(), Outcome: st.Outcome.String(), Why: st.Why, Collapsed: st.Collapsed,
		Start: st.Start.UTC(), LoadSeconds: round(st.Load.Seconds(), 3), Offered: st.Offered, Achieved: round(st.Achieved, 2),
		Requests: st.Requests, ErrorRate: st.ErrorRate, P50Ms: ms(st.P50), P90Ms: ms(st.P90), P99Ms: ms(st.P99),
		Resources: roundAll(st.Resources),
	}
}

func roundAll(m map[string]float64) map[string]float64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = round(v, 6)
	}
	return out
}

// neutralize makes every string of v safe to print: one line, no control characters,
// no secret.
func neutralize(v any, secrets []string) {
	safetext.Rewrite(v, func(s string) string { return safetext.Line(safetext.Redact(s, secrets)) })
}

func ms(seconds float64) float64 { return round(seconds*1000, 3) }

// WriteCapacityJSON writes a capacity search's result file.
func WriteCapacityJSON(w io.Writer, r *CapacityResult) error { return writeIndented(w, r) }

// FormatLevel prints a level of a search: "1,480/s" or "37 users".
func FormatLevel(unit string, v float64) string {
	if unit == capacity.Users.String() {
		if v == 1 {
			return "1 user"
		}
		return Count(int64(v)) + " users"
	}
	if v >= 100 {
		return Count(int64(v+0.5)) + "/s"
	}
	return strconv.FormatFloat(round(v, 2), 'f', -1, 64) + "/s"
}

// CapacityStepLine is the progress line of a search's i-th step, once it has run.
func CapacityStepLine(unit capacity.Unit, i int, step capacity.Step, secrets []string) string {
	st := capacityStep(step)
	neutralize(&st, secrets)
	return stepLine(unit.String(), i, st)
}

func stepLine(unit string, i int, st CapacityStep) string {
	line := fmt.Sprintf("step %d %s %s: %s, p99 %s, %s completed, errors %s", i+1, st.Role, FormatLevel(unit, st.Level),
		st.Outcome, Ms(st.P99Ms), FormatValue("rate", st.Achieved), Percent(st.ErrorRate))
	if st.Why != "" {
		line += " (" + st.Why + ")"
	}
	return line
}

// WriteCapacityConsole writes the curve of every step and the search's answer.
func WriteCapacityConsole(w io.Writer, r *CapacityResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-5s %-14s %12s %-16s %10s %10s %10s %12s %8s\n", "step", "role", "level", "outcome", "p50", "p90", "p99", "completed", "errors")
	for i, st := range r.Steps {
		mark := ""
		if r.Knee != nil && r.Knee.Step == i {
			mark = "  <- knee"
		}
		fmt.Fprintf(&b, "%-5d %-14s %12s %-16s %10s %10s %10s %12s %8s%s\n", i+1, st.Role, FormatLevel(r.Unit, st.Level), st.Outcome,
			Ms(st.P50Ms), Ms(st.P90Ms), Ms(st.P99Ms), FormatValue("rate", st.Achieved), Percent(st.ErrorRate), mark)
	}
	b.WriteString("\n" + CapacityHeadline(r) + "\n")
	if line := BottleneckLine(r); line != "" {
		b.WriteString(line + "\n")
	}
	if len(r.Checks) > 0 {
		b.WriteString("\n")
		for _, c := range r.Checks {
			fmt.Fprintf(&b, "%-8s %s: %s\n", strings.ToUpper(c.Status), c.Rule, c.Message)
		}
	}
	fmt.Fprintf(&b, "\nVerdict: %s (exit %d)\n", strings.ToUpper(r.Verdict), r.ExitCode)
	_, err := io.WriteString(w, b.String())
	return err
}

// BottleneckLine says what ran out first, in one line: "Bottleneck: pool, ran out first
// at 400/s: db_in_use 10 of 10 (100%), 35 waits/s"; "" without resources read.
func BottleneckLine(r *CapacityResult) string {
	b := r.Bottleneck
	switch {
	case b == nil:
		return ""
	case b.Kind == capacity.NoneVisible:
		return "Bottleneck: none visible: " + b.Why
	}
	return fmt.Sprintf("Bottleneck: %s, ran out first at %s: %s", b.Kind, FormatLevel(r.Unit, b.Level), b.Why)
}

// WriteCapacityJUnit writes a capacity search as JUnit XML: one testcase that a capacity
// was found, with the search's headline and curve, and one per capacity rule (a breached
// rule is a <failure>, one that could not be judged an <error>).
func WriteCapacityJUnit(w io.Writer, r *CapacityResult) error {
	suite := junit.Testsuite{Name: "perfgate capacity", Time: seconds(r.LoadSeconds)}
	if len(r.Steps) > 0 {
		suite.SetTimestamp(r.Steps[0].Start)
	}
	for _, p := range [][2]string{{"verdict", r.Verdict}, {"target", r.Target}, {"unit", r.Unit},
		{"capacity", FormatLevel(r.Unit, r.Capacity)}, {"end", r.End}} {
		suite.AddProperty(p[0], clean(p[1]))
	}
	found := junit.Testcase{Name: "capacity found", Classname: "perfgate.capacity", Time: seconds(r.LoadSeconds)}
	var curve bytes.Buffer
	_ = WriteCapacityConsole(&curve, r)
	found.SystemOut = &junit.Output{Data: clean(curve.String())}
	if r.End != capacity.Found.String() && r.End != capacity.AtLeast.String() {
		found.Error = &junit.Result{Message: clean(CapacityHeadline(r)), Type: "invalid", Data: clean(r.Why)}
	}
	suite.AddTestcase(found)
	for _, c := range r.Checks {
		tc := junit.Testcase{Name: clean(c.Rule), Classname: "perfgate.capacity", Time: seconds(0)} // the search's time is the search's testcase's
		where := fmt.Sprintf("%s:%d", c.File, c.Line)
		if !judged(&tc, c.Status, where, c.Rule, c.Message) {
			tc.Error = &junit.Result{Message: clean(c.Message), Type: "invalid", Data: clean(where + ": " + c.Message)}
		}
		suite.AddTestcase(tc)
	}
	suites := junit.Testsuites{Name: "perfgate", Time: suite.Time}
	suites.AddSuite(suite)
	suites.Skipped, suites.Disabled = 0, 0
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

// WriteCapacityMarkdown writes a capacity search as a GitHub job summary: the verdict,
// the headline, the rules and every step.
func WriteCapacityMarkdown(w io.Writer, r *CapacityResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## perfgate capacity: %s\n\n%s\n\n", strings.ToUpper(r.Verdict), mdText(CapacityHeadline(r)))
	if line := BottleneckLine(r); line != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(line))
	}
	if len(r.Checks) > 0 {
		b.WriteString("| rule | status | |\n|---|---|---|\n")
		for _, c := range r.Checks {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", mdCode(c.Rule), c.Status, mdText(c.Message))
		}
		b.WriteString("\n")
	}
	b.WriteString("| step | role | level | outcome | p50 | p90 | p99 | completed | errors |\n|--:|---|--:|---|--:|--:|--:|--:|--:|\n")
	for i, st := range r.Steps {
		outcome := st.Outcome
		if st.Why != "" {
			outcome += ": " + st.Why
		}
		if r.Knee != nil && r.Knee.Step == i {
			outcome += " (knee)"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", i+1, st.Role, FormatLevel(r.Unit, st.Level), mdText(outcome),
			Ms(st.P50Ms), Ms(st.P90Ms), Ms(st.P99Ms), FormatValue("rate", st.Achieved), Percent(st.ErrorRate))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CapacityHeadline is the search's answer in one line: "capacity 1,480/s, bracket
// 1,480/s-1,510/s, confirmed; knee at 1,400/s (p90 21ms, p99 35ms); 14 steps, 4m12s of
// load".
func CapacityHeadline(r *CapacityResult) string {
	lvl := func(v float64) string { return FormatLevel(r.Unit, v) }
	var s string
	switch r.End {
	case capacity.Found.String():
		s = fmt.Sprintf("capacity %s, bracket %s-%s, confirmed", lvl(r.Capacity), lvl(r.BracketLow), lvl(r.BracketHigh))
	case capacity.AtLeast.String(), capacity.GeneratorLimited.String():
		s = fmt.Sprintf("capacity at least %s (%s)", lvl(r.Capacity), r.Why)
	case capacity.NoneHeld.String():
		s = fmt.Sprintf("no capacity: %s", r.Why)
	default:
		s = fmt.Sprintf("capacity %s, not confirmed: %s", lvl(r.Capacity), r.Why)
		if r.BracketHigh > 0 {
			s = fmt.Sprintf("capacity %s, bracket %s-%s, not confirmed: %s", lvl(r.Capacity), lvl(r.BracketLow), lvl(r.BracketHigh), r.Why)
		}
	}
	if r.Knee != nil {
		s += fmt.Sprintf("; knee at %s (p90 %s, p99 %s)", lvl(r.Knee.Level), Ms(r.Knee.P90Ms), Ms(r.Knee.P99Ms))
	} else {
		s += "; no knee in the latency curve"
	}
	return s + fmt.Sprintf("; %d steps, %s of load", len(r.Steps), time.Duration(r.LoadSeconds*float64(time.Second)).Round(time.Second))
}

// PublishCapacity writes what GitHub Actions shows of a capacity search: an annotation
// per breached rule, the step outputs (verdict, capacity, bracket, the report paths) and
// the job summary. Every part is tried; the errors of those that failed are returned
// together.
func (g *GitHub) PublishCapacity(r *CapacityResult, p Paths) error {
	var errs []error
	if err := guard(func() {
		for _, c := range r.Checks {
			if c.Status == "fail" {
				g.action.WithFieldsMap(map[string]string{"file": c.File, "line": strconv.Itoa(c.Line), "title": "perfgate: capacity rule breached"}).
					Errorf("%s: %s", c.Rule, c.Message)
			}
		}
	}); err != nil {
		errs = append(errs, fmt.Errorf("annotations: %w", err))
	}
	outs := map[string]string{"verdict": r.Verdict, "capacity": strconv.FormatFloat(r.Capacity, 'f', -1, 64),
		"bracket-low": strconv.FormatFloat(r.BracketLow, 'f', -1, 64), "bracket-high": strconv.FormatFloat(r.BracketHigh, 'f', -1, 64),
		"junit-path": p.JUnit, "result-path": p.JSON, "html-path": p.HTML}
	if err := g.fileCommand("GITHUB_OUTPUT", "step outputs", func() {
		for _, k := range []string{"bracket-high", "bracket-low", "capacity", "html-path", "junit-path", "result-path", "verdict"} {
			g.action.SetOutput(k, outs[k])
		}
	}); err != nil {
		errs = append(errs, err)
	}
	var md bytes.Buffer
	if err := WriteCapacityMarkdown(&md, r); err != nil {
		errs = append(errs, err)
	} else if err := g.fileCommand("GITHUB_STEP_SUMMARY", "job summary", func() { g.action.AddStepSummary(md.String()) }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ReadCapacityJSON reads a capacity search's result file back, neutralised: a file may
// come from anywhere.
func ReadCapacityJSON(data []byte) (*CapacityResult, error) {
	var r CapacityResult
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a perfgate capacity result: %v", err)
	}
	if r.Version != CapacityVersion {
		return nil, fmt.Errorf("capacity result version %q is not %q", r.Version, CapacityVersion)
	}
	neutralize(&r, nil)
	return &r, nil
}

// IsCapacityResult reports whether a result file is a capacity search's.
func IsCapacityResult(data []byte) bool {
	var head struct {
		Version string `json:"version"`
	}
	return json.Unmarshal(data, &head) == nil && head.Version == CapacityVersion
}

// CapacityBaseline records capacity searches for a baseline, one unit for all. A search
// without a confirmed capacity (a lower bound, or none) is refused unless forced: a
// baseline is a measurement, and a rule against a lower bound would move with the
// search's budget rather than with the service.
func CapacityBaseline(results []*CapacityResult, sources []string, force bool) (*baseline.Capacity, error) {
	c := &baseline.Capacity{}
	for i, r := range results {
		if r.End != capacity.Found.String() && !force {
			return nil, fmt.Errorf("%s: the search found no confirmed capacity (%s: %s): record a search that did, or pass --force to keep it", sources[i], r.End, r.Why)
		}
		if i == 0 {
			c.Unit = r.Unit
		} else if r.Unit != c.Unit {
			return nil, fmt.Errorf("%s searched in %s and %s in %s: a baseline keeps one unit", sources[i], r.Unit, sources[0], c.Unit)
		}
		run := baseline.CapacityRun{Source: sources[i], Capacity: r.Capacity, Low: r.BracketLow, High: r.BracketHigh}
		if len(r.Steps) > 0 {
			run.Started = r.Steps[0].Start
		}
		if r.Knee != nil {
			run.Knee = r.Knee.Level
		}
		c.Searches = append(c.Searches, run)
	}
	return c, nil
}
