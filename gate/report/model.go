package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
	"github.com/perfgate/perfgate/gate/verdict"
)

// ResultVersion names the JSON result format; it changes only with incompatible changes.
const ResultVersion = "perfgate.result/v1"

// OpenModelNote is printed with every open-model report.
const OpenModelNote = "Open model: requests are sent on a fixed schedule whatever the target does, and latency " +
	"counts from when each request was due (less 1 ms of timer slack), so time spent queued behind a slow " +
	"or stalled target is counted (no coordinated omission). Service time counts from the actual send."

// ClosedModelNote is printed with every closed-model report.
const ClosedModelNote = "Closed model: each user waits for its response before the next request, so latency is " +
	"service time per user and a stalled server slows the load instead of queueing it. " +
	"For latency SLOs prefer an open model (a fixed arrival rate)."

// Result is everything known about one run: settings, delivery, stats and verdict.
type Result struct {
	Version  string    `json:"version"`
	Tool     string    `json:"tool"`
	Verdict  string    `json:"verdict"`
	ExitCode int       `json:"exit_code"`
	Reasons  []string  `json:"reasons,omitempty"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Settings Settings  `json:"settings"`
	Delivery Delivery  `json:"delivery"`
	Checks   []Check   `json:"checks"`
	// Hold is the measured window; Ramp the users' start-up, reported apart.
	Hold Stage `json:"hold"`
	Ramp Stage `json:"ramp"`
	// Windows is the run over time, one entry per progress interval.
	Windows []Window `json:"windows"`
	// Aborted says which abort rule stopped the run early, and when.
	Aborted *Aborted `json:"aborted,omitempty"`
	Note    string   `json:"note"`
}

// Aborted is the abort rule that stopped a run.
type Aborted struct {
	Rule      string  `json:"rule"`
	File      string  `json:"file"`
	Line      int     `json:"line"`
	AtSeconds float64 `json:"at_seconds"`
	Message   string  `json:"message"`
}

// Window is one interval of the run, all endpoints together.
type Window struct {
	StartSeconds float64 `json:"start_seconds"`
	Seconds      float64 `json:"seconds"`
	Stage        string  `json:"stage"`
	Users        int     `json:"users"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	Throughput   float64 `json:"throughput"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
}

// Settings are the run's parameters, with no secret in them.
type Settings struct {
	Model  string `json:"model"`
	Target string `json:"target"`
	// Closed model.
	Users     int     `json:"users,omitempty"`
	SpawnRate float64 `json:"spawn_rate,omitempty"`
	Think     string  `json:"think,omitempty"`
	// Open model.
	Rate            float64  `json:"rate,omitempty"`
	StartRate       float64  `json:"start_rate,omitempty"`
	RampSeconds     float64  `json:"ramp_seconds,omitempty"`
	MaxInFlight     int      `json:"max_in_flight,omitempty"`
	DurationSeconds float64  `json:"duration_seconds"`
	TimeoutSeconds  float64  `json:"timeout_seconds"`
	Insecure        bool     `json:"tls_insecure,omitempty"`
	ConfigFile      string   `json:"config_file,omitempty"`
	ThresholdFiles  []string `json:"threshold_files"`
	Tasks           []Task   `json:"tasks"`
}

// Task describes one setup step or task, without its headers or body.
type Task struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	Weight int    `json:"weight,omitempty"`
	Setup  bool   `json:"setup,omitempty"`
}

// Delivery says whether the planned load was delivered.
type Delivery struct {
	// Closed model: users planned and running at once at most.
	PlannedUsers int     `json:"planned_users,omitempty"`
	PeakUsers    int     `json:"peak_users,omitempty"`
	RampSeconds  float64 `json:"ramp_seconds"`
	HoldSeconds  float64 `json:"hold_seconds"`
	Canceled     bool    `json:"canceled,omitempty"`
	// Open model: requests due in the hold, sent, sent more than 10 ms late (all
	// causes, and the generator's own), the rate achieved, and requests in flight.
	PlannedRequests int64   `json:"planned_requests,omitempty"`
	SentRequests    int64   `json:"sent_requests,omitempty"`
	LateRequests    int64   `json:"late_requests,omitempty"`
	GeneratorLate   int64   `json:"generator_late_requests,omitempty"`
	AchievedRate    float64 `json:"achieved_rate,omitempty"`
	PeakInFlight    int     `json:"peak_in_flight,omitempty"`
	InFlightCapHit  bool    `json:"max_in_flight_reached,omitempty"`
	// GeneratorCPU is the share of its processors perfgate used during the hold.
	GeneratorCPU float64 `json:"generator_cpu"`
}

// Open reports whether the run used the open model.
func (r *Result) Open() bool { return r.Settings.Model == "open" }

// Check is one rule's outcome.
type Check struct {
	Rule  string `json:"rule"`
	Scope string `json:"scope"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	// Kind is latency, ratio, rate or count; Limit and Measured are in its base unit
	// (seconds, a fraction, per second, a count).
	Kind     string   `json:"kind"`
	Metric   string   `json:"metric"`
	Op       string   `json:"op"`
	Limit    float64  `json:"limit"`
	Measured *float64 `json:"measured"` // null when there were no samples
	// Baseline is the baseline's value, for a rule against the baseline.
	Baseline *float64 `json:"baseline,omitempty"`
	Samples  int64    `json:"samples"`
	Passed   bool     `json:"passed"`
	Message  string   `json:"message"`
}

// Stage summarises one stage of the run.
type Stage struct {
	WindowSeconds float64    `json:"window_seconds"`
	All           Endpoint   `json:"all"`
	Endpoints     []Endpoint `json:"endpoints"`
	// Open model only: all requests' service time (from the actual send) and schedule
	// lag (how late the send was), beside the latency from the intended send in All.
	ServiceMs *Latency `json:"service_ms,omitempty"`
	LagMs     *Latency `json:"schedule_lag_ms,omitempty"`
}

// Endpoint summarises one endpoint, or all requests together.
type Endpoint struct {
	Name       string           `json:"name"`
	Setup      bool             `json:"setup,omitempty"`
	Requests   int64            `json:"requests"`
	Errors     int64            `json:"errors"`
	ErrorRate  float64          `json:"error_rate"`
	Throughput float64          `json:"throughput"`
	Bytes      int64            `json:"bytes_received"`
	ErrorKinds map[string]int64 `json:"errors_by_kind,omitempty"`
	Status     map[string]int64 `json:"status_codes,omitempty"`
	LatencyMs  Latency          `json:"latency_ms"`
	// Histogram is the latency HdrHistogram (microseconds) in its V2 compressed,
	// base64 encoding, so results can be merged and re-evaluated later.
	Histogram string `json:"histogram"`
}

// Latency holds summary latencies in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// Input is what Build needs.
type Input struct {
	Tool     string
	Plan     *plan.Plan
	Run      load.Result
	Hold     stats.Summary
	Ramp     stats.Summary
	Verdict  verdict.Verdict
	ExitCode int
	Windows  []WindowInput
}

// WindowInput is a closed stats window with what the engine knew at its end.
type WindowInput struct {
	stats.Window
	Users int
	Stage load.Stage
}

// Build assembles the neutral model of a run.
func Build(in Input) (*Result, error) {
	p := in.Plan
	r := &Result{
		Version:  ResultVersion,
		Tool:     in.Tool,
		Verdict:  in.Verdict.Status.String(),
		ExitCode: in.ExitCode,
		Reasons:  in.Verdict.Reasons,
		Started:  in.Run.Start.UTC(),
		Ended:    in.Run.End.UTC(),
		Settings: Settings{
			Model:           "closed",
			Target:          p.RedactedTarget(),
			DurationSeconds: p.Hold.Seconds(),
			TimeoutSeconds:  p.Timeout.Seconds(),
			Insecure:        p.Insecure,
			ConfigFile:      p.ConfigFile,
			ThresholdFiles:  append([]string{}, p.ThresholdFiles...),
		},
		Delivery: Delivery{
			PlannedUsers: in.Run.PlannedUsers,
			PeakUsers:    in.Run.PeakUsers,
			HoldSeconds:  in.Run.HoldDuration().Seconds(),
			Canceled:     in.Run.Canceled,
			GeneratorCPU: round(in.Run.GeneratorCPU, 3),
		},
		Note: ClosedModelNote,
	}
	if p.Open {
		r.Settings.Model, r.Note = "open", OpenModelNote
		r.Settings.Rate, r.Settings.StartRate, r.Settings.MaxInFlight = p.Rate, p.StartRate, p.MaxInFlight
		r.Settings.RampSeconds = p.RateRamp.Seconds()
		d := in.Run.Delivery
		r.Delivery.PlannedRequests, r.Delivery.SentRequests = d.Planned, d.Sent
		r.Delivery.LateRequests, r.Delivery.GeneratorLate = d.Late, d.GeneratorLate
		r.Delivery.PeakInFlight, r.Delivery.InFlightCapHit = d.PeakInFlight, d.CapReached
		if hold := in.Run.HoldDuration(); hold > 0 {
			r.Delivery.AchievedRate = round(float64(d.Sent)/hold.Seconds(), 2)
		}
	} else {
		r.Settings.Users, r.Settings.SpawnRate, r.Settings.Think = p.Users, p.SpawnRate, p.Think.String()
	}
	if !in.Run.HoldStart.IsZero() {
		r.Delivery.RampSeconds = in.Run.HoldStart.Sub(in.Run.Start).Seconds()
	} else if !in.Run.End.IsZero() {
		r.Delivery.RampSeconds = in.Run.End.Sub(in.Run.Start).Seconds()
	}
	for _, s := range p.Setup {
		r.Settings.Tasks = append(r.Settings.Tasks, Task{Name: s.Name, Method: s.Method, Setup: true})
	}
	for _, t := range p.Tasks {
		r.Settings.Tasks = append(r.Settings.Tasks, Task{Name: t.Name, Method: t.Method, Weight: t.Weight})
	}
	for _, c := range in.Verdict.Checks {
		r.Checks = append(r.Checks, newCheck(c))
	}
	if a := in.Verdict.Aborted; a != nil {
		kind := kindNames[a.Rule.Kind]
		r.Aborted = &Aborted{
			Rule: a.Rule.Text, File: a.Rule.File, Line: a.Rule.Pos.Line, AtSeconds: a.At.Seconds(),
			Message: fmt.Sprintf("stopped at %s: %s held (last window: %s over %s requests)",
				Seconds(a.At.Seconds()), a.Rule.Text, FormatValue(kind, a.Measured), Count(a.Requests)),
		}
	}
	r.Windows = []Window{}
	for _, w := range in.Windows {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		r.Windows = append(r.Windows, Window{
			StartSeconds: w.Start.Seconds(), Seconds: w.Length.Seconds(), Stage: w.Stage.String(), Users: w.Users,
			Requests: w.Requests, Errors: w.Errors, Throughput: w.Throughput(),
			P50Ms: ms(w.P50), P99Ms: ms(w.P99), MaxMs: ms(w.Max),
		})
	}
	var err error
	enc := &histEncoder{}
	if r.Hold, err = newStage(enc, in.Hold); err != nil {
		return nil, err
	}
	if r.Ramp, err = newStage(enc, in.Ramp); err != nil {
		return nil, err
	}
	return r, nil
}

var kindNames = map[config.Kind]string{
	config.KindLatency: "latency", config.KindRatio: "ratio", config.KindRate: "rate", config.KindCount: "count",
}

func newCheck(c verdict.Check) Check {
	out := Check{
		Rule: c.Rule.Text, Scope: c.Rule.Scope, File: c.Rule.File, Line: c.Rule.Pos.Line,
		Kind: kindNames[c.Rule.Kind], Metric: c.Rule.Metric, Op: c.Rule.Op, Limit: c.Rule.Limit, Samples: c.Samples, Passed: c.Passed,
	}
	if !c.NoData {
		m := c.Measured
		out.Measured = &m
	}
	if c.Rule.Baseline != nil {
		b := c.Rule.BaselineValue
		out.Baseline = &b
		out.Message = out.describeAgainstBaseline(c.Rule.Baseline.String())
		return out
	}
	out.Message = out.describe()
	return out
}

// describe is the one-line account of a check used by every report.
func (c Check) describe() string {
	if c.Measured == nil {
		return fmt.Sprintf("no samples: %s cannot be judged (limit %s %s)", c.Rule, c.Op, FormatValue(c.Kind, c.Limit))
	}
	return fmt.Sprintf("measured %s, limit %s %s, %s samples",
		FormatValue(c.Kind, *c.Measured), c.Op, FormatValue(c.Kind, c.Limit), Count(c.Samples))
}

// describeAgainstBaseline is describe with the baseline and the change from it.
func (c Check) describeAgainstBaseline(ref string) string {
	limit := fmt.Sprintf("%s %s (%s: %s)", c.Op, FormatValue(c.Kind, c.Limit), ref, FormatValue(c.Kind, *c.Baseline))
	if c.Measured == nil {
		return fmt.Sprintf("no samples: %s cannot be judged (limit %s)", c.Rule, limit)
	}
	delta := ""
	switch {
	case c.Kind == "ratio":
		delta = fmt.Sprintf("%+.2fpp", 100*(*c.Measured-*c.Baseline))
	case *c.Baseline != 0:
		delta = fmt.Sprintf("%+.1f%%", 100*(*c.Measured / *c.Baseline - 1))
	}
	return fmt.Sprintf("measured %s, limit %s, %s samples; %s against the baseline",
		FormatValue(c.Kind, *c.Measured), limit, Count(c.Samples), delta)
}

func newStage(enc *histEncoder, s stats.Summary) (Stage, error) {
	st := Stage{WindowSeconds: s.Window.Seconds()}
	if s.Service != nil && s.Service.TotalCount() > 0 {
		svc, lag := latencyOf(s.Service), latencyOf(s.Lag)
		st.ServiceMs, st.LagMs = &svc, &lag
	}
	var err error
	if st.All, err = newEndpoint(enc, &s.All); err != nil {
		return st, err
	}
	for i := range s.Endpoints {
		e, err := newEndpoint(enc, &s.Endpoints[i])
		if err != nil {
			return st, err
		}
		st.Endpoints = append(st.Endpoints, e)
	}
	return st, nil
}

func newEndpoint(enc *histEncoder, e *stats.Endpoint) (Endpoint, error) {
	out := Endpoint{
		Name: e.Name, Setup: e.Setup, Requests: e.Requests, Errors: e.Errors,
		ErrorRate: e.ErrorRate(), Throughput: e.Throughput, Bytes: e.Bytes,
	}
	for k, n := range e.ByKind {
		if n > 0 && load.Kind(k) != load.OK {
			if out.ErrorKinds == nil {
				out.ErrorKinds = map[string]int64{}
			}
			out.ErrorKinds[load.Kind(k).String()] = n
		}
	}
	for _, code := range e.StatusCodes() {
		if out.Status == nil {
			out.Status = map[string]int64{}
		}
		out.Status[strconv.Itoa(code)] = e.Status[code]
	}
	if e.Hist == nil {
		return out, nil
	}
	if e.Requests > 0 {
		out.LatencyMs = latencyOf(e.Hist)
	}
	h, err := enc.encode(e.Hist)
	if err != nil {
		return out, fmt.Errorf("encode histogram of %s: %w", e.Name, err)
	}
	out.Histogram = h
	return out, nil
}

// latencyOf summarises a histogram of microseconds in milliseconds.
func latencyOf(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Min: ms(h.Min()), Mean: math.Round(h.Mean()) / 1000,
		P50: ms(h.ValueAtPercentile(50)), P90: ms(h.ValueAtPercentile(90)), P95: ms(h.ValueAtPercentile(95)),
		P99: ms(h.ValueAtPercentile(99)), P999: ms(h.ValueAtPercentile(99.9)), Max: ms(h.Max()),
	}
}
