// Package merge judges a run split over several processes (perfgate run --shard I
// --shards N) as one run: it checks that the shards' results make one run of the plan,
// adds their histograms up exactly (whole holds and each time window), and rebuilds the
// run's record, which the verdict judges and the reports render as any run's.
//
// What each shard's machine did (how contended it was, how late its generator sent) is
// judged by the shard itself: a shard that did not deliver its load says so in its
// result and exit code, and leaves the merged run without a verdict. The merge judges
// the rules, on the data of every shard together.
package merge

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
)

// MaxSkew is how far apart the shards' holds may begin (or end) for their load to add up
// to the plan's: past it they overlap for less than the whole hold. The shards' times come
// from their machines' clocks, which NTP keeps within milliseconds of each other on cloud
// runners; starting a process and probing the target adds tens more.
func MaxSkew(hold time.Duration) time.Duration { return max(250*time.Millisecond, hold/100) }

// Shard is one shard's result file, read.
type Shard struct {
	Path   string
	Result *report.Result
}

// Merged is a run rebuilt from its shards.
type Merged struct {
	Record *run.Record
	// Shards are the shards merged, in order, for the reports.
	Shards []report.MergedShard
	// Problems say why the shards do not make one run, each naming its shard: none
	// when they do (see verdict.Shards).
	Problems []string
}

// Merge checks that shards make one run of p, the whole run's plan (whose digest every
// shard's result carries), and rebuilds that run's record from them: each phase's hold
// and ramp summaries and each of its time windows are the shards' added up, histograms
// bucket by bucket; its hold is where the shards' holds overlap. A shard that is missing,
// twice, of another run or config, did not deliver its load, or began its hold apart from
// the others is a problem, and the rest are merged all the same, for the reports.
func Merge(p *plan.Plan, shards []Shard) (*Merged, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("no shard results to merge")
	}
	m := &Merged{}
	problem := func(format string, args ...any) { m.Problems = append(m.Problems, fmt.Sprintf(format, args...)) }
	digest := p.Digest()
	of := 0
	byIndex := map[int]Shard{}
	told := map[int]bool{} // indexes a problem already names
	for _, s := range shards {
		r := s.Result
		if r.Shard == nil {
			problem("%s is not a shard's result: run each shard with --shard and --shards", s.Path)
			continue
		}
		name := fmt.Sprintf("%s (%s)", plan.Shard{Index: r.Shard.Index, Of: r.Shard.Of}, s.Path)
		if r.Shard.Of < 2 || r.Shard.Of > plan.MaxShards {
			problem("%s: a run is split into 2 to %d shards", name, plan.MaxShards)
			continue
		}
		if of == 0 {
			of = r.Shard.Of
		}
		switch prev, twice := byIndex[r.Shard.Index]; {
		case r.Shard.Of != of:
			problem("%s is one of %d shards, and the others of %d", name, r.Shard.Of, of)
		case r.Shard.Index < 0 || r.Shard.Index >= r.Shard.Of:
			problem("%s: no such shard", name)
		case r.Shard.Digest != digest:
			problem("%s ran another config or thresholds than this merge's (digest %s, the merge's %s)", name, r.Shard.Digest, digest)
			told[r.Shard.Index] = true
		case twice:
			problem("%s and %s are both shard %d", prev.Path, s.Path, r.Shard.Index+1)
		default:
			byIndex[r.Shard.Index] = s
			if r.ExitCode != 0 || len(r.Reasons) > 0 {
				problem("%s did not deliver its load (exit %d): %s", name, r.ExitCode, reasons(r))
			}
		}
	}
	var ordered []Shard
	for i := range of {
		s, ok := byIndex[i]
		if !ok {
			if !told[i] {
				problem("%s is missing", plan.Shard{Index: i, Of: of})
			}
			continue
		}
		ordered = append(ordered, s)
	}
	if len(ordered) == 0 {
		return m, nil
	}
	every := seconds(ordered[0].Result.Shard.WindowSeconds)
	for _, s := range ordered[1:] {
		if w := seconds(s.Result.Shard.WindowSeconds); w != every {
			problem("%s had time windows of %s, and %s of %s: pass every shard the same --progress", label(s), w, label(ordered[0]), every)
		}
	}
	if every <= 0 {
		return nil, fmt.Errorf("%s says nothing of its time windows: a shard's result of another perfgate", ordered[0].Path)
	}
	rec, err := record(p, ordered, every)
	if err != nil {
		return nil, err
	}
	m.Record = rec
	m.Shards, m.Problems = skews(p, ordered, m.Problems)
	return m, nil
}

// reasons are a shard's reasons for no verdict, in a line.
func reasons(r *report.Result) string {
	var out []string
	for _, x := range r.Reasons {
		out = append(out, x.Message)
	}
	if len(out) == 0 {
		return "its verdict is " + r.Verdict
	}
	return strings.Join(out, "; ")
}

// skews lists the shards with when their main phase's hold began, and adds a problem for
// each phase whose holds began or ended further apart than MaxSkew.
func skews(p *plan.Plan, shards []Shard, problems []string) ([]report.MergedShard, []string) {
	main := max(p.Main, 0)
	var out []report.MergedShard
	for i, ph := range p.Phases {
		var first, last, early, late *time.Time
		var firstAt, lastAt int
		for k, s := range shards {
			d := phaseOf(s.Result, i, ph.Name).Delivery
			if d.HoldStart == nil || d.HoldEnd == nil {
				continue
			}
			if first == nil || d.HoldStart.Before(*first) {
				first, firstAt = d.HoldStart, k
			}
			if last == nil || d.HoldStart.After(*last) {
				last, lastAt = d.HoldStart, k
			}
			if early == nil || d.HoldEnd.Before(*early) {
				early = d.HoldEnd
			}
			if late == nil || d.HoldEnd.After(*late) {
				late = d.HoldEnd
			}
		}
		if first == nil {
			continue
		}
		limit := MaxSkew(ph.Hold)
		if apart := last.Sub(*first); apart > limit {
			problems = append(problems, fmt.Sprintf("phase %s: %s began its hold %s after %s did (at most %s apart): the holds overlap for less than the whole hold",
				ph.Name, label(shards[lastAt]), apart.Round(time.Millisecond), label(shards[firstAt]), limit))
		} else if apart := late.Sub(*early); apart > limit {
			problems = append(problems, fmt.Sprintf("phase %s: the shards' holds ended %s apart (at most %s): the holds overlap for less than the whole hold",
				ph.Name, apart.Round(time.Millisecond), limit))
		}
		if i != main {
			continue
		}
		for _, s := range shards {
			ms := report.MergedShard{Index: s.Result.Shard.Index, File: s.Path, ExitCode: s.Result.ExitCode}
			if d := phaseOf(s.Result, i, ph.Name).Delivery; d.HoldStart != nil && d.HoldEnd != nil {
				ms.HoldStart, ms.HoldEnd = *d.HoldStart, *d.HoldEnd
				ms.SkewSeconds = d.HoldStart.Sub(*first).Seconds()
			}
			out = append(out, ms)
		}
	}
	return out, problems
}

func label(s Shard) string {
	return fmt.Sprintf("%s (%s)", plan.Shard{Index: s.Result.Shard.Index, Of: s.Result.Shard.Of}, s.Path)
}

// phaseOf is a shard's phase i, which the plan names name (shards of one digest share
// their phases); a zero phase when the result has none such.
func phaseOf(r *report.Result, i int, name string) report.Phase {
	if i < len(r.Phases) && r.Phases[i].Name == name {
		return r.Phases[i]
	}
	return report.Phase{Name: name, Verdict: "not run"}
}

// record rebuilds the run's record from its shards, whose time windows are every long.
func record(p *plan.Plan, shards []Shard, every time.Duration) (*run.Record, error) {
	rec := &run.Record{StoppedAt: -1}
	for k, s := range shards {
		r := s.Result
		if k == 0 || r.Started.Before(rec.Start) {
			rec.Start = r.Started
		}
		if r.Ended.After(rec.End) {
			rec.End = r.Ended
		}
	}
	for i, ph := range p.Phases {
		parts := make([]report.Phase, len(shards))
		ran := true
		for k, s := range shards {
			parts[k] = phaseOf(s.Result, i, ph.Name)
			ran = ran && parts[k].Verdict != "not run"
		}
		out := run.Phase{Name: ph.Name, Plan: p.ForPhase(i), Ran: ran, Load: loadOf(ph.Load, parts)}
		var err error
		if out.Hold, err = summaryOf(p, load.Hold, out.Load.HoldDuration(), parts, func(ph report.Phase) report.Stage { return ph.Hold }); err != nil {
			return nil, fmt.Errorf("phase %s: %w", ph.Name, err)
		}
		ramp := out.Load.HoldStart.Sub(out.Load.Start)
		if out.Load.HoldStart.IsZero() {
			ramp = out.Load.End.Sub(out.Load.Start)
		}
		if out.Ramp, err = summaryOf(p, load.Ramp, ramp, parts, func(ph report.Phase) report.Stage { return ph.Ramp }); err != nil {
			return nil, fmt.Errorf("phase %s: %w", ph.Name, err)
		}
		rec.Phases = append(rec.Phases, out)
		for _, stage := range []load.Stage{load.Ramp, load.Hold} {
			ws, err := windowsOf(p, i, stage, shards, every, rec.Start)
			if err != nil {
				return nil, fmt.Errorf("phase %s: %w", ph.Name, err)
			}
			rec.Windows = append(rec.Windows, ws...)
		}
	}
	return rec, nil
}

// loadOf is what the shards' engines did in one phase, together: the users and requests
// they planned and delivered added up, and the hold where theirs overlap. What each
// machine did (its generator's lateness, its CPU) is each shard's own to judge.
func loadOf(l plan.Load, parts []report.Phase) load.Result {
	out := load.Result{Open: l.Open}
	var starts, ends []time.Time
	for _, ph := range parts {
		d := ph.Delivery
		out.PlannedUsers += d.PlannedUsers
		out.PeakUsers += d.PeakUsers
		out.Canceled = out.Canceled || d.Canceled
		out.Delivery.Planned += d.PlannedRequests
		out.Delivery.Sent += d.SentRequests
		out.Delivery.Late += d.LateRequests
		out.Delivery.PeakInFlight += d.PeakInFlight
		out.Delivery.CapReached = out.Delivery.CapReached || d.InFlightCapHit
		if d.HoldStart == nil || d.HoldEnd == nil {
			continue
		}
		start := d.HoldStart.Add(-time.Duration(d.RampSeconds * float64(time.Second)))
		if out.Start.IsZero() || start.Before(out.Start) {
			out.Start = start
		}
		if d.HoldEnd.After(out.End) {
			out.End = *d.HoldEnd
		}
		starts, ends = append(starts, *d.HoldStart), append(ends, *d.HoldEnd)
	}
	if len(starts) == len(parts) && len(parts) > 0 {
		sort.Slice(starts, func(a, b int) bool { return starts[a].Before(starts[b]) })
		sort.Slice(ends, func(a, b int) bool { return ends[a].Before(ends[b]) })
		out.HoldStart, out.HoldEnd = starts[len(starts)-1], ends[0]
		if out.HoldEnd.Before(out.HoldStart) {
			out.HoldEnd = out.HoldStart
		}
	}
	return out
}

// summaryOf adds up one stage of the shards' phase, over length (throughput's).
func summaryOf(p *plan.Plan, stage load.Stage, length time.Duration, parts []report.Phase, of func(report.Phase) report.Stage) (stats.Summary, error) {
	s := stats.Summary{Stage: stage, Window: length, All: stats.Endpoint{Name: "all", Status: map[int]int64{}}}
	for _, e := range p.Endpoints {
		s.Endpoints = append(s.Endpoints, stats.Endpoint{Name: e.Name, Setup: e.Setup, Status: map[int]int64{}})
	}
	for _, ph := range parts {
		st := of(ph)
		if err := add(&s.All, st.All); err != nil {
			return s, err
		}
		for _, e := range st.Endpoints {
			j := endpointIndex(p, e.Name)
			if j < 0 {
				return s, fmt.Errorf("endpoint %q is not the config's", e.Name)
			}
			if err := add(&s.Endpoints[j], e); err != nil {
				return s, err
			}
		}
	}
	for _, e := range append([]*stats.Endpoint{&s.All}, pointers(s.Endpoints)...) {
		if e.Hist == nil {
			e.Hist = stats.NewHist(p.LongestTimeout())
		}
		if length > 0 {
			e.Throughput = float64(e.Requests) / length.Seconds()
		}
	}
	return s, nil
}

func pointers(es []stats.Endpoint) []*stats.Endpoint {
	out := make([]*stats.Endpoint, len(es))
	for i := range es {
		out[i] = &es[i]
	}
	return out
}

func endpointIndex(p *plan.Plan, name string) int {
	for j, e := range p.Endpoints {
		if e.Name == name {
			return j
		}
	}
	return -1
}

// add adds one shard's summary of an endpoint to the merged one: its counts, by kind and
// status code, and its histogram, bucket by bucket.
func add(to *stats.Endpoint, e report.Endpoint) error {
	to.Requests += e.Requests
	to.Errors += e.Errors
	to.Bytes += e.Bytes
	errs := int64(0)
	for name, n := range e.ErrorKinds {
		k, ok := kindOf(name)
		if !ok {
			return fmt.Errorf("unknown kind of error %q", name)
		}
		to.ByKind[k] += n
		errs += n
	}
	to.ByKind[load.OK] += e.Requests - errs
	to.ByKind[load.Generator] += e.GeneratorFailures
	for code, n := range e.Status {
		c, err := strconv.Atoi(code)
		if err != nil {
			return fmt.Errorf("status code %q", code)
		}
		to.Status[c] += n
	}
	if e.Histogram == "" {
		return nil
	}
	h, err := baseline.Decode(e.Histogram)
	if err != nil {
		return fmt.Errorf("histogram of %s: %w", e.Name, err)
	}
	if to.Hist == nil {
		to.Hist = h
		return nil
	}
	if dropped := to.Hist.Merge(h); dropped > 0 {
		return fmt.Errorf("histogram of %s: %d values out of range", e.Name, dropped)
	}
	return nil
}

func kindOf(name string) (load.Kind, bool) {
	for k := load.Kind(0); k < load.NumKinds; k++ {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// windowsOf adds up the shards' time windows of one phase and stage. A window closes on a
// multiple of every by its machine's wall clock (a phase's first begins with it, its last
// ends with it), the same on every shard's: windows that begin in the same such interval
// cover the same span, and merge.
func windowsOf(p *plan.Plan, phase int, stage load.Stage, shards []Shard, every time.Duration, start time.Time) ([]run.Window, error) {
	name, stageName := p.Phases[phase].Name, stage.String()
	byInterval := map[int64]*run.Window{}
	var order []int64
	for _, s := range shards {
		for _, w := range s.Result.Windows {
			if w.Phase != name || w.Stage != stageName {
				continue
			}
			from := s.Result.Started.Add(seconds(w.StartSeconds))
			to := from.Add(seconds(w.Seconds))
			key := from.UnixNano() / every.Nanoseconds()
			o := byInterval[key]
			if o == nil {
				o = &run.Window{Phase: phase, Stage: stage, Window: stats.Window{Start: from.Sub(start), Length: to.Sub(from),
					Endpoints: make([]stats.WindowCounts, len(p.Endpoints))}}
				byInterval[key] = o
				order = append(order, key)
			}
			// The merged window spans its shards' windows.
			end := o.Start + o.Length
			if e := to.Sub(start); e > end {
				end = e
			}
			o.Start = min(o.Start, from.Sub(start))
			o.Length = end - o.Start
			o.Users += w.Users
			if err := addCounts(&o.All, w.WindowFigures); err != nil {
				return nil, err
			}
			for _, e := range w.Endpoints {
				j := endpointIndex(p, e.Name)
				if j < 0 {
					return nil, fmt.Errorf("endpoint %q is not the config's", e.Name)
				}
				if err := addCounts(&o.Endpoints[j], e.WindowFigures); err != nil {
					return nil, err
				}
			}
			if o.Resources == nil && len(w.Resources) > 0 && p.Resources != nil {
				// The target's resources are the target's, whichever shard read them.
				o.Resources = make([]resource.Value, len(p.Resources.Series))
				for j, se := range p.Resources.Series {
					if v, ok := w.Resources[se.Name]; ok {
						o.Resources[j] = resource.Value{V: v, OK: true}
					}
				}
			}
			if o.ResourceError == "" {
				o.ResourceError = w.ResourceError
			}
		}
	}
	slices.Sort(order)
	out := make([]run.Window, len(order))
	for i, k := range order {
		out[i] = *byInterval[k]
	}
	return out, nil
}

func addCounts(to *stats.WindowCounts, f report.WindowFigures) error {
	to.Requests += f.Requests
	to.Errors += f.Errors
	if f.Histogram == "" {
		return nil
	}
	h, err := baseline.Decode(f.Histogram)
	if err != nil {
		return fmt.Errorf("a window's histogram: %w", err)
	}
	merged, err := to.Latency.Merge(stats.Compact(h))
	if err != nil {
		return fmt.Errorf("a window's histogram: %w", err)
	}
	to.Latency = merged
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
