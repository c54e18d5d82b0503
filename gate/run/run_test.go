package run_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/run/runtest"
	"github.com/perfgate/perfgate/gate/stats"
)

// t0 is a run's start, off the 10 s boundaries.
var t0 = time.Date(2026, 12, 1, 12, 0, 3, 0, time.UTC)

const threePhases = `target: http://127.0.0.1:9
load:
  phases:
    - {name: warm, users: 1, duration: 20s}
    - {name: peak, users: 4, spawn_rate: 4, duration: 30s}
    - {name: cool, users: 1, duration: 10s}
tasks: [{name: a, path: /a}, {name: b, path: /b}]
`

func testPlan(t *testing.T, doc string) *plan.Plan {
	t.Helper()
	cfg, err := config.ParseConfig("perfgate.yaml", []byte(doc), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// everySecond is a request completing on endpoint (i % 2) every second from 0.5 s to
// end; those before holdAt are the ramp's.
func everySecond(holdAt, end time.Duration) []runtest.Event {
	var out []runtest.Event
	for at := 500 * time.Millisecond; at < end; at += time.Second {
		st := load.Hold
		if at < holdAt {
			st = load.Ramp
		}
		i := len(out)
		out = append(out, runtest.Event{At: at, Samples: []load.Sample{{User: i, Endpoint: i % 2, Stage: st, Latency: time.Duration(10+i) * time.Millisecond, Status: 200}}})
	}
	return out
}

// phased scripts the phases of threePhases: warm holds 20 s from the start, peak ramps
// for 5 s and holds 30 s, cool holds 10 s.
func phased(clock *runtest.Clock) *runtest.Engines {
	shapes := []struct{ hold, end time.Duration }{{0, 20 * time.Second}, {5 * time.Second, 35 * time.Second}, {0, 10 * time.Second}}
	return &runtest.Engines{Make: func(i int, p *plan.Plan, rec load.Recorder) *runtest.Engine {
		sh := shapes[i]
		return &runtest.Engine{Clock: clock, Rec: rec, Events: everySecond(sh.hold, sh.end), HoldAt: sh.hold, End: sh.end, Users: p.Users}
	}}
}

func noProbe(context.Context, *plan.Plan) error { return nil }

func TestPhasesAndWindowsOnTheClock(t *testing.T) {
	p := testPlan(t, threePhases)
	clock := runtest.NewClock(t0)
	eng := phased(clock)
	var started []string
	var totals []int64
	host := runtest.Host{Clock: clock, Processors: 2, Pressure: 0.25, Others: 0.5, Steal: 0.01}
	rec := run.Run(context.Background(), p, run.Options{
		Clock: clock, NewEngine: eng.New, Probe: noProbe, Host: host.Read,
		OnPhase:  func(i int, ph *run.Phase) { started = append(started, ph.Name) },
		OnWindow: func(w run.Window, total stats.Progress) { totals = append(totals, total.Requests) },
	})
	if !slices.Equal(started, []string{"warm", "peak", "cool"}) {
		t.Fatalf("phases started: %v", started)
	}
	if rec.Start != t0 || rec.End != t0.Add(65*time.Second) || rec.Unreachable != "" || rec.Cancelled || rec.StoppedAt != -1 {
		t.Errorf("record: start %v end %v unreachable %q cancelled %v stopped at %d", rec.Start, rec.End, rec.Unreachable, rec.Cancelled, rec.StoppedAt)
	}
	for i, ph := range rec.Phases {
		if !ph.Ran || ph.Name != p.Phases[i].Name || ph.Plan.Phase != i {
			t.Errorf("phase %d: %+v", i, ph)
		}
	}
	// Windows end on the clock's 10 s boundaries (12:00:10, :20...) and where a phase
	// ends (12:00:23, 12:00:58 and 12:01:08), whenever the run began.
	type span struct {
		phase         int
		start, length time.Duration
		requests      int64
		stage         load.Stage
	}
	s := time.Second
	want := []span{
		{0, 0, 7 * s, 7, load.Hold}, {0, 7 * s, 10 * s, 10, load.Hold}, {0, 17 * s, 3 * s, 3, load.Hold},
		{1, 20 * s, 7 * s, 7, load.Hold}, {1, 27 * s, 10 * s, 10, load.Hold}, {1, 37 * s, 10 * s, 10, load.Hold}, {1, 47 * s, 8 * s, 8, load.Hold},
		{2, 55 * s, 2 * s, 2, load.Hold}, {2, 57 * s, 8 * s, 8, load.Hold},
	}
	var got []span
	for _, w := range rec.Windows {
		got = append(got, span{w.Phase, w.Start, w.Length, w.All.Requests, w.Stage})
		// The users running, even in a phase's last window, which closes when its
		// engine has stopped them.
		if w.Users != p.Phases[w.Phase].Users {
			t.Errorf("window at %v: %d users, want %d", w.Start, w.Users, p.Phases[w.Phase].Users)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("windows:\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(totals, []int64{7, 17, 20, 7, 17, 27, 35, 2, 10}) {
		t.Errorf("running totals told with each window: %v", totals)
	}
	// Each phase's stages hold what its engine recorded, and its windows add up to them.
	peak := rec.Phases[1]
	if peak.Ramp.All.Requests != 5 || peak.Hold.All.Requests != 30 || peak.Hold.Window != 30*time.Second || peak.Ramp.Window != 5*time.Second {
		t.Errorf("peak: ramp %d in %v, hold %d in %v", peak.Ramp.All.Requests, peak.Ramp.Window, peak.Hold.All.Requests, peak.Hold.Window)
	}
	for i, ph := range rec.Phases {
		var sum int64
		for _, w := range rec.Windows {
			if w.Phase == i {
				sum += w.All.Requests
			}
		}
		if sum != ph.Hold.All.Requests+ph.Ramp.All.Requests {
			t.Errorf("phase %d: windows hold %d requests, stages %d", i, sum, ph.Hold.All.Requests+ph.Ramp.All.Requests)
		}
	}
	if hw := rec.PhaseWindows(1, load.Hold); len(hw) != 4 || hw[0].Start != 20*s {
		t.Errorf("peak's hold windows: %+v", hw)
	}
	// Each window records how contended the machine was over exactly its own span, and
	// a phase's windows add up to the phase's.
	for _, w := range rec.Windows {
		sh := w.Host.Shares()
		if w.Host.Wall != w.Length || !near(sh.Pressure, 0.25) || !near(sh.Others, 0.5) || !near(sh.Steal, 0.01) {
			t.Errorf("window at %v: host %+v, shares %+v", w.Start, w.Host, sh)
		}
	}
	if u := rec.PhaseHost(1, load.Hold); u.Wall != 35*s || !near(u.Shares().Pressure, 0.25) {
		t.Errorf("peak's hold: host %+v", u)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// A stop rule that holds stops the run at once: the phase is stopped, later phases do
// not run, and the record says after which window.
func TestStopWhenStopsTheRun(t *testing.T) {
	p := testPlan(t, threePhases)
	clock := runtest.NewClock(t0)
	eng := phased(clock)
	rec := run.Run(context.Background(), p, run.Options{
		Clock: clock, NewEngine: eng.New, Probe: noProbe,
		// The second full window of peak.
		StopWhen: func(w run.Window) bool { return w.Phase == 1 && w.All.Requests == 10 },
	})
	// The engine notices at its next step, half a second on; what completed until then
	// is a window of its own.
	if rec.StoppedAt != 4 || len(rec.Windows) != 6 || rec.Windows[5].Length != 500*time.Millisecond {
		t.Fatalf("stopped at window %d of %d", rec.StoppedAt, len(rec.Windows))
	}
	if peak := rec.Phases[1]; !peak.Ran || !peak.Load.Stopped || peak.Load.Canceled || !errors.Is(eng.Made[1].Cause, load.ErrStopped) {
		t.Errorf("peak: %+v, cause %v", peak.Load, eng.Made[1].Cause)
	}
	if rec.Phases[2].Ran || len(eng.Made) != 2 || rec.Cancelled {
		t.Errorf("cool ran after the stop (%d engines made), or the run says cancelled (%v)", len(eng.Made), rec.Cancelled)
	}
	if rec.End != t0.Add(37500*time.Millisecond) {
		t.Errorf("run ended at %v, want at the stop", rec.End.Sub(t0))
	}
}

// By default a run ends after a phase whose engine ended early; StopAfter decides
// otherwise.
func TestARunEndsAfterAPhaseThatEndedEarly(t *testing.T) {
	p := testPlan(t, threePhases)
	clock := runtest.NewClock(t0)
	eng := phased(clock)
	fail := &load.SetupFailure{N: 1, Attempts: 3, Err: "status 401"}
	mk := eng.Make
	eng.Make = func(i int, p *plan.Plan, rec load.Recorder) *runtest.Engine {
		s := mk(i, p, rec)
		if i == 0 {
			s.SetupFail = fail
		}
		return s
	}
	rec := run.Run(context.Background(), p, run.Options{Clock: clock, NewEngine: eng.New, Probe: noProbe})
	if !rec.Phases[0].Ran || rec.Phases[0].Load.SetupFailure != fail || rec.Phases[1].Ran || len(eng.Made) != 1 {
		t.Errorf("phases: %+v", rec.Phases)
	}
	// A StopAfter that lets the run go on.
	clock = runtest.NewClock(t0)
	eng = phased(clock)
	var asked []string
	rec = run.Run(context.Background(), p, run.Options{Clock: clock, NewEngine: eng.New, Probe: noProbe,
		StopAfter: func(ph run.Phase) bool { asked = append(asked, ph.Name); return ph.Name == "peak" }})
	if !rec.Phases[1].Ran || rec.Phases[2].Ran || !slices.Equal(asked, []string{"warm", "peak"}) {
		t.Errorf("ran %v %v %v, asked about %v", rec.Phases[0].Ran, rec.Phases[1].Ran, rec.Phases[2].Ran, asked)
	}
}

func TestCancelDuringAPhase(t *testing.T) {
	p := testPlan(t, threePhases)
	clock := runtest.NewClock(t0)
	eng := phased(clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := run.Run(ctx, p, run.Options{Clock: clock, NewEngine: eng.New, Probe: noProbe,
		OnWindow: func(w run.Window, _ stats.Progress) {
			if w.Phase == 1 {
				cancel() // as a SIGTERM in the middle of peak
			}
		}})
	if peak := rec.Phases[1]; !peak.Load.Canceled || peak.Load.Stopped || !rec.Cancelled || rec.Phases[2].Ran || rec.StoppedAt != -1 {
		t.Errorf("peak %+v, record cancelled %v", peak.Load, rec.Cancelled)
	}
	// What was measured until then is kept.
	if n := len(rec.Windows); n != 5 || rec.Phases[1].Ramp.All.Requests == 0 {
		t.Errorf("%d windows, peak's ramp %d requests", n, rec.Phases[1].Ramp.All.Requests)
	}
}

func TestUnreachableTargetRunsNoPhase(t *testing.T) {
	p := testPlan(t, threePhases)
	made := 0
	newEngine := func(*plan.Plan, load.Recorder) run.Engine { made++; return nil }
	refused := func(context.Context, *plan.Plan) error {
		return errors.New("cannot reach target http://127.0.0.1:9: connection refused")
	}
	clock := runtest.NewClock(t0)
	rec := run.Run(context.Background(), p, run.Options{Clock: clock, NewEngine: newEngine, Probe: refused})
	if rec.Unreachable != "cannot reach target http://127.0.0.1:9: connection refused" || rec.Cancelled || made != 0 ||
		len(rec.Windows) != 0 || len(rec.Phases) != 3 || rec.Phases[0].Ran || rec.End != t0 {
		t.Errorf("record = %+v, %d engines made", rec, made)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rec := run.Run(ctx, p, run.Options{Clock: clock, NewEngine: newEngine, Probe: refused}); !rec.Cancelled {
		t.Error("a probe cut short by a cancel is not a cancelled run")
	}
}

// A hold that may extend goes on while Enough says to (a look, or none yet), and ends
// at the look that decides; the record keeps the looks that went on, and the windows the
// deciding one saw.
func TestAHoldEndsAtTheLookThatKnowsEnough(t *testing.T) {
	p := testPlan(t, "target: http://127.0.0.1:9\nload: {users: 2, duration: 20s, max_duration: 60s}\ntasks: [{path: /a}]\n")
	clock := runtest.NewClock(t0)
	eng := &runtest.Engines{Make: func(i int, p *plan.Plan, rec load.Recorder) *runtest.Engine {
		return &runtest.Engine{Clock: clock, Rec: rec, Events: everySecond(0, 60*time.Second), End: 60 * time.Second, Users: 2}
	}}
	var asked []time.Duration
	var windowsThen int
	rec := run.Run(context.Background(), p, run.Options{Clock: clock, NewEngine: eng.New, Probe: noProbe, Every: 10 * time.Second,
		Enough: func(phase int, rec *run.Record, held time.Duration) run.Look {
			asked = append(asked, held)
			windowsThen = len(rec.Windows)
			switch len(asked) {
			case 1:
				return run.GoOn
			case 2:
				return run.NotYet // no look: not kept
			}
			return run.Decided
		}})
	ph := rec.Phases[0]
	// Windows close on the 10 s boundaries: the hold began at 12:00:03, so Enough is
	// asked at 12:00:30 (27 s held), 12:00:40 (37 s) and 12:00:50 (47 s).
	if !slices.Equal(asked, []time.Duration{27 * time.Second, 37 * time.Second, 47 * time.Second}) {
		t.Fatalf("asked at %v", asked)
	}
	if !slices.Equal(ph.Looks, asked[:1]) || ph.Decided != 47*time.Second || ph.DecidedWindows != windowsThen {
		t.Errorf("looks %v, decided %v with %d windows; want the first look kept and the third's decision, with %d", ph.Looks, ph.Decided, ph.DecidedWindows, windowsThen)
	}
	if held := ph.Load.HoldEnd.Sub(ph.Load.HoldStart); held < 47*time.Second || held > 49*time.Second {
		t.Errorf("the hold lasted %v, want it ended after the look at 47 s", held)
	}
	if n := len(rec.JudgedWindows(0)); n == 0 || n >= len(rec.PhaseWindows(0, load.Hold)) {
		t.Errorf("%d judged windows of %d: want those up to the look", n, len(rec.PhaseWindows(0, load.Hold)))
	}
}

// The target's resources are read as a phase starts and at every window's end: a
// counter as its rate over the window, a gauge as its value at the end; a window whose
// scrape failed says why and has none.
func TestResourcesAreReadEveryWindow(t *testing.T) {
	p := testPlan(t, "target: http://127.0.0.1:9\nload: {users: 2, duration: 30s}\ntasks: [{path: /a}]\n")
	clock := runtest.NewClock(t0)
	var scrapes atomic.Int64
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scrapes.Add(1) == 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		// 0.5 processor seconds a second of the fake clock, and a pool of 4 in use.
		secs := clock.Now().Sub(t0).Seconds()
		fmt.Fprintf(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\n# TYPE pool gauge\npool 4\n", 0.5*secs)
	}))
	defer metrics.Close()
	series := []resource.Series{{Name: "cpu", Metric: "process_cpu_seconds_total", Counter: true}, {Name: "pool", Metric: "pool"}}
	eng := &runtest.Engines{Make: func(i int, p *plan.Plan, rec load.Recorder) *runtest.Engine {
		return &runtest.Engine{Clock: clock, Rec: rec, Events: everySecond(0, 30*time.Second), End: 30 * time.Second, Users: 2}
	}}
	rec := run.Run(context.Background(), p, run.Options{Clock: clock, NewEngine: eng.New, Probe: noProbe, Every: 10 * time.Second,
		Resources: &resource.Scraper{URL: metrics.URL, Series: series}})
	// Windows: 12:00:03-10 (scrapes 1, 2), -20 (3 fails), -30 (4: no start, so no rate),
	// -33 (5).
	if len(rec.Windows) != 4 {
		t.Fatalf("%d windows", len(rec.Windows))
	}
	want := []struct {
		cpu, pool bool
		err       string
	}{{true, true, ""}, {false, false, "status 503"}, {false, true, "status 503"}, {true, true, ""}}
	for i, w := range rec.Windows {
		ok := func(k int) bool { return k < len(w.Resources) && w.Resources[k].OK }
		if ok(0) != want[i].cpu || ok(1) != want[i].pool || !strings.Contains(w.ResourceError, want[i].err) || (want[i].err == "") != (w.ResourceError == "") {
			t.Errorf("window %d: %+v (%q)", i, w.Resources, w.ResourceError)
			continue
		}
		if ok(0) && math.Abs(w.Resources[0].V-0.5) > 1e-9 || ok(1) && w.Resources[1].V != 4 {
			t.Errorf("window %d: cpu %v, pool %v; want 0.5 and 4", i, w.Resources[0].V, w.Resources[1].V)
		}
	}
}
