package verdict

import (
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/run"
)

// Code names why there is no valid verdict.
type Code int

// Reasons for no valid verdict.
const (
	Unreachable      Code = iota + 1 // the target did not answer the probe before any load
	Cancelled                        // the run was cancelled (SIGINT, SIGTERM)
	SetupFailed                      // a user's setup failed every attempt
	PeakNotReached                   // the hold never began: not every user was running
	RateShort                        // the open model sent too few of the hold's arrivals
	GeneratorLate                    // the open model's generator sent too many arrivals late by itself
	GeneratorBusy                    // the generator used nearly all of its processors in the hold
	NoSamples                        // a rule's scope had no requests
	TooFewWindows                    // a drift rule had too few time windows to judge
	NoStart                          // a drift rule had no requests at the start of the hold
	NoReference                      // the phase a rule compares with had no requests
	PhaseNotRun                      // a rule's phase never ran
	Unexplained                      // the run was stopped early, but by no abort rule of the plan
	ReportNotWritten                 // every rule held, but a report the run was asked for could not be written
	GeneratorFailed                  // the generator could not make some requests for want of its own resources
	InconclusiveRule                 // a statistical rule's interval straddled its limit after any extension
	Contended                        // the machine was too busy to judge: perfgate waited too long for a processor
	ResourceUnread                   // a resource rule had too few of the hold's windows that read its resource
	ShardApart                       // a merged run's shard is missing, did not deliver its load, began apart, or ran another config
)

var codeNames = [...]string{
	Unreachable: "unreachable", Cancelled: "cancelled", SetupFailed: "setup_failed", PeakNotReached: "peak_not_reached",
	RateShort: "rate_short", GeneratorLate: "generator_late", GeneratorBusy: "generator_busy", NoSamples: "no_samples",
	TooFewWindows: "too_few_windows", NoStart: "no_start", NoReference: "no_reference", PhaseNotRun: "phase_not_run",
	Unexplained: "stopped_unexplained", ReportNotWritten: "report_not_written",
	GeneratorFailed: "generator_failed", InconclusiveRule: "inconclusive", Contended: "contended",
	ResourceUnread: "resource_unread", ShardApart: "shard",
}

// String names the code as result files do: "setup_failed", "rate_short"...
func (c Code) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "unknown"
}

// Limits past which a phase's delivery supports no verdict.
const (
	// MinDelivered is the share of the hold's arrivals the open model must send.
	MinDelivered = 0.99
	// MaxGeneratorBehind is the share of the hold's periods (a second, or 100 arrivals)
	// in which the open model's generator may be behind its schedule (load.BehindShare)
	// by its own fault; one such period is always allowed. A hiccup of a shared runner
	// is behind in a period or none; a generator that cannot hold its schedule, in most.
	MaxGeneratorBehind = 0.05
	// MinLateWakes is how many late wakes, on average, each period the closed model's
	// users were behind in must hold: with few users that seldom wake, one late wake of
	// two is over 10% of a period, and says nothing of the generator. (A CPU quota that
	// starved it: 477 late wakes in 15 periods.)
	MinLateWakes = 10
	// MaxGeneratorCPU is the share of its processors the generator may use during the
	// hold: past it, what was measured includes the generator's own queueing.
	MaxGeneratorCPU = 0.90
	// MaxWaitPerRun is how long, on average over a window, one of perfgate's threads
	// that became ready to run may wait for a processor; a window past it is
	// contended. MaxContendedShare is the share of a hold's windows that may be
	// contended. Measured on a 2-core VM (README, "Contention"): on a quiet machine a
	// wake waits 14-18 us (1,232 windows of 70 runs: median 14 us, and no run with over
	// a quarter of its windows past 30 us); beside stress-ng --cpu 2, with the target on
	// the same machine, 40-80 us, and p99 rose 9-18%.
	MaxWaitPerRun     = 40 * time.Microsecond
	MaxContendedShare = 0.25
	// MinWaitShare is the least share of a window perfgate's threads must have waited
	// in all for its wait per wake to count: a generator that seldom wakes wakes mostly
	// on an idle processor, and on a virtual machine leaving idle alone costs tens of
	// microseconds (a quiet 6.5/s step: 70 wakes a second at 25-65 us each, 0.2-0.6% of
	// the window waited), which says nothing of a neighbour. Every contended run
	// measured waited 6% or more.
	MinWaitShare = 0.01
	// MinNeighbourShare is the least share of the processors' time that others (other
	// processes, and the hypervisor's steal) must have taken in a window for perfgate's
	// wait in it to be a neighbour's: with the processors idle, a wake waits for one to
	// leave idle, which on a virtual machine costs what its host makes it cost. Measured
	// on a 2-core VM (README, "Contention"): quiet, the demo's wakes waited 22-84 us a
	// window (34-51 us over a hold: past MaxWaitPerRun in 2 of 3 runs) while others took
	// 0-2.5% of the processors; every harmful neighbour measured took 47% or more.
	MinNeighbourShare = 0.10
	// MaxIdleWakeWait is a wait per wake no processor leaving idle explains: past it, a
	// window is contended whoever else ran. A CPU quota that throttles perfgate keeps it
	// waiting with no other process busy (2-4 ms a wake at 6% of a processor).
	MaxIdleWakeWait = 10 * MaxWaitPerRun
)

// contention says why a phase's hold was too contended to judge, if it was: in more than
// MaxContendedShare of its windows (and in more than one), a neighbour kept perfgate's
// threads waiting (see neighbourWait). Wait is the hold's average wait per wake, Others
// the share of the processors' time others took over the hold.
//
// The wait per wake, not per second, is the figure: a generator that sends more
// requests wakes more often, and waits more in all on a quiet machine; how long each
// wake waits is what a busy neighbour adds to every latency perfgate times.
func contention(rec *run.Record, i int) (Reason, bool) {
	var contended, windows int64
	var all hostload.Usage
	for _, w := range rec.Windows {
		if w.Phase != i || w.Stage != load.Hold || w.Host.WaitWall <= 0 || w.Host.Runs == 0 {
			continue
		}
		windows++
		all = all.Add(w.Host)
		if neighbourWait(w.Host) {
			contended++
		}
	}
	if windows == 0 || contended <= 1 || float64(contended) <= MaxContendedShare*float64(windows) {
		return Reason{}, false
	}
	sh := all.Shares()
	return Reason{Code: Contended, Phase: rec.Phases[i].Name, Check: -1, Count: contended, Of: windows,
		Wait: sh.WaitPerRun, Others: sh.Others + sh.Steal, HasOthers: sh.HasStat}, true
}

// neighbourWait says whether a neighbour kept perfgate's threads waiting in a window:
// they waited over MaxWaitPerRun a wake on average and at least MinWaitShare of the
// window in all, while others took at least MinNeighbourShare of the processors (or
// the machine did not say how much they took), or over MaxIdleWakeWait a wake.
func neighbourWait(u hostload.Usage) bool {
	runs := time.Duration(u.Runs)
	if u.Wait <= MaxWaitPerRun*runs || float64(u.Wait) < MinWaitShare*float64(u.WaitWall) {
		return false
	}
	if u.Wait > MaxIdleWakeWait*runs {
		return true
	}
	sh := u.Shares()
	return !sh.HasStat || sh.Others+sh.Steal >= MinNeighbourShare
}

// Reason is why a run has no valid verdict, with the figures that show it.
type Reason struct {
	Code Code
	// Phase names the phase it concerns; "" for the run as a whole.
	Phase string
	// Check is the index in Verdict.Checks of the rule it concerns, or -1.
	Check int
	// Detail is the probe's error (Unreachable), what could not be written, and why
	// (ReportNotWritten), or what the generator ran out of (GeneratorFailed).
	Detail string
	// Setup is the failure (SetupFailed).
	Setup *load.SetupFailure
	// Stage is where the phase was when it was cancelled (Cancelled in a phase), and
	// Draining says the cancel came as the requests in flight after the hold finished.
	// After is set for a run cancelled once it had ended, as its reports were written.
	Stage    load.Stage
	Draining bool
	After    bool
	// Count of Of: users running of those planned (PeakNotReached), arrivals sent of
	// those due (RateShort), periods behind of the hold's (GeneratorLate), windows
	// judged of those needed (TooFewWindows), requests the generator could not make of
	// all it tried (GeneratorFailed).
	Count, Of int64
	// CapReached is set when max_in_flight held arrivals back (RateShort), MaxInFlight
	// being its value.
	CapReached  bool
	MaxInFlight int
	// Late is how many arrivals the generator sent late by its own fault in all, and
	// Period the length of a period (GeneratorLate).
	Late   int64
	Period time.Duration
	// Wakes is set for the closed model's users woken late from their think time
	// (GeneratorLate).
	Wakes bool
	// Wait is how long perfgate's threads waited for a processor each time they became
	// ready, on average over the hold (Contended, with Count of Of windows contended).
	Wait time.Duration
	// Others is the share of the processors' time other processes and the hypervisor
	// took over the hold (Contended), when HasOthers.
	Others    float64
	HasOthers bool
	// Share is the share of its Processors the generator used (GeneratorBusy).
	Share      float64
	Processors int
}

// phaseReasons says why what a phase delivered supports no verdict, if it does not.
func phaseReasons(ph run.Phase) []Reason {
	l := ph.Load
	mk := func(c Code) Reason { return Reason{Code: c, Phase: ph.Name, Check: -1} }
	var out []Reason
	if l.SetupFailure != nil {
		r := mk(SetupFailed)
		r.Setup = l.SetupFailure
		out = append(out, r)
	}
	if l.Canceled {
		r := mk(Cancelled)
		r.Stage, r.Draining = l.CanceledIn, l.CanceledDraining
		out = append(out, r)
	}
	if l.HoldStart.IsZero() && !l.Stopped {
		r := mk(PeakNotReached)
		r.Count, r.Of = int64(l.RunningUsers), int64(l.PlannedUsers)
		out = append(out, r)
	}
	if l.Open && !l.Canceled && !l.Stopped {
		d := l.Delivery
		if d.Planned > 0 && float64(d.Sent) < MinDelivered*float64(d.Planned) {
			r := mk(RateShort)
			r.Count, r.Of, r.CapReached, r.MaxInFlight = d.Sent, d.Planned, d.CapReached, ph.Plan.MaxInFlight
			out = append(out, r)
		}
		if g := d.Generator; float64(g.Behind) > max(1, MaxGeneratorBehind*float64(g.Periods)) {
			r := mk(GeneratorLate)
			r.Count, r.Of, r.Late, r.Period = int64(g.Behind), int64(g.Periods), g.Late, g.Period
			out = append(out, r)
		}
	}
	if g := l.Wakes; !l.Open && !l.Canceled && !l.Stopped && float64(g.Behind) > max(1, MaxGeneratorBehind*float64(g.Periods)) &&
		g.Late >= MinLateWakes*int64(g.Behind) {
		// The closed model's users woke late from their think time, by the generator's
		// own fault, as the open model's arrivals would be sent late; and not only a
		// wake or two of a few users that seldom wake (whose requests stall).
		r := mk(GeneratorLate)
		r.Count, r.Of, r.Late, r.Period, r.Wakes = int64(g.Behind), int64(g.Periods), g.Late, g.Period, true
		out = append(out, r)
	}
	if l.GeneratorFailures > 0 {
		r := mk(GeneratorFailed)
		r.Count, r.Of, r.Detail = l.GeneratorFailures, l.GeneratorFailures+ph.Ramp.All.Requests+ph.Hold.All.Requests, l.GeneratorFailure
		out = append(out, r)
	}
	if l.GeneratorCPU > MaxGeneratorCPU && !l.Canceled {
		r := mk(GeneratorBusy)
		r.Share, r.Processors = l.GeneratorCPU, l.Processors
		out = append(out, r)
	}
	return out
}

// EndsRun reports whether a run ends after this phase (see run.Options.StopAfter): it was
// stopped by an abort rule, or what it delivered supports no verdict, so that later
// phases would measure a run that is already over.
func EndsRun(ph run.Phase) bool { return ph.Load.Stopped || len(phaseReasons(ph)) > 0 }

// Shards judges a merged run whose shards do not make one run (problems says which
// shard, and why: missing, its load not delivered, its hold begun apart from the others',
// another config): whatever its rules say, it has no valid verdict.
func Shards(v Verdict, problems []string) Verdict {
	if len(problems) == 0 {
		return v
	}
	v.Status = Invalid
	for _, p := range problems {
		v.Reasons = append(v.Reasons, Reason{Code: ShardApart, Check: -1, Detail: p})
	}
	return v
}

// Unwritten judges a run some of whose reports could not be written (what says which,
// and why): a pass without its evidence is no pass, so it has no valid verdict; a fail
// stays one (the regression stands, whatever could not be written).
func Unwritten(v Verdict, what []string) Verdict {
	if len(what) == 0 || v.Status != Pass {
		return v
	}
	v.Status = Invalid
	v.Reasons = append(v.Reasons, Reason{Code: ReportNotWritten, Check: -1, Detail: strings.Join(what, "; ")})
	return v
}
