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
	if r.Hold.All.Requests == 0 {
		return nil, errors.New("this run measured no requests, so it cannot be a baseline")
	}
	f := &baseline.File{
		Version: baseline.Version,
		Created: now.UTC(),
		Source:  r.Tool + ", run of " + r.Started.Format(time.RFC3339),
		Fingerprint: baseline.Fingerprint{
			Model: r.Settings.Model, Users: r.Settings.Users, Rate: r.Settings.Rate,
		},
		All: metricsOf(r.Hold.All),
	}
	for _, e := range r.Hold.Endpoints {
		f.Fingerprint.Endpoints = append(f.Fingerprint.Endpoints, e.Name)
		f.Endpoints = append(f.Endpoints, metricsOf(e))
	}
	return f, nil
}

func metricsOf(e Endpoint) baseline.Metrics {
	return baseline.Metrics{
		Name: e.Name, Requests: e.Requests, ErrorRate: e.ErrorRate, Throughput: e.Throughput,
		MeanMs: e.LatencyMs.Mean, MaxMs: e.LatencyMs.Max, Histogram: e.Histogram,
	}
}
