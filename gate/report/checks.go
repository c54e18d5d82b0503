package report

import (
	"fmt"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
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
	if c.Status == verdict.NotRun {
		out.Message = fmt.Sprintf("not run: phase %s did not run, so %s cannot be judged", phase, c.Rule.Text)
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
	return fmt.Sprintf("measured %s, limit %s %s, %s samples",
		FormatValue(c.Kind, *c.Measured), c.Op, FormatValue(c.Kind, c.Limit), Count(c.Samples))
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
	delta := ""
	switch {
	case c.Kind == "ratio":
		delta = fmt.Sprintf("%+.2fpp", 100*(*c.Measured-value))
	case value != 0:
		delta = fmt.Sprintf("%+.1f%%", 100*(*c.Measured/value-1))
	}
	return fmt.Sprintf("measured %s, limit %s, %s samples; %s against %s",
		FormatValue(c.Kind, *c.Measured), limit, Count(c.Samples), delta, name)
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
	default:
		msg = why.Code.String()
	}
	if r.phased() {
		msg = why.Phase + ": " + msg
	}
	return msg
}
