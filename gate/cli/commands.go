package cli

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/perfgate/perfgate/gate/demo"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/thresholds"
)

const defaultConfig = "perfgate.yaml"

func (c *Command) run(ctx context.Context, args []string) int {
	p, f, code, done := c.planFromArgs("run", args,
		"Runs the load test of the config against its target, judges the measured window against\n"+
			"the thresholds, prints a per-endpoint table and the verdict, and writes the JUnit XML and\n"+
			"JSON reports. Flags override the config file.")
	if done {
		return code
	}
	return c.gate(ctx, p, f)
}

func (c *Command) validate(args []string) int {
	p, f, code, done := c.planFromArgs("validate", args,
		"Checks the config and thresholds files as run would read them, with the same flags,\n"+
			"and sends no traffic. Exits 0 if they are valid, 2 if not.")
	if done {
		return code
	}
	c.say(c.Stdout, "%s is valid: %s; %d setup steps, %d tasks, %d endpoints, %d rules\n",
		f.config, describeLoad(p.Load, 0), len(p.Setup), len(p.Tasks), len(p.Endpoints), len(p.Rules))
	if len(p.Phases) > 1 {
		for i, ph := range p.Phases {
			c.say(c.Stdout, "  phase %d/%d %s: %s\n", i+1, len(p.Phases), ph.Name, describeLoad(ph.Load, 0))
		}
	}
	return ExitPass
}

// planFromArgs parses the run flags and builds the plan from the config file they name.
// When done is set the command ends with code (help, or a usage or config error).
// more, when set, adds the command's own flags.
func (c *Command) planFromArgs(name string, args []string, about string, more ...func(*flag.FlagSet)) (p *plan.Plan, f *runFlags, code int, done bool) {
	f = &runFlags{}
	fs := c.newFlagSet(name, name+" [flags]", about)
	addRunFlags(fs, f, defaultConfig)
	for _, add := range more {
		add(fs)
	}
	if code, done := c.parse(fs, args); done {
		return nil, nil, code, true
	}
	f.visited(fs)
	if _, err := os.Stat(f.config); err != nil && !f.set["config"] {
		c.errorf("no %s in this folder: pass -c FILE (the README and `perfgate demo` show a complete config)", f.config)
		return nil, nil, ExitUsage, true
	}
	p, err := c.loadPlan(source{name: f.config}, f)
	if err != nil {
		c.userError(err)
		return nil, nil, ExitUsage, true
	}
	return p, f, 0, false
}

func (c *Command) demo(ctx context.Context, args []string) int {
	var f runFlags
	var regress, fallOver bool
	var leak durationFlag
	fs := c.newFlagSet("demo", "demo [flags]",
		"Starts the built-in sample API on a free loopback port and runs the article's scenario\n"+
			"against it: 200 users at 10/s, login once each, products and product detail 3:1, think\n"+
			"1s..3s, a 30s hold. Exits 0 on the healthy API; with --regress the API turns slow and\n"+
			"flaky and the gate fails with exit 1. With --profile full it runs the article's four\n"+
			"phases (single-user, peak, overload at 2x, recovery) with thresholds/demo-full.yaml,\n"+
			"against an API that serves 150 requests a second well and degrades gracefully above;\n"+
			"--leak and --fall-over make it misbehave so one verdict fails. Flags override the demo\n"+
			"config (shown in the README).")
	addRunFlags(fs, &f, "")
	fs.BoolVar(&regress, "regress", false, "make the sample API slow and flaky, as a regressed release would be")
	fs.Var(&leak, "leak", "make the sample API slower by `D` for every second it runs, as a leak would (e.g. 3ms)")
	fs.BoolVar(&fallOver, "fall-over", false, "make the sample API fall over (stay slow and failing) once it is over capacity")
	var stress bool
	var cf capacityFlags
	fs.BoolVar(&stress, "capacity", false, "run the stress test instead (see perfgate capacity --help): find the capacity of an API whose database pool of 4 serves about 400 requests a second, from 100/s, and name its bottleneck")
	cf.add(fs)
	if code, done := c.parse(fs, args); done {
		return code
	}
	f.visited(fs)
	if stress && !f.set["rate"] {
		f.rate.r, f.set["rate"] = demo.StressedCapacity/4, true
	}

	src := source{name: demo.ConfigName, data: demo.ConfigFile, openThresholds: embeddedThresholds}
	opts := demo.Healthy
	if f.profile == "full" {
		src.thresholds = []string{"thresholds/demo-full.yaml"}
		opts = demo.Overloaded
	}
	if f.config != "" {
		src = source{name: f.config}
	}
	if stress {
		opts = demo.Stressed
	}
	if regress {
		opts = demo.Regressed
	}
	opts.Leak, opts.FallOver = leak.d, fallOver
	if fallOver && opts.Capacity == 0 {
		opts.Capacity = demo.Overloaded.Capacity
	}
	if err := opts.Validate(); err != nil {
		c.errorf("demo: %v", err)
		return ExitUsage
	}
	switch {
	case f.set["target"]:
	case stress && c.Self != "":
		// The stress test reads the target's resources: the API runs in a process of
		// its own, so that they are its own.
		api, err := startAPIProcess(ctx, c.Self, opts)
		if err != nil {
			c.errorf("cannot start the sample API: %v", err)
			return ExitInvalid
		}
		defer api.stop()
		f.target, f.set["target"] = api.url, true
		if !f.set["scrape"] {
			f.scrape, f.set["scrape"] = "/metrics", true
		}
		c.say(c.Stdout, "sample API listening on %s in a process of its own (%s), its resources read from /metrics\n", api.url, opts)
	default:
		srv := demo.New(opts)
		if err := srv.Start("127.0.0.1:0"); err != nil {
			c.errorf("cannot start the sample API: %v", err)
			return ExitInvalid
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		f.target, f.set["target"] = srv.URL(), true
		c.say(c.Stdout, "sample API listening on %s (%s)\n", srv.URL(), opts)
	}
	p, err := c.loadPlan(src, &f)
	if err != nil {
		c.userError(err)
		return ExitUsage
	}
	if p.Shard.Sharded() {
		c.errorf("demo: the demo runs its own sample API: shard a run of it with perfgate serve-demo and perfgate run --shards")
		return ExitUsage
	}
	if stress {
		return c.searchCapacity(ctx, p, &f, &cf)
	}
	return c.gate(ctx, p, &f)
}

// embeddedThresholds opens a file of the repository's thresholds folder from the copies
// shipped in the binary; name is as a config names it, relative to its own folder.
func embeddedThresholds(name string) (string, []byte, error) {
	dir, base := path.Split(path.Clean(name))
	if path.Base(dir) != "thresholds" {
		return "", nil, fmt.Errorf("not a built-in thresholds file")
	}
	data, err := fs.ReadFile(thresholds.Files, base)
	return "thresholds/" + base, data, err
}

func (c *Command) serveDemo(ctx context.Context, args []string) int {
	var addr string
	var latency, jitter durationFlag
	var errRate fractionFlag
	var regress, fallOver bool
	var capacity float64
	var leak durationFlag
	fs := c.newFlagSet("serve-demo", "serve-demo [flags]",
		"Runs the built-in sample API until interrupted: POST /auth/token (testuser/testpass),\n"+
			"GET /api/products and GET /api/products/{id} (bearer token required), from a SQLite\n"+
			"database through a database/sql pool, and its metrics at GET /metrics (client_golang's\n"+
			"process, Go and database/sql collectors). --pool, --cpu-work with --procs, and\n"+
			"--leak-memory make a pool, the processors or memory its limit, for perfgate capacity.")
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "listen `address`")
	latency.d, jitter.d = demo.Healthy.Latency, demo.Healthy.Jitter
	fs.Var(&latency, "latency", "latency `D` added to every response")
	fs.Var(&jitter, "jitter", "random extra latency, up to `D`")
	fs.Var(&errRate, "error-rate", "`fraction` of /api/ requests answered with 500, e.g. 0.05 or 5%")
	fs.Float64Var(&capacity, "capacity", 0, "requests per second served well; above, shed the excess with 503 and slow down (0: no limit)")
	fs.BoolVar(&fallOver, "fall-over", false, "once over --capacity, stay slow and failing instead of recovering")
	fs.Var(&leak, "leak", "extra latency `D` for every second the API runs, as a leak would (e.g. 3ms)")
	fs.BoolVar(&regress, "regress", false, "behave like a regressed release (overrides the other behaviour flags)")
	var seed uint64
	fs.Uint64Var(&seed, "seed", 0, "seed `N` of the API's random choices (jitter, errors, shedding), to repeat a series; 0: unseeded")
	var pool, procs int
	var cpuWork durationFlag
	var leakMemory, memoryLimit sizeFlag
	fs.IntVar(&pool, "pool", 0, "most database connections `N` open at once, each held for a request's query and latency (0: no limit)")
	fs.Var(&cpuWork, "cpu-work", "processor work `D` each /api/ request does (e.g. 2ms)")
	fs.IntVar(&procs, "procs", 0, "processors `N` the API may use (GOMAXPROCS; 0: all)")
	fs.Var(&leakMemory, "leak-memory", "memory `size` each /api/ request keeps for good, up to --memory-limit (e.g. 64KiB)")
	fs.Var(&memoryLimit, "memory-limit", "the API's memory `size` limit: Go's soft limit, and where a leak ends in 503s (default 256MiB with --leak-memory)")
	if code, done := c.parse(fs, args); done {
		return code
	}
	opts := demo.Options{Latency: latency.d, Jitter: jitter.d, ErrorRate: errRate.f, Capacity: capacity, FallOver: fallOver, Leak: leak.d, Seed: seed,
		Pool: pool, CPUWork: cpuWork.d, LeakMemory: leakMemory.n, MemoryLimit: memoryLimit.n}
	if regress {
		opts = demo.Regressed
		opts.Seed = seed
	}
	if err := opts.Validate(); err != nil {
		c.errorf("serve-demo: %v", err)
		return ExitUsage
	}
	if procs < 0 {
		c.errorf("serve-demo: --procs must not be negative")
		return ExitUsage
	}
	// The API has this process to itself: its processors and memory are its own.
	if procs > 0 {
		runtime.GOMAXPROCS(procs)
	}
	if opts.MemoryLimit > 0 {
		debug.SetMemoryLimit(opts.MemoryLimit)
	} else if opts.LeakMemory > 0 {
		debug.SetMemoryLimit(demo.DefaultMemoryLimit)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		c.errorf("serve-demo: --addr %q is not host:port", addr)
		return ExitUsage
	}
	srv := demo.New(opts)
	if err := srv.Start(addr); err != nil {
		c.errorf("serve-demo: %v", err)
		return ExitInvalid
	}
	c.say(c.Stdout, "sample API listening on %s (%s); Ctrl-C stops it\n", srv.URL(), opts)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return ExitPass
}
