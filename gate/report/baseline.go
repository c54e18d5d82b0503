package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/baseline"
)

// Baseline records the measured windows of one or more runs (recorded at different
// times) as the baseline later runs are compared with: each run's figures and windows,
// and their pooled figures. Every run must come from the same load. A run without a
// valid verdict cannot be one, except one whose rules were only inconclusive, and, when
// force is set, one recorded on a machine too contended to judge.
func Baseline(results []*Result, sources []string, now time.Time, force bool) (*baseline.File, error) {
	if len(results) == 0 {
		return nil, errors.New("no result to record")
	}
	f := &baseline.File{Version: baseline.Version, Created: now.UTC()}
	var names []string
	for i, r := range results {
		contended, err := usable(r, force)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", sources[i], err)
		}
		run := baseline.Run{Source: r.Tool + ", run of " + r.Started.Format(time.RFC3339), Started: r.Started, Contended: contended}
		for _, ph := range r.recorded() {
			run.Phases = append(run.Phases, runPhaseOf(r, ph))
		}
		if i > 0 {
			if diff := fingerprints(f.Runs[0], results[0], run, r); diff != "" {
				return nil, fmt.Errorf("%s comes from another load than %s: %s", sources[i], sources[0], diff)
			}
		}
		f.Runs = append(f.Runs, run)
		names = append(names, run.Source)
	}
	f.Source = strings.Join(names, "; ")
	if err := runsAgree(f.Runs, sources, results[0].Main().Name, force); err != nil {
		return nil, err
	}
	first := results[0]
	main := first.Main()
	for _, ph := range first.recorded() {
		pooled, perr := pool(f.Runs, ph.Name, phaseOf(ph.Name, ph.Load, ph.Hold))
		if perr != nil {
			return nil, perr
		}
		if ph.Name == main.Name {
			f.Fingerprint, f.All, f.Endpoints = pooled.Fingerprint, pooled.All, pooled.Endpoints
		}
		if first.phased() {
			f.Phases = append(f.Phases, pooled)
		}
	}
	return f, nil
}

// OutlierShare is how far a run's p50, p95 or p99 may lie from the median of a baseline's
// runs (three runs or more) before the baseline is refused, unless forced. The
// runs of one baseline should agree: one recorded in a busy minute widens the
// between-run spread that every rule against the baseline carries, until none can be
// told. Measured: five quiet runs of the demo gave p99 16.1-16.2 ms and one 18.8 ms
// (+16%), and with that run p99 < baseline + 15% stayed inconclusive through a whole
// 5-minute hold of an unchanged candidate ([-28%, +19%]).
const OutlierShare = 0.10

// runsAgree refuses a baseline one of whose runs lies far from the others in the main
// phase (OutlierShare), naming it, unless force is set.
func runsAgree(runs []baseline.Run, sources []string, main string, force bool) error {
	if len(runs) < 3 || force {
		return nil
	}
	for _, q := range []float64{50, 95, 99} {
		vals := make([]float64, len(runs))
		for i, r := range runs {
			for _, ph := range r.Phases {
				if ph.Name != main {
					continue
				}
				f, err := ph.All.Figures()
				if err != nil || f.Latency == nil {
					return err
				}
				vals[i] = float64(f.Latency.ValueAtQuantile(q)) / 1000
			}
		}
		if i, med := outlier(vals, OutlierShare); i >= 0 {
			return fmt.Errorf("%s: its p%g, %.4g ms, is %+.0f%% from the runs' median (%.4g ms): the runs of a baseline should agree, and one this far apart (a busy minute?) widens the spread every rule against the baseline carries; record it again, or pass --force to keep it",
				sources[i], q, vals[i], 100*(vals[i]/med-1), med)
		}
	}
	return nil
}

// outlier returns the one of vals farthest from their median, if it lies more than share
// from it, with the median; or -1.
func outlier(vals []float64, share float64) (int, float64) {
	sorted := slices.Sorted(slices.Values(vals))
	n := len(sorted)
	med := (sorted[(n-1)/2] + sorted[n/2]) / 2
	far, dev := -1, share
	for i, v := range vals {
		if d := math.Abs(v/med - 1); med > 0 && d > dev {
			far, dev = i, d
		}
	}
	return far, med
}

// usable says whether a result may be a baseline, and whether it was contended.
func usable(r *Result, force bool) (contended bool, err error) {
	if m := r.Main(); m == nil || m.Hold.All.Requests == 0 {
		return false, errors.New("this run measured no requests, so it cannot be a baseline")
	}
	if r.Verdict != "invalid" {
		return false, nil
	}
	for _, why := range r.Reasons {
		switch why.Code {
		case "inconclusive":
		case "contended":
			contended = true
		default:
			return false, errors.New("this run has no valid verdict, so it cannot be a baseline: record one from a run that passed")
		}
	}
	if contended && !force {
		return true, errors.New("this run was recorded on a machine too contended to judge, so its figures are not this code's: record one on a quieter machine, or pass --force to keep it")
	}
	return contended, nil
}

// recorded are the phases of a run a baseline records: every phase that ran.
func (r *Result) recorded() []Phase {
	var out []Phase
	for _, ph := range r.Phases {
		if ph.Verdict != "not run" {
			out = append(out, ph)
		}
	}
	return out
}

// runPhaseOf records one phase of a run: its hold's figures and windows.
func runPhaseOf(r *Result, ph Phase) baseline.RunPhase {
	rec := phaseOf(ph.Name, ph.Load, ph.Hold)
	out := baseline.RunPhase{Name: ph.Name, All: rec.All, Endpoints: rec.Endpoints}
	for _, w := range r.Windows {
		if w.Phase != ph.Name || w.Stage != "hold" || w.Seconds <= 0 {
			continue
		}
		bw := baseline.Window{Seconds: w.Seconds, All: countsOf(w.WindowFigures)}
		for _, e := range ph.Hold.Endpoints {
			c := baseline.Counts{}
			for _, we := range w.Endpoints {
				if we.Name == e.Name {
					c = countsOf(we.WindowFigures)
				}
			}
			bw.Endpoints = append(bw.Endpoints, c)
		}
		out.Windows = append(out.Windows, bw)
	}
	return out
}

func countsOf(w WindowFigures) baseline.Counts {
	return baseline.Counts{Requests: w.Requests, Errors: w.Errors, Histogram: w.Histogram}
}

// fingerprints says how run b's load differs from run a's, or "".
func fingerprints(a baseline.Run, ra *Result, b baseline.Run, rb *Result) string {
	if len(a.Phases) != len(b.Phases) {
		return fmt.Sprintf("%d phases, not %d", len(b.Phases), len(a.Phases))
	}
	for i := range a.Phases {
		fa := phaseOf(a.Phases[i].Name, ra.recorded()[i].Load, ra.recorded()[i].Hold).Fingerprint
		fb := phaseOf(b.Phases[i].Name, rb.recorded()[i].Load, rb.recorded()[i].Hold).Fingerprint
		if a.Phases[i].Name != b.Phases[i].Name {
			return fmt.Sprintf("phase %s, not %s", b.Phases[i].Name, a.Phases[i].Name)
		}
		if diff := fa.Mismatch(fb); diff != "" {
			return "phase " + a.Phases[i].Name + ": " + diff
		}
	}
	return ""
}

// pool is a phase's figures over every run: requests, errors and histograms added,
// throughput and mean averaged over the runs, the maximum of the maxima.
func pool(runs []baseline.Run, name string, first baseline.Phase) (baseline.Phase, error) {
	if len(runs) == 1 {
		return first, nil
	}
	out := first
	scopes := append([]*baseline.Metrics{&out.All}, ptrs(out.Endpoints)...)
	for k, m := range scopes {
		var sum baseline.Metrics
		var errs float64
		var merged *hdrhistogram.Histogram
		for _, run := range runs {
			var rp *baseline.RunPhase
			for i := range run.Phases {
				if run.Phases[i].Name == name {
					rp = &run.Phases[i]
				}
			}
			if rp == nil {
				return out, fmt.Errorf("a run has no phase %s", name)
			}
			src := rp.All
			if k > 0 {
				src = rp.Endpoints[k-1]
			}
			sum.Requests += src.Requests
			errs += src.ErrorRate * float64(src.Requests)
			sum.Throughput += src.Throughput / float64(len(runs))
			sum.MeanMs += src.MeanMs * float64(src.Requests)
			sum.MaxMs = max(sum.MaxMs, src.MaxMs)
			if src.Histogram == "" {
				continue
			}
			h, err := baseline.Decode(src.Histogram)
			if err != nil {
				return out, fmt.Errorf("%s: the histogram of %s does not decode: %v", name, src.Name, err)
			}
			if merged == nil {
				merged = h
			} else {
				merged.Merge(h)
			}
		}
		m.Requests, m.Throughput, m.MaxMs = sum.Requests, sum.Throughput, sum.MaxMs
		if sum.Requests > 0 {
			m.ErrorRate, m.MeanMs = errs/float64(sum.Requests), sum.MeanMs/float64(sum.Requests)
		}
		if merged != nil {
			enc, err := (&histEncoder{}).encode(merged)
			if err != nil {
				return out, err
			}
			m.Histogram = enc
		}
	}
	return out, nil
}

func ptrs(ms []baseline.Metrics) []*baseline.Metrics {
	out := make([]*baseline.Metrics, len(ms))
	for i := range ms {
		out[i] = &ms[i]
	}
	return out
}

// phaseOf records one phase's hold.
func phaseOf(name string, l PhaseLoad, hold Stage) baseline.Phase {
	ph := baseline.Phase{
		Name:        name,
		Fingerprint: baseline.Fingerprint{Model: l.Model, Users: l.Users, Rate: l.Rate},
		All:         metricsOf(hold.All),
	}
	for _, e := range hold.Endpoints {
		ph.Fingerprint.Endpoints = append(ph.Fingerprint.Endpoints, e.Name)
		ph.Endpoints = append(ph.Endpoints, metricsOf(e))
	}
	return ph
}

func metricsOf(e Endpoint) baseline.Metrics {
	return baseline.Metrics{
		Name: e.Name, Requests: e.Requests, ErrorRate: e.ErrorRate, Throughput: e.Throughput,
		MeanMs: e.LatencyMs.Mean, MaxMs: e.LatencyMs.Max, Histogram: e.Histogram,
	}
}
