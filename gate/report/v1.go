package report

import "time"

// resultV1 is the previous version of the result file. Its run had phases only when it
// had several; otherwise the top level held the one phase, peak.
const resultV1 = "perfgate.result/v1"

// resultOne is a perfgate.result/v1 file, as far as it differs from this version.
type resultOne struct {
	Version  string    `json:"version"`
	Tool     string    `json:"tool"`
	Verdict  string    `json:"verdict"`
	ExitCode int       `json:"exit_code"`
	Reasons  []string  `json:"reasons"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	// Settings held the main phase's load beside what Settings holds now.
	Settings struct {
		PhaseLoad
		Settings
	} `json:"settings"`
	Delivery Delivery       `json:"delivery"`
	Checks   []Check        `json:"checks"`
	Hold     Stage          `json:"hold"`
	Ramp     Stage          `json:"ramp"`
	Windows  []Window       `json:"windows"`
	Phases   []Phase        `json:"phases"`
	Verdicts []GroupVerdict `json:"verdicts"`
	Aborted  *Aborted       `json:"aborted"`
	Note     string         `json:"note"`
}

// upgrade turns a v1 result into this version: one phase, peak, where it had none; every
// check, window and abort in its phase; each check's status and question as v1's
// reports showed them.
func (o *resultOne) upgrade() *Result {
	r := &Result{
		Version: ResultVersion, Tool: o.Tool, Verdict: o.Verdict, ExitCode: o.ExitCode,
		Started: o.Started, Ended: o.Ended, Phases: o.Phases, Checks: o.Checks, Verdicts: o.Verdicts,
		Windows: o.Windows, Aborted: o.Aborted, Note: o.Note,
		Settings: o.Settings.Settings,
	}
	r.Settings.MainPhase = "peak"
	if len(r.Phases) == 0 {
		r.Phases = []Phase{{Name: "peak", Verdict: o.Verdict, Load: o.Settings.PhaseLoad, Delivery: o.Delivery, Hold: o.Hold, Ramp: o.Ramp}}
	} else if r.Main().Name != "peak" {
		r.Settings.MainPhase = r.Phases[0].Name
	}
	main := r.Settings.MainPhase
	notRun := map[string]bool{}
	for _, ph := range r.Phases {
		notRun[ph.Name] = ph.Verdict == "not run"
	}
	for _, why := range o.Reasons {
		r.Reasons = append(r.Reasons, Reason{Message: why})
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Phase == "" {
			c.Phase = main
		}
		switch {
		case c.Scope == groupAbort:
			c.Group = groupAbort
		case c.Baseline != nil:
			c.Group = "regression"
		case c.Drift:
			c.Group = c.Phase + " drift"
		default:
			c.Group = c.Phase
		}
		switch {
		case c.Passed:
			c.Status = "pass"
		case c.Measured != nil:
			c.Status = "fail"
		case notRun[c.Phase]:
			c.Status = "not run"
		default:
			c.Status = "invalid"
		}
	}
	if len(r.Verdicts) == 0 && len(r.Checks) > 0 {
		// One question: the run's.
		g := GroupVerdict{Name: main, Verdict: r.Verdict, Rules: len(r.Checks)}
		for _, c := range r.Checks {
			if c.Status == "fail" {
				g.Failed++
			}
		}
		r.Verdicts = []GroupVerdict{g}
	}
	for i := range r.Windows {
		if r.Windows[i].Phase == "" {
			r.Windows[i].Phase = main
		}
	}
	if r.Aborted != nil && r.Aborted.Phase == "" {
		r.Aborted.Phase = main
	}
	return r
}
