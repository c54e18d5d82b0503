package verdict

import (
	"math"
	"slices"
	"time"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/estimate"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
)

// Sure says how sure a statistical rule's outcome is. A rule on a percentile, the mean,
// the error rate or the throughput is judged on an interval, not on its measured value
// alone: it passes when the whole interval is inside its limit, fails when the whole
// interval is outside, and is inconclusive otherwise.
//
// The interval is Measured ± t·SE. SE is the standard error of Measured less the limit:
// the measured value's own (package estimate, from the hold's windows), and for a rule
// against a reference, the reference's, scaled as the limit scales it. A baseline of
// several runs adds how much runs differ from each other beyond what each run's own error
// explains (a random-effects model): the spread a new run of the same code shows on the
// same CI. t is Student's at the rule's Level, which the family-wise control sets.
type Sure struct {
	SE, DF float64
	// Lo and Hi bound Measured at Level (two-sided).
	Lo, Hi, Level float64
	// P is the chance of a measured value this far past the limit if the rule held
	// exactly at it (small: the rule is breached).
	P float64
	// Windows and Batches are the measured value's, as package estimate grouped them.
	Windows, Batches int
	// Runs is how many runs the reference holds (a baseline's, or 1), and Spread the
	// standard deviation of their values.
	Runs   int
	Spread float64
	// Binomial says the interval is the exact binomial one of an error rate whose
	// windows varied no more than independent requests would (DF is then infinite).
	Binomial bool
	// Look is the share of the family-wise error the run spent on this judgement, of
	// its whole (less than 1 when the hold went on past its planned length).
	Look float64
	// failSE and passSE are the standard errors on the side of the measured value that
	// could make the rule fail and pass, with their degrees of freedom.
	failSE, failDF float64
	passSE, passDF float64
	// bounds is the interval tBelow errors below the measured value and tAbove above.
	bounds func(tBelow, tAbove float64) (lo, hi float64)
}

// spending is the share of the error a sequence of looks may have spent by the look at
// fraction t (0..1) of the longest hold: Lan and DeMets' Pocock-type function,
// ln(1 + (e - 1) t). Spent look by look (each look tested at what the function gained
// since the last), the chance of a false alarm at any look is at most the whole error,
// by the union bound, however many looks there were.
func spending(t float64) float64 { return math.Log(1 + (math.E-1)*min(max(t, 0), 1)) }

// sureOf estimates how sure rule r's check c is, from the phase's hold windows, or nil
// when the rule is judged on its measured value alone: a maximum, a request count, a
// drift rule, or too few windows.
func (j *judge) sureOf(r plan.Rule, c *Check, windows []stats.Window) *Sure {
	if r.Drift {
		return nil
	}
	est, ok := estimate.Of(r.Metric, windows, r.Endpoint)
	if !ok {
		return nil
	}
	// The measured value's error on the side that could make the rule fail, and on the
	// side that could make it pass (a percentile's differ).
	failSide, passSide := est.Below, est.Above
	if r.Op == ">" || r.Op == ">=" {
		failSide, passSide = est.Above, est.Below
	}
	var ref []part
	s := &Sure{Windows: est.Windows, Batches: est.Batches, Runs: 1}
	if r.Ref != nil {
		slope := r.Ref.Apply(1) - r.Ref.Apply(0)
		if r.Ref.Baseline() {
			ref, s.Spread, s.Runs = baselineParts(r, est, slope)
		} else {
			other, ok := estimate.Of(r.Ref.Metric, j.rec.JudgedWindows(r.RefPhase), r.Endpoint)
			if !ok {
				return nil
			}
			ref = []part{{slope * slope * other.SE * other.SE, other.DF}}
		}
	}
	s.failSE, s.failDF = combine(append([]part{{failSide * failSide, est.DF}}, ref...))
	s.passSE, s.passDF = combine(append([]part{{passSide * passSide, est.DF}}, ref...))
	s.SE, s.DF = combine(append([]part{{est.SE * est.SE, est.DF}}, ref...))
	up := r.Op == "<" || r.Op == "<=" // breached upwards
	m, limit := c.Measured, c.Limit
	// The interval, t errors below and above the measured value, and how many errors the
	// measured value lies past the limit (z, for the rule's P).
	var z float64
	switch {
	case est.Binomial() && r.Ref == nil:
		// An error rate whose windows varied no more than independent requests would:
		// the exact binomial interval, each side's tail the normal one of its t (the
		// degrees of freedom are infinite), and P the binomial tail at the limit. With
		// no errors in n requests, a rate under limit is told once n > ln(1/tail)/limit.
		s.bounds = func(tb, ta float64) (float64, float64) { return est.BinomialBounds(normalTail(tb), normalTail(ta)) }
		s.P, s.Binomial = est.BinomialP(limit, up), true
		return s
	case est.Woodruff() && r.Ref == nil:
		// A percentile against a fixed limit: Woodruff's interval itself, read from
		// the hold's distribution, so that it never leaves what was measured.
		s.bounds = est.Bounds
		z = est.Z(limit)
	case r.Metric.Kind() == metric.Ratio && r.Ref == nil && up && m > 0 && limit > 0:
		// An error rate's lower side on the log scale: errors come in bursts, so a
		// rate's spread is skewed, and a rate far above its limit is known to be above
		// it long before its linear interval clears zero. Its upper side stays linear,
		// which with no errors seen is near the exact binomial bound.
		s.bounds = func(tb, ta float64) (float64, float64) {
			return m * math.Exp(-tb*s.failSE/m), m + ta*s.passSE
		}
		z = math.Log(m/limit) * m / s.failSE
	default:
		below, above := s.failSE, s.passSE
		if !up {
			below, above = above, below
		}
		s.bounds = func(tb, ta float64) (float64, float64) { return m - tb*below, m + ta*above }
		z = (m - limit) / s.failSE
	}
	if !up {
		z = -z
	}
	s.P = 1
	if !math.IsNaN(z) {
		s.P = 1 - estimate.StudentCDF(z, s.failDF) // z +Inf: 0; -Inf: 1
	}
	return s
}

// part is one variance in a standard error, with its degrees of freedom.
type part struct{ v, df float64 }

// combine adds variances; the degrees of freedom are Welch and Satterthwaite's.
func combine(parts []part) (se, df float64) {
	var sum, den float64
	exact := true // every part with a variance is a model's, of infinite degrees of freedom
	for _, p := range parts {
		sum += p.v
		if p.df > 0 {
			den += p.v * p.v / p.df
		}
		exact = exact && (p.v == 0 || math.IsInf(p.df, 1))
	}
	switch {
	case sum > 0 && exact:
		return math.Sqrt(sum), math.Inf(1)
	case sum <= 0 || den <= 0:
		return math.Sqrt(max(sum, 0)), 1
	}
	return math.Sqrt(sum), sum * sum / den
}

// baselineParts are the variances a baseline adds to a rule against it, with the
// standard deviation of the runs' values and their number. With m runs of values v and
// own errors w: the mean of v is the reference, known to s²/m (s² the variance of v);
// and a new run varies from the mean by tau² = max(0, s² - mean(w²)) beyond its own
// error. One run: its own error, from its windows, or for a baseline without windows,
// the candidate's scaled to the baseline's sample count.
func baselineParts(r plan.Rule, cand estimate.Estimate, slope float64) (parts []part, spread float64, runs int) {
	var vals, within []float64
	var withinDF float64
	for _, s := range r.Baseline {
		v, err := s.Metrics.Value(r.Metric)
		if err != nil {
			continue
		}
		vals = append(vals, v)
		if e, ok := estimate.Of(r.Metric, seriesWindows(s), -1); ok {
			within = append(within, e.SE*e.SE)
			withinDF += e.DF
		}
	}
	m := len(vals)
	if m >= 2 {
		var mean, ss float64
		for _, v := range vals {
			mean += v / float64(m)
		}
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		s2 := ss / float64(m-1)
		var w2 float64
		for _, w := range within {
			w2 += w / float64(len(within))
		}
		tau2 := max(0, s2-w2)
		return []part{{tau2 + slope*slope*s2/float64(m), float64(m - 1)}}, math.Sqrt(s2), m
	}
	if len(within) == 1 {
		return []part{{slope * slope * within[0], withinDF}}, 0, 1
	}
	// No windows: the same process measured over n requests has the candidate's error
	// scaled by sqrt(n_candidate / n_baseline).
	n := 0.0
	if len(r.Baseline) > 0 {
		n = float64(r.Baseline[0].Metrics.Requests)
	}
	if n <= 0 {
		return nil, 0, m
	}
	return []part{{slope * slope * cand.SE * cand.SE * float64(cand.Requests) / n, cand.DF}}, 0, 1
}

// seriesWindows reads a baseline run's windows of one scope as time windows.
func seriesWindows(s baseline.Series) []stats.Window {
	var out []stats.Window
	for _, w := range s.Windows {
		c := stats.WindowCounts{Requests: w.Requests, Errors: w.Errors}
		if w.Histogram != "" {
			h, err := baseline.Decode(w.Histogram)
			if err != nil {
				continue
			}
			c.Latency = stats.Compact(h)
		}
		out = append(out, stats.Window{Length: time.Duration(w.Seconds * float64(time.Second)), All: c})
	}
	return out
}

// decide judges the statistical checks of one phase at one look, given the share of the
// family-wise error alpha the look may spend, by Holm's step-down procedure: sorted by P,
// the k-th of m is failed while its P is below alpha / (m - k + 1); the rest keep the
// level where that stopped. Each check's interval is drawn at its level, so that it
// fails exactly when its interval lies wholly past the limit, and passes when wholly
// inside; otherwise it is inconclusive. The chance that any check which holds fails is
// at most alpha (Holm, 1979), whatever the checks' dependence.
func decide(checks []*Check, alpha, look float64) {
	sorted := slices.Clone(checks)
	slices.SortStableFunc(sorted, func(a, b *Check) int {
		switch {
		case a.Sure.P < b.Sure.P:
			return -1
		case a.Sure.P > b.Sure.P:
			return 1
		}
		return 0
	})
	m := len(sorted)
	level := alpha / float64(m)
	stepping := true
	for k, c := range sorted {
		if stepping {
			level = alpha / float64(m-k)
			stepping = c.Sure.P < level
		}
		s := c.Sure
		s.Level, s.Look = 1-2*level, look
		tf, tp := quantileOrZero(s.failSE, 1-level, s.failDF), quantileOrZero(s.passSE, 1-level, s.passDF)
		up := c.Rule.Op == "<" || c.Rule.Op == "<="
		if up {
			s.Lo, s.Hi = s.bounds(tf, tp)
		} else {
			s.Lo, s.Hi = s.bounds(tp, tf)
		}
		switch {
		case up && s.Lo > c.Limit, !up && s.Hi < c.Limit, s.failSE == 0 && !Compare(c.Measured, c.Rule.Op, c.Limit):
			c.Status = Fail
		case up && s.Hi < c.Limit, !up && s.Lo > c.Limit:
			c.Status = Pass
		default:
			c.Status = Inconclusive
		}
		// Every metric judged so is at least 0; a share at most 1.
		s.Lo = max(0, s.Lo)
		if c.Rule.Metric.Kind() == metric.Ratio {
			s.Hi = min(1, s.Hi)
		}
	}
}

// normalTail is the chance that a standard normal lies above t.
func normalTail(t float64) float64 { return 0.5 * math.Erfc(t/math.Sqrt2) }

// quantileOrZero is Student's quantile p at df, or 0 for an error of 0.
func quantileOrZero(se, p, df float64) float64 {
	if se <= 0 {
		return 0
	}
	return estimate.StudentQuantile(p, df)
}

// lookShare is the share of the family-wise error a phase's final judgement spends: what
// the spending function gained since its last earlier look, of a phase whose hold may
// extend; all of it otherwise.
func lookShare(ph *run.Phase) float64 {
	if !ph.Plan.Extends() {
		return 1
	}
	longest := ph.Plan.LongestHold().Seconds()
	now := spending(ph.Load.HoldDuration().Seconds() / longest)
	switch {
	case ph.Decided > 0:
		now = spending(ph.Decided.Seconds() / longest) // what the look that ended it spent
	case !ph.Load.HoldEnd.Before(ph.Load.HoldStart.Add(ph.Plan.LongestHold())):
		now = 1 // the hold ran to its longest: spend the rest
	}
	prev := 0.0
	if n := len(ph.Looks); n > 0 {
		prev = spending(ph.Looks[n-1].Seconds() / longest)
	}
	return max(now-prev, 0)
}
