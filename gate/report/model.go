package report

import (
	"time"

	"github.com/perfgate/perfgate/gate/internal/safetext"
)

// ResultVersion names the JSON result format; it changes only with incompatible changes.
// Files of the previous version, perfgate.result/v1, are still read.
const ResultVersion = "perfgate.result/v2"

// OpenModelNote is printed with every open-model report.
const OpenModelNote = "Open model: requests are sent on a fixed schedule whatever the target does, and latency " +
	"counts from when each request was due, so time spent queued behind a slow or stalled target is counted " +
	"(no coordinated omission); only the generator's own lateness in waking is left out, and reported as " +
	"schedule lag. Service time counts from the actual send."

// ClosedModelNote is printed with every closed-model report.
const ClosedModelNote = "Closed model: each user waits for its response before the next request, so latency is " +
	"service time per user and a stalled server slows the load instead of queueing it. " +
	"For latency SLOs prefer an open model (a fixed arrival rate)."

// Result is everything known about one run: settings, phases with what each delivered
// and measured, time windows, every check and every verdict. It is also the versioned
// JSON result file, and every writer renders from it alone.
type Result struct {
	Version string `json:"version"`
	Tool    string `json:"tool"`
	// Verdict is pass, fail or invalid; ExitCode is the process's.
	Verdict  string    `json:"verdict"`
	ExitCode int       `json:"exit_code"`
	Reasons  []Reason  `json:"reasons,omitempty"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Settings Settings  `json:"settings"`
	// Phases is every phase of the run, in order: a run without phases has one, peak.
	Phases []Phase `json:"phases"`
	Checks []Check `json:"checks"`
	// Verdicts judges each question the run answers on its own: each phase's rules,
	// each phase's drift rules, the rules against the baseline (regression) and the
	// abort rules.
	Verdicts []GroupVerdict `json:"verdicts"`
	// Windows is the run over time, one entry per progress interval.
	Windows []Window `json:"windows"`
	// Aborted says which abort rule stopped the run early, and when.
	Aborted *Aborted `json:"aborted,omitempty"`
	// Confidence is one less the family-wise error of the statistical rules: the chance
	// that a run whose every rule holds fails anyway is at most 1 - Confidence.
	Confidence float64 `json:"confidence,omitempty"`
	// InconclusiveWarns is set when a rule left inconclusive is a warning, not a reason
	// for no verdict; Warnings counts those rules.
	InconclusiveWarns bool `json:"inconclusive_warns,omitempty"`
	Warnings          int  `json:"warnings,omitempty"`
	// Shard is set in the result of one shard of a run split over several processes
	// (perfgate run --shard I --shards N): its verdict says only whether it delivered
	// its share of the load; the run's belongs to perfgate merge. Shards is set in the
	// merge's result: each shard it merged, and how far apart their holds began.
	Shard  *ShardOf      `json:"shard,omitempty"`
	Shards []MergedShard `json:"shards,omitempty"`
	Note   string        `json:"note"`
}

// ShardOf says which shard of a run a result is: Index counts from 0 (as Kubernetes'
// JOB_COMPLETION_INDEX does), Of is how many there are; Digest identifies the config and
// thresholds every shard and the merge must share; WindowSeconds is the length of its
// time windows, which close on the wall clock's multiples of it on every machine;
// StartAt is the common start the shards waited for, if one was given.
type ShardOf struct {
	Index         int        `json:"index"`
	Of            int        `json:"of"`
	Digest        string     `json:"digest"`
	WindowSeconds float64    `json:"window_seconds"`
	StartAt       *time.Time `json:"start_at,omitempty"`
}

// MergedShard is one shard of a merged run: its result file, its exit code, when its
// main phase's hold began (and ended), and how long after the earliest shard's it began.
type MergedShard struct {
	Index       int       `json:"index"`
	File        string    `json:"file"`
	ExitCode    int       `json:"exit_code"`
	HoldStart   time.Time `json:"hold_start"`
	HoldEnd     time.Time `json:"hold_end"`
	SkewSeconds float64   `json:"start_skew_seconds"`
}

// Reason is why a run has no valid verdict.
type Reason struct {
	// Code names the reason (see package verdict): setup_failed, rate_short... (none in
	// a result of version 1)
	Code string `json:"code,omitempty"`
	// Phase is the phase it concerns, if one.
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message"`
}

// Settings are the run's parameters, with no secret in them.
type Settings struct {
	Target string `json:"target"`
	// Protocol is what the load spoke: "HTTP/1.1", "HTTP/1.1 over TLS" or "HTTP/2 over
	// TLS" (absent when the target was never reached).
	Protocol       string   `json:"protocol,omitempty"`
	TimeoutSeconds float64  `json:"timeout_seconds"`
	Insecure       bool     `json:"tls_insecure,omitempty"`
	ConfigFile     string   `json:"config_file,omitempty"`
	ThresholdFiles []string `json:"threshold_files"`
	Tasks          []Task   `json:"tasks"`
	// MainPhase names the phase that rules outside phases: judge (peak), or the first.
	MainPhase string `json:"main_phase"`
}

// Task describes one setup step or task, without its headers or body.
type Task struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	Weight int    `json:"weight,omitempty"`
	Setup  bool   `json:"setup,omitempty"`
}

// Phase is one phase of a run.
type Phase struct {
	Name string `json:"name"`
	// Verdict is pass, fail or invalid for the phase's own rules and delivery, or
	// "not run" when an earlier phase ended the run.
	Verdict  string    `json:"verdict"`
	Load     PhaseLoad `json:"load"`
	Delivery Delivery  `json:"delivery"`
	// Hold is the measured window; Ramp the start-up, reported apart.
	Hold Stage `json:"hold"`
	Ramp Stage `json:"ramp"`
	// Resources are what the target's resources did over the hold's windows, when a
	// source was configured (resources: in the config).
	Resources []ResourceStat `json:"resources,omitempty"`
}

// ResourceStat is one target resource over a hold: its mean and highest window value
// (a counter's rate, a gauge's value), from the windows in which it could be read.
type ResourceStat struct {
	Name    string `json:"name"`
	Metric  string `json:"metric"`
	Counter bool   `json:"counter,omitempty"`
	// HistogramMean is set for a histogram read as the mean of what it observed in each
	// window (in seconds, for a metric named so).
	HistogramMean bool    `json:"histogram_mean,omitempty"`
	Mean          float64 `json:"mean"`
	Max           float64 `json:"max"`
	Windows       int     `json:"windows"`
	Of            int     `json:"of"`
	// Error is the first reason a window's resources could not be read, if any.
	Error string `json:"error,omitempty"`
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

// Open reports whether the load is the open model's.
func (l PhaseLoad) Open() bool { return l.Model == "open" }

// Delivery says whether a phase's planned load was delivered.
type Delivery struct {
	// Closed model: users planned and running at once at most, and with think time,
	// how many woke from it more than 10 ms late in the hold, and the seconds of the
	// hold in which over 10% did (the generator's own lateness, as in the open model).
	PlannedUsers      int     `json:"planned_users,omitempty"`
	PeakUsers         int     `json:"peak_users,omitempty"`
	LateWakes         int64   `json:"late_wakes,omitempty"`
	WakeBehindSeconds float64 `json:"wake_behind_seconds,omitempty"`
	RampSeconds       float64 `json:"ramp_seconds"`
	HoldSeconds       float64 `json:"hold_seconds"`
	// HoldStart and HoldEnd are when the hold began and ended, by this machine's clock
	// (absent for a hold that never began).
	HoldStart *time.Time `json:"hold_start,omitempty"`
	HoldEnd   *time.Time `json:"hold_end,omitempty"`
	Canceled  bool       `json:"canceled,omitempty"`
	// Open model: requests due in the hold, sent, sent more than 10 ms late (all
	// causes, and the generator's own), the seconds of the hold in which the
	// generator was behind its schedule, the rate achieved, and requests in flight.
	PlannedRequests int64   `json:"planned_requests,omitempty"`
	SentRequests    int64   `json:"sent_requests,omitempty"`
	LateRequests    int64   `json:"late_requests,omitempty"`
	GeneratorLate   int64   `json:"generator_late_requests,omitempty"`
	BehindSeconds   float64 `json:"generator_behind_seconds,omitempty"`
	AchievedRate    float64 `json:"achieved_rate,omitempty"`
	PeakInFlight    int     `json:"peak_in_flight,omitempty"`
	InFlightCapHit  bool    `json:"max_in_flight_reached,omitempty"`
	// GeneratorCPU is the share of its processors perfgate used during the hold.
	GeneratorCPU float64 `json:"generator_cpu"`
	// TLS is the phase's TLS handshakes, in every stage (absent for plain HTTP).
	TLS *Handshakes `json:"tls,omitempty"`
	// Host is how contended the machine was over the hold's windows.
	Host *Host `json:"host,omitempty"`
}

// Handshakes are a phase's TLS handshakes: how many new connections made one, how many
// of those resumed a session, and how long they took. A new connection's handshake is
// also in the latency of the request that opened it, as its user waited for it.
type Handshakes struct {
	Count   int64   `json:"handshakes"`
	Resumed int64   `json:"resumed"`
	MeanMs  float64 `json:"mean_ms"`
	MaxMs   float64 `json:"max_ms"`
}

// Host is how contended the machine was while perfgate measured, each figure a share
// of the time (absent where the machine gives none): the time in which some runnable
// task waited for a processor (Linux's CPU pressure), and the processors' time taken by
// the hypervisor (steal), used by other processes, and by perfgate itself; and how long
// perfgate's own threads waited for a processor.
type Host struct {
	CPUPressure    *float64 `json:"cpu_pressure,omitempty"`
	Steal          *float64 `json:"steal,omitempty"`
	OtherProcesses *float64 `json:"other_processes,omitempty"`
	Generator      *float64 `json:"generator,omitempty"`
	// GeneratorWait is how long perfgate's threads waited for a processor, in seconds a
	// second (0.012: 12 ms a second).
	GeneratorWait *float64 `json:"generator_wait,omitempty"`
	// GeneratorWaitPerRunMs is how long, on average, one of perfgate's threads that
	// became ready to run waited for a processor, in milliseconds.
	GeneratorWaitPerRunMs *float64 `json:"generator_wait_per_run_ms,omitempty"`
}

// Stage summarises one stage of a phase.
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
	// GeneratorFailures counts the requests perfgate could not make for want of its own
	// resources: none of the target's requests or errors, and a reason for no verdict.
	GeneratorFailures int64            `json:"generator_failures,omitempty"`
	Status            map[string]int64 `json:"status_codes,omitempty"`
	LatencyMs         Latency          `json:"latency_ms"`
	// Histogram is the latency HdrHistogram (microseconds) in its V2 compressed,
	// base64 encoding, so results can be merged and re-evaluated later.
	Histogram string `json:"histogram" safetext:"raw"`
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

// Window is one interval of the run, all endpoints together.
type Window struct {
	Phase        string  `json:"phase"`
	StartSeconds float64 `json:"start_seconds"`
	Seconds      float64 `json:"seconds"`
	Stage        string  `json:"stage"`
	Users        int     `json:"users"`
	Host         *Host   `json:"host,omitempty"`
	// Resources are the target's resources in the window, by name; ResourceError why
	// they could not be read.
	Resources     map[string]float64 `json:"resources,omitempty"`
	ResourceError string             `json:"resource_error,omitempty"`
	WindowFigures
	// Endpoints are the same figures for each endpoint with requests in the window.
	Endpoints []WindowEndpoint `json:"endpoints,omitempty"`
}

// WindowEndpoint is one endpoint's share of a window.
type WindowEndpoint struct {
	Name string `json:"name"`
	WindowFigures
}

// WindowFigures are what a window measured of one scope.
type WindowFigures struct {
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Throughput float64 `json:"throughput"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	// Histogram is the window's latency HdrHistogram, as in Endpoint, with the hold's
	// settings: windows merge exactly, with each other and across runs.
	Histogram string `json:"histogram,omitempty" safetext:"raw"`
}

// Check is one rule's outcome.
type Check struct {
	Rule string `json:"rule"`
	// Phase is the phase the rule judges (for an abort rule, the one it stopped).
	Phase string `json:"phase"`
	Scope string `json:"scope"`
	// Group is the question the rule answers (see Result.Verdicts).
	Group string `json:"group"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	// Kind is latency, ratio, rate or count (change or ratio_change for a drift rule);
	// Limit and Measured are in its base unit (seconds, a fraction, per second, a count).
	Kind     string   `json:"kind"`
	Metric   string   `json:"metric"`
	Op       string   `json:"op"`
	Limit    float64  `json:"limit"`
	Measured *float64 `json:"measured"` // null when the rule was not judged
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
	// Interval says how sure a statistical rule is (see Interval); absent for a rule
	// judged on its measured value alone.
	Interval *Interval `json:"interval,omitempty"`
	// Status is pass, fail, inconclusive (the interval straddles the limit), invalid (no
	// data to judge) or "not run" (its phase did not).
	Status  string `json:"status"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
}

// Interval is a statistical rule's confidence interval for the measured value, at
// Level (two-sided, after the family-wise control): the rule passes when it lies
// wholly inside the limit, fails when wholly outside. For a rule against a reference,
// it includes the reference's uncertainty and, for a baseline of several runs, the
// spread between runs.
type Interval struct {
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	Level float64 `json:"level"`
	// StdError is the standard error of the measured value less the limit, with DF
	// degrees of freedom; Windows and Batches are what it was estimated from. Binomial
	// marks an error rate's exact binomial interval (its windows varied no more than
	// independent requests would), whose degrees of freedom are infinite: DF is 0.
	StdError float64 `json:"std_error"`
	DF       float64 `json:"df"`
	Binomial bool    `json:"binomial,omitempty"`
	Windows  int     `json:"windows"`
	Batches  int     `json:"batches"`
	// BaselineRuns is how many runs the baseline holds, and BaselineSpread the standard
	// deviation of their values (rules against the baseline only).
	BaselineRuns   int      `json:"baseline_runs,omitempty"`
	BaselineSpread *float64 `json:"baseline_spread,omitempty"`
	// ErrorSpent is the share of the run's family-wise error this judgement spent (1
	// unless the hold could extend).
	ErrorSpent float64 `json:"error_spent"`
}

// GroupVerdict is the verdict of one question (see Result.Verdicts).
type GroupVerdict struct {
	Name string `json:"name"`
	// Verdict is pass, fail, invalid (a rule had no data) or "not run".
	Verdict string `json:"verdict"`
	Rules   int    `json:"rules"`
	Failed  int    `json:"failed"`
}

// Aborted is the abort rule that stopped a run.
type Aborted struct {
	Rule      string  `json:"rule"`
	File      string  `json:"file"`
	Line      int     `json:"line"`
	Phase     string  `json:"phase"`
	AtSeconds float64 `json:"at_seconds"`
	Message   string  `json:"message"`
}

// Main is the phase that rules outside phases: judge, whose figures the reports show
// first; nil only in a result without phases.
func (r *Result) Main() *Phase {
	for i := range r.Phases {
		if r.Phases[i].Name == r.Settings.MainPhase {
			return &r.Phases[i]
		}
	}
	if len(r.Phases) > 0 {
		return &r.Phases[0]
	}
	return nil
}

// main is Main, or an empty phase for a result without phases, so that renderers need
// not check.
func (r *Result) main() *Phase {
	if m := r.Main(); m != nil {
		return m
	}
	return &Phase{}
}

// Open reports whether the main phase used the open model.
func (r *Result) Open() bool { return r.main().Load.Open() }

// The reports show what tells one phase, or one question, from another only where there
// are several: a run of one phase reads as before phases existed.

// phased reports whether the run has several phases to tell apart.
func (r *Result) phased() bool { return len(r.Phases) > 1 }

// askedSeveral reports whether the run answers several questions (Verdicts).
func (r *Result) askedSeveral() bool { return len(r.Verdicts) > 1 }

// where is a check's scope, qualified by its phase where the run has several to tell
// apart: "recovery: all". An abort rule watches the whole run.
func (r *Result) where(c Check) string {
	if !r.phased() || c.Group == groupAbort || c.Phase == "" {
		return c.Scope
	}
	return c.Phase + ": " + c.Scope
}

// neutralize makes the model safe to render anywhere: every string neutralised
// (safetext.Line: no line breaks, escape sequences or workflow commands from the target,
// the user's files or the environment) and every known secret redacted. Build and
// ReadJSON call it, so that every writer renders a neutral model.
func (r *Result) neutralize(secrets []string) {
	safetext.Rewrite(r, func(s string) string { return safetext.Line(safetext.Redact(s, secrets)) })
}

// reasonMessages are the reasons' messages, in order.
func (r *Result) reasonMessages() []string {
	out := make([]string, len(r.Reasons))
	for i, why := range r.Reasons {
		out[i] = why.Message
	}
	return out
}

// groupAbort is the name of the abort rules' question.
const groupAbort = "abort"
