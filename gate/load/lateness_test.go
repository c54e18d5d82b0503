package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLatenessJudgesPeriodsNotSingleSends(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name   string
		rate   float64
		hold   time.Duration
		late   func(due time.Duration) time.Duration // own lateness of the arrival due at due
		want   Lateness
		period time.Duration
	}{
		{"on time", 200, 10 * time.Second, func(time.Duration) time.Duration { return ms }, Lateness{Periods: 10}, time.Second},
		{"a 20 ms hiccup once: four sends late", 200, 10 * time.Second, func(d time.Duration) time.Duration {
			if d >= 3*time.Second && d < 3*time.Second+20*ms {
				return 3*time.Second + 30*ms - d
			}
			return ms
		}, Lateness{Late: 4, Periods: 10}, time.Second},
		{"a 200 ms freeze: one period behind", 200, 10 * time.Second, func(d time.Duration) time.Duration {
			if d >= 3*time.Second && d < 3*time.Second+200*ms {
				return 3*time.Second + 210*ms - d
			}
			return ms
		}, Lateness{Late: 40, Behind: 1, Periods: 10}, time.Second},
		{"behind all the time", 200, 10 * time.Second, func(time.Duration) time.Duration { return 30 * ms }, Lateness{Late: 2000, Behind: 10, Periods: 10}, time.Second},
		// At 10/s a period is 10 s: one late send of ten a second is no period behind.
		{"low rate: one late send in 100", 10, 30 * time.Second, func(d time.Duration) time.Duration {
			if d == 5*time.Second {
				return 15 * ms
			}
			return ms
		}, Lateness{Late: 1, Periods: 3}, 10 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLateness(c.hold, c.rate)
			step := time.Duration(float64(time.Second) / c.rate)
			for due := time.Duration(0); due < c.hold; due += step {
				l.note(due, c.late(due))
			}
			c.want.Period = c.period
			if got := l.summary(); got != c.want {
				t.Errorf("summary = %+v, want %+v", got, c.want)
			}
		})
	}
}

// The generator's own lateness starts after a wait for max_in_flight: a request queued
// behind a slow target is not the generator's fault, one handed late to its worker is.
func TestScheduleCountsOnlyTheGeneratorsOwnLateness(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name      string
		a         arrival
		sent      time.Duration
		wantLate  int64
		wantLag   time.Duration
		wantDelay time.Duration // latency - service
	}{
		{"on time", arrival{due: 100 * ms, ready: 100 * ms, from: 100 * ms}, 101 * ms, 0, ms, ms},
		{"woken late", arrival{due: 100 * ms, ready: 130 * ms, from: 100 * ms}, 131 * ms, 1, 31 * ms, ms},
		{"handed late to its worker", arrival{due: 100 * ms, ready: 100 * ms, from: 100 * ms}, 125 * ms, 1, 25 * ms, 25 * ms},
		{"queued for max_in_flight", arrival{due: 100 * ms, ready: 100 * ms, from: 400 * ms}, 401 * ms, 0, 301 * ms, 301 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &Engine{plan: mustPlan(t, "target: http://127.0.0.1:1\nload: {rate: 100/s, duration: 1s}\ntasks: [{path: /}]\n"), late: newLateness(time.Second, 100)}
			s := Sample{Offset: c.sent, Service: 5 * ms, Latency: 5 * ms}
			e.schedule(&s, c.a)
			if got := e.late.summary().Late; got != c.wantLate {
				t.Errorf("generator late = %d, want %d", got, c.wantLate)
			}
			if s.Lag != c.wantLag || s.Latency-s.Service != c.wantDelay || s.Offset != c.a.due || s.Stage != Hold {
				t.Errorf("sample = %+v, want lag %v, latency %v over service, offset %v in the hold", s, c.wantLag, c.wantDelay, c.a.due)
			}
		})
	}
}

// stallingRecorder freezes the event loop that records a hold sample: for once the
// first time, or for every the whole run, as a generator starved of CPU would be.
type stallingRecorder struct {
	recorder
	once, every time.Duration
	stalled     atomic.Bool
}

func (r *stallingRecorder) Record(s Sample) {
	if s.Stage == Hold {
		if r.once > 0 && r.stalled.CompareAndSwap(false, true) {
			time.Sleep(r.once)
		}
		time.Sleep(r.every)
	}
	r.recorder.Record(s)
}

// The event loop frozen once for 50 ms is a hiccup: a few sends late, in one period at
// most. One that is frozen for longer than the schedule leaves it between arrivals is
// behind in every period.
func TestAHiccupIsNotBehindButAStarvedGeneratorIs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {rate: 100/s, duration: 3s}\ntasks: [{path: /}]\n")

	hiccup := &stallingRecorder{once: 50 * time.Millisecond}
	g := New(p, hiccup).Run(context.Background()).Delivery.Generator
	if g.Late == 0 || g.Behind > 1 || g.Periods != 3 || g.Period != time.Second {
		t.Errorf("frozen once for 50ms: %+v, want a few sends late, in no more than one of 3 periods of 1s", g)
	}

	starved := &stallingRecorder{every: 15 * time.Millisecond}
	g = New(p, starved).Run(context.Background()).Delivery.Generator
	if g.Behind != g.Periods || g.Periods != 3 {
		t.Errorf("frozen 15ms in every 10ms: %+v, want behind in all 3 periods", g)
	}
}

// In the closed model a user's wake from its think time is an arrival of its own, due
// when the think time ends. Users on a generator that has its processor to itself wake
// on time; users on one whose only processor four busy goroutines share wake tens of
// milliseconds late, in every period.
func TestClosedModelWakesAreJudgedAsArrivals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 20, spawn_rate: 1000, duration: 3s, think: 100ms..100ms}\ntasks: [{path: /}]\n")
	res := New(p, &recorder{}).Run(context.Background())
	if w := res.Wakes; w.Periods != 3 || w.Period != time.Second || w.Behind > 1 {
		t.Errorf("a generator to itself: wakes %+v, want 3 periods of 1s, behind in one at most", w)
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	done := make(chan struct{})
	var spinners sync.WaitGroup
	for range 4 {
		spinners.Add(1)
		go func() {
			defer spinners.Done()
			for n := 0; ; n++ {
				if n%1_000_000 == 0 {
					select {
					case <-done:
						return
					default:
					}
				}
			}
		}()
	}
	res = New(p, &recorder{}).Run(context.Background())
	close(done)
	spinners.Wait()
	if w := res.Wakes; w.Behind != w.Periods || w.Periods == 0 {
		t.Errorf("a generator starved of its processor: wakes %+v, want behind in every period", w)
	}
}
