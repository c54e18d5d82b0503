package verdict

import (
	"time"

	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
)

// Abort is an abort rule that fired.
type Abort struct {
	Rule plan.AbortRule
	// At is the end of the window in which it fired, from the start of the run.
	At time.Duration
	// Measured is the metric in that window, in the rule's base unit, over Requests.
	Measured float64
	Requests int64
}

// Watch follows the abort rules over the windows of a running gate.
type Watch struct {
	rules []plan.AbortRule
	held  []time.Duration // how long each rule has held without a break
}

// NewWatch returns a watch over rules.
func NewWatch(rules []plan.AbortRule) *Watch {
	return &Watch{rules: rules, held: make([]time.Duration, len(rules))}
}

// Observe takes the next closed window and returns the first rule that has now held for
// its whole time, or nil. A window without requests breaks a latency or error-rate streak
// (there is nothing to judge), but counts for a throughput rule: nothing came back.
func (w *Watch) Observe(win stats.Window) *Abort {
	for i, r := range w.rules {
		m, ok := r.Metric.Read(win.Figures(-1))
		if !ok || !Compare(m, r.Op, r.Limit) {
			w.held[i] = 0
			continue
		}
		w.held[i] += win.Length
		if w.held[i] >= r.For {
			return &Abort{Rule: r, At: win.Start + win.Length, Measured: m, Requests: win.All.Requests}
		}
	}
	return nil
}

// WithAbort records an abort in the verdict: the rule is a failed check, and the run
// fails (exit 1) unless it has no valid verdict for another reason.
func (v Verdict) WithAbort(a Abort) Verdict {
	v.Checks = append(v.Checks, Check{
		Rule:     plan.Rule{Rule: a.Rule.Rule, Endpoint: -1, Scope: "abort", File: a.Rule.File},
		Measured: a.Measured, Samples: a.Requests, Passed: false,
	})
	v.Aborted = &a
	if len(v.Reasons) == 0 {
		v.Status = Fail
	}
	return v
}
