package cli

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
)

// runFlags are the flags shared by run and demo. Set flags override the config file.
type runFlags struct {
	config      string
	target      string
	users       int
	spawnRate   float64
	rate        rateFlag
	startRate   rateFlag
	ramp        durationFlag
	maxInFlight int
	duration    durationFlag
	maxDuration durationFlag
	think       thinkFlag
	timeout     durationFlag
	thresholds  stringList
	junit       string
	json        string
	html        string
	// prComment asks for the pull request comment, keyed prCommentKey.
	prComment    bool
	prCommentKey string
	insecure     bool
	caFile       string
	progress     durationFlag
	cpuProfile   string
	scrape       string
	client       string
	profile      string
	shard        int
	shards       int
	startAt      string
	startTime    time.Time // --start-at, read
	set          map[string]bool
}

func addRunFlags(fs *flag.FlagSet, f *runFlags, configDefault string) {
	configHelp := "config `file`"
	fs.StringVar(&f.config, "c", configDefault, configHelp+" (shorthand)")
	fs.StringVar(&f.config, "config", configDefault, configHelp)
	fs.StringVar(&f.target, "target", "", "target base `URL`, overriding the config's target")
	fs.IntVar(&f.users, "users", 0, "peak concurrent users `N`")
	fs.Float64Var(&f.spawnRate, "spawn-rate", 0, "users started per second `N`")
	fs.Var(&f.rate, "rate", "open model: arrivals per second `R` during the hold, e.g. 150/s (replaces users)")
	fs.Var(&f.startRate, "start-rate", "open model: rate `R` at the start of the ramp, e.g. 10/s")
	fs.Var(&f.ramp, "ramp", "open model: time `D` for the rate to climb from --start-rate to --rate")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "open model: most requests in flight at once `N` (default 1000)")
	fs.Var(&f.duration, "duration", "measured hold `D` at peak, e.g. 5m (default 5m)")
	fs.Var(&f.maxDuration, "max-duration", "let the hold go on up to `D` while a rule is inconclusive, e.g. 15m (as load.max_duration)")
	fs.StringVar(&f.profile, "profile", "", "phases `NAME`: peak (one phase, the default) or full (single-user, peak, overload at 2x, recovery)")
	fs.Var(&f.think, "think", "think time `A..B` between a user's tasks, e.g. 1s..3s")
	fs.Var(&f.timeout, "timeout", "request timeout `D`, e.g. 10s (default 10s)")
	fs.Var(&f.thresholds, "thresholds", "thresholds `file`, replacing the config's list (repeatable)")
	fs.StringVar(&f.junit, "junit", "perfgate-junit.xml", "JUnit XML report `file` (empty: none)")
	fs.StringVar(&f.json, "json", "perfgate-result.json", "JSON result `file` (empty: none)")
	fs.StringVar(&f.html, "html", "", "self-contained HTML report `file`, readable offline (empty: none)")
	fs.BoolVar(&f.prComment, "pr-comment", false, "in a pull request's GitHub Actions run, keep one comment with the verdict on the pull request, updated in place (needs GITHUB_TOKEN with pull-requests: write)")
	fs.StringVar(&f.prCommentKey, "pr-comment-key", "", "what tells this job's comment from others' on the pull request, such as a matrix entry's name `KEY` (default: the job's id, GITHUB_JOB)")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification (test environments only)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `file` of extra CA certificates to trust")
	f.progress = durationFlag{d: 10 * time.Second}
	fs.Var(&f.progress, "progress", "interval `D` between progress lines and time windows (default: a twentieth of the hold, 1s to 10s)")
	fs.StringVar(&f.scrape, "scrape", "", "read the target's resources from its metrics endpoint: a `URL`, or a path on the target such as /metrics (as resources.scrape:)")
	fs.StringVar(&f.client, "client", "auto", "HTTP `client`: auto (a lean HTTP/1.1 client for plain http:// targets, net/http otherwise) or net/http")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the generator's CPU profile to `file` (for studying its overhead)")
	fs.IntVar(&f.shards, "shards", 0, "split the run over `N` processes, each sending its share of the load; perfgate merge judges their results as one run")
	fs.IntVar(&f.shard, "shard", 0, "which of the --shards this process is, `I` from 1 (default: Kubernetes' JOB_COMPLETION_INDEX + 1, or GitLab's CI_NODE_INDEX)")
	fs.StringVar(&f.startAt, "start-at", "", "begin the load at `TIME` (RFC 3339, e.g. 2026-12-07T10:00:00Z), after probing the target: the shards of a run begin together")
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
	l := &cfg.Load
	open := f.set["rate"] || f.set["start-rate"] || f.set["ramp"] || f.set["max-in-flight"]
	closed := f.set["users"] || f.set["spawn-rate"] || f.set["think"]
	switch {
	case open && closed:
		return errors.New("--users, --spawn-rate and --think (closed model) do not mix with --rate, --start-rate, --ramp and --max-in-flight (open model)")
	case f.set["rate"]:
		// The flag switches the model: what the file said of the closed one no longer applies.
		l.Users, l.SpawnRate, l.Think, l.Settle = 0, 0, config.Think{}, 0
		l.Pos.Forget("users", "spawn_rate", "think", "settle")
	case f.set["users"]:
		l.Rate, l.StartRate, l.Ramp, l.MaxInFlight = 0, 0, 0, 0
		l.Pos.Forget("rate", "start_rate", "ramp", "max_in_flight")
	}
	if f.set["rate"] {
		if f.rate.r <= 0 {
			return errors.New("--rate must be above zero")
		}
		l.Rate = config.Rate(f.rate.r)
	}
	if f.set["start-rate"] {
		l.StartRate = config.Rate(f.startRate.r)
	}
	if f.set["ramp"] {
		l.Ramp = config.Duration(f.ramp.d)
	}
	if f.set["max-in-flight"] {
		if f.maxInFlight < 1 {
			return fmt.Errorf("--max-in-flight must be at least 1, got %d", f.maxInFlight)
		}
		l.MaxInFlight = f.maxInFlight
	}
	if (f.set["start-rate"] || f.set["ramp"] || f.set["max-in-flight"]) && l.Rate == 0 {
		return errors.New("--start-rate, --ramp and --max-in-flight need a rate: pass --rate or set load.rate")
	}
	if f.set["start-rate"] && !f.set["ramp"] && l.Ramp == 0 {
		return errors.New("--start-rate needs --ramp, the time to climb from it to the rate")
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
	if f.set["max-duration"] {
		hold := time.Duration(cfg.Load.Duration)
		if hold == 0 {
			hold = plan.DefaultDuration
		}
		if f.maxDuration.d < hold {
			return fmt.Errorf("--max-duration of %s is shorter than the hold (%s): it is how long an inconclusive hold may go on", f.maxDuration.d, hold)
		}
		cfg.Load.MaxDuration = config.Duration(f.maxDuration.d)
	}
	if f.set["think"] {
		cfg.Load.Think = f.think.t
	}
	if f.set["profile"] {
		if f.profile != "peak" && f.profile != "full" {
			return fmt.Errorf("--profile %q: use peak or full", f.profile)
		}
		if len(cfg.Load.Phases) > 0 {
			return fmt.Errorf("--profile: %s lists its own load.phases", cfg.File)
		}
		cfg.Load.Profile = f.profile
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
	if f.set["scrape"] {
		cfg.Resources.Scrape = f.scrape
		cfg.Resources.Pos.Forget("scrape")
	}
	if f.set["ca-file"] {
		cfg.TLS.CAFile = f.caFile
	}
	if f.client != "auto" && f.client != "net/http" {
		return fmt.Errorf("--client must be auto or net/http, got %q", f.client)
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

// sizeFlag is a size in bytes: 65536, 64KiB, 256MiB, 1GiB (or KB, MB, GB of 1,000).
type sizeFlag struct{ n int64 }

func (v *sizeFlag) String() string {
	if v == nil || v.n == 0 {
		return ""
	}
	return strconv.FormatInt(v.n, 10)
}

func (v *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	v.n = n
	return nil
}

// parseSize reads a size in bytes with an optional unit.
func parseSize(s string) (int64, error) {
	num, unit := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		num, unit = s[:i], s[i:]
	}
	scale, ok := map[string]int64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<50)/scale {
		return 0, fmt.Errorf("%q is not a size in bytes, such as 65536, 64KiB or 256MiB", s)
	}
	return n * scale, nil
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

// rateFlag parses a rate such as 150/s.
type rateFlag struct{ r float64 }

func (v *rateFlag) String() string {
	if v == nil || v.r == 0 {
		return ""
	}
	return strconv.FormatFloat(v.r, 'f', -1, 64) + "/s"
}

func (v *rateFlag) Set(s string) error {
	r, err := config.ParseRate(s, true)
	if err != nil {
		return err
	}
	v.r = r
	return nil
}
