// Package verdict judges a run: every threshold rule against the measured window's
// summary, and the run itself against its plan. It does no I/O.
//
// It fails closed: a rule with no samples fails, and any reason the run is not valid
// (load not delivered, setup failed, cancelled, a rule without data) makes the verdict
// Invalid, never Pass.
package verdict

import (
	"fmt"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
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

// Evaluate judges rules against the hold's summary and the run's delivery.
func Evaluate(rules []plan.Rule, hold stats.Summary, run load.Result) Verdict {
	v := Verdict{Reasons: append([]string(nil), run.Invalid...)}
	failed := false
	for _, r := range rules {
		ep := &hold.All
		if r.Endpoint >= 0 && r.Endpoint < len(hold.Endpoints) {
			ep = &hold.Endpoints[r.Endpoint]
		}
		c := Check{Rule: r, Samples: ep.Requests}
		if ep.Requests == 0 {
			c.NoData = true
			// When the run itself failed, that failure is the reason; listing every empty
			// rule after it would bury it.
			if len(run.Invalid) == 0 {
				v.Reasons = append(v.Reasons, fmt.Sprintf("%s [%s] had no samples to judge", r.Text, r.Scope))
			}
		} else {
			c.Measured = Measure(r.Rule, ep)
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

// Measure reads a rule's metric from a summary, in the rule's base unit.
func Measure(r config.Rule, e *stats.Endpoint) float64 {
	switch r.Metric {
	case "max":
		return e.Max().Seconds()
	case "mean":
		return e.Mean().Seconds()
	case "error_rate":
		return e.ErrorRate()
	case "throughput":
		return e.Throughput
	case "requests":
		return float64(e.Requests)
	}
	return e.Quantile(r.Quantile).Seconds()
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
