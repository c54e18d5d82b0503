package report

import (
	"errors"
	"time"

	"github.com/perfgate/perfgate/gate/baseline"
)

// Baseline records a run's measured window as the baseline later runs are compared with.
// A run without a valid verdict cannot be one.
func Baseline(r *Result, now time.Time) (*baseline.File, error) {
	if r.Verdict == "invalid" {
		return nil, errors.New("this run has no valid verdict, so it cannot be a baseline: record one from a run that passed")
	}
	m := r.Main()
	if m == nil || m.Hold.All.Requests == 0 {
		return nil, errors.New("this run measured no requests, so it cannot be a baseline")
	}
	f := &baseline.File{
		Version: baseline.Version,
		Created: now.UTC(),
		Source:  r.Tool + ", run of " + r.Started.Format(time.RFC3339),
	}
	main := phaseOf(m.Name, m.Load, m.Hold)
	f.Fingerprint, f.All, f.Endpoints = main.Fingerprint, main.All, main.Endpoints
	// The file's own figures are the main phase's; a run with several phases records
	// each of them too, so that rules under phases: compare with their own.
	if r.phased() {
		for _, ph := range r.Phases {
			if ph.Verdict != "not run" {
				f.Phases = append(f.Phases, phaseOf(ph.Name, ph.Load, ph.Hold))
			}
		}
	}
	return f, nil
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
