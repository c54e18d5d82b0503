// Package runtest runs plans without time passing or traffic: a fake clock that moves
// only when a scripted engine moves it, and that engine, which records the samples it is
// given at the times it is given. Whatever drives package run (the run itself, the
// command line) can be tested with it deterministically, to the byte.
package runtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
)

// Clock is a run.Clock that moves only when it is told to (AdvanceTo), and hands each
// timer it fires to the run before it moves on: a run under it is deterministic.
type Clock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	timers []*timer
	made   int // timers made so far
}

type timer struct {
	c  *Clock
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock that reads at.
func NewClock(at time.Time) *Clock {
	c := &Clock{now: at}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Now implements run.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer implements run.Clock.
func (c *Clock) NewTimer(d time.Duration) run.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.made++
	c.cond.Broadcast()
	return t
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, o := range c.timers {
		if o == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return
		}
	}
}

// WaitForTimer blocks until a timer is waiting: the run has started watching the clock.
// An engine calls it first, so that the run's first window boundary is set before time
// moves.
func (c *Clock) WaitForTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) == 0 {
		c.cond.Wait()
	}
}

// AdvanceTo moves the clock to t. Each timer due on the way fires in turn, at its own
// time, and the clock waits until the run has handled it (it waits on a new timer)
// before it moves on. Only the engine moves the clock.
func (c *Clock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		next := -1
		for i, tm := range c.timers {
			if !tm.at.After(t) && (next < 0 || tm.at.Before(c.timers[next].at)) {
				next = i
			}
		}
		if next < 0 {
			if t.After(c.now) {
				c.now = t
			}
			return
		}
		tm := c.timers[next]
		c.timers = append(c.timers[:next], c.timers[next+1:]...)
		if tm.at.After(c.now) {
			c.now = tm.at
		}
		made := c.made
		tm.ch <- c.now
		for c.made == made {
			c.cond.Wait()
		}
	}
}

// Event is what a scripted engine does at an offset from its start: record samples.
type Event struct {
	At      time.Duration
	Samples []load.Sample
}

// Engine is a run.Engine that plays its events on the clock, holds from HoldAt and ends
// at End (offsets from its start), unless its context ends first.
type Engine struct {
	Clock  *Clock
	Rec    load.Recorder
	Events []Event
	HoldAt time.Duration
	End    time.Duration
	// Users is the load's, as planned and as running.
	Users int
	// SetupFail, when set, ends the run at the first event with this failure.
	SetupFail *load.SetupFailure
	// Facts, when set, adjusts the result before it is returned.
	Facts func(*load.Result)
	// Cause is why the context ended, if it did.
	Cause     error
	active    atomic.Int64
	stage     atomic.Int32
	holdStart atomic.Int64 // Unix nanoseconds; 0 before the hold
	ended     atomic.Bool
}

// Status implements run.Engine.
func (s *Engine) Status() load.Status {
	st := load.Status{Active: int(s.active.Load()), Stage: load.Stage(s.stage.Load())}
	if n := s.holdStart.Load(); n != 0 {
		st.HoldStart = time.Unix(0, n)
	}
	return st
}

// EndHold implements run.HoldEnder: the hold ends before the next event.
func (s *Engine) EndHold() { s.ended.Store(true) }

// Run implements run.Engine.
func (s *Engine) Run(ctx context.Context) load.Result {
	s.Clock.WaitForTimer()
	start := s.Clock.Now()
	res := load.Result{Start: start, PlannedUsers: s.Users, Processors: 2}
	stopped := func() bool {
		if ctx.Err() == nil {
			return false
		}
		s.Cause = context.Cause(ctx)
		if errors.Is(s.Cause, load.ErrStopped) {
			res.Stopped = true
		} else {
			res.Canceled, res.CanceledIn = true, load.Stage(s.stage.Load())
		}
		return true
	}
	for _, ev := range s.Events {
		if ev.At >= s.HoldAt && res.HoldStart.IsZero() {
			s.Clock.AdvanceTo(start.Add(s.HoldAt))
			res.HoldStart, res.PeakUsers = start.Add(s.HoldAt), s.Users
			s.holdStart.Store(res.HoldStart.UnixNano())
			s.stage.Store(int32(load.Hold))
		}
		s.Clock.AdvanceTo(start.Add(ev.At))
		if stopped() || s.ended.Load() {
			break
		}
		if s.SetupFail != nil {
			res.SetupFailure = s.SetupFail
			break
		}
		// Users start evenly over the ramp, as at a spawn rate.
		active := int64(s.Users)
		if ev.At < s.HoldAt {
			active = max(1, int64(float64(s.Users)*float64(ev.At)/float64(s.HoldAt)))
		}
		s.active.Store(active)
		for _, smp := range ev.Samples {
			s.Rec.Record(smp)
		}
	}
	if res.SetupFailure == nil && !res.Stopped && !res.Canceled {
		if !s.ended.Load() {
			s.Clock.AdvanceTo(start.Add(s.End))
		}
		if res.HoldStart.IsZero() {
			res.HoldStart = start.Add(s.HoldAt)
		}
		res.HoldEnd = s.Clock.Now()
	} else if !res.HoldStart.IsZero() {
		res.HoldEnd = s.Clock.Now()
	}
	res.End = s.Clock.Now()
	if s.Facts != nil {
		s.Facts(&res)
	}
	s.active.Store(0) // as an engine whose users have all stopped
	s.stage.Store(int32(load.Ramp))
	return res
}

// Engines makes a scripted engine for each phase, in order, and keeps them.
type Engines struct {
	Make func(i int, p *plan.Plan, rec load.Recorder) *Engine
	Made []*Engine
}

// New is run.Options.NewEngine.
func (e *Engines) New(p *plan.Plan, rec load.Recorder) run.Engine {
	s := e.Make(len(e.Made), p, rec)
	e.Made = append(e.Made, s)
	return s
}

// Host is a machine under a steady contention, read on the fake clock: runnable tasks
// waited for a processor Pressure of the time, of its Processors' time other processes
// used Others and the hypervisor took Steal, and perfgate's threads waited Wait seconds
// a second for a processor. Its Read is a run.Options.Host.
type Host struct {
	Clock                         *Clock
	Processors                    int
	Pressure, Others, Steal, Wait float64
}

// Read returns the counters of a machine booted on 2026-01-01.
func (h Host) Read() hostload.Counters {
	now := h.Clock.Now()
	up := now.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cpu := time.Duration(h.Processors) * up
	part := func(share float64) time.Duration { return time.Duration(share * float64(cpu)) }
	return hostload.Counters{
		At: now, Pressure: time.Duration(h.Pressure * float64(up)), HasPressure: true,
		Busy: part(h.Others), Steal: part(h.Steal), Idle: cpu - part(h.Others) - part(h.Steal), HasStat: true,
		Wait: time.Duration(h.Wait * float64(up)), HasWait: true,
	}
}
