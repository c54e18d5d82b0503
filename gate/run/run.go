package run

import (
	"context"
	"time"

	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/stats"
)

// DefaultEvery is the length of a time window when Options.Every is not set.
const DefaultEvery = 10 * time.Second

// Engine runs one phase's load: a load.Engine, or a scripted one in tests.
type Engine interface {
	Run(ctx context.Context) load.Result
	Status() load.Status
}

// Look is what Options.Enough says at a window's end of a hold that may extend.
type Look int

// Looks.
const (
	// NotYet: no look here; the hold goes on.
	NotYet Look = iota
	// GoOn: a look at which a rule was still undecided; the hold goes on.
	GoOn
	// Decided: a look that decided every rule; the hold ends.
	Decided
)

// Options adjust a run. The zero value runs on the wall clock with 10 s windows.
type Options struct {
	Clock Clock
	// Every is the length of a time window (and the interval of progress reports).
	Every time.Duration
	// NewEngine makes the engine of one phase, recording into rec; by default
	// load.New(p, rec, EngineOptions...).
	NewEngine     func(p *plan.Plan, rec load.Recorder) Engine
	EngineOptions []load.Option
	// Probe checks the target before any load; by default load.Probe.
	Probe func(ctx context.Context, p *plan.Plan) error
	// StopWhen is shown every window as it closes; true stops the run at once (an
	// abort rule held).
	StopWhen func(Window) bool
	// StopAfter is shown every phase as it ends; true ends the run there (the phase has
	// no valid verdict, so later ones would measure a run that is already over). By
	// default a run ends after a phase its engine ended early.
	StopAfter func(Phase) bool
	// OnPhase is told of each phase as it starts; OnWindow of each window as it closes,
	// with the phase's totals so far. Both are called from the run's goroutine.
	OnPhase  func(i int, ph *Phase)
	OnWindow func(w Window, total stats.Progress)
	// Host reads how contended the machine is, at every window's ends; by default
	// hostload.Read.
	Host func() hostload.Counters
	// Enough is asked, for a phase whose hold may extend (plan.Load.MaxHold), at every
	// window's end once the hold has lasted its planned length, whether the run knows
	// enough: Decided ends the hold there; GoOn is a look that left a rule undecided
	// (kept in Phase.Looks); NotYet is no look. held is the hold's length so far. By
	// default the hold ends at its planned length.
	Enough func(phase int, rec *Record, held time.Duration) Look
	// Resources, when set, reads the target's resources as each phase starts and at
	// every window's end (see package resource); a scrape that fails leaves the
	// window's resources unknown and says why.
	Resources *resource.Scraper
	// Query, when set, reads the target's resources from a Prometheus server once each
	// phase ends, over the phase's span, one point a window (at its end); a query that
	// fails leaves the phase's windows without them and says why.
	Query *resource.Query
}

// HoldEnder is an Engine whose hold can be ended early, as if it had been planned that
// long: requests in flight finish and count.
type HoldEnder interface {
	EndHold()
}

// Run runs the plan: the probe, then the phases one after another, each with its own
// engine and stats, closing a time window at every multiple of Every on the clock, and
// returns what happened. It does not judge: see package verdict.
func Run(ctx context.Context, p *plan.Plan, o Options) *Record {
	r := &runner{o: o.withDefaults(), ctx: ctx}
	r.rec = &Record{Start: r.o.Clock.Now(), StoppedAt: -1}
	for i := range p.Phases {
		r.rec.Phases = append(r.rec.Phases, Phase{Name: p.Phases[i].Name, Plan: p.ForPhase(i)})
	}
	defer func() { r.rec.End = r.o.Clock.Now() }()
	if err := r.o.Probe(ctx, p); err != nil {
		r.rec.Unreachable = err.Error()
		r.rec.Cancelled = ctx.Err() != nil
		return r.rec
	}
	for i := range r.rec.Phases {
		r.rec.Phases[i].Plan.Protocol = p.Protocol // which the probe may have learnt
	}
	maxTimeout := p.LongestTimeout()
	infos := make([]stats.EndpointInfo, len(p.Endpoints))
	for i, e := range p.Endpoints {
		infos[i] = stats.EndpointInfo{Name: e.Name, Setup: e.Setup}
	}
	for i := range r.rec.Phases {
		ph := &r.rec.Phases[i]
		r.phase(i, ph, maxTimeout, infos)
		r.rec.Cancelled = r.rec.Cancelled || ph.Load.Canceled
		if r.o.StopAfter(*ph) {
			break
		}
	}
	return r.rec
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = Wall
	}
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.NewEngine == nil {
		opts := o.EngineOptions
		o.NewEngine = func(p *plan.Plan, rec load.Recorder) Engine { return load.New(p, rec, opts...) }
	}
	if o.Probe == nil {
		o.Probe = load.Probe
	}
	if o.StopWhen == nil {
		o.StopWhen = func(Window) bool { return false }
	}
	if o.StopAfter == nil {
		o.StopAfter = endedEarly
	}
	if o.OnPhase == nil {
		o.OnPhase = func(int, *Phase) {}
	}
	if o.OnWindow == nil {
		o.OnWindow = func(Window, stats.Progress) {}
	}
	if o.Host == nil {
		o.Host = hostload.Read
	}
	if o.Enough == nil {
		o.Enough = func(int, *Record, time.Duration) Look { return Decided }
	}
	return o
}

// endedEarly reports whether a phase's engine ended before its hold did: cancelled,
// stopped, its setup failed, or its hold never began.
func endedEarly(ph Phase) bool {
	l := ph.Load
	return l.Canceled || l.Stopped || l.SetupFailure != nil || l.HoldStart.IsZero()
}

type runner struct {
	o   Options
	ctx context.Context
	rec *Record
}

// phase runs phase i: its engine, and its windows until the engine returns.
func (r *runner) phase(i int, ph *Phase, maxTimeout time.Duration, infos []stats.EndpointInfo) {
	var statsOpts []stats.Option
	if ph.Plan.Open {
		statsOpts = append(statsOpts, stats.OpenModel())
	}
	col := stats.New(len(infos), maxTimeout, statsOpts...)
	// A hold that may extend is planned at its longest, and ended when the verdict
	// knows enough.
	eplan := ph.Plan
	if eplan.Extends() {
		longest := *eplan
		longest.Load.Hold = eplan.MaxHold
		eplan = &longest
	}
	eng := r.o.NewEngine(eplan, col)
	ender, _ := eng.(HoldEnder)
	ended := false
	ctx, stop := context.WithCancelCause(r.ctx)
	defer stop(nil)
	r.o.OnPhase(i, ph)

	done := make(chan load.Result, 1)
	begin := r.o.Clock.Now()
	go func() { done <- eng.Run(ctx) }()
	w := &windows{r: r, phase: i, col: col, eng: eng, from: begin, host: r.o.Host()}
	if r.o.Resources != nil {
		w.snap, w.snapErr = r.o.Resources.Scrape(r.ctx, begin)
	}
	for next := nextBoundary(begin, r.o.Every); ; {
		timer := r.o.Clock.NewTimer(next.Sub(r.o.Clock.Now()))
		select {
		case ph.Load = <-done:
			timer.Stop()
			ph.Ran = true
			w.close(r.o.Clock.Now(), true)
			if r.o.Query != nil {
				r.queryResources(i, begin, r.o.Clock.Now())
			}
			ph.Hold = col.Summarize(load.Hold, ph.Load.HoldDuration(), infos)
			ramp := ph.Load.End.Sub(ph.Load.Start)
			if !ph.Load.HoldStart.IsZero() {
				ramp = ph.Load.HoldStart.Sub(ph.Load.Start)
			}
			ph.Ramp = col.Summarize(load.Ramp, ramp, infos)
			return
		case <-timer.C():
			now := r.o.Clock.Now()
			if w.close(now, false) && r.o.StopWhen(r.rec.Windows[len(r.rec.Windows)-1]) && r.rec.StoppedAt < 0 {
				r.rec.StoppedAt = len(r.rec.Windows) - 1
				stop(load.ErrStopped)
			}
			if st := eng.Status(); ender != nil && !ended && ph.Plan.Extends() && st.Stage == load.Hold {
				if held := now.Sub(st.HoldStart); held >= ph.Plan.Hold {
					switch r.o.Enough(i, r.rec, held) {
					case Decided:
						ender.EndHold()
						ended = true
						ph.Decided, ph.DecidedWindows = held, len(r.rec.Windows)
					case GoOn:
						ph.Looks = append(ph.Looks, held)
					}
				}
			}
			// The next boundary after this one, or after now if the wake was so late
			// that it passed one: windows stay on the boundaries.
			if now.After(next) {
				next = now
			}
			next = nextBoundary(next, r.o.Every)
		}
	}
}

// windows closes one phase's time windows.
type windows struct {
	r      *runner
	phase  int
	col    *stats.Collector
	eng    Engine
	from   time.Time // where the open window started
	host   hostload.Counters
	status *load.Status
	// snap is the target's resources as the open window began, snapErr why they could
	// not be read.
	snap    resource.Snapshot
	snapErr error
}

// close ends the open window at now and records it, and reports whether it did. The last
// window of a phase (last set) is closed only if it has a length, and carries the users
// and stage the engine had at the window before, not those of an engine that has ended.
func (w *windows) close(now time.Time, last bool) bool {
	if last && !now.After(w.from) {
		return false
	}
	start := w.r.rec.Start
	st := w.eng.Status()
	if last && w.status != nil {
		st = *w.status
	}
	w.status = &st
	host := w.r.o.Host()
	win := Window{Window: w.col.CloseWindow(w.from.Sub(start), now.Sub(start)), Phase: w.phase, Stage: st.Stage, Users: st.Active,
		Host: hostload.Between(w.host, host)}
	w.host = host
	if rs := w.r.o.Resources; rs != nil {
		snap, err := rs.Scrape(w.r.ctx, now)
		switch {
		case err != nil:
			win.ResourceError = err.Error()
		case w.snapErr != nil:
			win.ResourceError = w.snapErr.Error()
			fallthrough
		default:
			win.Resources = resource.Between(rs.Series, w.snap, snap)
		}
		w.snap, w.snapErr = snap, err
	}
	w.r.rec.Windows = append(w.r.rec.Windows, win)
	w.from = now
	w.r.o.OnWindow(win, w.col.Progress())
	return true
}

// queryResources fills the resources of phase i's windows from a Prometheus server: each
// series' point at the window's end (within half a window), evaluated from begin to end
// one point a window.
func (r *runner) queryResources(i int, begin, end time.Time) {
	q := r.o.Query
	step := max(r.o.Every, time.Second)
	points, err := q.Range(r.ctx, begin, end, step)
	for k := range r.rec.Windows {
		w := &r.rec.Windows[k]
		if w.Phase != i {
			continue
		}
		if err != nil {
			w.ResourceError = err.Error()
			continue
		}
		at := r.rec.Start.Add(w.Start + w.Length)
		w.Resources = make([]resource.Value, len(q.Exprs))
		for e, ps := range points {
			for _, p := range ps {
				if d := p.At.Sub(at); d <= step/2 && d > -step/2 {
					w.Resources[e] = resource.Value{V: p.V, OK: true}
				}
			}
		}
	}
}
