// Package baseline is the recorded baseline a release candidate is compared with: per
// endpoint and for all requests, the percentiles, error rate, throughput and sample
// count of a past run, with its latency histogram, and a fingerprint of the load that
// produced it, so that a run is never compared with a baseline of something else.
//
// `perfgate baseline RESULT.json... -o thresholds/baseline.json` writes one from one or
// more result files (runs recorded at different times); rules such as
// "p99 < baseline + 15%" read it. A baseline of several runs keeps each run's figures and
// time windows, so that a rule knows both how precisely each run measured and how much
// runs differ from each other, which is what varies most on shared CI machines.
package baseline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/internal/userfile"
	"github.com/perfgate/perfgate/gate/metric"
)

// Version names the file format. Files of VersionV1 (one run, no windows) are still read.
const (
	Version   = "perfgate.baseline/v2"
	VersionV1 = "perfgate.baseline/v1"
)

// File is a baseline. Its fingerprint and figures are those of the run's peak phase
// (its only one, without phases); Phases holds every phase of a run with several.
type File struct {
	Version     string      `json:"version"`
	Created     time.Time   `json:"created"`
	Source      string      `json:"source"`
	Fingerprint Fingerprint `json:"fingerprint"`
	All         Metrics     `json:"all"`
	Endpoints   []Metrics   `json:"endpoints"`
	Phases      []Phase     `json:"phases,omitempty"`
	// Runs are the runs the figures above pool, each with its own figures and windows.
	Runs []Run `json:"runs,omitempty"`
	// Capacity is what capacity searches found (perfgate capacity), when the baseline
	// records them: rules such as "capacity > baseline - 10%" read it.
	Capacity *Capacity `json:"capacity,omitempty"`
}

// Capacity is the capacity searches a baseline records, in one unit.
type Capacity struct {
	// Unit is "rate" (arrivals a second) or "users".
	Unit     string        `json:"unit"`
	Searches []CapacityRun `json:"searches"`
}

// CapacityRun is one recorded search: its capacity, its bracket and its knee (0: none).
type CapacityRun struct {
	Source   string    `json:"source"`
	Started  time.Time `json:"started"`
	Capacity float64   `json:"capacity"`
	Low      float64   `json:"bracket_low"`
	High     float64   `json:"bracket_high"`
	Knee     float64   `json:"knee,omitempty"`
}

// Value is the mean over the searches of the capacity or the knee ("capacity",
// "knee"); false when a search found no knee.
func (c *Capacity) Value(metric string) (float64, bool) {
	var sum float64
	for _, r := range c.Searches {
		v := r.Capacity
		if metric == "knee" {
			v = r.Knee
		}
		if !(v > 0) {
			return 0, false
		}
		sum += v
	}
	return sum / float64(len(c.Searches)), len(c.Searches) > 0
}

// Run is one recorded run.
type Run struct {
	Source  string    `json:"source"`
	Started time.Time `json:"started"`
	// Contended is set for a run recorded on a machine too busy to judge, kept only
	// because the baseline was forced.
	Contended bool       `json:"contended,omitempty"`
	Phases    []RunPhase `json:"phases"`
}

// RunPhase is one phase of a recorded run: its hold's figures and time windows.
type RunPhase struct {
	Name      string    `json:"name"`
	All       Metrics   `json:"all"`
	Endpoints []Metrics `json:"endpoints"`
	Windows   []Window  `json:"windows"`
}

// Window is one time window of a run's hold.
type Window struct {
	Seconds float64 `json:"seconds"`
	All     Counts  `json:"all"`
	// Endpoints are in the order of the phase's endpoints.
	Endpoints []Counts `json:"endpoints"`
}

// Counts are one scope's figures in a window; Histogram as in Metrics.
type Counts struct {
	Requests  int64  `json:"requests"`
	Errors    int64  `json:"errors"`
	Histogram string `json:"histogram,omitempty"`
}

// Series is one run's record of one scope of a phase: its figures, and its windows
// (none for a baseline of the first version).
type Series struct {
	Metrics Metrics
	Windows []SeriesWindow
}

// SeriesWindow is one window of a Series.
type SeriesWindow struct {
	Seconds float64
	Counts
}

// Series returns each run's record of scope ("all" or an endpoint name) in a phase; a
// file without runs is one run, its own figures, without windows. ok is false when the
// phase or the scope is not in the file.
func (f *File) Series(phase string, main bool, scope string) (out []Series, ok bool) {
	if len(f.Runs) == 0 {
		ph, found := f.Phase(phase, main)
		if !found {
			return nil, false
		}
		m, found := ph.Find(scope)
		return []Series{{Metrics: m}}, found
	}
	for _, run := range f.Runs {
		rp := run.phase(phase, main)
		if rp == nil {
			return nil, false
		}
		m, i, found := rp.find(scope)
		if !found {
			return nil, false
		}
		s := Series{Metrics: m}
		for _, w := range rp.Windows {
			c := w.All
			if i >= 0 {
				if i >= len(w.Endpoints) {
					continue
				}
				c = w.Endpoints[i]
			}
			s.Windows = append(s.Windows, SeriesWindow{Seconds: w.Seconds, Counts: c})
		}
		out = append(out, s)
	}
	return out, true
}

func (r *Run) phase(name string, main bool) *RunPhase {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	if main && len(r.Phases) == 1 {
		return &r.Phases[0]
	}
	return nil
}

// find returns a scope's figures and its index among the endpoints (-1 for all).
func (p *RunPhase) find(scope string) (Metrics, int, bool) {
	if scope == "all" {
		return p.All, -1, true
	}
	for i, e := range p.Endpoints {
		if e.Name == scope {
			return e, i, true
		}
	}
	return Metrics{}, 0, false
}

// Phase is one phase's recorded figures.
type Phase struct {
	Name        string      `json:"name"`
	Fingerprint Fingerprint `json:"fingerprint"`
	All         Metrics     `json:"all"`
	Endpoints   []Metrics   `json:"endpoints"`
}

// Phase returns the figures of a phase; the file's own for the main phase of a run
// recorded without phases.
func (f *File) Phase(name string, main bool) (*Phase, bool) {
	for i := range f.Phases {
		if f.Phases[i].Name == name {
			return &f.Phases[i], true
		}
	}
	if main && len(f.Phases) == 0 {
		return &Phase{Name: name, Fingerprint: f.Fingerprint, All: f.All, Endpoints: f.Endpoints}, true
	}
	return nil, false
}

// Fingerprint is what must match for two runs to be compared: the model, the load and
// the endpoints. The duration may differ.
type Fingerprint struct {
	Model     string   `json:"model"`
	Users     int      `json:"users,omitempty"`
	Rate      float64  `json:"rate,omitempty"`
	Endpoints []string `json:"endpoints"`
}

// Mismatch says how a run's fingerprint differs from the baseline's, or "".
func (f Fingerprint) Mismatch(run Fingerprint) string {
	var diffs []string
	if f.Model != run.Model {
		diffs = append(diffs, fmt.Sprintf("the %s model, not the %s one", f.Model, run.Model))
	}
	if f.Users != run.Users {
		diffs = append(diffs, fmt.Sprintf("%d users, not %d", f.Users, run.Users))
	}
	if f.Rate != run.Rate {
		diffs = append(diffs, fmt.Sprintf("%g/s, not %g/s", f.Rate, run.Rate))
	}
	a, b := slices.Sorted(slices.Values(f.Endpoints)), slices.Sorted(slices.Values(run.Endpoints))
	if !slices.Equal(a, b) {
		diffs = append(diffs, fmt.Sprintf("endpoints %s, not %s", strings.Join(a, ", "), strings.Join(b, ", ")))
	}
	return strings.Join(diffs, "; ")
}

// Metrics is one endpoint's, or all requests', recorded figures.
type Metrics struct {
	Name       string  `json:"name"`
	Requests   int64   `json:"requests"`
	ErrorRate  float64 `json:"error_rate"`
	Throughput float64 `json:"throughput"`
	// MeanMs and MaxMs are kept apart; percentiles are read from the histogram.
	MeanMs float64 `json:"mean_ms"`
	MaxMs  float64 `json:"max_ms"`
	// Histogram is the latency HdrHistogram (microseconds), V2 compressed, base64.
	Histogram string `json:"histogram"`
}

// Figures are the recorded figures, for reading metrics from; a damaged histogram is an
// error.
func (m Metrics) Figures() (metric.Figures, error) {
	f := metric.Figures{Requests: m.Requests, Throughput: m.Throughput}
	// The file keeps the rate of errors, not their count: rounded back to a count, which
	// it was computed from, it gives the same rate.
	f.Errors = int64(math.Round(m.ErrorRate * float64(m.Requests)))
	if m.Histogram == "" {
		return f, nil
	}
	h, err := decode(m.Histogram)
	if err != nil {
		return f, fmt.Errorf("the baseline's histogram for %s is damaged: %v", m.Name, err)
	}
	f.Latency = h
	return f, nil
}

// Value returns a metric in its base unit (seconds for latencies), or an error if the
// baseline has no samples for it.
func (m Metrics) Value(mt metric.Metric) (float64, error) {
	if m.Requests == 0 {
		return 0, fmt.Errorf("the baseline has no samples for %s", m.Name)
	}
	f, err := m.Figures()
	if err != nil {
		return 0, err
	}
	v, ok := mt.Read(f)
	if !ok {
		return 0, fmt.Errorf("the baseline has no latency samples for %s", m.Name)
	}
	return v, nil
}

// decode reads an encoded histogram without letting a damaged one panic the library.
func decode(s string) (h *hdrhistogram.Histogram, err error) {
	if len(s) < 12 {
		return nil, errors.New("too short")
	}
	defer func() {
		if recover() != nil {
			h, err = nil, errors.New("not a histogram")
		}
	}()
	return hdrhistogram.Decode([]byte(s))
}

// Find returns the figures for a scope: "all" or an endpoint name.
func (f *Phase) Find(scope string) (Metrics, bool) {
	if scope == "all" {
		return f.All, true
	}
	for _, e := range f.Endpoints {
		if e.Name == scope {
			return e, true
		}
	}
	return Metrics{}, false
}

// Read reads a baseline file, and refuses one whose figures no run could have recorded
// (a hand edit gone wrong): a negative count, an error rate outside 0..1, a rate or a
// latency that is negative or not a number, a histogram that does not decode.
func Read(path string) (*File, error) {
	data, err := userfile.Read("baseline", path)
	if errors.Is(err, userfile.ErrNotExist) {
		return nil, fmt.Errorf("baseline file %s does not exist (make one with perfgate baseline RESULT.json -o %s)", path, path)
	}
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("baseline file %s is not valid JSON: %v", path, err)
	}
	if f.Version != Version && f.Version != VersionV1 {
		return nil, fmt.Errorf("baseline file %s has version %q, not %q", path, f.Version, Version)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("baseline file %s: %v: record it anew with perfgate baseline", path, err)
	}
	return &f, nil
}

// check finds figures no run could have recorded.
func (f *File) check() error {
	if c := f.Capacity; c != nil {
		if c.Unit != "rate" && c.Unit != "users" {
			return fmt.Errorf("capacity unit %q is neither rate nor users", c.Unit)
		}
		for i, r := range c.Searches {
			if !finite(r.Capacity) || r.Capacity < 0 || !finite(r.Knee) || r.Knee < 0 || !finite(r.Low) || !finite(r.High) {
				return fmt.Errorf("capacity search %d: capacity %v or knee %v is not a level", i+1, r.Capacity, r.Knee)
			}
		}
	}
	phases := append([]Phase{{Name: "the top level", All: f.All, Endpoints: f.Endpoints}}, f.Phases...)
	for i, r := range f.Runs {
		for _, rp := range r.Phases {
			phases = append(phases, Phase{Name: fmt.Sprintf("run %d, %s", i+1, rp.Name), All: rp.All, Endpoints: rp.Endpoints})
			for k, w := range rp.Windows {
				for _, c := range append([]Counts{w.All}, w.Endpoints...) {
					if err := c.check(); err != nil {
						return fmt.Errorf("run %d, %s, window %d: %v", i+1, rp.Name, k+1, err)
					}
				}
				if !finite(w.Seconds) || w.Seconds <= 0 {
					return fmt.Errorf("run %d, %s, window %d: seconds %v is not a length", i+1, rp.Name, k+1, w.Seconds)
				}
			}
		}
	}
	for _, ph := range phases {
		for _, m := range append([]Metrics{ph.All}, ph.Endpoints...) {
			where := fmt.Sprintf("%s, %s", ph.Name, m.Name)
			switch {
			case m.Requests < 0:
				return fmt.Errorf("%s: requests %d is negative", where, m.Requests)
			case !(m.ErrorRate >= 0 && m.ErrorRate <= 1):
				return fmt.Errorf("%s: error_rate %v is not between 0 and 1", where, m.ErrorRate)
			case !finite(m.Throughput) || m.Throughput < 0:
				return fmt.Errorf("%s: throughput %v is not a rate", where, m.Throughput)
			case !finite(m.MeanMs) || m.MeanMs < 0 || !finite(m.MaxMs) || m.MaxMs < 0:
				return fmt.Errorf("%s: mean_ms %v or max_ms %v is not a latency", where, m.MeanMs, m.MaxMs)
			}
			if m.Histogram != "" {
				h, err := decode(m.Histogram)
				if err != nil {
					return fmt.Errorf("%s: the histogram is damaged: %v", where, err)
				}
				if h.TotalCount() > m.Requests {
					return fmt.Errorf("%s: the histogram holds %d latencies of %d requests", where, h.TotalCount(), m.Requests)
				}
			}
		}
	}
	return nil
}

func (c Counts) check() error {
	if c.Requests < 0 || c.Errors < 0 || c.Errors > c.Requests {
		return fmt.Errorf("%d errors of %d requests", c.Errors, c.Requests)
	}
	if c.Histogram == "" {
		return nil
	}
	h, err := decode(c.Histogram)
	if err != nil {
		return fmt.Errorf("the histogram is damaged: %v", err)
	}
	if h.TotalCount() > c.Requests {
		return fmt.Errorf("the histogram holds %d latencies of %d requests", h.TotalCount(), c.Requests)
	}
	return nil
}

// Decode reads a histogram of the file (Metrics.Histogram, Counts.Histogram).
func Decode(s string) (*hdrhistogram.Histogram, error) { return decode(s) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Write writes a baseline file.
func (f *File) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}
