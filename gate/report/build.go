package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
	"github.com/perfgate/perfgate/gate/verdict"
)

// Input is what Build renders: the plan, what the run recorded, and the verdict on it.
type Input struct {
	Tool     string
	Plan     *plan.Plan
	Record   *run.Record
	Verdict  verdict.Verdict
	ExitCode int
	// StartAt is the common start a shard waited for, if one was given, and Window the
	// length of its time windows; Shards are a merged run's shards (see Result.Shards).
	StartAt time.Time
	Window  time.Duration
	Shards  []MergedShard
	// Secrets are values no report may show, beside the plan's own: secret-looking
	// environment variables, values extracted at login.
	Secrets []string
}

// Build assembles the neutral model of a run. It decides nothing: every status comes
// from the verdict, every figure from the record.
func Build(in Input) (*Result, error) {
	p, rec, v := in.Plan, in.Record, in.Verdict
	r := &Result{
		Version:  ResultVersion,
		Tool:     in.Tool,
		Verdict:  v.Status.String(),
		ExitCode: in.ExitCode,
		Started:  rec.Start.UTC(),
		Ended:    rec.End.UTC(),
		Settings: Settings{
			Target:         p.RedactedTarget(),
			Protocol:       protocolOf(p),
			TimeoutSeconds: p.Timeout.Seconds(),
			Insecure:       p.Insecure,
			ConfigFile:     p.ConfigFile,
			ThresholdFiles: append([]string{}, p.ThresholdFiles...),
			MainPhase:      p.Phases[max(p.Main, 0)].Name,
		},
		Checks:     []Check{},
		Verdicts:   []GroupVerdict{},
		Windows:    []Window{},
		Confidence: v.Confidence, InconclusiveWarns: v.WarnInconclusive, Warnings: v.Warnings,
		Shards: in.Shards,
	}
	if sh := p.Shard; sh.Sharded() {
		r.Shard = &ShardOf{Index: sh.Index, Of: sh.Of, Digest: p.Digest(), WindowSeconds: in.Window.Seconds()}
		if !in.StartAt.IsZero() {
			at := in.StartAt.UTC()
			r.Shard.StartAt = &at
		}
	}
	for _, s := range p.Setup {
		r.Settings.Tasks = append(r.Settings.Tasks, Task{Name: s.Name, Method: s.Method, Setup: true})
	}
	for _, t := range p.Tasks {
		r.Settings.Tasks = append(r.Settings.Tasks, Task{Name: t.Name, Method: t.Method, Weight: t.Weight})
	}
	enc := &histEncoder{}
	for i, ph := range rec.Phases {
		out := Phase{Name: ph.Name, Verdict: v.Phases[i].Status.String(), Load: loadOf(ph.Plan.Load)}
		if ph.Ran {
			out.Delivery = deliveryOf(ph)
			out.Delivery.Host = hostOf(rec.PhaseHost(i, load.Hold))
			out.Resources = resourcesOf(p, rec, i)
		}
		var err error
		if out.Hold, err = newStage(enc, ph.Hold); err != nil {
			return nil, err
		}
		if out.Ramp, err = newStage(enc, ph.Ramp); err != nil {
			return nil, err
		}
		r.Phases = append(r.Phases, out)
	}
	r.Note = ClosedModelNote
	if r.Open() {
		r.Note = OpenModelNote
	}
	for _, c := range v.Checks {
		r.Checks = append(r.Checks, newCheck(c, rec.Phases[c.Rule.Phase].Name))
	}
	for _, c := range v.Resources {
		r.Checks = append(r.Checks, newResourceCheck(p, c, rec.Phases[p.Main].Name))
	}
	for _, g := range v.Groups {
		r.Verdicts = append(r.Verdicts, GroupVerdict{Name: g.Name, Verdict: g.Status.String(), Rules: g.Rules, Failed: g.Failed})
	}
	for _, reason := range v.Reasons {
		r.Reasons = append(r.Reasons, Reason{Code: reason.Code.String(), Phase: reason.Phase, Message: r.reasonText(reason)})
	}
	if a := v.Aborted; a != nil {
		r.Aborted = &Aborted{
			Rule: a.Rule.Text, File: a.Rule.File, Line: a.Rule.Pos.Line, Phase: rec.Phases[a.Phase].Name, AtSeconds: a.At.Seconds(),
			Message: fmt.Sprintf("stopped at %s: %s held (last window: %s over %s requests)",
				Seconds(a.At.Seconds()), a.Rule.Text, FormatValue(a.Rule.Metric.Kind().String(), a.Measured), Count(a.Requests)),
		}
	}
	for _, w := range rec.Windows {
		out, err := newWindow(enc, p, rec, w)
		if err != nil {
			return nil, err
		}
		r.Windows = append(r.Windows, out)
	}
	r.neutralize(append(append([]string(nil), p.Secrets...), in.Secrets...))
	return r, nil
}

// resourcesOf sums up what the target's resources did over phase i's hold windows.
func resourcesOf(p *plan.Plan, rec *run.Record, i int) []ResourceStat {
	if p.Resources == nil {
		return nil
	}
	var out []ResourceStat
	for k, s := range p.Resources.Series {
		st := ResourceStat{Name: s.Name, Metric: s.Metric, Counter: s.Counter, HistogramMean: s.Mean}
		var sum float64
		for _, w := range rec.Windows {
			if w.Phase != i || w.Stage != load.Hold {
				continue
			}
			st.Of++
			if w.ResourceError != "" && st.Error == "" {
				st.Error = w.ResourceError
			}
			if k >= len(w.Resources) || !w.Resources[k].OK {
				continue
			}
			v := w.Resources[k].V
			if st.Windows == 0 || v > st.Max {
				st.Max = v
			}
			sum += v
			st.Windows++
		}
		if st.Windows > 0 {
			st.Mean = round(sum/float64(st.Windows), 6)
		}
		st.Max = round(st.Max, 6)
		out = append(out, st)
	}
	return out
}

// newWindow renders one time window, with its histograms.
func newWindow(enc *histEncoder, p *plan.Plan, rec *run.Record, w run.Window) (Window, error) {
	out := Window{
		Phase:        rec.Phases[w.Phase].Name,
		StartSeconds: w.Start.Seconds(), Seconds: w.Length.Seconds(), Stage: w.Stage.String(), Users: w.Users,
		Host: hostOf(w.Host), ResourceError: w.ResourceError,
	}
	if p.Resources != nil {
		for k, v := range w.Resources {
			if v.OK && k < len(p.Resources.Series) {
				if out.Resources == nil {
					out.Resources = map[string]float64{}
				}
				out.Resources[p.Resources.Series[k].Name] = round(v.V, 6)
			}
		}
	}
	var err error
	if out.WindowFigures, err = windowFigures(enc, w.All, w.Throughput()); err != nil {
		return out, fmt.Errorf("encode a window's histogram: %w", err)
	}
	for i, e := range w.Endpoints {
		if e.Requests == 0 || i >= len(p.Endpoints) {
			continue
		}
		we := WindowEndpoint{Name: p.Endpoints[i].Name}
		if we.WindowFigures, err = windowFigures(enc, e, round(w.RateOf(e.Requests), 3)); err != nil {
			return out, fmt.Errorf("encode a window's histogram of %s: %w", we.Name, err)
		}
		out.Endpoints = append(out.Endpoints, we)
	}
	return out, nil
}

// windowFigures renders what a window measured of one scope, with its histogram.
func windowFigures(enc *histEncoder, c stats.WindowCounts, throughput float64) (WindowFigures, error) {
	out := WindowFigures{Requests: c.Requests, Errors: c.Errors, Throughput: throughput}
	if c.Requests == 0 {
		return out, nil
	}
	l := latencyOf(c.Latency.Histogram())
	out.P50Ms, out.P99Ms, out.MaxMs = l.P50, l.P99, l.Max
	var err error
	out.Histogram, err = enc.encodeCompact(c.Latency)
	return out, err
}

// hostOf renders how contended the machine was, as shares to four digits; nil where
// the machine gave no figure at all.
func hostOf(u hostload.Usage) *Host {
	sh := u.Shares()
	if !sh.HasPressure && !sh.HasStat && !sh.HasWait {
		return nil
	}
	share := func(v float64) *float64 { v = round(v, 4); return &v }
	out := &Host{}
	if sh.HasPressure {
		out.CPUPressure = share(sh.Pressure)
	}
	if sh.HasStat {
		out.Steal, out.OtherProcesses, out.Generator = share(sh.Steal), share(sh.Others), share(sh.Self)
	}
	if sh.HasWait {
		out.GeneratorWait = share(sh.Wait)
		if sh.WaitPerRun > 0 {
			ms := round(sh.WaitPerRun.Seconds()*1000, 4)
			out.GeneratorWaitPerRunMs = &ms
		}
	}
	return out
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

// protocolOf names what the plan's load spoke, or "" when it is not known (the probe
// that learns it never reached the target).
func protocolOf(p *plan.Plan) string {
	var name string
	switch p.Protocol {
	case plan.HTTP1:
		name = "HTTP/1.1"
	case plan.HTTP2:
		name = "HTTP/2"
	default:
		return ""
	}
	if p.Target.Scheme == "https" {
		name += " over TLS"
	}
	return name
}

// deliveryOf says what load a phase's engine delivered.
func deliveryOf(ph run.Phase) Delivery {
	run := ph.Load
	out := Delivery{
		PlannedUsers: run.PlannedUsers,
		PeakUsers:    run.PeakUsers,
		HoldSeconds:  run.HoldDuration().Seconds(),
		Canceled:     run.Canceled,
		GeneratorCPU: round(run.GeneratorCPU, 3),
	}
	if h := run.Handshakes; ph.Plan.Target.Scheme == "https" {
		out.TLS = &Handshakes{Count: h.Count, Resumed: h.Resumed, MeanMs: ms(h.Mean().Seconds()), MaxMs: ms(h.Max.Seconds())}
	}
	if w := run.Wakes; !ph.Plan.Open {
		out.LateWakes = w.Late
		out.WakeBehindSeconds = round(w.BehindFor().Seconds(), 3)
	}
	if ph.Plan.Open {
		d := run.Delivery
		out.PlannedRequests, out.SentRequests = d.Planned, d.Sent
		out.LateRequests, out.GeneratorLate = d.Late, d.Generator.Late
		out.BehindSeconds = round(d.Generator.BehindFor().Seconds(), 3)
		out.PeakInFlight, out.InFlightCapHit = d.PeakInFlight, d.CapReached
		if hold := run.HoldDuration(); hold > 0 {
			out.AchievedRate = round(float64(d.Sent)/hold.Seconds(), 2)
		}
	}
	if !run.HoldStart.IsZero() {
		out.RampSeconds = run.HoldStart.Sub(run.Start).Seconds()
		start, end := run.HoldStart.UTC(), run.HoldEnd.UTC()
		out.HoldStart, out.HoldEnd = &start, &end
	} else if !run.End.IsZero() {
		out.RampSeconds = run.End.Sub(run.Start).Seconds()
	}
	return out
}

func newStage(enc *histEncoder, s stats.Summary) (Stage, error) {
	st := Stage{WindowSeconds: s.Window.Seconds(), Endpoints: []Endpoint{}}
	if s.Service != nil && s.Service.TotalCount() > 0 {
		svc, lag := latencyOf(s.Service), latencyOf(s.Lag)
		st.ServiceMs, st.LagMs = &svc, &lag
	}
	var err error
	if st.All, err = newEndpoint(enc, &s.All); err != nil {
		return st, err
	}
	st.All.Name = "all"
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
	out.GeneratorFailures = e.ByKind[load.Generator]
	for k, n := range e.ByKind {
		if n > 0 && load.Kind(k) != load.OK && load.Kind(k) != load.Generator {
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
