package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/verdict"
)

// Limits a step is judged by besides the gate's rules.
const (
	// MinAchieved is the share of the offered rate (open model) that must complete in
	// a step's hold: a target that answers fewer has not taken the load, even if the
	// requests it did answer were fast.
	MinAchieved = 0.95
	// CollapsedErrors is the error rate at which a step counts as the target having
	// fallen over, not only as over its capacity.
	CollapsedErrors = 0.5
)

// Steps shape each step of a search: a ramp to the level, a hold judged by the gate's
// rules (which may go on to MaxHold while a rule is inconclusive), and confirmation
// holds of ConfirmHold. A hold that stays inconclusive may go on further, up to
// LongestHold, until about Requests requests have arrived: at a low rate a rule on a
// small error rate cannot be told in MaxHold (none failed of 65 requests says little of
// "error_rate < 1%"), and a step that cannot tell says nothing. In the closed model the
// rate of a level is known only as at most PerUser requests a second a user (one over
// its mean think time; 0 when users do not think, and then the hold goes on no further
// than MaxHold).
type Steps struct {
	Ramp, Hold, MaxHold, ConfirmHold time.Duration
	Requests                         int
	LongestHold                      time.Duration
	PerUser                          float64
}

// holds is a step's hold at level and the longest it may go on to.
func (s Steps) holds(role Role, unit Unit, level float64) (hold, longest time.Duration) {
	hold, longest = s.Hold, max(s.Hold, s.MaxHold)
	if role.Confirms() {
		hold, longest = max(s.ConfirmHold, s.Hold), max(s.MaxHold, s.ConfirmHold)
	}
	rate := level
	if unit == Users {
		rate = level * s.PerUser
	}
	if s.Requests > 0 && rate > 0 {
		need := time.Duration(float64(s.Requests) / rate * float64(time.Second)).Round(time.Second)
		longest = max(longest, min(need, s.LongestHold))
	}
	return hold, longest
}

// Cost is the longest load time a step of the role at level may take.
func (s Steps) Cost(role Role, unit Unit, level float64) time.Duration {
	_, longest := s.holds(role, unit, level)
	return s.Ramp + longest
}

// MinRequests is how many requests a step of p should see for each of its rules to be
// told by the look at the step's longest hold: for a rule on an error ratio
// ("error_rate < 1%"), what it takes for none failed to show the rate below the limit at
// the share of p's error that look spends among the rules, and 30% more, for a rate
// that falls short of the level's and the chance of the endpoint's share:
// 1.3 ln(2m / ((1 - confidence) s)) / limit over the endpoint's share of the requests,
// for m rules and the last look's share s (verdict.LastLook): 949 for 1% among five
// rules at 95%. Latency rules are told by far fewer; 0 when no rule is on a ratio.
func MinRequests(p *plan.Plan, rules []plan.Rule) int {
	n := 0.0
	for _, r := range rules {
		share := p.Share(r.Endpoint)
		if r.Metric.Kind() != metric.Ratio || !(r.Limit > 0) || (r.Op != "<" && r.Op != "<=") || share == 0 {
			continue
		}
		n = max(n, 1.3*math.Log(2*float64(len(rules))/(1-p.Confidence)/verdict.LastLook())/r.Limit/share)
	}
	return int(math.Ceil(n))
}

// ErrNoRules is returned by Rules when the plan has no rule a step can be judged by.
var ErrNoRules = errors.New("a capacity search judges each step by the main phase's rules on latency and error rate, and the thresholds have none")

// Rules returns the rules each step is judged by: the main phase's rules on latency
// and error rate, judged on their own values. Rules against the baseline or another
// phase, drift rules, and rules on throughput or request counts (which a step's level
// sets) say nothing of whether the target held a load, and are left to the gate.
func Rules(p *plan.Plan) ([]plan.Rule, error) {
	var out []plan.Rule
	for _, r := range p.Rules {
		if r.Phase != p.Main || r.Ref != nil || r.Drift {
			continue
		}
		if k := r.Metric.Kind(); k != metric.Latency && k != metric.Ratio {
			continue
		}
		r.Phase, r.RefPhase = 0, 0
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, ErrNoRules
	}
	return out, nil
}

// Plan returns the plan of one step at level: the base plan's requests, with one phase
// (named as the main phase, so that its rules judge it) of the base's load shape at
// level, judged by rules.
func (s Steps) Plan(base *plan.Plan, rules []plan.Rule, unit Unit, level float64, role Role) *plan.Plan {
	l := base.Phases[max(base.Main, 0)].Load
	l.Hold, l.MaxHold = s.holds(role, unit, level)
	if unit == Rate {
		l.Open, l.Rate, l.StartRate, l.RateRamp = true, level, level/10, s.Ramp
	} else {
		l.Open, l.Users, l.Settle = false, int(level), 0
		l.SpawnRate = math.Max(1, level/max(s.Ramp.Seconds(), 0.001))
	}
	q := *base
	q.Phases = []plan.Phase{{Name: plan.MainPhase, Load: l}}
	q.Load, q.Phase, q.Main = l, 0, 0
	q.Rules, q.Aborts = rules, nil
	return &q
}

// Runner runs the steps of a search against the plan's target, each as a run of its
// own (run.Run), judged as a gate judges a run (verdict.Judge).
type Runner struct {
	Base  *plan.Plan
	Rules []plan.Rule
	Unit  Unit
	Steps Steps
	// Options are each step's run options; Enough is set for each.
	Options run.Options
	// Started and Finished, when set, are told of each step as it starts and ends.
	Started  func(level float64, role Role)
	Finished func(Step, *run.Record, verdict.Verdict)
}

// Try runs one step.
func (r *Runner) Try(ctx context.Context, level float64, role Role) Step {
	p := r.Steps.Plan(r.Base, r.Rules, r.Unit, level, role)
	if r.Started != nil {
		r.Started(level, role)
	}
	o := r.Options
	o.Enough = func(phase int, rec *run.Record, held time.Duration) run.Look {
		return verdict.Enough(p, rec, phase, held)
	}
	rec := run.Run(ctx, p, o)
	v := verdict.Judge(p, rec)
	st := JudgeStep(p, rec, v)
	st.Level, st.Role = level, role
	if r.Finished != nil {
		r.Finished(st, rec, v)
	}
	return st
}

// JudgeStep reads a step's outcome and figures from its run and verdict.
func JudgeStep(p *plan.Plan, rec *run.Record, v verdict.Verdict) Step {
	st := Step{Start: rec.Start}
	if len(rec.Phases) > 0 {
		ph := rec.Phases[0]
		l := ph.Load
		// Load is offered from the ramp's start to the hold's end; the requests in
		// flight then only finish.
		if end := l.HoldEnd; !l.Start.IsZero() && end.After(l.Start) {
			st.Load = end.Sub(l.Start)
		} else if l.End.After(l.Start) && !l.Start.IsZero() {
			st.Load = l.End.Sub(l.Start)
		}
		all := ph.Hold.All
		st.Requests, st.ErrorRate, st.Achieved = all.Requests, all.ErrorRate(), all.Throughput
		if all.Requests > 0 {
			st.P50, st.P90, st.P99 = all.Quantile(50).Seconds(), all.Quantile(90).Seconds(), all.Quantile(99).Seconds()
		}
		if p.Load.Open {
			st.Offered = p.Load.Rate
		}
		st.Collapsed = all.Requests == 0 || st.ErrorRate >= CollapsedErrors
		st.Resources, st.Growth = resourcesOf(p, rec)
	}
	st.Outcome, st.Why = outcome(p, rec, v, st)
	return st
}

// outcome says what a step showed, and why when it did not hold.
func outcome(p *plan.Plan, rec *run.Record, v verdict.Verdict, st Step) (Outcome, string) {
	if rec.Unreachable != "" {
		return Stopped, "the target did not answer: " + rec.Unreachable
	}
	if rec.Cancelled {
		return Stopped, "cancelled"
	}
	var unsure, broke string
	contended := false
	for _, rs := range v.Reasons {
		switch rs.Code {
		case verdict.GeneratorLate, verdict.GeneratorBusy, verdict.GeneratorFailed:
			// The step says nothing of the target, whatever else went wrong.
			return GeneratorLimit, rs.Code.String()
		case verdict.Contended:
			contended = true
		case verdict.InconclusiveRule:
			if unsure == "" && rs.Check >= 0 && rs.Check < len(v.Checks) {
				unsure = v.Checks[rs.Check].Rule.Text + " inconclusive"
			}
		default:
			if broke == "" {
				broke = rs.Code.String()
			}
		}
	}
	if contended {
		return Contended, verdict.Contended.String()
	}
	for _, c := range v.Checks {
		if c.Status == verdict.Fail {
			return Broke, c.Rule.Text
		}
	}
	if broke != "" {
		return Broke, broke
	}
	if unsure != "" || v.Status == verdict.Invalid {
		return Unsure, orDefault(unsure, "inconclusive")
	}
	if p.Load.Open && st.Achieved < MinAchieved*st.Offered {
		return Broke, fmt.Sprintf("completed %.4g/s of %.4g/s offered", st.Achieved, st.Offered)
	}
	return Held, ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// resourcesOf is each of the target's resources over the step's hold: its mean over the
// windows in which it was read, and its change from the first of those to the last.
func resourcesOf(p *plan.Plan, rec *run.Record) (means, growth map[string]float64) {
	if p.Resources == nil {
		return nil, nil
	}
	means, growth = map[string]float64{}, map[string]float64{}
	for k, s := range p.Resources.Series {
		var sum, first, last float64
		n := 0
		for _, w := range rec.Windows {
			if w.Phase != 0 || w.Stage != load.Hold || k >= len(w.Resources) || !w.Resources[k].OK {
				continue
			}
			v := w.Resources[k].V
			if n == 0 {
				first = v
			}
			sum, last, n = sum+v, v, n+1
		}
		if n == 0 {
			continue
		}
		means[s.Name] = sum / float64(n)
		if n > 1 && first > 0 {
			growth[s.Name] = last/first - 1
		}
	}
	return means, growth
}
