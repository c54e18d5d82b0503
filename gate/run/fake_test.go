package run

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
)

// fakeClock is a clock that moves only when a scripted engine moves it, and hands each
// timer it fires to the run before it moves on: a run under it is deterministic.
type fakeClock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	timers []*fakeTimer
	made   int // timers made so far
}

type fakeTimer struct {
	c  *fakeClock
	at time.Time
	ch chan time.Time
}

func newFakeClock(at time.Time) *fakeClock {
	c := &fakeClock{now: at}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.made++
	c.cond.Broadcast()
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() {
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

// waitForTimer blocks until a timer is waiting: the run has started watching the clock.
func (c *fakeClock) waitForTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) == 0 {
		c.cond.Wait()
	}
}

// advanceTo moves the clock to t. Each timer due on the way fires in turn, at its own
// time, and the clock waits until the run has handled it (it waits on a new timer)
// before it moves on.
func (c *fakeClock) advanceTo(t time.Time) {
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

// event is what a scripted engine does at an offset from its start: record samples.
type event struct {
	at      time.Duration
	samples []load.Sample
}

// scripted is an engine that plays events on the fake clock, holds from holdAt and ends
// at end (offsets from its start), unless its context ends first.
type scripted struct {
	clock     *fakeClock
	rec       load.Recorder
	events    []event
	holdAt    time.Duration
	end       time.Duration
	users     int
	setupFail *load.SetupFailure // fail with this at the first event
	active    atomic.Int64
	stage     atomic.Int32
	gotCause  error
}

func (s *scripted) Status() load.Status {
	return load.Status{Active: int(s.active.Load()), Stage: load.Stage(s.stage.Load())}
}

func (s *scripted) Run(ctx context.Context) load.Result {
	s.clock.waitForTimer()
	start := s.clock.Now()
	res := load.Result{Start: start, PlannedUsers: s.users, Processors: 2}
	stopped := func() bool {
		if ctx.Err() == nil {
			return false
		}
		s.gotCause = context.Cause(ctx)
		if errors.Is(s.gotCause, load.ErrStopped) {
			res.Stopped = true
		} else {
			res.Canceled, res.CanceledIn = true, load.Stage(s.stage.Load())
		}
		return true
	}
	for _, ev := range s.events {
		if ev.at >= s.holdAt && res.HoldStart.IsZero() {
			s.clock.advanceTo(start.Add(s.holdAt))
			res.HoldStart, res.PeakUsers = start.Add(s.holdAt), s.users
			s.stage.Store(int32(load.Hold))
		}
		s.clock.advanceTo(start.Add(ev.at))
		if stopped() {
			break
		}
		if s.setupFail != nil {
			res.SetupFailure = s.setupFail
			break
		}
		s.active.Store(int64(s.users))
		for _, smp := range ev.samples {
			s.rec.Record(smp)
		}
	}
	if res.SetupFailure == nil && !res.Stopped && !res.Canceled {
		s.clock.advanceTo(start.Add(s.end))
		if res.HoldStart.IsZero() {
			res.HoldStart = start.Add(s.holdAt)
		}
		res.HoldEnd = s.clock.Now()
	} else if !res.HoldStart.IsZero() {
		res.HoldEnd = s.clock.Now()
	}
	res.End = s.clock.Now()
	s.active.Store(0) // as an engine whose users have all stopped
	s.stage.Store(int32(load.Ramp))
	return res
}

// engines makes a scripted engine for each phase, in order, and keeps them.
type engines struct {
	make func(i int, p *plan.Plan, rec load.Recorder) *scripted
	made []*scripted
}

func (e *engines) newEngine(p *plan.Plan, rec load.Recorder) Engine {
	s := e.make(len(e.made), p, rec)
	e.made = append(e.made, s)
	return s
}
