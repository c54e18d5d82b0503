package capacity

import (
	"fmt"

	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/verdict"
)

// Check is one capacity rule's outcome.
type Check struct {
	Rule plan.CapacityRule
	// Status is Pass or Fail, or Invalid when the search cannot tell: it found no
	// confirmed capacity (or no knee), or only a lower bound on the wrong side.
	Status verdict.Status
	// Measured is the capacity or the knee the rule judged (0 when none), Limit the
	// rule's, computed from the baseline's for a rule against it.
	Measured, Limit float64
	// Why says why the status is Invalid.
	Why string
}

// UnitMismatch names a rule whose unit is not the search's, if one is: a rate cannot be
// compared with users.
func UnitMismatch(rules []plan.CapacityRule, u Unit) (plan.CapacityRule, bool) {
	for _, r := range rules {
		if r.Unit != "" && r.Unit != u.String() {
			return r, true
		}
	}
	return plan.CapacityRule{}, false
}

// JudgeRules judges the capacity rules on what the search found. A confirmed capacity is
// judged on its value. One known only as a lower bound (every level up to the highest
// held, or perfgate reached its own limit first) passes a "capacity > N" rule it already
// exceeds and fails a "capacity < N" one, and tells nothing otherwise. Without a
// capacity, or (for a knee rule) without a knee, a rule cannot be judged: fail closed.
func JudgeRules(rules []plan.CapacityRule, res Result) []Check {
	out := make([]Check, 0, len(rules))
	for _, r := range rules {
		c := Check{Rule: r, Limit: r.Limit, Status: verdict.Invalid}
		lower := res.End == AtLeast || res.End == GeneratorLimited
		switch {
		case res.End != Found && !lower:
			c.Why = fmt.Sprintf("the search found no confirmed capacity (%s: %s)", res.End, res.Why)
		case r.Metric == "knee" && res.Knee == nil:
			c.Why = "the latency curve has no knee"
		case r.Metric == "knee" && lower:
			c.Why = "the search never broke: the knee may lie beyond its levels"
		default:
			c.Measured = res.Capacity
			if r.Metric == "knee" {
				c.Measured = res.Knee.Level
			}
			holds := verdict.Compare(c.Measured, r.Op, c.Limit)
			up := r.Op == ">" || r.Op == ">="
			switch {
			case !lower && holds, lower && up && holds:
				c.Status = verdict.Pass
			case !lower, lower && !up && !holds:
				c.Status = verdict.Fail
			default:
				c.Why = fmt.Sprintf("the capacity is at least %v, not known exactly (%s)", res.Capacity, res.End)
			}
		}
		out = append(out, c)
	}
	return out
}

// Status is the outcome of the search and its rules together: Fail when a rule was
// breached (whatever others could not tell, as in the gate); Invalid when a rule could
// not be judged, or, without rules, when no capacity was found; Pass otherwise.
func Status(res Result, checks []Check) verdict.Status {
	if len(checks) == 0 {
		if res.End == Found || res.End == AtLeast {
			return verdict.Pass
		}
		return verdict.Invalid
	}
	status := verdict.Pass
	for _, c := range checks {
		switch c.Status {
		case verdict.Fail:
			return verdict.Fail
		case verdict.Invalid:
			status = verdict.Invalid
		}
	}
	return status
}
