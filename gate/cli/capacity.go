package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/capacity"
	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/verdict"
)

// capacityFlags shape a capacity search; the zero value of each is its default.
type capacityFlags struct {
	from, to  string
	factor    float64
	precision fractionFlag
	budget    durationFlag
	hold      durationFlag
	ramp      durationFlag
	confirm   durationFlag
	cooldown  durationFlag
}

// Defaults of a search's steps.
const (
	defaultStepHold = 10 * time.Second
	defaultStepRamp = 3 * time.Second
)

func (cf *capacityFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&cf.from, "from", "", "first `level`: a rate (150/s) in the open model, users in the closed one (default: the config's load)")
	fs.StringVar(&cf.to, "to", "", "highest `level` tried (default: 100 times --from)")
	fs.Float64Var(&cf.factor, "factor", capacity.DefaultFactor, "how much each probe step grows `F`")
	fs.Var(&cf.precision, "precision", "bisect until the bracket is this `fraction` wide, e.g. 2% (default 2%)")
	fs.Var(&cf.budget, "budget", "load time `D` the whole search may use (default 8m)")
	fs.Var(&cf.hold, "step", "each step's judged hold `D` (default 10s; it may go on to twice that while a rule is inconclusive)")
	fs.Var(&cf.ramp, "step-ramp", "each step's ramp `D` to its level (default 3s)")
	fs.Var(&cf.confirm, "confirm", "the confirmation holds `D` at the bracket's ends (default twice --step)")
	fs.Var(&cf.cooldown, "cooldown", "pause `D` between steps, for the target to recover (default 5s; 0s: none)")
}

func (c *Command) capacity(ctx context.Context, args []string) int {
	var cf capacityFlags
	p, f, code, done := c.planFromArgs("capacity", args,
		"The article's stress test: finds the highest load at which the target still holds the\n"+
			"main phase's rules on latency and error rate (its capacity), and where its latency starts\n"+
			"to climb steeply (the knee). Open model (load.rate, --rate): a rate; closed model: users.\n"+
			"The level grows by --factor from --from until a step breaks, the bracket is bisected to\n"+
			"--precision, and both of its ends are confirmed by longer holds, within --budget of load.\n"+
			"Prints every step's figures and writes them to the --json file (default\n"+
			"perfgate-capacity.json) and JUnit (default perfgate-capacity-junit.xml). Threshold files'\n"+
			"capacity: rules (capacity > 400/s, capacity > baseline - 10%, knee > 300/s) judge it.\n"+
			"Exits 0 with a capacity found and its rules passed, 1 when a rule is breached, 3 without\n"+
			"a capacity or when a rule cannot be judged.", cf.add)
	if done {
		return code
	}
	return c.searchCapacity(ctx, p, f, &cf)
}

// searchCapacity runs a capacity search of the plan's target and writes its reports.
func (c *Command) searchCapacity(ctx context.Context, p *plan.Plan, f *runFlags, cf *capacityFlags) int {
	if p.Shard.Sharded() || f.set["start-at"] {
		c.errorf("capacity: a search runs on one machine: --shard, --shards and --start-at are a run's")
		return ExitUsage
	}
	if !f.set["json"] {
		f.json = "perfgate-capacity.json"
	}
	if !f.set["junit"] {
		f.junit = "perfgate-capacity-junit.xml"
	}
	if err := checkReportPaths(f); err != nil {
		c.errorf("capacity: %v", err)
		return ExitUsage
	}
	s, steps, err := cf.settings(p, f)
	if err != nil {
		c.errorf("capacity: %v", err)
		return ExitUsage
	}
	if r, bad := capacity.UnitMismatch(p.CapacityRules, s.Unit); bad {
		c.userError(config.Errorf(r.File, r.Pos, "capacity rule %q is in %s, and this search is in %s: the config's load (or --rate, --users) sets the model",
			r.Text, r.Unit, s.Unit))
		return ExitUsage
	}
	var gh *report.GitHub
	out := &lockedWriter{w: c.Stdout}
	if report.GitHubEnabled(c.getenv) {
		gh = report.NewGitHub(c.getenv, out)
		if err := gh.Mask(p.Secrets...); err != nil {
			c.errorf("cannot mask secrets in the log: %v", err)
			return ExitInvalid
		}
	}
	rules, err := capacity.Rules(p)
	if err != nil {
		c.errorf("capacity: %v (in %s)", err, strings.Join(p.ThresholdFiles, ", "))
		return ExitUsage
	}
	var texts []string
	for _, r := range rules {
		texts = append(texts, r.Scope+": "+r.Text)
	}
	unit := s.Unit.String()
	longer := ""
	if steps.Requests > 0 && (s.Unit == capacity.Rate || steps.PerUser > 0) {
		longer = fmt.Sprintf("; a step whose rules are not yet told goes on to %s requests, at most %s", report.Count(int64(steps.Requests)), steps.LongestHold)
	}
	c.say(out, "perfgate %s: capacity search in %s from %s to %s, each step %s ramp + %s hold (confirmations %s)%s, budget %s of load\n",
		version(), map[capacity.Unit]string{capacity.Rate: "arrivals a second", capacity.Users: "users"}[s.Unit],
		report.FormatLevel(unit, s.From), report.FormatLevel(unit, s.To), steps.Ramp, steps.Hold, steps.ConfirmHold, longer, s.Budget)
	c.say(out, "target %s; each step judged by %s\n", p.RedactedTarget(), strings.Join(texts, ", "))

	opts := c.runWith
	opts.Every = f.progress.d
	if !f.set["progress"] {
		// Windows enough in every step to judge how sure its rules are: a tenth of
		// the hold, at most a second.
		opts.Every = min(max(steps.Hold/10, minWindow), time.Second)
	}
	if f.client == "net/http" {
		opts.EngineOptions = append(opts.EngineOptions, load.WithStdlibClient())
	}
	opts.Resources, opts.Query = c.resourceSource(ctx, p, opts.Every), c.resourceQuery(ctx, p)
	n := 0
	runner := &capacity.Runner{Base: p, Rules: rules, Unit: s.Unit, Steps: steps, Options: opts,
		Started: func(level float64, role capacity.Role) {
			n++
			c.say(out, "step %d %s %s ...\n", n, role, report.FormatLevel(unit, level))
		},
		Finished: func(st capacity.Step, _ *run.Record, _ verdict.Verdict) {
			c.say(out, "%s\n", report.CapacityStepLine(s.Unit, n-1, st, p.Secrets))
		},
	}
	clock := opts.Clock
	if clock == nil {
		clock = run.Wall
	}
	sleep := func(ctx context.Context, d time.Duration) error {
		t := clock.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	res := capacity.Search(ctx, s, runner.Try, sleep)
	checks := capacity.JudgeRules(p.CapacityRules, res)
	status := capacity.Status(res, checks)
	in := report.CapacityInput{Tool: "perfgate " + version(), Target: p.RedactedTarget(), Rules: texts,
		Settings: s, Steps: steps, Result: res, Checks: checks, Status: status, ExitCode: exitCode(status), Secrets: p.Secrets}
	r := report.BuildCapacity(in)
	if err := report.WriteCapacityConsole(out, r); err != nil {
		c.errorf("cannot write the report to stdout: %v", err)
	}
	// A pass without its evidence is no pass: when a report cannot be written, every
	// other is written again, as of no valid verdict.
	for pass := 0; ; pass++ {
		var publish func() error
		if gh != nil {
			publish = func() error { return gh.PublishCapacity(r, report.Paths{JUnit: f.junit, JSON: f.json, HTML: f.html}) }
		}
		failed := writeReportFiles(c, r, []reportFile[*report.CapacityResult]{{f.json, report.WriteCapacityJSON}, {f.junit, report.WriteCapacityJUnit}, {f.html, report.WriteCapacityHTML}}, publish, out)
		if len(failed) == 0 || status != verdict.Pass || pass > 0 {
			return r.ExitCode
		}
		status = verdict.Invalid
		in.Status, in.ExitCode = status, exitCode(status)
		r = report.BuildCapacity(in)
		r.Why = "could not write " + strings.Join(failed, ", ")
		c.say(out, "\nVerdict: INVALID, written again in every report (exit %d): %s\n", r.ExitCode, r.Why)
	}
}

// settings reads the search's settings from the flags and the plan's main phase.
func (cf *capacityFlags) settings(p *plan.Plan, f *runFlags) (capacity.Settings, capacity.Steps, error) {
	l := p.Phases[max(p.Main, 0)].Load
	s := capacity.Settings{Unit: capacity.Users, From: float64(l.Users), Factor: cf.factor, Precision: cf.precision.f,
		Budget: cf.budget.d, Cooldown: cf.cooldown.d, NoCooldown: f.set["cooldown"] && cf.cooldown.d == 0}
	if l.Open {
		s.Unit, s.From = capacity.Rate, l.Rate
	}
	var err error
	if cf.from != "" {
		if s.From, err = parseLevel(s.Unit, "--from", cf.from); err != nil {
			return s, capacity.Steps{}, err
		}
	}
	if cf.to != "" {
		if s.To, err = parseLevel(s.Unit, "--to", cf.to); err != nil {
			return s, capacity.Steps{}, err
		}
	} else {
		s.To = 100 * s.From
	}
	if f.set["precision"] && !(cf.precision.f > 0 && cf.precision.f < 0.5) {
		return s, capacity.Steps{}, fmt.Errorf("--precision must be above 0%% and below 50%%, got %v%%", cf.precision.f*100)
	}
	if f.set["budget"] && cf.budget.d <= 0 {
		return s, capacity.Steps{}, fmt.Errorf("--budget must be above 0")
	}
	if err := s.Check(); err != nil {
		return s, capacity.Steps{}, err
	}
	steps := capacity.Steps{Hold: orDuration(cf.hold.d, defaultStepHold), Ramp: orDuration(cf.ramp.d, defaultStepRamp)}
	steps.MaxHold = 2 * steps.Hold
	steps.ConfirmHold = orDuration(cf.confirm.d, 2*steps.Hold)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--step", steps.Hold}, {"--step-ramp", steps.Ramp}, {"--confirm", steps.ConfirmHold}} {
		if d.v <= 0 || d.v > plan.MaxStage {
			return s, capacity.Steps{}, fmt.Errorf("%s must be above 0 and at most %s, got %s", d.name, plan.MaxStage, d.v)
		}
	}
	if s.Budget == 0 {
		s.Budget = capacity.DefaultBudget
	}
	// A step that stays inconclusive goes on until it has seen enough requests for
	// its rules, up to twelve times its hold (2 minutes by default: 1,266 requests of
	// the demo's rules at 11/s).
	if rules, err := capacity.Rules(p); err == nil {
		steps.Requests = capacity.MinRequests(p, rules)
	}
	steps.LongestHold = min(12*steps.Hold, plan.MaxStage)
	if mean := (l.Think.Min + l.Think.Max) / 2; !l.Open && mean > 0 {
		steps.PerUser = 1 / mean.Seconds()
	}
	if min := steps.Cost(capacity.Probe, s.Unit, s.From) + 2*steps.Cost(capacity.ConfirmBelow, s.Unit, s.From); s.Budget < min {
		return s, capacity.Steps{}, fmt.Errorf("--budget %s is too short for one step and the two confirmations (%s)", s.Budget, min)
	}
	s.Cost = func(role capacity.Role, level float64) time.Duration { return steps.Cost(role, s.Unit, level) }
	return s.WithDefaults(), steps, nil
}

// parseLevel reads a level in the search's unit.
func parseLevel(u capacity.Unit, flagName, v string) (float64, error) {
	if u == capacity.Rate {
		r, err := config.ParseRate(v, true)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %v (the config's load is the open model: give a rate such as 150/s)", flagName, v, err)
		}
		return r, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: the config's load is the closed model: give a whole number of users", flagName, v)
	}
	return float64(n), nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
