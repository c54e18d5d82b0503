package run

import (
	"time"

	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/stats"
)

// Record is everything a run measured, and nothing judged: the probe's outcome, what
// each phase's engine did, its stages' summaries, and the run's time windows. The verdict
// judges it; the reports render it.
type Record struct {
	// Start and End bound the run, probe included.
	Start, End time.Time
	// Unreachable says why the target did not answer the probe before any load; "" when
	// it did.
	Unreachable string
	// Cancelled is set when the run's context was cancelled: before every phase had run,
	// or, set by whoever writes the reports, once it had ended.
	Cancelled bool
	// Phases are every phase of the plan, in order, run or not.
	Phases []Phase
	// Windows are every phase's time windows, in order.
	Windows []Window
	// StoppedAt is the index of the window after which the run was stopped because a
	// stop rule held (see Options.StopWhen), or -1.
	StoppedAt int
}

// Phase is one phase of a run.
type Phase struct {
	Name string
	// Plan is the plan that runs this phase (plan.Plan.ForPhase).
	Plan *plan.Plan
	// Ran is set once the phase's engine has run, however it ended.
	Ran bool
	// Load is what the engine did: when the stages began and ended, the users or
	// requests it delivered, setup failures, cancellation, its own CPU.
	Load load.Result
	// Hold is the measured window; Ramp the start-up, reported apart.
	Hold, Ramp stats.Summary
	// Looks are the hold's length at each window's end at which a statistical rule was
	// still inconclusive, so that a hold that may extend went on (see Options.Enough).
	Looks []time.Duration
	// Decided is the hold's length at the look that ended it, every rule decided, and
	// DecidedWindows how many windows the record held then; both 0 when no look ended
	// the hold. The hold's requests in flight then finish and count, in a last short
	// window, but the phase's statistical rules are judged on the windows the look
	// saw: the final judgement is the look's.
	Decided        time.Duration
	DecidedWindows int
}

// Window is one interval of a phase: what completed in it, from the start of the run,
// and what the engine was doing when it closed.
type Window struct {
	stats.Window
	// Phase is the index of the phase in the record.
	Phase int
	// Stage is the phase's stage when the window closed; Users the users running then
	// (open model: requests in flight). A phase's last window, which closes when its
	// engine has ended, has those of the window before it.
	Stage load.Stage
	Users int
	// Host is what the machine did meanwhile: how contended it was (see hostload).
	Host hostload.Usage
	// Resources are what the target's resources did in the window, in the order of
	// Options.Resources' series (nil without a source); ResourceError says why they
	// could not be read, at either end.
	Resources     []resource.Value
	ResourceError string
}

// PhaseHost returns what the machine did over phase i's windows of one stage.
func (r *Record) PhaseHost(i int, stage load.Stage) hostload.Usage {
	var u hostload.Usage
	for _, w := range r.Windows {
		if w.Phase == i && w.Stage == stage {
			u = u.Add(w.Host)
		}
	}
	return u
}

// JudgedWindows returns phase i's hold windows that its statistical rules are judged
// on: those up to the look that ended the hold (Phase.DecidedWindows), or all of them.
func (r *Record) JudgedWindows(i int) []stats.Window {
	ws := r.Windows
	if n := r.Phases[i].DecidedWindows; n > 0 && n <= len(ws) {
		ws = ws[:n]
	}
	var out []stats.Window
	for _, w := range ws {
		if w.Phase == i && w.Stage == load.Hold {
			out = append(out, w.Window)
		}
	}
	return out
}

// PhaseWindows returns phase i's windows of one stage, in order.
func (r *Record) PhaseWindows(i int, stage load.Stage) []stats.Window {
	var out []stats.Window
	for _, w := range r.Windows {
		if w.Phase == i && w.Stage == stage {
			out = append(out, w.Window)
		}
	}
	return out
}
