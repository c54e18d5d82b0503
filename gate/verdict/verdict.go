// Package verdict judges a run: whether what it delivered supports a verdict at all, each
// threshold rule against what its phase measured, each phase and each question the run
// answers, and the run as a whole. Every decision of perfgate's about a run is made here,
// as typed statuses and reasons; the reports only render them. It does no I/O.
//
// It fails closed: a rule with no samples is not judged and makes the verdict Invalid, as
// does any reason the run cannot support one (load not delivered, setup failed, the
// generator saturated, cancelled), never Pass.
package verdict

import (
	"time"

	"github.com/perfgate/perfgate/gate/estimate"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
)

// Verdict is the judgement of one run.
type Verdict struct {
	Status Status
	// Reasons say why the status is Invalid.
	Reasons []Reason
	// Checks are the plan's rules in order, then the abort rule that stopped the run.
	Checks []Check
	// Resources are the plan's resource rules in order.
	Resources []ResourceCheck
	// Phases judge each phase of the plan on its own rules and delivery, in order.
	Phases []PhaseVerdict
	// Groups judge each question the run answers, in the order their first rule comes:
	// each phase's rules, each phase's drift rules ("peak drift"), the rules against the
	// baseline ("regression") and the abort rules ("abort").
	Groups []Group
	// Aborted is the abort rule that stopped the run, if one did.
	Aborted *Abort
	// Confidence is the plan's: one less the family-wise error of the statistical rules.
	// WarnInconclusive is set when an inconclusive rule is a warning (Warnings counts
	// them), not a reason for no verdict.
	Confidence       float64
	WarnInconclusive bool
	Warnings         int
}

// Check is one rule's outcome.
type Check struct {
	Rule plan.Rule
	// Group names the question the rule answers (see Verdict.Groups).
	Group string
	// Status is Pass or Fail; Invalid when the rule had no data to judge, NotRun when
	// its phase never ran.
	Status Status
	// Measured is in the rule's base unit (seconds, a fraction, per second, a count);
	// for a drift rule it is the change from From to To. Limit is the rule's limit, the
	// one computed from the reference for a rule against the baseline or another phase.
	Measured, Limit float64
	Samples         int64
	// Reference is the value the limit came from: the baseline's, or the other phase's.
	Reference float64
	// From and To are a drift rule's metric at the start and at the end of the hold.
	From, To float64
	// Sure is how sure a statistical rule's outcome is; nil for a rule judged on its
	// measured value alone (a maximum, a count, a drift rule, a hold of too few windows).
	Sure *Sure
}

// Judged reports whether the rule was judged: it had data, and passed, failed or was
// inconclusive.
func (c Check) Judged() bool { return c.Status == Pass || c.Status == Fail || c.Status == Inconclusive }

// PhaseVerdict is one phase's verdict: Invalid if what it delivered supports none or a
// rule of it had no data, Fail if a rule of it was breached, NotRun if it never ran.
type PhaseVerdict struct {
	Name   string
	Status Status
}

// Group is the verdict of one question.
type Group struct {
	Name          string
	Status        Status
	Rules, Failed int
}

// Group names.
const (
	GroupRegression = "regression"
	GroupAbort      = "abort"
)

// Judge judges a run of p.
func Judge(p *plan.Plan, rec *run.Record) Verdict {
	j := &judge{p: p, rec: rec, partial: -1}
	j.validity()
	j.rules()
	j.decide()
	j.abort()
	v := Verdict{Reasons: j.reasons, Checks: j.checks, Aborted: j.aborted, Confidence: p.Confidence, WarnInconclusive: p.WarnInconclusive}
	v.Resources = j.resources()
	if len(j.reasons) == 0 {
		v.Reasons = j.ruleReasons
	}
	v.Status = Pass
	for _, c := range v.Resources {
		if c.Status == Fail {
			v.Status = Fail
		}
	}
	var unsure []Reason
	for i, c := range v.Checks {
		switch c.Status {
		case Fail:
			v.Status = Fail
		case Inconclusive:
			if p.WarnInconclusive {
				v.Warnings++
			} else {
				unsure = append(unsure, Reason{Code: InconclusiveRule, Phase: j.rec.Phases[c.Rule.Phase].Name, Check: i})
			}
		}
	}
	if len(v.Reasons) == 0 && v.Status != Fail {
		// A rule breached for sure is a verdict, whatever others could not tell.
		v.Reasons = unsure
	}
	if len(v.Reasons) > 0 {
		v.Status = Invalid
	}
	v.Phases = j.phaseVerdicts()
	v.Groups = groups(v.Checks)
	return v
}

type judge struct {
	p   *plan.Plan
	rec *run.Record
	// partial is the index of a phase judged while it runs, from its windows so far
	// (see Enough); -1 otherwise.
	partial int
	reasons []Reason // the run's and its phases' own
	// ruleReasons are the rules' without data; when the run itself supports no verdict,
	// that is the reason, and listing every empty rule after it would bury it.
	ruleReasons []Reason
	checks      []Check
	aborted     *Abort
}

// validity collects what makes the run as a whole, or one of its phases, unable to
// support a verdict.
func (j *judge) validity() {
	rec := j.rec
	switch {
	case rec.Unreachable != "" && rec.Cancelled:
		j.reasons = append(j.reasons, Reason{Code: Cancelled, Check: -1})
	case rec.Unreachable != "":
		j.reasons = append(j.reasons, Reason{Code: Unreachable, Check: -1, Detail: rec.Unreachable})
	}
	phaseCancelled := false
	for i, ph := range rec.Phases {
		if ph.Ran {
			j.reasons = append(j.reasons, phaseReasons(ph)...)
			if r, ok := contention(rec, i); ok && !j.p.RecordContention {
				j.reasons = append(j.reasons, r)
			}
			phaseCancelled = phaseCancelled || ph.Load.Canceled
		}
	}
	if rec.Cancelled && rec.Unreachable == "" && !phaseCancelled {
		// Every phase had run: the cancel came as the reports were written. What they
		// would say can no longer be trusted to reach the user; the run is cancelled.
		j.reasons = append(j.reasons, Reason{Code: Cancelled, Check: -1, After: true})
	}
}

// stopped reports whether an abort rule ended the run before every phase had run.
func (j *judge) stopped() bool { return j.rec.StoppedAt >= 0 }

// rules judges every rule of the plan.
func (j *judge) rules() {
	for _, r := range j.p.Rules {
		j.checks = append(j.checks, j.rule(r))
	}
}

func (j *judge) rule(r plan.Rule) Check {
	ph := &j.rec.Phases[r.Phase]
	c := Check{Rule: r, Group: groupOf(r, ph.Name), Limit: r.Limit}
	figures := j.figures(r.Phase, r.Endpoint, !r.Drift && estimate.Statistical(r.Metric))
	c.Samples = figures.Requests
	index := len(j.checks)
	noData := func(code Code, count, of int64) Check {
		c.Status = Invalid
		j.ruleReasons = append(j.ruleReasons, Reason{Code: code, Phase: ph.Name, Check: index, Count: count, Of: of})
		return c
	}
	switch {
	case !ph.Ran && j.partial != r.Phase:
		c.Status = NotRun
		if !j.stopped() {
			j.ruleReasons = append(j.ruleReasons, Reason{Code: PhaseNotRun, Phase: ph.Name, Check: index})
		}
		return c
	case figures.Requests == 0:
		return noData(NoSamples, 0, 0)
	case r.Drift:
		from, to, n := Drift(r.Metric, j.rec.PhaseWindows(r.Phase, load.Hold), r.Endpoint)
		if n < MinDriftWindows {
			return noData(TooFewWindows, int64(n), MinDriftWindows)
		}
		if from == 0 && r.Metric.Kind() != metric.Ratio {
			return noData(NoStart, 0, 0)
		}
		c.From, c.To = from, to
		c.Measured = to - from
		if r.Metric.Kind() != metric.Ratio {
			c.Measured = to/from - 1
		}
	case r.Ref != nil:
		// The limit comes from a reference: the baseline's value, read when the plan was
		// built, or another phase's, read here.
		c.Reference = r.BaselineValue
		if !r.Ref.Baseline() {
			ref := endpointOf(&j.rec.Phases[r.RefPhase].Hold, r.Endpoint)
			if ref.Requests == 0 {
				return noData(NoReference, 0, 0)
			}
			c.Reference, _ = r.Ref.Metric.Read(ref.Figures())
		}
		c.Limit = r.Ref.Apply(c.Reference)
		c.Measured, _ = r.Metric.Read(figures)
		c.Sure = j.sureOf(r, &c, j.rec.JudgedWindows(r.Phase))
	default:
		c.Measured, _ = r.Metric.Read(figures)
		c.Sure = j.sureOf(r, &c, j.rec.JudgedWindows(r.Phase))
	}
	c.Status = Fail
	if Compare(c.Measured, r.Op, c.Limit) {
		c.Status = Pass
	}
	return c
}

// decide judges the statistical checks on their intervals, phase by phase: the run's
// family-wise error (1 - confidence) is shared equally between the phases that have
// such checks, and each phase's share is spent by its looks (see lookShare), Holm's
// procedure spreading each look's over the phase's checks.
func (j *judge) decide() {
	byPhase := map[int][]*Check{}
	for i := range j.checks {
		if c := &j.checks[i]; c.Sure != nil && (c.Status == Pass || c.Status == Fail) {
			byPhase[c.Rule.Phase] = append(byPhase[c.Rule.Phase], c)
		}
	}
	alpha := (1 - j.p.Confidence) / float64(max(1, statPhases(j.p)))
	for phase, checks := range byPhase {
		share := lookShare(&j.rec.Phases[phase])
		decide(checks, alpha*share, share)
	}
}

// figures are what a scope of a phase measured in its hold: its summary, or from its
// windows so far for a phase still running, and for the statistical rules (stat) of a
// phase whose hold a look ended, from the windows that look saw (run.Phase.Decided).
func (j *judge) figures(phase, endpoint int, stat bool) metric.Figures {
	if phase != j.partial && (!stat || j.rec.Phases[phase].DecidedWindows == 0) {
		return endpointOf(&j.rec.Phases[phase].Hold, endpoint).Figures()
	}
	var f metric.Figures
	var all stats.Hist
	var secs float64
	for _, w := range j.rec.JudgedWindows(phase) {
		c := w.Of(endpoint)
		f.Requests, f.Errors = f.Requests+c.Requests, f.Errors+c.Errors
		all, _ = all.Merge(c.Latency) // a run's windows share their settings
		secs += w.Length.Seconds()
	}
	if secs > 0 {
		f.Throughput = float64(f.Requests) / secs
	}
	if f.Requests > 0 {
		f.Latency = all.Histogram()
	}
	return f
}

// LookGrowth is how much longer a hold must have grown since its last look for the next:
// each look spends a share of the error (spending), and with the union bound over looks
// many small looks spend it in slivers none of which tells much. Looks at the planned
// hold and then each a quarter longer keep about ten up to the longest hold: a capacity
// step of 10 s that may go on to 84 s spends 13% of its error at the look at 75 s,
// where a look at every 1 s window would spend 1%.
const LookGrowth = 1.25

// LastLook is the least share of the error the look at a hold's longest length spends:
// what the spending gained since the look before it, at most LookGrowth shorter.
func LastLook() float64 { return 1 - spending(1/LookGrowth) }

// Enough says whether a running phase's statistical rules are all decided, pass or fail,
// from its hold's windows so far, held long: run.Options.Enough, for a hold that may
// extend. It looks at the planned hold and then each time the hold has grown by
// LookGrowth; each look spends its share of the error, as the final judgement does.
func Enough(p *plan.Plan, rec *run.Record, phase int, held time.Duration) run.Look {
	if _, contended := contention(rec, phase); contended && !p.RecordContention {
		return run.Decided // no verdict whatever the rules say: holding on would only cost time
	}
	ph := &rec.Phases[phase]
	longest := ph.Plan.LongestHold().Seconds()
	prev := 0.0
	if n := len(ph.Looks); n > 0 {
		if held.Seconds() < LookGrowth*ph.Looks[n-1].Seconds() {
			return run.NotYet
		}
		prev = spending(ph.Looks[n-1].Seconds() / longest)
	}
	j := &judge{p: p, rec: rec, partial: phase}
	var checks []*Check
	for _, r := range p.Rules {
		if r.Phase != phase || r.Drift || !estimate.Statistical(r.Metric) {
			continue
		}
		c := j.rule(r)
		if c.Sure == nil || !(c.Status == Pass || c.Status == Fail) {
			return run.NotYet // not yet judged on an interval: too few windows, no data
		}
		checks = append(checks, &c)
	}
	if len(checks) == 0 {
		return run.Decided
	}
	share := max(spending(held.Seconds()/longest)-prev, 0)
	decide(checks, (1-p.Confidence)/float64(max(1, statPhases(p)))*share, share)
	for _, c := range checks {
		if c.Status == Inconclusive {
			return run.GoOn
		}
	}
	return run.Decided
}

// statPhases counts the plan's phases with a statistical rule: the run's family-wise
// error is shared equally between them.
func statPhases(p *plan.Plan) int {
	seen := map[int]bool{}
	for _, r := range p.Rules {
		if !r.Drift && estimate.Statistical(r.Metric) {
			seen[r.Phase] = true
		}
	}
	return len(seen)
}

// groupOf names the question a rule answers.
func groupOf(r plan.Rule, phase string) string {
	switch {
	case r.AgainstBaseline():
		return GroupRegression
	case r.Drift:
		return phase + " drift"
	}
	return phase
}

func endpointOf(s *stats.Summary, i int) *stats.Endpoint {
	if i >= 0 && i < len(s.Endpoints) {
		return &s.Endpoints[i]
	}
	return &s.All
}

// phaseVerdicts judges each phase on its delivery and its own rules (not the abort rule,
// which watches the run).
func (j *judge) phaseVerdicts() []PhaseVerdict {
	out := make([]PhaseVerdict, len(j.rec.Phases))
	for i, ph := range j.rec.Phases {
		out[i] = PhaseVerdict{Name: ph.Name, Status: NotRun}
		if !ph.Ran {
			continue
		}
		out[i].Status = Pass
		if _, contended := contention(j.rec, i); contended && !j.p.RecordContention || len(phaseReasons(ph)) > 0 {
			out[i].Status = Invalid
		}
		for _, c := range j.checks {
			if c.Rule.Phase == i && c.Group != GroupAbort {
				out[i].Status = worse(out[i].Status, c.Status)
			}
		}
	}
	return out
}

// groups judges the checks question by question, in the order questions first appear.
func groups(checks []Check) []Group {
	var out []Group
	index := map[string]int{}
	for _, c := range checks {
		i, ok := index[c.Group]
		if !ok {
			i = len(out)
			index[c.Group] = i
			out = append(out, Group{Name: c.Group, Status: Pass})
		}
		g := &out[i]
		g.Rules++
		if c.Status == Fail {
			g.Failed++
		}
		g.Status = worse(g.Status, c.Status)
	}
	return out
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
