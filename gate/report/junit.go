package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// WriteJUnit writes the checks as JUnit XML: one testsuite for the gate, one testcase per
// rule (a breached rule is a <failure>, a rule without samples an <error>) plus one
// testcase that the planned load was delivered. Jenkins, GitLab and GitHub test
// reporters read it alike; it validates against Jenkins' xunit JUnit schema.
func WriteJUnit(w io.Writer, r *Result) error {
	m := r.main()
	l := m.Load
	// Each testcase carries its own time, so that consumers that add them up (most)
	// read the run's length: the load's testcase (each phase's, with phases) its hold,
	// a rule's judgement none. A suite's time is its testcases'.
	measured := m.Delivery.HoldSeconds
	if r.phased() {
		measured = 0
		for _, ph := range r.Phases {
			measured += ph.Delivery.HoldSeconds
		}
	}
	suite := junit.Testsuite{
		Name: "perfgate",
		Time: seconds(measured),
	}
	suite.SetTimestamp(r.Started)
	props := [][2]string{
		{"verdict", r.Verdict},
		{"model", l.Model},
		{"target", r.Settings.Target},
	}
	load := fmt.Sprintf("%d users", l.Users)
	if l.Open() {
		load = FormatValue("rate", l.Rate)
		props = append(props, [][2]string{
			{"rate", load},
			{"start_rate", FormatValue("rate", l.StartRate)},
			{"ramp", Seconds(l.RampSeconds)},
			{"max_in_flight", fmt.Sprint(l.MaxInFlight)},
		}...)
	} else {
		props = append(props, [][2]string{
			{"users", fmt.Sprint(l.Users)},
			{"spawn_rate", fmt.Sprint(l.SpawnRate)},
			{"think", l.Think},
		}...)
	}
	props = append(props, [][2]string{
		{"duration", Seconds(l.DurationSeconds)},
		{"timeout", Seconds(r.Settings.TimeoutSeconds)},
		{"threshold_files", strings.Join(r.Settings.ThresholdFiles, ",")},
	}...)
	for _, p := range props {
		suite.AddProperty(p[0], clean(p[1]))
	}

	delivered := junit.Testcase{
		Name:      clean(fmt.Sprintf("load delivered: %s for %s", load, Seconds(l.DurationSeconds))),
		Classname: "perfgate.run",
		Time:      seconds(m.Delivery.HoldSeconds),
	}
	if r.phased() { // the phases' testcases carry the load
		delivered.Time = seconds(0)
	}
	if r.Verdict == "invalid" {
		reasons := r.reasonMessages()
		delivered.Error = &junit.Result{
			Message: clean("no valid verdict: " + strings.Join(reasons, "; ")),
			Type:    "invalid",
			Data:    clean(strings.Join(reasons, "\n")),
		}
	}
	suite.AddTestcase(delivered)

	// With several phases, each has a testcase of its own for its delivery.
	if r.phased() {
		for _, ph := range r.Phases {
			tc := junit.Testcase{
				Name:      clean(fmt.Sprintf("phase %s delivered: %s for %s", ph.Name, phaseLoadLine(ph.Load), Seconds(ph.Load.DurationSeconds))),
				Classname: clean("perfgate.run." + ph.Name),
				Time:      seconds(ph.Delivery.HoldSeconds),
			}
			if ph.Verdict == "not run" {
				tc.Skipped = &junit.Result{Message: "not run: an earlier phase ended the run"}
			}
			suite.AddTestcase(tc)
		}
	}

	// With one group of checks they all go in the one suite; with several (phases,
	// drift, baseline) each group is a suite of its own, so CI shows a verdict for each.
	groups := map[string]*junit.Testsuite{}
	var order []string
	for _, c := range r.Checks {
		tc := checkCase(r, c)
		if !r.askedSeveral() {
			suite.AddTestcase(tc)
			continue
		}
		g := c.Group
		gs, ok := groups[g]
		if !ok {
			gs = &junit.Testsuite{Name: clean("perfgate: " + g), Time: seconds(0), Timestamp: suite.Timestamp}
			groups[g] = gs
			order = append(order, g)
		}
		gs.AddTestcase(tc)
	}

	var console bytes.Buffer
	if err := WriteConsole(&console, r); err == nil {
		suite.SystemOut = &junit.Output{Data: clean(console.String())}
	}
	suites := junit.Testsuites{Name: "perfgate", Time: suite.Time}
	suites.AddSuite(suite)
	for _, g := range order {
		suites.AddSuite(*groups[g])
	}
	// The Jenkins schema allows no skipped or disabled counts on testsuites (each
	// testsuite still has its own).
	suites.Skipped, suites.Disabled = 0, 0

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

// checkCase is one rule as a testcase: a breached rule is a <failure>, a rule without
// samples an <error>.
func checkCase(r *Result, c Check) junit.Testcase {
	class := "perfgate." + c.Scope
	if where := r.where(c); where != c.Scope {
		class = "perfgate." + c.Phase + "." + c.Scope
	}
	tc := junit.Testcase{
		Name:      clean(c.Rule + " [" + r.where(c) + "]"),
		Classname: clean(class),
		Time:      seconds(0), // the load is the load testcase's; judging takes no time
	}
	where := fmt.Sprintf("%s:%d", c.File, c.Line)
	if judged(&tc, c.Status, where, c.Rule, c.Message) {
		return tc
	}
	switch c.Status {
	case "not run":
		tc.Skipped = &junit.Result{Message: clean(c.Message)}
	case "inconclusive":
		if r.InconclusiveWarns {
			tc.SystemOut = &junit.Output{Data: clean("warning: " + c.Message)}
			break
		}
		tc.Error = &junit.Result{Message: clean(c.Message), Type: "inconclusive", Data: clean(where + ": " + c.Message)}
	default:
		tc.Error = &junit.Result{Message: clean(c.Message), Type: "no_data", Data: clean(where + ": " + c.Message)}
	}
	return tc
}

// judged fills the testcase of a rule that passed (its message as output) or was
// breached (a <failure> naming where the rule is written), and reports whether it was
// either.
func judged(tc *junit.Testcase, status, where, rule, message string) bool {
	switch status {
	case "pass":
		tc.SystemOut = &junit.Output{Data: clean(message)}
	case "fail":
		tc.Failure = &junit.Result{Message: clean(message), Type: "threshold", Data: clean(where + ": " + rule + ": " + message)}
	default:
		return false
	}
	return true
}

// phaseLoadLine says in a few words what load a phase ran.
func phaseLoadLine(l PhaseLoad) string {
	if l.Model == "open" {
		return FormatValue("rate", l.Rate)
	}
	if l.Users == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", l.Users)
}

// seconds formats a duration as the schema wants: digits, a dot, at most three decimals.
func seconds(s float64) string {
	if s < 0 {
		s = 0
	}
	return fmt.Sprintf("%.3f", s)
}

// clean drops characters XML 1.0 cannot carry; endpoint names come from users' files.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}
