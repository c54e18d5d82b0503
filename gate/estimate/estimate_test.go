package estimate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/stats"
)

func TestStudent(t *testing.T) {
	for _, tc := range []struct{ p, df, want float64 }{
		{0.975, 1, 12.706}, {0.975, 5, 2.571}, {0.975, 10, 2.228}, {0.995, 20, 2.845},
		{0.95, 30, 1.697}, {0.975, math.Inf(1), 1.960}, {0.025, 5, -2.571}, {0.5, 3, 0},
	} {
		if got := StudentQuantile(tc.p, tc.df); math.Abs(got-tc.want) > 0.001 {
			t.Errorf("t(%v, df %v) = %.4f, want %.3f", tc.p, tc.df, got, tc.want)
		}
	}
	if got := StudentCDF(2.228, 10); math.Abs(got-0.975) > 1e-4 {
		t.Errorf("CDF(2.228, 10) = %v", got)
	}
}

// series draws windows of a process whose log-level follows an AR(1) series (phi 0 for
// independent windows), each with perWindow requests of exponential service time around
// that level, and errorShare of them errors.
type series struct {
	rng        *rand.Rand
	phi, level float64
	errorShare float64
}

const sigma = 0.1

func newSeries(seed uint64, phi float64) *series {
	s := &series{rng: rand.New(rand.NewPCG(seed, 11)), phi: phi, errorShare: 0.02}
	s.level = sigma / math.Sqrt(1-phi*phi) * s.rng.NormFloat64()
	return s
}

func (s *series) windows(n, perWindow int) []stats.Window {
	out := make([]stats.Window, n)
	for i := range out {
		s.level = s.phi*s.level + sigma*s.rng.NormFloat64()
		h := hdrhistogram.New(1, 60_000_000, 3)
		var errs int64
		scale := 5000 * math.Exp(s.level)
		for range perWindow {
			_ = h.RecordValue(1000 + int64(s.rng.ExpFloat64()*scale))
			if s.rng.Float64() < s.errorShare {
				errs++
			}
		}
		c := stats.WindowCounts{Requests: int64(perWindow), Errors: errs, Latency: stats.Compact(h)}
		out[i] = stats.Window{Start: time.Duration(i) * time.Second, Length: time.Second, All: c, Endpoints: []stats.WindowCounts{c}}
	}
	return out
}

func figures(ws []stats.Window) metric.Figures {
	var all stats.Hist
	f := metric.Figures{}
	var secs float64
	for _, w := range ws {
		all, _ = all.Merge(w.All.Latency)
		f.Requests += w.All.Requests
		f.Errors += w.All.Errors
		secs += w.Length.Seconds()
	}
	f.Latency = all.Histogram()
	f.Throughput = float64(f.Requests) / secs
	return f
}

// TestCoverage checks the point of the package: a 95% interval from the estimate holds
// the process's true value about 95% of the time, for windows independent of each other
// and for windows whose level drifts. The truth is the figure of a very long run of the
// same process. Fixed seeds: the figures are the same every run.
func TestCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("draws 400 runs")
	}
	for _, tc := range []struct {
		name    string
		phi     float64
		windows int
		lo, hi  float64
	}{
		{"independent windows, 30 of them", 0, 30, 0.90, 1},
		{"drifting windows (phi 0.5), 60 of them", 0.5, 60, 0.86, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			long := newSeries(99, tc.phi).windows(2000, 200)
			truthF := figures(long)
			for _, name := range []string{"p99", "p50", "error_rate", "mean"} {
				m, _ := metric.Lookup(name)
				truth, _ := m.Read(truthF)
				const runs = 150
				held := 0
				for r := range runs {
					ws := newSeries(uint64(r), tc.phi).windows(tc.windows, 200)
					e, ok := Of(m, ws, -1)
					if !ok {
						t.Fatalf("%s: no estimate from %d windows", name, tc.windows)
					}
					half := StudentQuantile(0.975, e.DF) * e.SE
					if math.Abs(e.Value-truth) <= half {
						held++
					}
				}
				cover := float64(held) / runs
				t.Logf("%s: 95%% interval held the truth in %.1f%% of %d runs", name, 100*cover, runs)
				if cover < tc.lo || cover > tc.hi {
					t.Errorf("%s: coverage %.3f outside [%.2f, %.2f]", name, cover, tc.lo, tc.hi)
				}
			}
		})
	}
}

func TestValueIsTheWindowsFigure(t *testing.T) {
	ws := newSeries(1, 0).windows(12, 300)
	f := figures(ws)
	for _, name := range []string{"p50", "p95", "p99", "p99.9", "error_rate", "mean", "throughput"} {
		m, _ := metric.Lookup(name)
		want, _ := m.Read(f)
		e, ok := Of(m, ws, 0)
		if !ok || math.Abs(e.Value-want) > 1e-9*math.Abs(want) || e.SE <= 0 && name != "throughput" || e.Windows != 12 {
			t.Errorf("%s: %+v, %v; the merged windows say %v", name, e, ok, want)
		}
	}
	for _, name := range []string{"max", "requests"} {
		m, _ := metric.Lookup(name)
		if _, ok := Of(m, ws, -1); ok {
			t.Errorf("%s has an error estimate: it is not an estimate of anything", name)
		}
	}
	m, _ := metric.Lookup("p99")
	if _, ok := Of(m, ws[:MinWindows-1], -1); ok {
		t.Errorf("%d windows gave an estimate", MinWindows-1)
	}
}

// TestBatchesFollowCorrelation: strongly drifting windows are grouped, independent ones
// are not, and the error of drifting windows is the wider.
func TestBatchesFollowCorrelation(t *testing.T) {
	m, _ := metric.Lookup("p99")
	ind, _ := Of(m, newSeries(3, 0).windows(60, 200), -1)
	drift, _ := Of(m, newSeries(3, 0.9).windows(60, 200), -1)
	if ind.Batches < 40 || drift.Batches > 20 || drift.SE/drift.Value <= ind.SE/ind.Value {
		t.Errorf("independent %+v, drifting %+v: want ~60 batches vs few, and a wider relative error", ind, drift)
	}
}

func TestNoErrorsStillHasAnError(t *testing.T) {
	s := newSeries(5, 0)
	s.errorShare = 0
	ws := s.windows(10, 100)
	m, _ := metric.Lookup("error_rate")
	e, ok := Of(m, ws, -1)
	// With no error in 1,000 requests the rate is not known to be 0: its error is
	// about 1.4 in 1,000 (two errors in 1,004 requests), so that a 95% bound is near
	// the exact one, 3 in 1,000.
	if !ok || e.Value != 0 || e.SE < 0.0012 || e.SE > 0.0016 {
		t.Errorf("%+v, %v", e, ok)
	}
}
