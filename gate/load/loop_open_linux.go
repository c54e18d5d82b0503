package load

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/perfgate/perfgate/gate/internal/poller"
)

// The open model on the event loop: the schedule's timer, the connections and the
// responses share one epoll instance, so that a due request is written by the thread
// the timer woke, without a hand-off to another goroutine on either side. On loopback
// that is 10-20 us less of the generator in the median latency, and a fifth less of its
// CPU. A response is timed by the kernel's receive stamp (see poller.StampReader), so a
// loop descheduled while it arrives does not add the wait to the target's latency.
//
// Because the stamp, not the read, times a response, a loop whose next arrival is near
// does not wake for responses: it sleeps until that arrival and reads what came meanwhile
// in the same wake-up. At 2000/s that halves the generator's wake-ups, and with them the
// cross-CPU wakes in the target's every write (see deferResponses).

// timerSlot is the epoll data of the schedule's timerfd (user slots are >= 0).
const timerSlot = -1

// openLoop is an event loop's share of the open model: every stride-th arrival of the
// schedule, the connections that are free, and the arrivals waiting for max_in_flight.
type openLoop struct {
	sched  Schedule
	next   int64 // the next arrival of this loop's share
	stride int64
	total  int64
	timer  *poller.Timer // in the loop's epoll set, as timerSlot
	rng    *rand.Rand
	idle   []*loopUser // free connections, the most recently freed last
	queue  []arrival   // arrivals due but held back by max_in_flight
	now    time.Time   // when the current batch of readiness was reported
	end    time.Time   // past it, nothing more is sent
	due    time.Time   // when the timer is set for: the next arrival
	// deferred counts the waits that did not wake for responses.
	deferred int64

	sent       int64
	capReached bool
}

// openLoopRate is the rate one event loop takes of an open model: below it a single
// thread keeps the connections few and warm; above it, loops (up to one per processor)
// share the schedule.
var openLoopRate = 10000.0

func openLoops(rate float64) int {
	return max(1, min(processors, int(rate/openLoopRate)))
}

// runOpenLoop runs the open model on event loops. It delivers, records and judges the
// schedule exactly as runOpen does.
func (e *Engine) runOpenLoop(ctx context.Context) (res Result, ok bool) {
	p := e.plan
	s := Schedule{StartRate: p.StartRate, Rate: p.Rate, Ramp: p.RateRamp, Hold: p.Hold}
	// A shard sends every Of-th arrival of the one schedule: its own rate is a share.
	of := shardOf(p.Shard)
	rate := p.Rate / float64(of)
	n := openLoops(max(p.Rate, p.StartRate) / float64(of))
	var loops []*eventLoop
	defer func() {
		if !ok {
			for _, l := range loops {
				l.closeAll()
			}
		}
	}()
	for k := range n {
		l, err := e.newEventLoop()
		if err != nil {
			return res, false
		}
		loops = append(loops, l)
		if err := l.openShare(s, int64(p.Shard.Index)+int64(k)*of, int64(n)*of); err != nil {
			return res, false
		}
	}
	// Connections are not part of the schedule: dial those for about 10 ms of arrivals
	// before the clock starts. One that fails is dialled again when a request needs it.
	for i := range min(p.MaxInFlight, max(1, int(rate/100))) {
		loops[i%n].warm(ctx)
	}

	e.late = newLateness(s.Hold, rate)
	e.waitStart(ctx)
	e.start = time.Now()
	res = Result{Start: e.start, Open: true}
	e.holdStart.Store(max(1, int64(s.Ramp)))
	end := e.start.Add(s.Ramp + s.Hold + p.Timeout)
	var wg sync.WaitGroup
	for _, l := range loops {
		l.open.end = end
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.runOpen(ctx)
		}()
	}
	cpuFrom := cpuTime()
	if s.Ramp > 0 && e.waitUntil(ctx, e.start.Add(s.Ramp)) {
		cpuFrom = cpuTime()
	}
	e.waitUntil(ctx, e.start.Add(s.Ramp+s.Hold))
	e.holdCPU = cpuTime() - cpuFrom
	res.HoldEnd = time.Now()
	wg.Wait()
	res.End = time.Now()

	d := &res.Delivery
	cut := e.cut()
	d.Planned = s.holdShareTo(cut, p.Shard)
	for _, l := range loops {
		d.Sent += l.open.sent
		d.CapReached = d.CapReached || l.open.capReached
		e.deferred += l.open.deferred
	}
	d.Late = e.lateSends.Load()
	d.Generator = e.late.summary()
	d.PeakInFlight = int(e.peak.Load())
	res.HoldStart = e.start.Add(s.Ramp)
	if hold := e.start.Add(s.Ramp + s.Hold); res.HoldEnd.After(hold) {
		res.HoldEnd = hold
	}
	if cut > 0 {
		res.HoldEnd = e.start.Add(cut)
	}
	e.openValidity(ctx, &res)
	return res, true
}

// openShare makes the loop serve arrivals k, k+stride, k+2*stride... of s, woken by a
// timerfd in its epoll set.
func (l *eventLoop) openShare(s Schedule, k, stride int64) error {
	timer, err := poller.NewTimer()
	if err != nil {
		return err
	}
	if err := l.ep.Add(timer.FD(), poller.Readable, timerSlot); err != nil {
		timer.Close()
		return err
	}
	l.open = &openLoop{
		sched: s, next: k, stride: stride, total: s.Total(), timer: timer,
		rng: rand.New(rand.NewPCG(l.e.seed, uint64(k))),
	}
	return nil
}

// newConn adds a connection slot to the loop, without a connection yet.
func (l *eventLoop) newConn() *loopUser {
	u := &loopUser{id: len(l.users), slot: len(l.users), fd: -1}
	l.users = append(l.users, u)
	return u
}

// warm dials a connection before the run starts and keeps it free for the first
// arrivals.
func (l *eventLoop) warm(ctx context.Context) {
	u := l.newConn()
	l.open.idle = append(l.open.idle, u)
	c, err := l.dialer.DialContext(ctx, "tcp", l.e.fastAddr)
	if err != nil {
		return
	}
	fd, err := poller.DupFD(c)
	c.Close()
	if err == nil {
		_ = l.register(u, fd, connEvents) // a connection that failed here is dialled when needed
	}
}

// runOpen sends the loop's share of the schedule and reads the responses, until every
// arrival is sent (or the end passes: the schedule's, plus a request's timeout) and
// answered, a failed run or ctx.
func (l *eventLoop) runOpen(ctx context.Context) {
	defer l.closeAll()
	o := l.open
	events := make([]poller.Event, 256)
	l.arm()
	nextCheck := time.Now().Add(loopTick)
	for ctx.Err() == nil {
		select {
		case <-l.e.failed:
			return
		default:
		}
		if o.next >= o.total && len(o.queue) == 0 && l.busy == 0 {
			return
		}
		l.admit(ctx, false)
		wait := loopTick
		if l.deferResponses() {
			l.sleepUntilDue()
			o.deferred++
			wait = 0 // collect the timer and what arrived meanwhile
		}
		n, err := l.ep.Wait(events, wait)
		if err != nil {
			return
		}
		o.now = time.Now()
		if cut := l.e.cut(); cut > 0 && o.next < o.total && o.sched.At(o.next) >= cut {
			o.next = o.total // the hold was ended early: no arrival is due after it
		}
		if o.now.After(o.end) && (o.next < o.total || len(o.queue) > 0) {
			// Past the schedule and a request's timeout, the backlog is not sent; the
			// requests in flight finish (or time out) and are counted.
			o.next, o.queue = o.total, nil
		}
		due := false
		for i := 0; i < n; i++ {
			switch slot := events[i].Slot(); slot {
			case timerSlot:
				due = true
			case wakeSlot:
				l.woken(ctx, false)
			default:
				l.ready(ctx, l.users[slot], events[i].Events())
			}
		}
		if due {
			// After the responses of the batch, so that their connections and their
			// places under max_in_flight are free for the arrivals.
			l.arrivals(ctx)
		}
		o.now = time.Time{} // responses finished elsewhere are timed when they finish
		l.dequeue(ctx)
		l.periodic(ctx, &nextCheck)
	}
}

// arm sets the timer for the loop's next arrival.
func (l *eventLoop) arm() {
	o := l.open
	if o.next >= o.total {
		return
	}
	o.due = l.e.start.Add(o.sched.At(o.next))
	_ = o.timer.Set(time.Until(o.due))
}

// deferLimit is the longest a response may wait in the kernel for the loop to read it.
const deferLimit = time.Millisecond

// deferResponses reports whether the loop may sleep until its next arrival without
// waking for the responses that arrive meanwhile. Their kernel stamps time them, so the
// wait changes no latency; what it saves is a wake-up of the generator's CPU for every
// response, sent from within the target's write (on a VM, an interrupt to another
// virtual CPU, and a chance for the host to deschedule one of them; see the README's
// Performance section for what that did to p99 on a shared VM).
//
// Only while the waits are short and nothing depends on a prompt read: the next arrival
// within deferLimit, the loop's last read stamped (a read without a stamp is timed by
// the read), requests in flight, and max_in_flight never reached (a response read late
// would hold back a queued arrival, whose wait counts as latency).
func (l *eventLoop) deferResponses() bool {
	o := l.open
	return l.stamped && l.busy > 0 && o.next < o.total && len(o.queue) == 0 &&
		l.e.peak.Load() < int64(l.e.plan.MaxInFlight) && time.Until(o.due) <= deferLimit
}

// sleepUntilDue waits until the timer fires or the loop is woken (a dial ended), but not
// for the connections.
func (l *eventLoop) sleepUntilDue() {
	_, _ = poller.WaitReadable(loopTick, l.open.timer.FD(), l.waker.FD())
}

// arrivals sends every arrival that is due, and sets the timer for the next.
func (l *eventLoop) arrivals(ctx context.Context) {
	o := l.open
	o.timer.Clear()
	now := time.Since(l.e.start)
	for o.next < o.total {
		due := o.sched.At(o.next)
		if due > now {
			break
		}
		o.next += o.stride
		// An arrival held back by max_in_flight queues without delaying the timer; its
		// own lateness counts from when it leaves the queue.
		a := arrival{due: due, ready: now, from: due}
		if len(o.queue) > 0 || !l.acquire() {
			o.queue = append(o.queue, a)
			o.capReached = true
			continue
		}
		l.start(ctx, l.freeConn(), a)
	}
	l.arm()
}

// acquire takes one of the requests allowed in flight, across all loops.
func (l *eventLoop) acquire() bool {
	n := l.e.active.Add(1)
	if n > int64(l.e.plan.MaxInFlight) {
		l.e.active.Add(-1)
		return false
	}
	l.e.notePeak(n)
	return true
}

// dequeue sends the arrivals held back by max_in_flight, oldest first, as requests
// finish (on any loop).
func (l *eventLoop) dequeue(ctx context.Context) {
	o := l.open
	for len(o.queue) > 0 && l.acquire() {
		a := o.queue[0]
		o.queue = o.queue[1:]
		a.from = time.Since(l.e.start)
		l.start(ctx, l.freeConn(), a)
	}
}

// freeConn takes the most recently freed connection, or a new slot to dial.
func (l *eventLoop) freeConn() *loopUser {
	o := l.open
	if n := len(o.idle); n > 0 {
		u := o.idle[n-1]
		o.idle = o.idle[:n-1]
		return u
	}
	return l.newConn()
}

// start sends the arrival on u, now.
func (l *eventLoop) start(ctx context.Context, u *loopUser, a arrival) {
	u.task = &l.e.plan.Tasks[l.e.plan.Pick(l.open.rng.IntN(l.total))]
	u.req = l.e.static[u.task]
	u.retried, u.got = false, false
	u.parser.Reset(u.task.Method == "HEAD", nil)
	u.arrival = a
	l.busy++
	u.start = time.Now()
	u.deadline = u.start.Add(u.task.Timeout)
	l.expires(u.deadline)
	if o := l.open; o.sched.InHold(a.due) {
		o.sent++
	}
	if u.fd < 0 {
		l.dial(ctx, u)
		return
	}
	l.send(ctx, u)
}

// openDone records an open-model request: timed from when it was ready (see arrival),
// and from its actual send. The connection goes back to the free ones.
func (l *eventLoop) openDone(u *loopUser, s Sample) {
	l.e.schedule(&s, u.arrival)
	l.e.record(s)
	u.task = nil
	l.e.active.Add(-1)
	l.open.idle = append(l.open.idle, u)
}
