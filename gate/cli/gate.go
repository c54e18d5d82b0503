package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/internal/safetext"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/run"
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
	p, err := plan.Build(cfg, ths)
	if err != nil {
		return nil, err
	}
	c.secrets = append(c.secrets, p.Secrets...)
	if err := checkReportPaths(f); err != nil {
		return nil, err
	}
	if f.set["shards"] || f.set["shard"] {
		sh, err := c.shardOf(f)
		if err != nil {
			return nil, err
		}
		if p, err = p.ForShard(sh); err != nil {
			return nil, fmt.Errorf("--shards: %v", err)
		}
	}
	if f.set["start-at"] {
		if f.startTime, err = time.Parse(time.RFC3339, f.startAt); err != nil {
			return nil, fmt.Errorf("--start-at %q is not a time such as 2026-12-07T10:00:00Z (RFC 3339)", f.startAt)
		}
	}
	switch v := c.getenv("PERFGATE_CONTENTION"); v {
	case "":
	case "judge", "record":
		p.RecordContention = v == "record"
	default:
		return nil, fmt.Errorf("PERFGATE_CONTENTION must be judge or record, got %q", v)
	}
	if !f.set["progress"] {
		f.progress.d = defaultWindow(p)
	}
	if err := checkWindows(p, f.progress.d); err != nil {
		return nil, err
	}
	return p, nil
}

// shardOf reads which shard this process is: --shard counts from 1 to --shards, and
// without it the engine's index stands in: Kubernetes' Indexed Jobs give
// JOB_COMPLETION_INDEX (from 0), GitLab's parallel jobs CI_NODE_INDEX (from 1).
func (c *Command) shardOf(f *runFlags) (plan.Shard, error) {
	if !f.set["shards"] {
		return plan.Shard{}, fmt.Errorf("--shard %d needs --shards, how many processes share the run", f.shard)
	}
	if f.shards < 2 || f.shards > plan.MaxShards {
		return plan.Shard{}, fmt.Errorf("--shards must be from 2 to %d, got %d", plan.MaxShards, f.shards)
	}
	i, from := f.shard, "--shard"
	if !f.set["shard"] {
		for _, env := range []struct {
			name string
			base int
		}{{"JOB_COMPLETION_INDEX", 0}, {"CI_NODE_INDEX", 1}} {
			v := c.getenv(env.name)
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return plan.Shard{}, fmt.Errorf("%s is %q, not a number", env.name, safetext.Line(v))
			}
			i, from = n-env.base+1, env.name
			break
		}
		if from == "--shard" {
			return plan.Shard{}, fmt.Errorf("--shards %d needs --shard I (from 1 to %d), or JOB_COMPLETION_INDEX or CI_NODE_INDEX from the CI", f.shards, f.shards)
		}
	}
	if i < 1 || i > f.shards {
		return plan.Shard{}, fmt.Errorf("%s makes this shard %d, and the shards are 1 to %d", from, i, f.shards)
	}
	return plan.Shard{Index: i - 1, Of: f.shards}, nil
}

// defaultWindow is the time window (and progress interval) of a run that does not set
// one: a twentieth of the main phase's hold, in whole seconds from 1 s to 10 s, so that
// a hold has windows enough to estimate how sure each rule is (a 60 s hold: 3 s windows;
// the default 5 minutes: 10 s).
func defaultWindow(p *plan.Plan) time.Duration {
	return min(max((p.Load.Hold/20).Round(time.Second), time.Second), 10*time.Second)
}

// Time windows: no shorter than minWindow (a progress line and a closed window in every
// one), and no more than maxWindows in a run (each is kept, and written in the result).
const (
	minWindow  = 100 * time.Millisecond
	maxWindows = 100_000
)

// checkWindows refuses a --progress interval that would close windows too often, or too
// many of them over the whole run.
func checkWindows(p *plan.Plan, every time.Duration) error {
	if every < minWindow {
		return fmt.Errorf("--progress %s is shorter than %s", every, minWindow)
	}
	var total time.Duration
	for _, ph := range p.Phases {
		total += ph.Ramp() + ph.Settle + ph.Hold + p.Timeout
	}
	if n := int64(total / every); n > maxWindows {
		return fmt.Errorf("--progress %s would close %d time windows over the run's %s, more than %d: lengthen it", every, n, total.Round(time.Second), maxWindows)
	}
	return nil
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
	if f.client == "net/http" {
		engineOpts = append(engineOpts, load.WithStdlibClient())
	}

	if p.Shard.Sharded() {
		// A shard sends its share of the load and says whether it delivered it: the
		// rules judge the whole run, from every shard's result, in perfgate merge.
		q := *p
		q.Rules, q.Aborts, q.ResourceRules = nil, nil, nil
		p = &q
		if !f.set["junit"] {
			f.junit = ""
		}
		c.say(out, "%s: this process sends its share of the load, and perfgate merge judges the run from every shard's result\n", p.Shard)
	}
	c.say(out, "perfgate %s: %s\n", version(), describeLoad(p.Load, p.Timeout))
	several := len(p.Phases) > 1
	if several {
		for i, ph := range p.Phases {
			c.say(out, "  phase %d/%d %s: %s\n", i+1, len(p.Phases), ph.Name, describeLoad(ph.Load, 0))
		}
	}
	c.say(out, "target %s; %d tasks, %d rules from %s\n",
		p.RedactedTarget(), len(p.Tasks), len(p.Rules), strings.Join(p.ThresholdFiles, ", "))
	if need, limit := connectionsNeeded(p), load.OpenFileLimit(); limit > 0 && need+fileHeadroom > limit {
		c.errorf("warning: the plan may hold %d connections open, and perfgate may open %d files (ulimit -n): raise the limit, or the requests it cannot make will leave the run without a verdict", need, limit)
	}

	if f.cpuProfile != "" {
		stopProfile, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			c.errorf("--cpuprofile: %v", err)
			return ExitUsage
		}
		defer stopProfile()
	}
	opts := c.runWith
	opts.Every, opts.EngineOptions = f.progress.d, engineOpts
	opts.Resources, opts.Query = c.resourceSource(ctx, p, f.progress.d), c.resourceQuery(ctx, p)
	opts.StopWhen, opts.StopAfter = verdict.NewWatch(p.Aborts).Stops, verdict.EndsRun
	opts.Enough = func(phase int, rec *run.Record, held time.Duration) run.Look {
		look := verdict.Enough(p, rec, phase, held)
		if look == run.GoOn {
			c.say(out, "a rule is inconclusive after %s of the hold: holding on (at most %s)\n",
				held.Round(time.Second), p.Phases[phase].LongestHold())
		}
		return look
	}
	opts.OnPhase = func(i int, ph *run.Phase) {
		if several {
			c.say(out, "phase %d/%d %s\n", i+1, len(p.Phases), ph.Name)
		}
	}
	opts.OnWindow = func(w run.Window, total stats.Progress) {
		l := p.Phases[w.Phase].Load
		_ = report.WriteProgress(out, report.ProgressLine{
			Open: l.Open, Elapsed: w.Start + w.Length, Stage: w.Stage.String(), Active: w.Users, Users: l.Users,
			Requests: total.Requests, Rate: w.Throughput(), P99: total.P99, Errors: total.Errors,
		})
	}
	if !f.startTime.IsZero() {
		opts.EngineOptions = append(opts.EngineOptions, load.WithStartAt(f.startTime))
		c.say(out, "the load begins at %s, after the probe\n", f.startTime.UTC().Format(time.RFC3339))
	}
	rec := run.Run(ctx, p, opts)

	return c.publish(ctx, p, f, rec, gh, out, published{startAt: f.startTime, window: f.progress.d})
}

// published is what a run's reports carry besides its record: a shard's common start and
// window length, or a merged run's shards and the problems that leave it without a
// verdict.
type published struct {
	startAt  time.Time
	window   time.Duration
	shards   []report.MergedShard
	problems []string
}

// resourceSource is the target's metrics endpoint the run reads at every window's end,
// if the config names one, read once first: a source that cannot be read, or lacks a
// series, is said before the load starts (the run goes on; its windows say what is
// missing).
func (c *Command) resourceSource(ctx context.Context, p *plan.Plan, every time.Duration) *resource.Scraper {
	if p.Resources == nil || p.Resources.Prometheus != "" {
		return nil
	}
	sc := &resource.Scraper{URL: p.Resources.Scrape, Series: p.Resources.Series, Timeout: min(time.Second, every/2)}
	snap, err := sc.Scrape(ctx, time.Now())
	switch {
	case err != nil:
		c.errorf("warning: %v: the target's resources will be missing from the reports", err)
	default:
		if missing := resource.Missing(sc.Series, snap); len(missing) > 0 {
			c.errorf("warning: metrics source %s has no %s", plan.RedactURL(sc.URL), strings.Join(missing, ", "))
		}
	}
	return sc
}

// resourceQuery is the Prometheus server the run queries for the target's resources
// once each phase ends, if the config names one, queried once first over the last
// minute: an expression that comes to no series, or to several, or a server that does
// not answer, is said before the load starts (the run goes on; its windows say what is
// missing).
func (c *Command) resourceQuery(ctx context.Context, p *plan.Plan) *resource.Query {
	if p.Resources == nil || p.Resources.Prometheus == "" {
		return nil
	}
	q := &resource.Query{URL: p.Resources.Prometheus}
	for _, s := range p.Resources.Series {
		q.Exprs = append(q.Exprs, resource.Expr{Name: s.Name, Query: s.Query})
	}
	now := time.Now()
	if _, err := q.Range(ctx, now.Add(-time.Minute), now, 15*time.Second); err != nil {
		c.errorf("warning: %v: the target's resources may be missing from the reports", err)
	}
	return q
}

// publish judges the record and writes every report the run was asked for. It writes
// them all again, so that none contradicts the exit code, when a report could not be
// written (a pass without its evidence is no pass) or a signal came while they were
// written (the run is then cancelled).
func (c *Command) publish(ctx context.Context, p *plan.Plan, f *runFlags, rec *run.Record, gh *report.GitHub, out io.Writer, extra published) int {
	var unwritten []string
	for pass := 0; ; pass++ {
		v := verdict.Unwritten(verdict.Shards(verdict.Judge(p, rec), extra.problems), unwritten)
		code := exitCode(v.Status)
		res, err := report.Build(report.Input{Tool: "perfgate " + version(), Plan: p, Record: rec, Verdict: v, ExitCode: code,
			StartAt: extra.startAt, Window: extra.window, Shards: extra.shards})
		if err != nil {
			c.errorf("cannot build the report: %v", err)
			return ExitInvalid
		}
		if pass == 0 {
			if v.Aborted != nil {
				c.say(out, "stopped early: %s held\n", v.Aborted.Rule.Text)
			}
			if rec.Unreachable != "" && len(res.Reasons) > 0 {
				c.errorf("%s", res.Reasons[0].Message)
			}
			if c.beforeReports != nil {
				c.beforeReports()
			}
			if err := report.WriteConsole(out, res); err != nil {
				c.errorf("cannot write the report to stdout: %v", err)
			}
		} else {
			c.say(out, "\nVerdict: %s, written again in every report (exit %d): %s\n", strings.ToUpper(res.Verdict), code, res.Reasons[len(res.Reasons)-1].Message)
		}
		failed := c.writeReports(res, f, gh, out, baselineRefs(p))
		c.comment(ctx, f, res, out)
		switch {
		case ctx.Err() != nil && !rec.Cancelled && pass < 2:
			rec.Cancelled = true
			c.errorf("cancelled as the reports were written: writing them again, as of a cancelled run")
		case len(failed) > 0 && len(unwritten) == 0 && v.Status == verdict.Pass && pass < 2:
			unwritten = failed
		default:
			return code
		}
	}
}

// writeReports writes the JUnit and JSON files and the GitHub Actions step's outputs and
// summary, and returns what could not be written, and why.
func (c *Command) writeReports(res *report.Result, f *runFlags, gh *report.GitHub, out io.Writer, refs []report.Reference) []string {
	var publish func() error
	if gh != nil {
		publish = func() error { return gh.Publish(res, report.Paths{JUnit: f.junit, JSON: f.json, HTML: f.html}) }
	}
	return writeReportFiles(c, res, []reportFile[*report.Result]{{f.junit, report.WriteJUnit}, {f.json, report.WriteJSON},
		{f.html, func(w io.Writer, r *report.Result) error { return report.WriteHTML(w, r, refs) }}}, publish, out)
}

// baselineRefs are the baselines the plan's rules read, to draw beside the run.
func baselineRefs(p *plan.Plan) []report.Reference {
	var refs []report.Reference
	for _, b := range p.Baselines {
		refs = append(refs, report.BaselineReference(filepath.Base(b.Path), b.File))
	}
	return refs
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

func exitCode(s verdict.Status) int {
	switch s {
	case verdict.Pass:
		return ExitPass
	case verdict.Fail:
		return ExitFail
	}
	return ExitInvalid
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

// fileHeadroom is the files perfgate opens besides connections: its standard streams,
// pollers, the probe, reports.
const fileHeadroom = 32

// connectionsNeeded is the most connections the plan's phases may hold at once: a user
// holds one (closed model), a request in flight one (open model).
func connectionsNeeded(p *plan.Plan) int {
	need := 0
	for _, ph := range p.Phases {
		if ph.Load.Open {
			need = max(need, ph.Load.MaxInFlight)
		} else {
			need = max(need, ph.Load.Users)
		}
	}
	return need
}
