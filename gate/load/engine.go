package load

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perfgate/perfgate/gate/plan"
)

// setupAttempts is how many times a user tries its setup before the run is declared
// invalid: once is too brittle for a login behind a cold cache, forever hides a broken one.
const setupAttempts = 3

// Result is what a run did: when its stages began and ended, what load it delivered, and
// what stopped it early. These are facts; whether they allow a verdict is the verdict's
// to decide.
type Result struct {
	Start     time.Time
	HoldStart time.Time // zero if the hold never began
	HoldEnd   time.Time
	End       time.Time
	// PlannedUsers is the plan's peak; PeakUsers how many were running at once at most;
	// RunningUsers how many were running when a run whose hold never began stopped.
	PlannedUsers int
	PeakUsers    int
	RunningUsers int
	// SetupFailure is set when a user's setup failed every attempt, which stops the run.
	SetupFailure *SetupFailure
	// Canceled is set when the context was canceled before the run finished, in
	// CanceledIn (CanceledDraining: after the hold, as requests in flight finished);
	// Stopped when it was cancelled with ErrStopped.
	Canceled         bool
	CanceledIn       Stage
	CanceledDraining bool
	Stopped          bool
	// Open is set for an open-model run, whose delivery is in Delivery.
	Open     bool
	Delivery Delivery
	// Wakes is, in the closed model with think time, how late users woke from their
	// think time in the hold: each wake is an arrival due when the think time ended,
	// judged as the open model's generator lateness is (see lateness).
	Wakes Lateness
	// GeneratorCPU is the share of its Processors perfgate's process used during the
	// hold: near all of them, the generator, not the target, is the bottleneck.
	GeneratorCPU float64
	Processors   int
	// GeneratorFailures counts the requests perfgate could not make for want of its own
	// resources (kind Generator), in any stage; GeneratorFailure says what ran out first.
	GeneratorFailures int64
	GeneratorFailure  string
	// Handshakes are the run's TLS handshakes, in every stage.
	Handshakes Handshakes
}

// SetupFailure is a user's setup that failed every attempt.
type SetupFailure struct {
	// Worker is set for an open-model worker, not a user; N counts from 1.
	Worker   bool
	N        int
	Attempts int
	// Err says why the last attempt failed, in words that quote neither the URL nor the
	// body of the request.
	Err string
}

// HoldDuration is the length of the measured window.
func (r Result) HoldDuration() time.Duration {
	if r.HoldStart.IsZero() || r.HoldEnd.Before(r.HoldStart) {
		return 0
	}
	return r.HoldEnd.Sub(r.HoldStart)
}

// Status is a snapshot of a running engine, for progress lines.
type Status struct {
	Active int
	Stage  Stage
	// HoldStart is when the hold began; zero before.
	HoldStart time.Time
}

// Engine runs one plan once.
type Engine struct {
	plan       *plan.Plan
	rec        Recorder
	seed       uint64
	onExtract  func(string)
	stdlib     bool        // always use net/http
	noLoop     bool        // a goroutine per user, even where the event loop could serve
	heldUp     func()      // tests: holds an event loop up after each wait, as a busy machine may
	fastAddr   string      // where the fast path dials; "" for net/http
	fastTLS    *tls.Config // the fast path's TLS, for HTTPS; nil for plain HTTP
	httpTLS    *tls.Config // net/http's TLS, for HTTPS; nil for plain HTTP
	handshakes handshakes
	static     map[*plan.Request][]byte        // serialised requests without variables
	targets    map[*plan.Request]requestTarget // parsed URLs without variables
	startAt    time.Time                       // when the load begins (WithStartAt); zero: at once

	start     time.Time
	holdStart atomic.Int64 // nanoseconds since start; 0 until the hold begins
	// endHold is closed to end the hold early (EndHold); holdCut is then where it ended,
	// in nanoseconds since start.
	endHold     chan struct{}
	endHoldOnce sync.Once
	holdCut     atomic.Int64
	active      atomic.Int64 // closed: users running; open: requests in flight
	peak        atomic.Int64
	lateSends   atomic.Int64
	late        *lateness     // the generator's own lateness in the hold: open model, or closed with think time
	holdCPU     time.Duration // process CPU time used during the hold
	deferred    int64         // open model on event loops: waits that slept through responses

	allActive chan struct{}
	failOnce  sync.Once
	failed    chan struct{}
	failure   *SetupFailure
	generator generatorFailures
}

// Option adjusts an Engine.
type Option func(*Engine)

// WithSeed makes task picks and think times repeatable.
func WithSeed(seed uint64) Option { return func(e *Engine) { e.seed = seed } }

// WithExtractHook is called with every value a setup step extracts (a token, say),
// before it is used, so that the caller can mask it in logs.
func WithExtractHook(f func(value string)) Option { return func(e *Engine) { e.onExtract = f } }

// WithStdlibClient sends every request through net/http, even where the fast path could.
func WithStdlibClient() Option { return func(e *Engine) { e.stdlib = true } }

// WithStartAt makes the load begin at t (a time already past: at once): the open model
// warms its connections and logins up first, then waits, so that the shards of one run
// (each its own process, on its own machine) send their shares of the one schedule
// together.
func WithStartAt(t time.Time) Option { return func(e *Engine) { e.startAt = t } }

// WithoutEventLoop gives every closed-model user, and every open-model worker, its own
// goroutine, even where the event loop could serve the plan.
func WithoutEventLoop() Option { return func(e *Engine) { e.noLoop = true } }

// New returns an engine that will run p and hand samples to rec.
func New(p *plan.Plan, rec Recorder, opts ...Option) *Engine {
	e := &Engine{plan: p, rec: rec, seed: rand.Uint64(), endHold: make(chan struct{})}
	for _, o := range opts {
		o(e)
	}
	if !e.stdlib {
		e.fastAddr, e.fastTLS = fastEligible(p)
	}
	if e.fastAddr != "" {
		e.prepareStatic()
	} else if p.Target.Scheme == "https" {
		e.httpTLS = tlsConfig(p)
	}
	return e
}

// Client names the HTTP client the engine uses: "fast" or "net/http".
func (e *Engine) Client() string {
	if e.fastAddr != "" {
		return "fast"
	}
	return "net/http"
}

// Status reports the number of running users (open model: requests in flight) and the
// stage.
func (e *Engine) Status() Status {
	s := Status{Active: int(e.active.Load())}
	if h := e.holdStart.Load(); h > 0 && time.Since(e.start) >= time.Duration(h) {
		s.Stage, s.HoldStart = Hold, e.start.Add(time.Duration(h))
	}
	return s
}

// Run starts the users, holds at peak for the plan's duration, stops them, and waits for
// requests in flight. It returns early, with the reason, if a user's setup fails or ctx
// is canceled.
func (e *Engine) Run(ctx context.Context) Result {
	e.allActive = make(chan struct{})
	e.failed = make(chan struct{})
	if e.plan.Open {
		if e.loopEligible() {
			if res, ok := e.runOpenLoop(ctx); ok {
				return e.drained(ctx, e.withCPU(res))
			}
		}
		return e.drained(ctx, e.withCPU(e.runOpen(ctx)))
	}
	return e.drained(ctx, e.withCPU(e.runClosed(ctx)))
}

// withCPU adds the generator's own CPU use during the hold
// and its failures.
func (e *Engine) withCPU(res Result) Result {
	res.GeneratorCPU = cpuShare(e.holdCPU, res.HoldDuration())
	res.Processors = processors
	res.Handshakes = e.handshakes.get()
	return e.withGenerator(res)
}

// drained records a cancel that came while the requests in flight after the hold were
// finishing: those were thrown away, so the run is cancelled, whatever it measured.
func (e *Engine) drained(ctx context.Context, res Result) Result {
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), ErrStopped) && !res.Canceled {
		res.Canceled, res.CanceledIn, res.CanceledDraining = true, Hold, true
	}
	return res
}

func (e *Engine) runClosed(ctx context.Context) (res Result) {
	p := e.plan
	e.waitStart(ctx)
	e.start = time.Now()
	res = Result{Start: e.start, PlannedUsers: p.Users}
	if p.Think.Max > 0 {
		// As many wakes a second as users over their mean think time.
		e.late = newLateness(p.Hold, float64(p.Users)/(p.Think.Min+p.Think.Max).Seconds()*2)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
		res.End = time.Now()
		res.PeakUsers = int(e.peak.Load())
		res.Wakes = e.late.summary()
	}()

	// The users run on event loops, one per processor, where the plan allows it, and
	// each in its own goroutine otherwise.
	var loops []*eventLoop
	if e.loopEligible() {
		for range e.closedLoops() {
			l, err := e.newEventLoop()
			if err != nil {
				loops = nil
				break
			}
			loops = append(loops, l)
		}
		for _, l := range loops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.run(ctx, stop)
			}()
		}
	}

	// Ramp: user i starts at i/spawn_rate seconds.
	for i := range p.Users {
		due := e.start.Add(time.Duration(float64(i) / p.SpawnRate * float64(time.Second)))
		if !e.waitUntil(ctx, due) {
			e.interrupted(ctx, &res)
			return res
		}
		if len(loops) > 0 {
			l := loops[i%len(loops)]
			hand := func(s loopStart) {
				l.pending <- s
				l.wake()
			}
			if len(p.Setup) == 0 {
				hand(loopStart{id: i, fd: -1})
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.setupForLoop(ctx, i, stop, hand)
			}()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.user(ctx, i, stop)
		}()
	}
	select {
	case <-e.allActive:
	case <-e.failed:
		e.interrupted(ctx, &res)
		return res
	case <-ctx.Done():
		e.interrupted(ctx, &res)
		return res
	}

	res.HoldStart = e.start.Add(time.Duration(e.holdStart.Load()))
	cpuAtHold := cpuTime()
	timer := time.NewTimer(time.Until(res.HoldStart.Add(p.Hold)))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-e.failed:
	case <-ctx.Done():
	case <-e.endHold:
	}
	res.HoldEnd = time.Now()
	e.holdCPU = cpuTime() - cpuAtHold
	e.interrupted(ctx, &res)
	return res
}

// EndHold ends the hold now, as if it had been planned this long: no request starts
// after it, and those in flight finish and count. Safe to call from any goroutine, once
// or more, while Run runs; before the hold has begun it does nothing.
func (e *Engine) EndHold() {
	if e.holdStart.Load() == 0 { // also orders the read of e.start after Run's write
		return
	}
	e.endHoldOnce.Do(func() {
		e.holdCut.Store(int64(time.Since(e.start)))
		close(e.endHold)
	})
}

// cut is where EndHold ended the hold, from the start; 0 if it did not.
func (e *Engine) cut() time.Duration { return time.Duration(e.holdCut.Load()) }

// ErrStopped, as the cause of the run's context cancellation, stops a run early on the
// caller's decision (an abort rule fired): the run is then neither cancelled nor invalid,
// and what was measured stands.
var ErrStopped = errors.New("stopped early")

// stopReasons records a setup failure and a cancellation, if either stopped the run.
func (e *Engine) stopReasons(ctx context.Context, res *Result) {
	select {
	case <-e.failed:
		res.SetupFailure = e.failure
	default:
	}
	if errors.Is(context.Cause(ctx), ErrStopped) {
		res.Stopped = true
		return
	}
	if ctx.Err() != nil {
		res.Canceled = true
		res.CanceledIn = e.stageAt(time.Since(e.start))
	}
}

// interrupted records why a closed-model run stopped early, if it did, and how many
// users were running if the hold never began.
func (e *Engine) interrupted(ctx context.Context, res *Result) {
	e.stopReasons(ctx, res)
	if res.HoldStart.IsZero() {
		res.RunningUsers = int(e.active.Load())
	}
}

// fail stops the run because a user could not set up; the first failure is the one kept.
func (e *Engine) fail(f *SetupFailure) {
	e.failOnce.Do(func() {
		e.failure = f
		close(e.failed)
	})
}

func (e *Engine) becameActive() {
	n := e.active.Add(1)
	e.notePeak(n)
	if int(n) == e.plan.Users && e.holdStart.Load() == 0 {
		// The hold starts now (or after the plan's settling time), before this user's
		// first task, so that no request of the full load is counted as ramp.
		e.holdStart.Store(max(1, int64(time.Since(e.start)+e.plan.Settle)))
		close(e.allActive)
	}
}

// notePeak raises the peak to n.
func (e *Engine) notePeak(n int64) {
	for {
		p := e.peak.Load()
		if n <= p || e.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// waitUntil sleeps until t; false if the run is over first.
// waitStart waits for the time the load begins (WithStartAt), if it is still to come;
// a cancel ends the wait, and the run then ends at once.
func (e *Engine) waitStart(ctx context.Context) {
	if !e.startAt.IsZero() {
		e.waitUntil(ctx, e.startAt)
	}
}

func (e *Engine) waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-e.failed:
		return false
	case <-e.endHold:
		return false
	}
}

// stageAt says which stage a request starting at offset belongs to.
func (e *Engine) stageAt(offset time.Duration) Stage {
	if h := e.holdStart.Load(); h > 0 && int64(offset) >= h {
		return Hold
	}
	return Ramp
}
