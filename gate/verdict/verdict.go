// Package verdict judges a run: every threshold rule against the measured window's
// summary, and the run itself against its plan. It does no I/O.
//
// It fails closed: a rule with no samples fails, and any reason the run is not valid
// (load not delivered, setup failed, cancelled, a rule without data) makes the verdict
// Invalid, never Pass.
package verdict

import (
	"fmt"
	"sort"
	"time"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
)

// Status is the outcome of a gate.
type Status int

// Outcomes, from best to worst.
const (
	Pass    Status = iota // every rule held
	Fail                  // at least one rule was breached: a regression
	Invalid               // no valid verdict could be reached
)

// String returns "pass", "fail" or "invalid".
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return "invalid"
}

// Check is one rule's result.
type Check struct {
	Rule plan.Rule
	// Measured is in the rule's base unit (seconds, fraction, per second, count).
	Measured float64
	Samples  int64
	Passed   bool
	// NoData is set when the rule had no samples to judge.
	NoData bool
	// Reference is the value the limit came from, for a rule against the baseline or
	// another phase.
	Reference float64
	// From and To are a drift rule's metric at the start and at the end of the hold.
	From, To float64
}

// PhaseResult is what one phase measured.
type PhaseResult struct {
	Name string
	Hold stats.Summary
	// Windows are the hold's time windows, in order.
	Windows []stats.Window
	// NotRun is set for a phase that never started because an earlier one ended the
	// run (cancelled, stopped, invalid): that is the reason, so its rules add none.
	NotRun bool
}

// Verdict is the judgement of one run.
type Verdict struct {
	Status  Status
	Checks  []Check
	Reasons []string // why the verdict is Invalid
	// Aborted is set when an abort rule stopped the run.
	Aborted *Abort
}

// Failed returns the checks that did not pass.
func (v Verdict) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Evaluate judges the rules of a run with one phase against its hold's summary and the
// run's delivery.
func Evaluate(rules []plan.Rule, hold stats.Summary, run load.Result) Verdict {
	return EvaluatePhases(rules, []PhaseResult{{Name: plan.MainPhase, Hold: hold}}, run)
}

// EvaluatePhases judges rules against the phases' summaries and windows and the run's
// delivery.
func EvaluatePhases(rules []plan.Rule, phases []PhaseResult, run load.Result) Verdict {
	v := Verdict{Reasons: append([]string(nil), run.Invalid...)}
	failed := false
	noData := func(c *Check, why string) {
		c.NoData = true
		// When the run itself failed, that failure is the reason; listing every empty
		// rule after it would bury it.
		if len(run.Invalid) == 0 {
			v.Reasons = append(v.Reasons, why)
		}
	}
	for _, r := range rules {
		ph := &phases[r.Phase]
		ep := endpointOf(&ph.Hold, r.Endpoint)
		c := Check{Rule: r, Samples: ep.Requests}
		where := r.Scope
		if len(phases) > 1 {
			where = ph.Name + ": " + r.Scope
		}
		switch {
		case ph.NotRun:
			c.NoData = true
			if len(run.Invalid) == 0 && !run.Stopped {
				v.Reasons = append(v.Reasons, fmt.Sprintf("%s [%s]: phase %s did not run", r.Text, where, ph.Name))
			}
		case ep.Requests == 0:
			noData(&c, fmt.Sprintf("%s [%s] had no samples to judge", r.Text, where))
		case r.Drift:
			from, to, n := Drift(r.Metric, ph.Windows, r.Endpoint)
			if n < MinDriftWindows {
				noData(&c, fmt.Sprintf("%s [%s]: drift needs at least %d time windows of the hold, and it had %d: lengthen the phase or shorten --progress",
					r.Text, where, MinDriftWindows, n))
				break
			}
			if from == 0 && r.Metric.Kind() != metric.Ratio {
				noData(&c, fmt.Sprintf("%s [%s]: no requests completed at the start of the hold", r.Text, where))
				break
			}
			c.From, c.To = from, to
			c.Measured = to - from
			if r.Metric.Kind() != metric.Ratio {
				c.Measured = to/from - 1
			}
			c.Passed = Compare(c.Measured, r.Op, r.Limit)
		case r.Ref != nil:
			// The limit comes from a reference: the baseline's value, read when the plan
			// was built, or another phase's, read here.
			c.Reference = r.BaselineValue
			if !r.Ref.Baseline() {
				ref := endpointOf(&phases[r.RefPhase].Hold, r.Endpoint)
				if ref.Requests == 0 {
					noData(&c, fmt.Sprintf("%s [%s]: %s had no samples to compare with", r.Text, where, r.Ref.Name()))
					break
				}
				c.Reference, _ = r.Ref.Metric.Read(ref.Figures())
			}
			c.Rule.Limit = r.Ref.Apply(c.Reference)
			c.Measured, _ = r.Metric.Read(ep.Figures())
			c.Passed = Compare(c.Measured, r.Op, c.Rule.Limit)
		default:
			c.Measured, _ = r.Metric.Read(ep.Figures())
			c.Passed = Compare(c.Measured, r.Op, r.Limit)
		}
		if !c.Passed {
			failed = true
		}
		v.Checks = append(v.Checks, c)
	}
	switch {
	case len(v.Reasons) > 0:
		v.Status = Invalid
	case failed:
		v.Status = Fail
	default:
		v.Status = Pass
	}
	return v
}

func endpointOf(s *stats.Summary, i int) *stats.Endpoint {
	if i >= 0 && i < len(s.Endpoints) {
		return &s.Endpoints[i]
	}
	return &s.All
}

// MinDriftWindows is the fewest windows a drift rule judges: three at the start and
// three at the end, with the middle between them.
const MinDriftWindows = 9

// Drift compares the start of a hold with its end: it returns the median of the metric
// over the first third of the windows and over the last third, and how many windows
// could be judged. A median of three or more windows ignores any one of them, so one
// noisy window (a GC pause, a neighbour's burst) cannot trip a drift rule; a real drift
// moves every window. Windows shorter than half the longest (the last, partial one)
// and, for latency and error rate, windows without requests are left out. endpoint is
// an index into the windows' endpoints, or -1 for all requests.
func Drift(m metric.Metric, windows []stats.Window, endpoint int) (from, to float64, n int) {
	var longest time.Duration
	for _, w := range windows {
		longest = max(longest, w.Length)
	}
	var vals []float64
	for _, w := range windows {
		if w.Length*2 < longest {
			continue
		}
		if v, ok := m.Read(w.Figures(endpoint)); ok {
			vals = append(vals, v)
		}
	}
	n = len(vals)
	if n < MinDriftWindows {
		return 0, 0, n
	}
	third := n / 3
	return median(vals[:third]), median(vals[n-third:]), n
}

func median(vals []float64) float64 {
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Compare applies op to measured and limit.
func Compare(measured float64, op string, limit float64) bool {
	switch op {
	case "<":
		return measured < limit
	case "<=":
		return measured <= limit
	case ">":
		return measured > limit
	case ">=":
		return measured >= limit
	}
	return false
}
