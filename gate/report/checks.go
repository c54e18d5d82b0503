package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/verdict"
)

// newCheck renders one check of the verdict; phase names the phase it judges.
func newCheck(c verdict.Check, phase string) Check {
	kind := c.Rule.Metric.Kind()
	out := Check{
		Rule: c.Rule.Text, Phase: phase, Scope: c.Rule.Scope, Group: c.Group, File: c.Rule.File, Line: c.Rule.Pos.Line,
		Kind: kind.String(), Metric: c.Rule.Metric.Name, Op: c.Rule.Op, Limit: c.Limit, Samples: c.Samples,
		Status: c.Status.String(), Passed: c.Status == verdict.Pass,
	}
	if c.Judged() {
		m := c.Measured
		out.Measured = &m
	}
	if s := c.Sure; s != nil && c.Judged() {
		out.Interval = &Interval{Low: round(s.Lo, 9), High: round(s.Hi, 9), Level: round(s.Level, 6), StdError: round(s.SE, 9),
			Windows: s.Windows, Batches: s.Batches, ErrorSpent: round(s.Look, 6), Binomial: s.Binomial}
		if !math.IsInf(s.DF, 1) {
			out.Interval.DF = round(s.DF, 2)
		}
		if ref := c.Rule.Ref; ref != nil && ref.Baseline() {
			out.Interval.BaselineRuns = s.Runs
			if s.Runs > 1 {
				spread := round(s.Spread, 9)
				out.Interval.BaselineSpread = &spread
			}
		}
	}
	switch ref := c.Rule.Ref; {
	case c.Rule.Drift:
		out.Kind, out.Drift = driftKind(kind), true
		if c.Judged() {
			from, to := c.From, c.To
			out.Start, out.End = &from, &to
		}
		out.Message = out.describeDrift(kind.String())
	case ref != nil && ref.Baseline():
		b := c.Reference
		out.Baseline = &b
		out.Message = out.describeAgainstReference(ref.String(), b)
	case ref != nil:
		v := c.Reference
		out.Reference, out.ReferenceValue = ref.Name(), &v
		out.Message = out.describeAgainstReference(ref.String(), v)
	default:
		out.Message = out.describe()
	}
	switch c.Status {
	case verdict.NotRun:
		out.Message = fmt.Sprintf("not run: phase %s did not run, so %s cannot be judged", phase, c.Rule.Text)
	case verdict.Inconclusive:
		out.Message = "inconclusive: " + out.Message + "; the interval straddles the limit"
	}
	return out
}

// interval writes a value's interval, "[15.2ms, 16.8ms]", or "" for a rule without one.
func (c Check) interval() string {
	if c.Interval == nil {
		return ""
	}
	return fmt.Sprintf(" [%s, %s]", FormatValue(c.Kind, c.Interval.Low), FormatValue(c.Kind, c.Interval.High))
}

// level is the interval's confidence, "99.17%": its error to two significant digits.
func (c Check) level() string {
	e := 100 * (1 - c.Interval.Level)
	if e <= 0 {
		return "100%"
	}
	scale := math.Pow(10, math.Floor(math.Log10(e))-1)
	e = math.Round(e/scale) * scale
	return strconv.FormatFloat(100-e, 'f', max(0, int(-math.Log10(scale)+0.5)), 64) + "%"
}

// sureness says what the interval rests on: "99.2% interval, 15 windows".
func (c Check) sureness() string {
	if c.Interval == nil {
		return ""
	}
	out := fmt.Sprintf("%s interval from %d windows", c.level(), c.Interval.Windows)
	if c.Interval.Binomial {
		out = fmt.Sprintf("exact binomial %s interval (%d windows that varied no more than independent requests)", c.level(), c.Interval.Windows)
	}
	if n := c.Interval.BaselineRuns; n > 1 {
		out += fmt.Sprintf(" and %d baseline runs", n)
	} else if n == 1 {
		out += " and a baseline of 1 run (its spread between runs unknown)"
	}
	return out
}

// driftKind is the kind of a drift rule's change: a fraction of the start's value, or
// for error_rate a difference of rates.
func driftKind(k metric.Kind) string {
	if k == metric.Ratio {
		return "ratio_change"
	}
	return "change"
}

// describeDrift is describe for a drift rule, with where the metric started and ended.
func (c Check) describeDrift(valueKind string) string {
	if c.Measured == nil {
		return fmt.Sprintf("no data: %s cannot be judged (limit %s %s)", c.Rule, c.Op, FormatValue(c.Kind, c.Limit))
	}
	return fmt.Sprintf("moved %s, from %s at the start of the hold to %s at its end (medians of the first and last thirds of its windows), limit %s %s",
		FormatValue(c.Kind, *c.Measured), FormatValue(valueKind, *c.Start), FormatValue(valueKind, *c.End), c.Op, FormatValue(c.Kind, c.Limit))
}

// describe is the one-line account of a check used by every report.
func (c Check) describe() string {
	if c.Measured == nil {
		return fmt.Sprintf("no samples: %s cannot be judged (limit %s %s)", c.Rule, c.Op, FormatValue(c.Kind, c.Limit))
	}
	out := fmt.Sprintf("measured %s%s, limit %s %s, %s samples",
		FormatValue(c.Kind, *c.Measured), c.interval(), c.Op, FormatValue(c.Kind, c.Limit), Count(c.Samples))
	if c.Interval != nil {
		out += "; " + c.sureness()
	}
	return out
}

// describeAgainstReference is describe with the value the limit came from (the
// baseline's, or another phase's) and the change from it.
func (c Check) describeAgainstReference(ref string, value float64) string {
	name := "the baseline"
	if c.Reference != "" {
		name = c.Reference
	}
	if c.Measured == nil {
		return fmt.Sprintf("no samples: %s cannot be judged (limit %s %s)", c.Rule, c.Op, ref)
	}
	limit := fmt.Sprintf("%s %s (%s: %s)", c.Op, FormatValue(c.Kind, c.Limit), ref, FormatValue(c.Kind, value))
	change := func(v float64) string {
		switch {
		case c.Kind == "ratio":
			return fmt.Sprintf("%+.2fpp", 100*(v-value))
		case value != 0:
			return fmt.Sprintf("%+.1f%%", 100*(v/value-1))
		}
		return ""
	}
	delta := change(*c.Measured)
	if c.Interval != nil && delta != "" {
		delta += fmt.Sprintf(" [%s, %s]", change(c.Interval.Low), change(c.Interval.High))
	}
	out := fmt.Sprintf("measured %s, limit %s, %s samples; %s against %s",
		FormatValue(c.Kind, *c.Measured), limit, Count(c.Samples), delta, name)
	if c.Interval != nil {
		out += "; " + c.sureness()
	}
	return out
}

// newResourceCheck is a resource rule's check: its scope is "resources", its kind
// "resource", its values in the resource's unit or, for a rule on a share, a share of
// the limit.
func newResourceCheck(p *plan.Plan, c verdict.ResourceCheck, phase string) Check {
	r := c.Rule
	out := Check{
		Rule: r.Text, Phase: phase, Scope: "resources", Group: "resources", File: r.File, Line: r.Pos.Line,
		Kind: "resource", Metric: r.Name, Op: r.Op, Limit: r.Limit, Samples: int64(c.Windows),
		Status: c.Status.String(), Passed: c.Status == verdict.Pass,
	}
	value := func(v float64) string {
		if r.LimitSeries >= 0 {
			return fmt.Sprintf("%s%% of %s", trim(fmt.Sprintf("%.3g", 100*v)), p.Resources.Series[r.LimitSeries].Name)
		}
		se := p.Resources.Series[r.Series]
		return resourceValue(ResourceStat{Metric: se.Metric, Counter: se.Counter, HistogramMean: se.Mean}, v)
	}
	if c.Status == verdict.Invalid {
		out.Message = "no data: " + c.Why
		return out
	}
	m := c.Measured
	out.Measured = &m
	out.Message = fmt.Sprintf("measured %s (mean of %d of the hold's %d windows), limit %s %s", value(m), c.Windows, c.Of, r.Op, value(r.Limit))
	return out
}

// reasonText words a reason for no verdict; a phase's own reasons are qualified by it
// where the run has several phases.
func (r *Result) reasonText(why verdict.Reason) string {
	var check Check
	if why.Check >= 0 && why.Check < len(r.Checks) {
		check = r.Checks[why.Check]
	}
	rule := fmt.Sprintf("%s [%s]", check.Rule, r.where(check))
	var msg string
	switch why.Code {
	case verdict.Unreachable:
		return why.Detail
	case verdict.Cancelled:
		switch {
		case why.After:
			return "the run was cancelled once it had ended, as its reports were written"
		case why.Phase == "":
			return "the run was cancelled before it started"
		case why.Draining:
			msg = "the run was cancelled as the requests in flight after the hold finished: some were thrown away"
		default:
			msg = "the run was cancelled during the " + why.Stage.String()
		}
	case verdict.SetupFailed:
		who := "user"
		if why.Setup.Worker {
			who = "worker"
		}
		msg = fmt.Sprintf("setup failed for %s %d after %d attempts: %s", who, why.Setup.N, why.Setup.Attempts, why.Setup.Err)
	case verdict.PeakNotReached:
		msg = fmt.Sprintf("only %d of %d users were running when the run stopped: the planned load was not delivered", why.Count, why.Of)
	case verdict.RateShort:
		msg = fmt.Sprintf("the planned rate was not delivered: %d of %d requests due in the hold were sent (%.1f%% short)",
			why.Count, why.Of, 100*(1-float64(why.Count)/float64(why.Of)))
		if why.CapReached {
			msg += fmt.Sprintf("; all %d requests allowed in flight (max_in_flight) were busy: the target answered too slowly for this rate", why.MaxInFlight)
		}
	case verdict.GeneratorLate:
		if why.Wakes {
			msg = fmt.Sprintf("the load generator could not wake its users on time: in %d of the hold's %d periods of %s over %.0f%% of the users due to wake from their think time woke more than %s late (%s such wakes in all), so latencies include time perfgate itself was kept waiting: is another process, or a CPU quota, taking this machine's CPU?",
				why.Count, why.Of, why.Period, 100*load.BehindShare, load.LateLimit, Count(why.Late))
			break
		}
		msg = fmt.Sprintf("the load generator could not hold its schedule: it was behind in %d of the hold's %d periods of %s (over %.0f%% of a period's requests sent more than %s late by its own fault; %s such requests in all): is another process taking this machine's CPU?",
			why.Count, why.Of, why.Period, 100*load.BehindShare, load.LateLimit, Count(why.Late))
	case verdict.GeneratorBusy:
		msg = fmt.Sprintf("the load generator was the bottleneck: it used %.0f%% of its %d processors during the hold (over %.0f%%), so what was measured includes its own queueing; run it on a larger machine or lower the load",
			100*why.Share, why.Processors, 100*verdict.MaxGeneratorCPU)
	case verdict.GeneratorFailed:
		msg = fmt.Sprintf("perfgate itself could not make %s of the %s requests it tried, not for any fault of the target: %s; they are left out of the target's figures",
			Count(why.Count), Count(why.Of), why.Detail)
	case verdict.NoSamples:
		return rule + " had no samples to judge"
	case verdict.TooFewWindows:
		return fmt.Sprintf("%s: drift needs at least %d time windows of the hold, and it had %d: lengthen the phase or shorten --progress", rule, why.Of, why.Count)
	case verdict.NoStart:
		return rule + ": no requests completed at the start of the hold"
	case verdict.NoReference:
		return fmt.Sprintf("%s: %s had no samples to compare with", rule, check.Reference)
	case verdict.PhaseNotRun:
		return fmt.Sprintf("%s: phase %s did not run", rule, why.Phase)
	case verdict.Unexplained:
		return "the run was stopped early, but by no abort rule of this plan"
	case verdict.ReportNotWritten:
		return "every rule held, but a report the run was asked for could not be written: " + why.Detail
	case verdict.InconclusiveRule:
		return fmt.Sprintf("%s is %s: hold longer (load.max_duration lets an inconclusive hold go on), record a baseline of more runs, or set verdict.inconclusive: warn",
			rule, check.Message)
	case verdict.ResourceUnread:
		msg = "a resource rule had no data, and fails closed: " + why.Detail
	case verdict.ShardApart:
		msg = "the shards do not make one run: " + why.Detail
	case verdict.Contended:
		others := ""
		if why.HasOthers {
			others = fmt.Sprintf(", while other processes and the hypervisor took %s of the processors", pct(why.Others))
		}
		msg = fmt.Sprintf("the machine was too busy to judge: in %d of the hold's %d windows perfgate's threads waited over %s for a processor each time they were ready to run (%s on average over the hold%s), so latencies include time the generator itself was kept waiting; run on a quieter machine",
			why.Count, why.Of, FormatValue("latency", verdict.MaxWaitPerRun.Seconds()), FormatValue("latency", why.Wait.Seconds()), others)
	default:
		msg = why.Code.String()
	}
	if r.phased() {
		msg = why.Phase + ": " + msg
	}
	return msg
}
