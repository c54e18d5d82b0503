package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/gate/stats"
	"github.com/perfgate/perfgate/gate/verdict"
)

// source says where a config comes from: a file, or bytes shipped in the binary.
type source struct {
	name string
	data []byte // nil: read the file name
	// openThresholds reads a threshold file named in the config; nil reads it from disk,
	// relative to the config's folder.
	openThresholds func(name string) (display string, data []byte, err error)
	// thresholds, when set, replaces the config's list of threshold files.
	thresholds []string
}

// loadPlan reads the config and thresholds, applies the flags, and builds the plan.
// Every error it returns is the user's to fix: exit 2.
func (c *Command) loadPlan(src source, f *runFlags) (*plan.Plan, error) {
	var cfg *config.Config
	var err error
	if src.data != nil {
		cfg, err = config.ParseConfig(src.name, src.data, c.Env)
	} else {
		cfg, err = config.ReadConfig(src.name, c.Env)
	}
	if err != nil {
		return nil, err
	}
	if err := f.apply(cfg); err != nil {
		return nil, err
	}
	var ths []*config.Thresholds
	if len(f.thresholds) > 0 {
		for _, name := range f.thresholds {
			t, err := config.ReadThresholds(name, c.Env)
			if err != nil {
				return nil, err
			}
			ths = append(ths, t)
		}
	} else {
		if src.thresholds != nil {
			cfg.Thresholds = src.thresholds
		}
		for _, name := range cfg.Thresholds {
			var t *config.Thresholds
			if src.openThresholds != nil {
				display, data, oerr := src.openThresholds(name)
				if oerr != nil {
					return nil, config.Errorf(cfg.File, cfg.Pos.Of("thresholds"), "thresholds file %s: %v", name, oerr)
				}
				t, err = config.ParseThresholds(display, data, c.Env)
			} else {
				t, err = config.ReadThresholds(plan.Relative(cfg, name), c.Env)
			}
			if err != nil {
				return nil, err
			}
			ths = append(ths, t)
		}
	}
	if len(ths) == 0 {
		return nil, config.Errorf(cfg.File, cfg.Pos.Of("thresholds"),
			"no thresholds: a gate needs rules to judge; list files under thresholds: or pass --thresholds FILE")
	}
	return plan.Build(cfg, ths)
}

// gate runs a plan end to end and returns the exit code. Reports are written whatever
// the outcome, so CI always has something to show.
func (c *Command) gate(ctx context.Context, p *plan.Plan, f *runFlags) int {
	// Progress lines, masks and the final report share stdout from several goroutines.
	out := &lockedWriter{w: c.Stdout}
	var gh *report.GitHub
	var engineOpts []load.Option
	if report.GitHubEnabled(c.getenv) {
		gh = report.NewGitHub(c.getenv, out)
		if err := gh.Mask(p.Secrets...); err != nil {
			c.errorf("cannot mask secrets in the log: %v", err)
			return ExitInvalid
		}
		var seen sync.Map
		engineOpts = append(engineOpts, load.WithExtractHook(func(v string) {
			if _, dup := seen.LoadOrStore(v, true); !dup {
				_ = gh.Mask(v) // the value is never printed; the mask is a second line of defence
			}
		}))
	}

	fmt.Fprintf(out, "perfgate %s: %s\n", version(), describeLoad(p.Load, p.Timeout))
	if len(p.Phases) > 1 {
		for i, ph := range p.Phases {
			fmt.Fprintf(out, "  phase %d/%d %s: %s\n", i+1, len(p.Phases), ph.Name, describeLoad(ph.Load, 0))
		}
	}
	fmt.Fprintf(out, "target %s; %d tasks, %d rules from %s\n",
		p.RedactedTarget(), len(p.Tasks), len(p.Rules), strings.Join(p.ThresholdFiles, ", "))

	maxTimeout := p.Timeout
	for _, r := range append(append([]plan.Request{}, p.Setup...), p.Tasks...) {
		maxTimeout = max(maxTimeout, r.Timeout)
	}
	infos := make([]stats.EndpointInfo, len(p.Endpoints))
	for i, e := range p.Endpoints {
		infos[i] = stats.EndpointInfo{Name: e.Name, Setup: e.Setup}
	}
	phases := make([]report.PhaseInput, len(p.Phases))
	for i := range phases {
		phases[i].Plan = p.ForPhase(i)
	}
	main := max(p.Main, 0)
	var windows []report.WindowInput
	var aborted *verdict.Abort
	if err := load.Probe(ctx, p); err != nil {
		now := time.Now()
		run := load.Result{Start: now, End: now, PlannedUsers: p.Users, Open: p.Open, Invalid: []string{err.Error()}}
		if ctx.Err() != nil {
			run.Canceled = true
			run.Invalid = []string{"the run was cancelled before it started"}
		}
		c.errorf("%s", run.Invalid[0])
		phases[main].Run = run
	} else {
		if f.client == "net/http" {
			engineOpts = append(engineOpts, load.WithStdlibClient())
		}
		if f.cpuProfile != "" {
			stopProfile, err := startCPUProfile(f.cpuProfile)
			if err != nil {
				c.errorf("--cpuprofile: %v", err)
				return ExitUsage
			}
			defer stopProfile()
		}
		pr := &phaseRunner{out: out, opts: engineOpts, watch: verdict.NewWatch(p.Aborts), begin: time.Now(),
			every: f.progress.d, infos: infos, maxTimeout: maxTimeout, named: len(phases) > 1}
		for i := range phases {
			ph := &phases[i]
			if pr.named {
				fmt.Fprintf(out, "phase %d/%d %s\n", i+1, len(phases), ph.Plan.PhaseName())
			}
			var phaseWindows []report.WindowInput
			phaseWindows, aborted = pr.run(ctx, ph)
			windows = append(windows, phaseWindows...)
			if ph.Run.Canceled || ph.Run.Stopped || len(ph.Run.Invalid) > 0 {
				break // later phases would measure a run that is already over
			}
		}
	}

	v := verdict.EvaluatePhases(p.Rules, verdictPhases(phases, windows), overallRun(phases))
	if aborted != nil {
		v = v.WithAbort(*aborted)
		fmt.Fprintf(out, "stopped early: %s held\n", aborted.Rule.Text)
	}
	code := exitCode(v.Status)

	in := report.Input{
		Tool: "perfgate " + version(), Plan: p, Run: phases[main].Run, Hold: phases[main].Hold, Ramp: phases[main].Ramp,
		Verdict: v, ExitCode: code, Windows: windows,
	}
	if len(phases) > 1 {
		in.Phases = phases
	}
	res, err := report.Build(in)
	if err != nil {
		c.errorf("cannot build the report: %v", err)
		return ExitInvalid
	}
	if err := report.WriteConsole(out, res); err != nil {
		c.errorf("cannot write the report to stdout: %v", err)
	}
	written := true
	for _, w := range []struct {
		path  string
		write func(io.Writer, *report.Result) error
	}{{f.junit, report.WriteJUnit}, {f.json, report.WriteJSON}} {
		if w.path == "" {
			continue
		}
		if err := writeFile(w.path, res, w.write); err != nil {
			c.errorf("cannot write %s: %v", w.path, err)
			written = false
			continue
		}
		fmt.Fprintf(out, "wrote %s\n", w.path)
	}
	if gh != nil {
		if err := gh.Publish(res, report.Paths{JUnit: f.junit, JSON: f.json}); err != nil {
			c.errorf("GitHub Actions: %v", err)
			written = false
		}
	}
	if !written && code == ExitPass {
		// A pass whose evidence is missing is not a pass the user can show.
		c.errorf("every rule held, but exit %d: a report the run was asked for could not be written", ExitInvalid)
		return ExitInvalid
	}
	return code
}

// phaseRunner runs the phases of a gate one after another, each with its own engine,
// stats and progress lines, sharing the abort rules' watch and the run's clock.
type phaseRunner struct {
	out        io.Writer
	opts       []load.Option
	watch      *verdict.Watch
	begin      time.Time // the run's start, which window times count from
	every      time.Duration
	infos      []stats.EndpointInfo
	maxTimeout time.Duration
	named      bool // several phases: windows carry the phase's name
}

// run runs one phase, fills in its run and summaries, and returns its windows and the
// abort rule that stopped it, if one did.
func (r *phaseRunner) run(ctx context.Context, ph *report.PhaseInput) ([]report.WindowInput, *verdict.Abort) {
	var statsOpts []stats.Option
	if ph.Plan.Open {
		statsOpts = append(statsOpts, stats.OpenModel())
	}
	col := stats.New(len(r.infos), r.maxTimeout, statsOpts...)
	eng := load.New(ph.Plan, col, r.opts...)
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	pr := &progress{out: r.out, plan: ph.Plan, eng: eng, col: col, every: r.every, runBegin: r.begin,
		watch: r.watch, abort: func() { stopRun(load.ErrStopped) }}
	if r.named {
		pr.phase = ph.Plan.PhaseName()
	}
	pr.start(runCtx)
	ph.Run = eng.Run(runCtx)
	ph.Ran = true
	windows := pr.stop(ph.Run.End)
	ph.Hold = col.Summarize(load.Hold, ph.Run.HoldDuration(), r.infos)
	ramp := ph.Run.End.Sub(ph.Run.Start)
	if !ph.Run.HoldStart.IsZero() {
		ramp = ph.Run.HoldStart.Sub(ph.Run.Start)
	}
	ph.Ramp = col.Summarize(load.Ramp, ramp, r.infos)
	if ph.Run.Stopped {
		return windows, pr.aborted
	}
	return windows, nil
}

// describeLoad is one line on a phase's load; timeout 0 leaves the timeout out.
func describeLoad(l plan.Load, timeout time.Duration) string {
	var s string
	if l.Open {
		s = fmt.Sprintf("open model, %s (ramp %s from %s), hold %s, at most %d in flight",
			report.FormatValue("rate", l.Rate), l.RateRamp, report.FormatValue("rate", l.StartRate), l.Hold, l.MaxInFlight)
	} else {
		users := fmt.Sprintf("%d users (spawn %g/s, ramp %s)", l.Users, l.SpawnRate, l.Ramp().Round(100*time.Millisecond))
		if l.Users == 1 {
			users = "1 user"
		}
		if l.Settle > 0 {
			users += fmt.Sprintf(", settle %s", l.Settle)
		}
		s = fmt.Sprintf("%s, hold %s, think %s", users, l.Hold, l.Think)
	}
	if timeout > 0 {
		s += fmt.Sprintf(", timeout %s", timeout)
	}
	return s
}

// verdictPhases gives the verdict each phase's hold summary and hold windows. A phase
// that never ran has empty summaries, so its rules have no samples.
func verdictPhases(phases []report.PhaseInput, windows []report.WindowInput) []verdict.PhaseResult {
	out := make([]verdict.PhaseResult, len(phases))
	for i, ph := range phases {
		out[i] = verdict.PhaseResult{Name: ph.Plan.PhaseName(), Hold: ph.Hold, NotRun: !ph.Ran && len(ph.Run.Invalid) == 0}
		for _, w := range windows {
			if w.Stage == load.Hold && (w.Phase == "" || w.Phase == out[i].Name) {
				out[i].Windows = append(out[i].Windows, w.Window)
			}
		}
	}
	return out
}

// overallRun is what made the run as a whole invalid, phase by phase.
func overallRun(phases []report.PhaseInput) load.Result {
	var out load.Result
	for _, ph := range phases {
		for _, why := range ph.Run.Invalid {
			if len(phases) > 1 {
				why = ph.Plan.PhaseName() + ": " + why
			}
			out.Invalid = append(out.Invalid, why)
		}
		out.Canceled = out.Canceled || ph.Run.Canceled
		out.Stopped = out.Stopped || ph.Run.Stopped
	}
	return out
}

func exitCode(s verdict.Status) int {
	switch s {
	case verdict.Pass:
		return ExitPass
	case verdict.Fail:
		return ExitFail
	}
	return ExitInvalid
}

// writeFile writes through a temporary file and renames it into place, so a reader
// never sees half a report.
func writeFile(path string, r *report.Result, write func(io.Writer, *report.Result) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// progress prints a line and closes a stats window every interval.
type progress struct {
	out   io.Writer
	plan  *plan.Plan // the phase's
	eng   *load.Engine
	col   *stats.Collector
	every time.Duration
	// phase names the phase in windows, in a run with several; runBegin is when the
	// run's first phase began, which window times count from.
	phase    string
	runBegin time.Time

	// watch follows the abort rules; abort stops the run when one fires.
	watch   *verdict.Watch
	abort   func()
	aborted *verdict.Abort // owned by the goroutine until stop

	begin   time.Time
	done    chan struct{}
	wg      sync.WaitGroup
	windows []report.WindowInput // owned by the goroutine until stop
	closed  time.Duration        // where the last window ended, from begin
}

func (pr *progress) start(ctx context.Context) {
	pr.begin = time.Now()
	if pr.runBegin.IsZero() {
		pr.runBegin = pr.begin
	}
	pr.done = make(chan struct{})
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		t := time.NewTicker(pr.every)
		defer t.Stop()
		for {
			select {
			case <-pr.done:
				return
			case <-ctx.Done():
				return
			case now := <-t.C:
				w := pr.closeWindow(now)
				if a := pr.watch.Observe(w.Window); a != nil && pr.aborted == nil {
					pr.aborted = a
					pr.abort()
				}
				total := pr.col.Progress()
				_ = report.WriteProgress(pr.out, report.ProgressLine{
					Open:    pr.plan.Open,
					Elapsed: now.Sub(pr.runBegin), Stage: w.Stage.String(), Active: w.Users, Users: pr.plan.Users,
					Requests: total.Requests, Rate: w.Throughput(), P99: total.P99, Errors: total.Errors,
				})
			}
		}
	}()
}

func (pr *progress) closeWindow(now time.Time) report.WindowInput {
	st := pr.eng.Status()
	pr.closed = now.Sub(pr.begin)
	w := report.WindowInput{Window: pr.col.CloseWindow(pr.closed), Phase: pr.phase, Users: st.Active, Stage: st.Stage}
	w.Start += pr.begin.Sub(pr.runBegin) // from the start of the run
	pr.windows = append(pr.windows, w)
	return w
}

// stop ends the progress lines, closes the last, partial window, and returns them all.
func (pr *progress) stop(end time.Time) []report.WindowInput {
	close(pr.done)
	pr.wg.Wait()
	if len(pr.windows) == 0 || end.Sub(pr.begin) > pr.closed {
		pr.closeWindow(end)
	}
	return pr.windows
}

// lockedWriter serialises writes from several goroutines to one stream.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
