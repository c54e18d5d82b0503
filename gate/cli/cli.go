// Package cli is perfgate's command line: subcommands, flags and exit codes. It only
// wires the pipeline together (config -> plan -> load -> stats -> run -> verdict ->
// report): it parses flags, runs the plan, has the run judged, and writes the reports;
// every decision is made in those packages.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/internal/safetext"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/run"
)

// Exit codes: a contract, documented in the README. Do not renumber.
const (
	ExitPass    = 0 // every threshold passed
	ExitFail    = 1 // a threshold was breached (a regression), or an abort rule stopped the run
	ExitUsage   = 2 // bad usage or an invalid config or thresholds file; nothing was sent
	ExitInvalid = 3 // no valid verdict: unreachable target, failed setup, load not delivered, no samples, cancelled, reports not written
)

// Version is stamped at build time with -ldflags "-X github.com/perfgate/perfgate/gate/cli.Version=v1.2.3".
var Version = ""

// Command is one invocation of perfgate with its environment injected.
type Command struct {
	Stdout, Stderr io.Writer
	// Env looks up environment variables for ${VAR} in config files.
	Env config.Env
	// Environ lists the environment, for masking secrets in GitHub Actions logs.
	Environ func() []string
	// Self is the perfgate binary, to run the sample API in a process of its own
	// (demo --capacity); "" runs it in this one.
	Self string

	// runWith, in tests, gives runs a clock, an engine and a probe of their own.
	runWith run.Options
	// secrets are the plan's secrets, once it is built.
	secrets []string
	// beforeReports, in tests, is called once a run is judged, before its reports are
	// written: where a signal may come.
	beforeReports func()
	// githubToken is the action's github-token input, for the pull request comment;
	// httpClient, in tests, the client that reaches GitHub's API (nil: the default).
	githubToken string
	httpClient  *http.Client
}

// Main runs perfgate with the process's streams, environment and signals.
func Main(args []string) int {
	load.SpareProcessor()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default behaviour: a second one exits at once.
		<-ctx.Done()
		stop()
	}()
	c := &Command{Stdout: os.Stdout, Stderr: os.Stderr, Env: os.LookupEnv, Environ: os.Environ}
	if self, err := os.Executable(); err == nil {
		c.Self = self
	}
	return c.Run(ctx, args)
}

const usage = `perfgate: a CI pass/fail performance gate.

Usage:
  perfgate <command> [flags]

Commands:
  run         run the load test, judge it against the thresholds, write reports
  validate    check the config and thresholds files; send no traffic
  capacity    the stress test: find the highest load the target holds, and its knee
  demo        start the built-in sample API and run a short gate against it
  serve-demo  run the built-in sample API alone
  baseline    record a run's result as the baseline later runs are compared with
  merge       judge the results of a run's shards (run --shard I --shards N) as one run
  report      render saved results again: console, HTML, JUnit, Markdown, JSON
  k8s-job     print a Kubernetes Indexed Job that runs the shards, and the Job that merges them
  action      run as a GitHub Actions step (reads the INPUT_* variables of action.yml)
  version     print the version

Run "perfgate <command> --help" for a command's flags.

Exit codes:
  0  every threshold passed
  1  the gate failed: a threshold was breached, or an abort rule stopped the run
  2  bad usage, or an invalid config or thresholds file; nothing was sent
  3  no valid verdict: target unreachable, setup failed, load not delivered,
     the generator was the bottleneck, a thresholded metric had no samples,
     the run was cancelled, or a report could not be written
`

// Run dispatches to a subcommand and returns the exit code.
func (c *Command) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "run":
		return c.run(ctx, args[1:])
	case "validate":
		return c.validate(args[1:])
	case "capacity":
		return c.capacity(ctx, args[1:])
	case "demo":
		return c.demo(ctx, args[1:])
	case "serve-demo":
		return c.serveDemo(ctx, args[1:])
	case "action":
		return c.action(ctx, args[1:])
	case "baseline":
		return c.baseline(args[1:])
	case "merge":
		return c.merge(ctx, args[1:])
	case "report":
		return c.report(args[1:])
	case "k8s-job":
		return c.k8sJob(args[1:])
	case "version", "--version", "-version":
		c.say(c.Stdout, "perfgate %s\n", version())
		return ExitPass
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return c.Run(ctx, []string{args[1], "--help"})
		}
		fmt.Fprint(c.Stdout, usage)
		return ExitPass
	}
	fmt.Fprintf(c.Stderr, "perfgate: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newFlagSet returns a flag set that reports errors instead of exiting, with a usage
// text that starts with what the command does.
func (c *Command) newFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: perfgate %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; done is set with the exit code when the command should stop here
// (help asked for, or a bad flag).
func (c *Command) parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	// The flag package prints the usage itself on -h and on a bad flag; print it once,
	// here: the help to stdout, an error to stderr with a pointer to the help.
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(c.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(c.Stdout)
		fs.Usage()
		return ExitPass, true
	case err != nil:
		c.errorf("%s: %v (perfgate %s --help lists the flags)", fs.Name(), err, fs.Name())
		return ExitUsage, true
	case fs.NArg() > 0:
		fmt.Fprintf(c.Stderr, "perfgate %s: unexpected argument %q (flags come as --name value)\n", fs.Name(), fs.Arg(0))
		return ExitUsage, true
	}
	return 0, false
}

// getenv reads a variable, empty when unset.
func (c *Command) getenv(name string) string {
	if c.Env == nil {
		return ""
	}
	v, _ := c.Env(name)
	return v
}

// errorf prints an error for the user, on stderr (see say).
func (c *Command) errorf(format string, args ...any) {
	c.say(c.Stderr, "perfgate: "+format+"\n", args...)
}

// say prints a line of perfgate's to w. Its arguments are where text from outside comes
// in (a path, a target's words, a value from the environment): each is neutralised
// (safetext.Line), with every known secret and URL password hidden.
func (c *Command) say(w io.Writer, format string, args ...any) {
	args = append([]any(nil), args...)
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = c.clean(v)
		case error:
			args[i] = c.clean(v.Error())
		case fmt.Stringer:
			args[i] = c.clean(v.String())
		}
	}
	fmt.Fprintf(w, format, args...)
}

// clean is say's treatment of one argument.
func (c *Command) clean(s string) string {
	return safetext.Line(safetext.HideURLPasswords(safetext.Redact(s, c.secretValues())))
}

// secretValues are the values no output may show: secret-looking environment variables,
// and the plan's secrets once there is a plan.
func (c *Command) secretValues() []string { return append(c.secretEnvValues(), c.secrets...) }
