package config

import (
	"errors"
	"fmt"

	"github.com/perfgate/perfgate/gate/internal/userfile"
	"gopkg.in/yaml.v3"
)

// Config is perfgate.yaml as the user wrote it, with ${VAR} expanded.
type Config struct {
	// File is the name the config was read from, used in every error about it.
	File string `yaml:"-"`
	// Target is the base URL every path is resolved against.
	Target string `yaml:"target"`
	// Load is the shape of the load: how many users, how fast they start, how long.
	Load Load `yaml:"load"`
	// Defaults apply to every request unless the request sets its own.
	Defaults Defaults `yaml:"defaults"`
	// TLS configures HTTPS targets.
	TLS TLS `yaml:"tls"`
	// Setup runs once per user before its tasks (Locust's on_start).
	Setup []Request `yaml:"setup"`
	// Tasks are picked by weight, one after another, with think time between them.
	Tasks []Request `yaml:"tasks"`
	// Thresholds lists threshold files, relative to the config file's folder.
	Thresholds []string `yaml:"thresholds"`
	// Verdict says how sure a verdict must be.
	Verdict Verdict `yaml:"verdict"`
	// Resources names where the target's own resources (CPU, memory, a database pool)
	// are read while it is under load.
	Resources Resources `yaml:"resources"`
	// Secrets holds the values that came from secret-looking environment variables, so
	// that reports and logs can mask them.
	Secrets []string `yaml:"-"`
	// Pos records where each key stood.
	Pos Positions
}

// Load is the shape of the load. With users it is a closed model (each user waits for
// its response); with rate an open model (arrivals on a fixed schedule).
type Load struct {
	Users     int      `yaml:"users"`
	SpawnRate float64  `yaml:"spawn_rate"`
	Duration  Duration `yaml:"duration"`
	// MaxDuration lets a hold whose rules are inconclusive at Duration go on, window by
	// window, up to this long.
	MaxDuration Duration `yaml:"max_duration"`
	Think       Think    `yaml:"think"`
	// Settle (closed model) waits this long after the ramp before the hold begins.
	Settle Duration `yaml:"settle"`
	// Rate is the open model's arrival rate during the hold.
	Rate Rate `yaml:"rate"`
	// StartRate and Ramp make the rate climb linearly from StartRate to Rate first.
	StartRate Rate     `yaml:"start_rate"`
	Ramp      Duration `yaml:"ramp"`
	// MaxInFlight caps the open model's requests in flight.
	MaxInFlight int `yaml:"max_in_flight"`
	// Profile names a built-in sequence of phases made from the settings above: "peak"
	// (the default, one phase) or "full" (single-user, peak, overload, recovery).
	Profile string `yaml:"profile"`
	// Phases run one after another, each with its own stats and thresholds. A phase
	// takes every setting it leaves out from the ones above.
	Phases []Phase `yaml:"phases"`
	Pos    Positions
}

// Phase is one stage of a run in sequence: a name and the load settings that differ
// from the config's load.
type Phase struct {
	Name        string   `yaml:"name"`
	Users       int      `yaml:"users"`
	SpawnRate   float64  `yaml:"spawn_rate"`
	Duration    Duration `yaml:"duration"`
	MaxDuration Duration `yaml:"max_duration"`
	Think       Think    `yaml:"think"`
	Settle      Duration `yaml:"settle"`
	Rate        Rate     `yaml:"rate"`
	StartRate   Rate     `yaml:"start_rate"`
	Ramp        Duration `yaml:"ramp"`
	MaxInFlight int      `yaml:"max_in_flight"`
	Pos         Positions
}

// Verdict says how sure the verdict must be of each statistical rule.
type Verdict struct {
	// Confidence is one less the chance that a run whose every rule holds fails anyway,
	// over all its statistical rules together (0.95 by default).
	Confidence Percent `yaml:"confidence"`
	// Inconclusive is what a rule that stays inconclusive makes of the run: "invalid"
	// (no valid verdict, the default) or "warn" (a warning; the run passes).
	Inconclusive string `yaml:"inconclusive"`
	// Contention is "judge" (the default: a run on a machine too contended to judge has
	// no valid verdict) or "record" (its contention is recorded and shown, not judged).
	Contention string `yaml:"contention"`
	Pos        Positions
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (v *Verdict) UnmarshalYAML(n *yaml.Node) error {
	type plain Verdict
	return decodeStruct(n, (*plain)(v))
}

// Defaults are request settings shared by every setup step and task.
type Defaults struct {
	Timeout Duration          `yaml:"timeout"`
	Headers map[string]string `yaml:"headers"`
	Pos     Positions
}

// Resources is where a target's resources are read: its /metrics endpoint, scraped at
// every time window's end, or a Prometheus server that scrapes it, queried over each
// phase's span once it ends.
type Resources struct {
	// Scrape is the URL of the target's metrics endpoint (the Prometheus text format).
	Scrape string `yaml:"scrape"`
	// Prometheus is the URL of a Prometheus server's HTTP API; its series are queries.
	Prometheus string `yaml:"prometheus"`
	// Series are what to read; by default those of a Go service instrumented with
	// client_golang's default and database/sql collectors.
	Series []ResourceSeries `yaml:"series"`
	Pos    Positions
}

// ResourceSeries is one resource: the samples of a metric family (with all of Labels),
// summed; a counter is read as its rate, a histogram or summary with Mean as the mean of
// what it observed in each window.
type ResourceSeries struct {
	Name    string            `yaml:"name"`
	Metric  string            `yaml:"metric"`
	Labels  map[string]string `yaml:"labels"`
	Counter bool              `yaml:"counter"`
	Mean    bool              `yaml:"mean"`
	// Query is a PromQL expression of one series, for a Prometheus source.
	Query string `yaml:"query"`
	Pos   Positions
}

// TLS configures how HTTPS targets are verified.
type TLS struct {
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string `yaml:"ca_file"`
	// Insecure skips certificate verification. Never on by default.
	Insecure bool `yaml:"insecure"`
	// Protocol is the HTTP version spoken over TLS: "auto" (the default: HTTP/2 where
	// the target offers it by ALPN, as a browser chooses), "http/1.1" or "h2".
	Protocol string `yaml:"protocol"`
	Pos      Positions
}

// Request is one setup step or task.
type Request struct {
	// Name groups requests in stats and thresholds (Locust's name=); default: the path.
	Name   string `yaml:"name"`
	Weight *int   `yaml:"weight"`
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
	// Query parameters, added to those in Path.
	Query   map[string]string `yaml:"query"`
	Headers map[string]string `yaml:"headers"`
	// JSON is sent as a JSON body; Body as a raw body. At most one of them.
	JSON any    `yaml:"json"`
	Body string `yaml:"body"`
	// Expect says what a successful response looks like.
	Expect Expect `yaml:"expect"`
	// Extract stores values from a JSON response for {{name}} in later requests.
	Extract map[string]string `yaml:"extract"`
	Timeout Duration          `yaml:"timeout"`
	Pos     Positions
}

// Expect is what a successful response looks like. With no status list any status
// below 400 succeeds.
type Expect struct {
	Status   StatusList `yaml:"status"`
	Contains string     `yaml:"contains"`
	Pos      Positions
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	type plain Config
	return decodeStruct(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (l *Load) UnmarshalYAML(n *yaml.Node) error {
	type plain Load
	return decodeStruct(n, (*plain)(l))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (p *Phase) UnmarshalYAML(n *yaml.Node) error {
	type plain Phase
	return decodeStruct(n, (*plain)(p))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (d *Defaults) UnmarshalYAML(n *yaml.Node) error {
	type plain Defaults
	return decodeStruct(n, (*plain)(d))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (r *Resources) UnmarshalYAML(n *yaml.Node) error {
	type plain Resources
	return decodeStruct(n, (*plain)(r))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (s *ResourceSeries) UnmarshalYAML(n *yaml.Node) error {
	type plain ResourceSeries
	return decodeStruct(n, (*plain)(s))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (t *TLS) UnmarshalYAML(n *yaml.Node) error {
	type plain TLS
	return decodeStruct(n, (*plain)(t))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (r *Request) UnmarshalYAML(n *yaml.Node) error {
	type plain Request
	return decodeStruct(n, (*plain)(r))
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (e *Expect) UnmarshalYAML(n *yaml.Node) error {
	type plain Expect
	return decodeStruct(n, (*plain)(e))
}

// ReadConfig reads and decodes the config file at path.
func ReadConfig(path string, env Env) (*Config, error) {
	data, err := readFile("config", path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data, env)
}

// ParseConfig decodes a config document; file names it in errors.
func ParseConfig(file string, data []byte, env Env) (*Config, error) {
	var c Config
	secrets, err := decodeDocument(file, data, env, &c)
	if err != nil {
		return nil, err
	}
	c.File = file
	c.Secrets = secrets
	return &c, nil
}

// decodeDocument parses data, expands the environment, and decodes into out.
func decodeDocument(file string, data []byte, env Env, out any) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(file, data, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Error{File: file, Msg: "the file is empty"}
	}
	x := &expander{env: env}
	if err := x.expandTree(&doc); err != nil {
		return nil, withFile(file, err)
	}
	if err := doc.Content[0].Decode(out); err != nil {
		return nil, withFile(file, err)
	}
	return x.secrets, nil
}

func readFile(what, path string) ([]byte, error) {
	data, err := userfile.Read(what, path)
	if errors.Is(err, userfile.ErrNotExist) {
		return nil, fmt.Errorf("%s file %s does not exist", what, path)
	}
	return data, err
}

// closedKeys and openKeys are the settings of each load model.
var (
	closedKeys = []string{"users", "spawn_rate", "think", "settle"}
	openKeys   = []string{"rate", "start_rate", "ramp", "max_in_flight"}
)

// WithPhase returns the load a phase runs: the phase's own settings over l's, with the
// positions of each setting where it was written. A phase that sets a setting of the
// other model (users where l has rate, or rate where l has users) takes none of l's
// settings of l's model.
func (l Load) WithPhase(ph Phase) Load {
	out := l
	out.Phases, out.Profile = nil, ""
	out.Pos = Positions{Node: ph.Pos.Node, keys: map[string]Pos{}}
	for k, p := range l.Pos.keys {
		out.Pos.keys[k] = p
	}
	setsAny := func(keys []string) bool {
		for _, k := range keys {
			if ph.Pos.Has(k) {
				return true
			}
		}
		return false
	}
	switch {
	case setsAny(closedKeys) && !setsAny(openKeys):
		out.Rate, out.StartRate, out.Ramp, out.MaxInFlight = 0, 0, 0, 0
		out.Pos.Forget(openKeys...)
	case setsAny(openKeys) && !setsAny(closedKeys):
		out.Users, out.SpawnRate, out.Think, out.Settle = 0, 0, Think{}, 0
		out.Pos.Forget(closedKeys...)
	}
	set := func(key string, apply func()) {
		if p, ok := ph.Pos.keys[key]; ok {
			apply()
			out.Pos.keys[key] = p
		}
	}
	set("users", func() { out.Users = ph.Users })
	set("spawn_rate", func() { out.SpawnRate = ph.SpawnRate })
	set("duration", func() { out.Duration = ph.Duration })
	set("max_duration", func() { out.MaxDuration = ph.MaxDuration })
	set("think", func() { out.Think = ph.Think })
	set("settle", func() { out.Settle = ph.Settle })
	set("rate", func() { out.Rate = ph.Rate })
	set("start_rate", func() { out.StartRate = ph.StartRate })
	set("ramp", func() { out.Ramp = ph.Ramp })
	set("max_in_flight", func() { out.MaxInFlight = ph.MaxInFlight })
	return out
}
