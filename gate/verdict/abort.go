package verdict

import (
	"time"

	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
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
	// Phase is the index of the phase it stopped.
	Phase int
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

// Stops observes the next closed window of a run and reports whether an abort rule has
// now held for its whole time: run.Options.StopWhen.
func (w *Watch) Stops(win run.Window) bool { return w.Observe(win.Window) != nil }

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

// abort finds the abort rule that stopped the run, by watching its windows again up to
// the one after which it stopped, and records it as a failed check. A run stopped by no
// rule of the plan (a record that does not belong to it) has no valid verdict.
func (j *judge) abort() {
	if !j.stopped() {
		return
	}
	w := NewWatch(j.p.Aborts)
	for _, win := range j.rec.Windows[:min(j.rec.StoppedAt+1, len(j.rec.Windows))] {
		if a := w.Observe(win.Window); a != nil {
			a.Phase = win.Phase
			j.aborted = a
			break
		}
	}
	a := j.aborted
	if a == nil {
		j.reasons = append(j.reasons, Reason{Code: Unexplained, Check: -1})
		return
	}
	j.checks = append(j.checks, Check{
		Rule:  plan.Rule{Rule: a.Rule.Rule, Endpoint: -1, Scope: "abort", File: a.Rule.File, Phase: a.Phase},
		Group: GroupAbort, Status: Fail, Measured: a.Measured, Limit: a.Rule.Limit, Samples: a.Requests,
	})
}
