package load

import (
	"context"
	"sync"
	"time"

	"github.com/perfgate/perfgate/gate/internal/poller"
)

// LateLimit is how late against the schedule a send may be and still count as on time:
// the Delivery counts those later.
const LateLimit = 10 * time.Millisecond

// An arrival is one request of the open model's schedule: when it was due, and when
// the generator was ready to send it, both from the start of the run. Its latency counts
// from ready: the generator's own lateness in waking for it (Go's timers wake in whole
// milliseconds; a busy machine deschedules the generator) says nothing about the target,
// and is reported as schedule lag instead, where too much of it makes the run invalid.
// Time spent waiting for max_in_flight (for a slow or stalled target to answer) counts
// in full, as does lateness of arrivals that such a wait delayed: then ready is due. A
// 700 ms queue reads as 700 ms, where a generator that measured from the actual send
// would read a few ms.
//
// From is where the generator's own part of the lateness begins: due, or when a wait
// that held the arrival back ended, for max_in_flight or for a new worker's setup (its
// connection and its login are the target's time: a target that slows down needs more
// workers, each set up as the load runs). From there to the actual send, the time is
// the generator's (see lateness).
type arrival struct{ due, ready, from time.Duration }

// closedRequest marks a closed-model request: not part of a schedule.
var closedRequest = arrival{due: -1}

// schedule places a sample of an open-model request, measured from its actual send
// (Offset, Latency and Service all from there), on the schedule: its lag, its latency
// from when it was ready, its due time and stage. A hold request sent past LateLimit
// counts as late, and the generator's own part of that in e.late.
func (e *Engine) schedule(s *Sample, a arrival) {
	s.Lag = max(0, s.Offset-a.due)
	s.Latency = s.Service + max(0, s.Offset-a.ready)
	own := s.Offset - a.from
	s.Offset = a.due
	s.Stage = e.openStage(a.due)
	if s.Stage == Hold {
		if s.Lag > LateLimit {
			e.lateSends.Add(1)
		}
		e.late.note(a.due-e.plan.RateRamp, own)
	}
}

// Delivery of the open model: what the schedule planned for the hold and what was sent.
type Delivery struct {
	Planned int64 // arrivals due in the hold
	Sent    int64 // of those, sent before the run ended
	// Late counts hold requests sent more than 10 ms after they were due, whatever the
	// cause; Generator those late because the generator itself fell behind (not because
	// every allowed request was in flight), and the periods in which it was behind.
	Late      int64
	Generator Lateness
	// PeakInFlight is the most requests in flight at once; CapReached is set when
	// max_in_flight held a request back.
	PeakInFlight int
	CapReached   bool
}

// idleWorkers hands arrivals to the open model's free workers, the most recently freed
// first: the connections in use stay few and warm (in both processes' caches), where a
// queue would cycle through every connection in turn (on loopback at 2000/s, a few us
// less at the median; the event loop keeps its free connections the same way).
type idleWorkers struct {
	mu    sync.Mutex
	stack []chan arrival
	freed chan struct{} // signalled when a worker becomes free
}

func newIdleWorkers() *idleWorkers { return &idleWorkers{freed: make(chan struct{}, 1)} }

// push makes a worker available again.
func (w *idleWorkers) push(c chan arrival) {
	w.mu.Lock()
	w.stack = append(w.stack, c)
	w.mu.Unlock()
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// pop takes the most recently freed worker, if any.
func (w *idleWorkers) pop() (chan arrival, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.stack)
	if n == 0 {
		return nil, false
	}
	c := w.stack[n-1]
	w.stack = w.stack[:n-1]
	return c, true
}

// runOpen sends arrivals on the schedule, whatever the target does: a request that
// finds every worker busy waits for one (or a new one, up to max_in_flight), and its
// latency counts that wait (see arrival).
func (e *Engine) runOpen(ctx context.Context) (res Result) {
	p := e.plan
	s := Schedule{StartRate: p.StartRate, Rate: p.Rate, Ramp: p.RateRamp, Hold: p.Hold}
	idle := newIdleWorkers()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	workers := 0
	spawn := func() {
		id := workers
		workers++
		wg.Add(1)
		ready := make(chan struct{})
		go func() {
			defer wg.Done()
			e.worker(ctx, id, idle, stop, ready)
		}()
		select { // wait for its setup, so that it takes the next arrival
		case <-ready:
		case <-e.failed:
		case <-ctx.Done():
		}
	}

	// A shard sends every Of-th arrival of the one schedule: its own rate is a share.
	of := shardOf(p.Shard)
	rate := p.Rate / float64(of)
	// Warm up before the clock starts: connections and logins are not part of the
	// schedule. Enough workers for about 10 ms of arrivals, at least one.
	for range min(p.MaxInFlight, max(1, int(rate/100))) {
		spawn()
	}
	e.late = newLateness(s.Hold, rate)
	e.waitStart(ctx)
	e.start = time.Now()
	res = Result{Start: e.start, Open: true}
	if s.Ramp == 0 {
		e.holdStart.Store(1)
	}
	defer func() {
		close(stop)
		wg.Wait()
		res.End = time.Now()
		res.Delivery.Late = e.lateSends.Load()
		res.Delivery.Generator = e.late.summary()
		res.Delivery.PeakInFlight = int(e.peak.Load())
	}()

	// Past the schedule's end, a backlog may still be sent for as long as a request may
	// take; after that the run is over.
	deadline := time.NewTimer(s.Ramp + s.Hold + p.Timeout)
	defer deadline.Stop()
	sleep := poller.NewSleeper(ctx, e.failed)
	defer sleep.Close()
	d := &res.Delivery
	total := s.Total()
	cpuAtStart, holdCPUFrom := cpuTime(), time.Duration(-1)
	var lastBlockEnd time.Duration // when a dispatch last had to wait for a worker
	var lastWaitEnd time.Duration  // when one last had to wait for max_in_flight or a setup
dispatch:
	for i := int64(p.Shard.Index); i < total; i += of {
		due := s.At(i)
		if cut := e.cut(); cut > 0 && due >= cut {
			break // the hold was ended early: no arrival is due after it
		}
		inHold := s.InHold(due)
		if inHold {
			if e.holdStart.Load() == 0 {
				e.holdStart.Store(max(1, int64(s.Ramp)))
			}
			if holdCPUFrom < 0 {
				holdCPUFrom = cpuTime()
			}
		}
		if wait := time.Until(e.start.Add(due)); wait > 0 && !sleep.Sleep(wait) {
			break dispatch
		}
		// Lateness of an arrival due before a wait for a worker ended is that wait's;
		// any other is the generator's own.
		woke := time.Since(e.start)
		a := arrival{due: due, ready: woke, from: max(due, lastWaitEnd)}
		if due <= lastBlockEnd {
			a.ready = due
		}
		waited, capped := false, false
		for {
			if w, ok := idle.pop(); ok {
				if capped {
					a.from = time.Since(e.start)
					lastWaitEnd = a.from
				}
				w <- a
				break
			}
			waited = true
			if workers < p.MaxInFlight {
				spawn()
				a.from = time.Since(e.start)
				lastWaitEnd = a.from
				select { // a worker that could not set up ends the run
				case <-ctx.Done():
					break dispatch
				case <-e.failed:
					break dispatch
				default:
				}
				continue
			}
			d.CapReached, capped = true, true
			select {
			case <-idle.freed:
			case <-ctx.Done():
				break dispatch
			case <-e.failed:
				break dispatch
			case <-deadline.C:
				break dispatch
			}
		}
		if inHold {
			d.Sent++
		}
		if waited {
			lastBlockEnd = time.Since(e.start)
		}
	}
	cut := e.cut()
	d.Planned = s.holdShareTo(cut, p.Shard) // arrivals never dispatched count too
	if holdCPUFrom < 0 {
		holdCPUFrom = cpuAtStart
	}
	e.holdCPU = cpuTime() - holdCPUFrom
	res.HoldStart = e.start.Add(s.Ramp)
	res.HoldEnd = time.Now()
	if hold := e.start.Add(s.Ramp + s.Hold); res.HoldEnd.After(hold) {
		res.HoldEnd = hold
	}
	if cut > 0 {
		res.HoldEnd = e.start.Add(cut)
	}
	e.openValidity(ctx, &res)
	return res
}

// openValidity records what stopped an open-model run early, if anything did.
func (e *Engine) openValidity(ctx context.Context, res *Result) {
	e.stopReasons(ctx, res)
}

// worker is an open-model client: its own connections and setup, then requests as
// arrivals are handed to it.
func (e *Engine) worker(ctx context.Context, id int, idle *idleWorkers, stop <-chan struct{}, ready chan<- struct{}) {
	u, closeConns := e.newUser(id)
	defer closeConns()
	if !u.setupWithRetries(ctx, stop, "worker") {
		return
	}
	arrivals := make(chan arrival, 1)
	idle.push(arrivals)
	close(ready)
	total := e.plan.TotalWeight()
	for {
		select {
		case a := <-arrivals:
			n := e.active.Add(1)
			e.notePeak(n)
			t := &e.plan.Tasks[e.plan.Pick(u.rng.IntN(total))]
			_, _ = u.do(ctx, t, a)
			e.active.Add(-1)
			idle.push(arrivals)
		case <-stop:
			return
		}
	}
}

// openStage says which stage an arrival due at offset belongs to.
func (e *Engine) openStage(due time.Duration) Stage {
	if due >= e.plan.RateRamp {
		return Hold
	}
	return Ramp
}
