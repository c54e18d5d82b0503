package cli

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/config"
)

// runFlags are the flags shared by run and demo. Set flags override the config file.
type runFlags struct {
	config     string
	target     string
	users      int
	spawnRate  float64
	duration   durationFlag
	think      thinkFlag
	timeout    durationFlag
	thresholds stringList
	junit      string
	json       string
	insecure   bool
	caFile     string
	progress   durationFlag
	set        map[string]bool
}

func addRunFlags(fs *flag.FlagSet, f *runFlags, configDefault string) {
	configHelp := "config `file`"
	fs.StringVar(&f.config, "c", configDefault, configHelp+" (shorthand)")
	fs.StringVar(&f.config, "config", configDefault, configHelp)
	fs.StringVar(&f.target, "target", "", "target base `URL`, overriding the config's target")
	fs.IntVar(&f.users, "users", 0, "peak concurrent users `N`")
	fs.Float64Var(&f.spawnRate, "spawn-rate", 0, "users started per second `N`")
	fs.Var(&f.duration, "duration", "measured hold at peak, e.g. 5m (default 5m)")
	fs.Var(&f.think, "think", "think time between a user's tasks, e.g. 1s..3s")
	fs.Var(&f.timeout, "timeout", "request timeout, e.g. 10s (default 10s)")
	fs.Var(&f.thresholds, "thresholds", "thresholds `file`, replacing the config's list (repeatable)")
	fs.StringVar(&f.junit, "junit", "perfgate-junit.xml", "JUnit XML report `file` (empty: none)")
	fs.StringVar(&f.json, "json", "perfgate-result.json", "JSON result `file` (empty: none)")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification (test environments only)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `file` of extra CA certificates to trust")
	f.progress = durationFlag{d: 10 * time.Second}
	fs.Var(&f.progress, "progress", "interval between progress lines")
}

// visited records which flags were given, so only those override the config.
func (f *runFlags) visited(fs *flag.FlagSet) {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.set["c"] {
		f.set["config"] = true
	}
}

// apply checks the given flags and writes them over the config.
func (f *runFlags) apply(cfg *config.Config) error {
	if f.set["target"] {
		cfg.Target = f.target
	}
	if f.set["users"] {
		if f.users < 1 {
			return fmt.Errorf("--users must be at least 1, got %d", f.users)
		}
		cfg.Load.Users = f.users
	}
	if f.set["spawn-rate"] {
		if !(f.spawnRate > 0) {
			return fmt.Errorf("--spawn-rate must be above 0, got %v", f.spawnRate)
		}
		cfg.Load.SpawnRate = f.spawnRate
	}
	if f.set["duration"] {
		if f.duration.d <= 0 {
			return errors.New("--duration must be above 0")
		}
		cfg.Load.Duration = config.Duration(f.duration.d)
	}
	if f.set["think"] {
		cfg.Load.Think = f.think.t
	}
	if f.set["timeout"] {
		if f.timeout.d <= 0 {
			return errors.New("--timeout must be above 0")
		}
		cfg.Defaults.Timeout = config.Duration(f.timeout.d)
	}
	if f.set["insecure"] {
		cfg.TLS.Insecure = f.insecure
	}
	if f.set["ca-file"] {
		cfg.TLS.CAFile = f.caFile
	}
	if f.set["progress"] && f.progress.d <= 0 {
		return errors.New("--progress must be above 0")
	}
	return nil
}

type durationFlag struct{ d time.Duration }

func (v *durationFlag) String() string {
	if v == nil || v.d == 0 {
		return ""
	}
	return v.d.String()
}

func (v *durationFlag) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	v.d = d
	return nil
}

type thinkFlag struct{ t config.Think }

func (v *thinkFlag) String() string {
	if v == nil || (v.t == config.Think{}) {
		return ""
	}
	return v.t.String()
}

func (v *thinkFlag) Set(s string) error {
	t, err := config.ParseThink(s)
	if err != nil {
		return err
	}
	v.t = t
	return nil
}

type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	if s == "" {
		return errors.New("empty file name")
	}
	*l = append(*l, s)
	return nil
}

// floatFlag parses a fraction or a percentage, as in 0.05 or 5%.
type fractionFlag struct{ f float64 }

func (v *fractionFlag) String() string {
	if v == nil {
		return "0"
	}
	return strconv.FormatFloat(v.f, 'f', -1, 64)
}

func (v *fractionFlag) Set(s string) error {
	pct, isPct := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(pct, 64)
	if err != nil {
		return fmt.Errorf("invalid fraction %q (write 0.05 or 5%%)", s)
	}
	if isPct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return fmt.Errorf("%q is not between 0 and 1 (0%% and 100%%)", s)
	}
	v.f = f
	return nil
}
