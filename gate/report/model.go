package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
	"github.com/perfgate/perfgate/gate/verdict"
)

// ResultVersion names the JSON result format; it changes only with incompatible changes.
const ResultVersion = "perfgate.result/v1"

// OpenModelNote is printed with every open-model report.
const OpenModelNote = "Open model: requests are sent on a fixed schedule whatever the target does, and latency " +
	"counts from when each request was due, so time spent queued behind a slow or stalled target is counted " +
	"(no coordinated omission); only the generator's own lateness in waking is left out, and reported as " +
	"schedule lag. Service time counts from the actual send."

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
	// Phases is every phase of a run with more than one, in order, each with its own
	// settings, delivery, stages and verdict; Settings, Delivery, Hold and Ramp above
	// are those of the phase named peak.
	Phases []Phase `json:"phases,omitempty"`
	// Verdicts judges each question the run answers on its own, when there is more
	// than one: each phase's rules, each phase's drift rules, the rules against the
	// baseline (regression) and the abort rules.
	Verdicts []GroupVerdict `json:"verdicts,omitempty"`
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

// GroupVerdict is the verdict of one group of checks (see Result.Verdicts).
type GroupVerdict struct {
	Name string `json:"name"`
	// Verdict is pass, fail, invalid (a rule had no samples) or "not run".
	Verdict string `json:"verdict"`
	Rules   int    `json:"rules"`
	Failed  int    `json:"failed"`
}

// Where is the check's scope, after its phase in a run with several: "recovery: all".
func (c Check) Where() string {
	if c.Phase == "" {
		return c.Scope
	}
	return c.Phase + ": " + c.Scope
}

// Group names the question a check answers: its phase ("peak" without phases), the
// phase's drift ("peak drift"), "regression" against the baseline, or "abort".
func (c Check) Group() string {
	phase := c.Phase
	if phase == "" {
		phase = plan.MainPhase
	}
	switch {
	case c.Scope == "abort":
		return "abort"
	case c.Baseline != nil:
		return "regression"
	case c.Drift:
		return phase + " drift"
	}
	return phase
}

// groupVerdicts judges the checks group by group, in the order groups first appear.
func groupVerdicts(checks []Check, phases []Phase) []GroupVerdict {
	var out []GroupVerdict
	index := map[string]int{}
	notRun := map[string]bool{}
	for _, ph := range phases {
		notRun[ph.Name] = ph.Verdict == "not run"
	}
	for _, c := range checks {
		g := c.Group()
		i, ok := index[g]
		if !ok {
			i = len(out)
			index[g] = i
			out = append(out, GroupVerdict{Name: g, Verdict: "pass"})
		}
		v := &out[i]
		v.Rules++
		switch {
		case c.Passed:
		case notRun[c.Phase] && c.Measured == nil:
			v.Verdict = "not run"
		case c.Measured == nil:
			v.Verdict = "invalid"
		default:
			v.Failed++
			if v.Verdict == "pass" {
				v.Verdict = "fail"
			}
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// Phase is one phase of a run with several.
type Phase struct {
	Name string `json:"name"`
	// Verdict is pass, fail or invalid for the phase's own rules, or "not run" when an
	// earlier phase ended the run.
	Verdict  string    `json:"verdict"`
	Load     PhaseLoad `json:"load"`
	Delivery Delivery  `json:"delivery"`
	Hold     Stage     `json:"hold"`
	Ramp     Stage     `json:"ramp"`
}

// PhaseLoad is a phase's load.
type PhaseLoad struct {
	Model           string  `json:"model"`
	Users           int     `json:"users,omitempty"`
	SpawnRate       float64 `json:"spawn_rate,omitempty"`
	Think           string  `json:"think,omitempty"`
	Rate            float64 `json:"rate,omitempty"`
	StartRate       float64 `json:"start_rate,omitempty"`
	RampSeconds     float64 `json:"ramp_seconds,omitempty"`
	MaxInFlight     int     `json:"max_in_flight,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// Window is one interval of the run, all endpoints together.
type Window struct {
	Phase        string  `json:"phase,omitempty"`
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
	// Endpoints are the same figures for each endpoint with requests in the window.
	Endpoints []WindowEndpoint `json:"endpoints,omitempty"`
}

// WindowEndpoint is one endpoint's share of a window.
type WindowEndpoint struct {
	Name       string  `json:"name"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Throughput float64 `json:"throughput"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
}

// Settings are the run's parameters, with no secret in them; the load is the main
// phase's.
type Settings struct {
	PhaseLoad
	Target         string   `json:"target"`
	TimeoutSeconds float64  `json:"timeout_seconds"`
	Insecure       bool     `json:"tls_insecure,omitempty"`
	ConfigFile     string   `json:"config_file,omitempty"`
	ThresholdFiles []string `json:"threshold_files"`
	Tasks          []Task   `json:"tasks"`
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
	Rule string `json:"rule"`
	// Phase is the phase the rule judges, in a run with several.
	Phase string `json:"phase,omitempty"`
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
	// Baseline is the baseline's value, for a rule against the baseline; Reference and
	// ReferenceValue name and give the other phase's value, for a rule against one
	// ("single-user.p99").
	Baseline       *float64 `json:"baseline,omitempty"`
	Reference      string   `json:"reference,omitempty"`
	ReferenceValue *float64 `json:"reference_value,omitempty"`
	// Drift is set for a drift rule. Start and End are its metric at the start and the end of the hold (the
	// medians of the first and last thirds of its windows); Measured is the change.
	Drift   bool     `json:"drift,omitempty"`
	Start   *float64 `json:"start,omitempty"`
	End     *float64 `json:"end,omitempty"`
	Samples int64    `json:"samples"`
	Passed  bool     `json:"passed"`
	Message string   `json:"message"`
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
	// Phases are every phase of a run with more than one; Plan, Run, Hold and Ramp
	// above are the main phase's.
	Phases []PhaseInput
}

// PhaseInput is one phase of a run: its plan (Plan.ForPhase), what the engine did, and
// its summaries. A phase that never ran has a zero Run.
type PhaseInput struct {
	Plan       *plan.Plan
	Run        load.Result
	Ran        bool
	Hold, Ramp stats.Summary
}

// WindowInput is a closed stats window with what the engine knew at its end.
type WindowInput struct {
	stats.Window
	Phase string
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
			PhaseLoad:      loadOf(p.Load),
			Target:         p.RedactedTarget(),
			TimeoutSeconds: p.Timeout.Seconds(),
			Insecure:       p.Insecure,
			ConfigFile:     p.ConfigFile,
			ThresholdFiles: append([]string{}, p.ThresholdFiles...),
		},
		Delivery: deliveryOf(p, in.Run),
		Note:     ClosedModelNote,
	}
	if p.Open {
		r.Note = OpenModelNote
	}
	for _, s := range p.Setup {
		r.Settings.Tasks = append(r.Settings.Tasks, Task{Name: s.Name, Method: s.Method, Setup: true})
	}
	for _, t := range p.Tasks {
		r.Settings.Tasks = append(r.Settings.Tasks, Task{Name: t.Name, Method: t.Method, Weight: t.Weight})
	}
	for _, c := range in.Verdict.Checks {
		ch := newCheck(c)
		if len(in.Phases) > 1 && c.Rule.Scope != "abort" {
			ch.Phase = p.Phases[c.Rule.Phase].Name
		}
		r.Checks = append(r.Checks, ch)
	}
	if a := in.Verdict.Aborted; a != nil {
		kind := a.Rule.Metric.Kind().String()
		r.Aborted = &Aborted{
			Rule: a.Rule.Text, File: a.Rule.File, Line: a.Rule.Pos.Line, AtSeconds: a.At.Seconds(),
			Message: fmt.Sprintf("stopped at %s: %s held (last window: %s over %s requests)",
				Seconds(a.At.Seconds()), a.Rule.Text, FormatValue(kind, a.Measured), Count(a.Requests)),
		}
	}
	r.Windows = []Window{}
	for _, w := range in.Windows {
		all := windowLatency(w.All)
		out := Window{
			Phase:        w.Phase,
			StartSeconds: w.Start.Seconds(), Seconds: w.Length.Seconds(), Stage: w.Stage.String(), Users: w.Users,
			Requests: w.All.Requests, Errors: w.All.Errors, Throughput: w.Throughput(),
			P50Ms: all.P50, P99Ms: all.P99, MaxMs: all.Max,
		}
		for i, e := range w.Endpoints {
			if e.Requests > 0 && i < len(p.Endpoints) {
				l := windowLatency(e)
				out.Endpoints = append(out.Endpoints, WindowEndpoint{
					Name: p.Endpoints[i].Name, Requests: e.Requests, Errors: e.Errors, Throughput: round(w.RateOf(e.Requests), 3),
					P50Ms: l.P50, P99Ms: l.P99, MaxMs: l.Max,
				})
			}
		}
		r.Windows = append(r.Windows, out)
	}
	var err error
	enc := &histEncoder{}
	if len(in.Phases) > 1 {
		started := false
		for i, ph := range in.Phases {
			if ph.Ran {
				if !started {
					r.Started, started = ph.Run.Start.UTC(), true
				}
				r.Ended = ph.Run.End.UTC()
			}
			out := Phase{Name: ph.Plan.PhaseName(), Verdict: "not run", Load: loadOf(ph.Plan.Load)}
			if ph.Ran {
				out.Verdict = phaseVerdict(ph, r.Checks, out.Name)
				out.Delivery = deliveryOf(ph.Plan, ph.Run)
			}
			if out.Hold, err = newStage(enc, ph.Hold); err != nil {
				return nil, err
			}
			if out.Ramp, err = newStage(enc, ph.Ramp); err != nil {
				return nil, err
			}
			if i == p.Main {
				r.Hold, r.Ramp = out.Hold, out.Ramp
			}
			r.Phases = append(r.Phases, out)
		}
		r.Verdicts = groupVerdicts(r.Checks, r.Phases)
		if p.Main >= 0 {
			return r, nil
		}
	} else {
		r.Verdicts = groupVerdicts(r.Checks, nil)
	}
	if r.Hold, err = newStage(enc, in.Hold); err != nil {
		return nil, err
	}
	if r.Ramp, err = newStage(enc, in.Ramp); err != nil {
		return nil, err
	}
	return r, nil
}

// loadOf describes a phase's load.
func loadOf(l plan.Load) PhaseLoad {
	out := PhaseLoad{Model: "closed", DurationSeconds: l.Hold.Seconds()}
	if l.Open {
		out.Model = "open"
		out.Rate, out.StartRate, out.MaxInFlight = l.Rate, l.StartRate, l.MaxInFlight
		out.RampSeconds = l.RateRamp.Seconds()
	} else {
		out.Users, out.SpawnRate, out.Think = l.Users, l.SpawnRate, l.Think.String()
	}
	return out
}

// deliveryOf says what load a phase's engine delivered.
func deliveryOf(p *plan.Plan, run load.Result) Delivery {
	out := Delivery{
		PlannedUsers: run.PlannedUsers,
		PeakUsers:    run.PeakUsers,
		HoldSeconds:  run.HoldDuration().Seconds(),
		Canceled:     run.Canceled,
		GeneratorCPU: round(run.GeneratorCPU, 3),
	}
	if p.Open {
		d := run.Delivery
		out.PlannedRequests, out.SentRequests = d.Planned, d.Sent
		out.LateRequests, out.GeneratorLate = d.Late, d.GeneratorLate
		out.PeakInFlight, out.InFlightCapHit = d.PeakInFlight, d.CapReached
		if hold := run.HoldDuration(); hold > 0 {
			out.AchievedRate = round(float64(d.Sent)/hold.Seconds(), 2)
		}
	}
	if !run.HoldStart.IsZero() {
		out.RampSeconds = run.HoldStart.Sub(run.Start).Seconds()
	} else if !run.End.IsZero() {
		out.RampSeconds = run.End.Sub(run.Start).Seconds()
	}
	return out
}

// phaseVerdict judges one phase: invalid if its load was not delivered or a rule of it
// had no samples, failed if a rule of it was breached.
func phaseVerdict(ph PhaseInput, checks []Check, name string) string {
	if len(ph.Run.Invalid) > 0 {
		return "invalid"
	}
	v := "pass"
	for _, c := range checks {
		switch {
		case c.Phase != name || c.Passed:
		case c.Measured == nil:
			return "invalid"
		default:
			v = "fail"
		}
	}
	return v
}

func newCheck(c verdict.Check) Check {
	out := Check{
		Rule: c.Rule.Text, Scope: c.Rule.Scope, File: c.Rule.File, Line: c.Rule.Pos.Line,
		Kind: c.Rule.Metric.Kind().String(), Metric: c.Rule.Metric.Name, Op: c.Rule.Op, Limit: c.Rule.Limit, Samples: c.Samples, Passed: c.Passed,
	}
	if !c.NoData {
		m := c.Measured
		out.Measured = &m
	}
	switch ref := c.Rule.Ref; {
	case c.Rule.Drift:
		out.Kind, out.Drift = driftKind(c.Rule.Metric.Kind()), true
		if !c.NoData {
			from, to := c.From, c.To
			out.Start, out.End = &from, &to
		}
		out.Message = out.describeDrift(c.Rule.Metric.Kind().String())
	case ref != nil && ref.Baseline():
		b := c.Reference
		out.Baseline = &b
		out.Message = out.describeAgainstReference(ref.String(), b)
	case ref != nil:
		v := c.Reference
		out.Reference, out.ReferenceValue = ref.Name(), &v
		if !c.NoData {
			out.Limit = c.Rule.Limit
		}
		out.Message = out.describeAgainstReference(ref.String(), v)
	default:
		out.Message = out.describe()
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

// windowLatency summarises a window's latencies, zero when it had no requests.
func windowLatency(w stats.WindowCounts) Latency {
	if w.Requests == 0 {
		return Latency{}
	}
	return latencyOf(w.Latency.Histogram())
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
