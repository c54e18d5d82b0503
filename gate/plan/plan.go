package plan

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/jsonpath"
)

// Defaults used when the config leaves a setting out.
const (
	DefaultDuration    = 5 * time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 1000
)

// Plan is everything the engine needs to run and the verdict needs to judge. It is not
// changed after Build returns.
type Plan struct {
	// ConfigFile and ThresholdFiles name the files the plan came from.
	ConfigFile     string
	ThresholdFiles []string

	Target *url.URL
	// Load is the load of the phase this plan runs (see ForPhase); after Build, the
	// main phase's.
	Load
	// Phases run one after another; a run without phases has one, named peak.
	Phases []Phase
	// Phase is the index of the phase whose load is Load.
	Phase int
	// Main is the index of the phase that rules outside phases: judge (the one named
	// peak), or -1 when there is none.
	Main    int
	Timeout time.Duration

	// TLS is the client TLS configuration for HTTPS targets.
	TLS      *tls.Config
	Insecure bool
	CAFile   string

	Setup []Request
	Tasks []Request
	// cumWeights[i] is the sum of the weights of Tasks[0..i].
	cumWeights []int

	// Vars names the per-user variables; a Template slot indexes this slice.
	Vars []string
	// Endpoints are the names requests are grouped by: setup steps first, then tasks.
	Endpoints []Endpoint
	// Rules are the thresholds of every file, in file order.
	Rules []Rule
	// Aborts stop the run early, as failed, when they hold over the recent windows.
	Aborts []AbortRule
	// Secrets are values that must never be printed: secret-looking environment
	// variables and static Authorization and Cookie header values.
	Secrets []string
}

// Load is the shape of one phase's load.
type Load struct {
	// Open selects the open model (arrivals at Rate) over the closed one (Users).
	Open bool
	// Closed model: Users started at SpawnRate per second, Think between tasks.
	Users     int
	SpawnRate float64
	Think     config.Think
	// Open model: the rate climbs from StartRate to Rate over RateRamp, then holds;
	// at most MaxInFlight requests are in flight.
	Rate        float64
	StartRate   float64
	RateRamp    time.Duration
	MaxInFlight int
	// Settle (closed model) is a wait between the last user's start and the hold,
	// reported with the ramp: time for the target to settle, as after an overload.
	Settle time.Duration
	// Hold is the measured window at peak.
	Hold time.Duration
}

// Phase is one named stage of a run.
type Phase struct {
	Name string
	Load
}

// MainPhase is the name of the phase that rules outside phases: judge.
const MainPhase = "peak"

// Profiles are the built-in sequences of phases (load.profile).
var Profiles = []string{"peak", "full"}

// ForPhase returns the plan that runs phase i.
func (p *Plan) ForPhase(i int) *Plan {
	q := *p
	q.Load, q.Phase = p.Phases[i].Load, i
	return &q
}

// PhaseName is the name of the phase this plan runs.
func (p *Plan) PhaseName() string { return p.Phases[p.Phase].Name }

// Endpoint is a name that requests are grouped under in stats and thresholds.
type Endpoint struct {
	Name  string
	Setup bool
}

// Request is one compiled setup step or task.
type Request struct {
	Name     string
	Endpoint int // index into Plan.Endpoints
	Method   string
	URL      Template
	Headers  []Header
	Body     Template
	HasBody  bool
	Expect   Expect
	Extract  []Extract
	Timeout  time.Duration
	Weight   int
}

// Header is one request header, its value possibly templated.
type Header struct {
	Name  string
	Value Template
}

// Expect is what a successful response looks like.
type Expect struct {
	// Status lists the accepted codes; empty means any code below 400.
	Status   []int
	Contains string
}

// OK reports whether a status code is expected.
func (e Expect) OK(code int) bool {
	if len(e.Status) == 0 {
		return code < 400
	}
	for _, c := range e.Status {
		if c == code {
			return true
		}
	}
	return false
}

// Extract stores a value read from a JSON response into a per-user variable.
type Extract struct {
	Var  string
	Slot int
	Path jsonpath.Path
}

// Rule is a threshold rule tied to its scope.
type Rule struct {
	config.Rule
	// Endpoint is an index into Plan.Endpoints, or -1 for every request ("all").
	Endpoint int
	// Scope is "all" or the endpoint name.
	Scope string
	// File is the threshold file the rule came from.
	File string
	// Phase is the index of the phase the rule judges; RefPhase that of the phase its
	// limit is read from, for a rule against another phase ("p99 < 2 * single-user.p99").
	Phase    int
	RefPhase int
	// BaselineValue is the baseline's value of the metric, for a rule against the
	// baseline (Rule.Baseline is set); Limit is computed from it.
	BaselineValue float64
}

// AbortRule is an abort rule with the file it came from.
type AbortRule struct {
	config.AbortRule
	File string
}

// Ramp is how long the load takes to reach its peak: in the closed model the last user
// starts at Ramp; in the open model the rate reaches Rate at Ramp.
func (l Load) Ramp() time.Duration {
	if l.Open {
		return l.RateRamp
	}
	if l.Users <= 1 {
		return 0
	}
	return time.Duration(float64(l.Users-1) / l.SpawnRate * float64(time.Second))
}

// Pick maps a uniform number in [0, TotalWeight) to a task index.
func (p *Plan) Pick(n int) int {
	return sort.SearchInts(p.cumWeights, n+1)
}

// TotalWeight is the sum of the task weights.
func (p *Plan) TotalWeight() int { return p.cumWeights[len(p.cumWeights)-1] }

// Build validates cfg and the threshold files together and compiles them into a Plan.
// Relative file names in cfg (thresholds are read by the caller; the CA file here) are
// taken from the config file's folder.
func Build(cfg *config.Config, thresholds []*config.Thresholds) (*Plan, error) {
	b := &builder{cfg: cfg, p: &Plan{ConfigFile: cfg.File}, slots: map[string]int{}}
	return b.build(thresholds)
}

type builder struct {
	cfg   *config.Config
	p     *Plan
	slots map[string]int
}

func (b *builder) errorf(pos config.Pos, format string, args ...any) error {
	return config.Errorf(b.cfg.File, pos, format, args...)
}

func (b *builder) build(thresholds []*config.Thresholds) (*Plan, error) {
	steps := []func() error{b.target, b.load, b.tls}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	if err := b.requests(); err != nil {
		return nil, err
	}
	for _, t := range thresholds {
		if err := b.rules(t); err != nil {
			return nil, err
		}
	}
	if len(b.p.Rules) == 0 && len(thresholds) > 0 {
		t := thresholds[0]
		return nil, config.Errorf(t.File, t.Pos.Node, "no rules to judge the run: abort rules can only stop it; add rules under all: or endpoints:")
	}
	b.p.Secrets = dedupe(append(b.p.Secrets, b.cfg.Secrets...))
	return b.p, nil
}

func (b *builder) target() error {
	c := b.cfg
	pos := c.Pos.Of("target")
	if c.Target == "" {
		return b.errorf(pos, "target is not set: set target: in the config or pass --target URL")
	}
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return b.errorf(pos, "target %q is not an http:// or https:// URL with a host", redactURL(c.Target))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return b.errorf(pos, "target %q must not have a query or fragment: put those in the task paths", redactURL(c.Target))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			b.p.Secrets = append(b.p.Secrets, pw)
		}
	}
	b.p.Target = u
	return nil
}

func (b *builder) load() error {
	p, l := b.p, b.cfg.Load
	p.Timeout = time.Duration(b.cfg.Defaults.Timeout)
	if p.Timeout == 0 {
		if b.cfg.Defaults.Pos.Has("timeout") {
			return b.errorf(b.cfg.Defaults.Pos.Of("timeout"), "defaults.timeout must be above 0")
		}
		p.Timeout = DefaultTimeout
	}
	profile := l.Profile
	switch {
	case profile != "" && len(l.Phases) > 0:
		return b.errorf(l.Pos.Of("profile"), "set load.profile or load.phases, not both")
	case profile == "" || profile == "peak" || profile == "full":
	default:
		return b.errorf(l.Pos.Of("profile"), "unknown profile %q (known: %s)", profile, strings.Join(Profiles, ", "))
	}
	if len(l.Phases) == 0 {
		peak, err := b.phaseLoad(l)
		if err != nil {
			return err
		}
		p.Phases = []Phase{{Name: MainPhase, Load: peak}}
		if profile == "full" {
			p.Phases = fullProfile(peak)
		}
	}
	seen := map[string]bool{}
	for i, ph := range l.Phases {
		where := fmt.Sprintf("load.phases[%d]", i)
		if !ph.Pos.Has("name") {
			return b.errorf(ph.Pos.Node, "%s: name is required, as in name: single-user", where)
		}
		if !config.PhaseNameOK(ph.Name) {
			return b.errorf(ph.Pos.Of("name"), "%s: name %q must start with a letter and hold only letters, digits, - and _ (and not be all or baseline)", where, ph.Name)
		}
		if seen[ph.Name] {
			return b.errorf(ph.Pos.Of("name"), "%s: phase %q is named twice", where, ph.Name)
		}
		seen[ph.Name] = true
		for _, ck := range []string{"users", "spawn_rate", "think", "settle"} {
			for _, ok := range []string{"rate", "start_rate", "ramp", "max_in_flight"} {
				if ph.Pos.Has(ck) && ph.Pos.Has(ok) {
					return b.errorf(ph.Pos.Of(ck), "%s: %s belongs to the closed model and %s to the open one: set one of them", where, ck, ok)
				}
			}
		}
		ld, err := b.phaseLoad(l.WithPhase(ph))
		if err != nil {
			return err
		}
		p.Phases = append(p.Phases, Phase{Name: ph.Name, Load: ld})
	}
	p.Main = -1
	for i, ph := range p.Phases {
		if ph.Name == MainPhase || len(p.Phases) == 1 {
			p.Main = i
		}
	}
	p.Load = p.Phases[max(p.Main, 0)].Load
	return nil
}

// fullProfile is the article's sequence around a peak load: one user alone, the peak,
// twice the peak, and one user again. The other phases each last a fifth of the peak's
// hold, at least 5 s; the single users run without think time, for the most samples.
// Recovery is judged after a fifth of its length to settle: a service that recovers
// takes a moment to drain what the overload left.
func fullProfile(peak Load) []Phase {
	short := max(peak.Hold/5, 5*time.Second)
	one := Load{Users: 1, SpawnRate: 1, Hold: short}
	recovery := one
	recovery.Settle = short / 5
	over := peak
	over.Hold = short
	if peak.Open {
		over.Rate, over.StartRate = 2*peak.Rate, 2*peak.StartRate
		over.MaxInFlight = 2 * peak.MaxInFlight
	} else {
		over.Users, over.SpawnRate = 2*peak.Users, 2*peak.SpawnRate
	}
	return []Phase{{"single-user", one}, {MainPhase, peak}, {"overload", over}, {"recovery", recovery}}
}

// phaseLoad validates and defaults one phase's load.
func (b *builder) phaseLoad(l config.Load) (Load, error) {
	var ld Load
	ld.Hold = time.Duration(l.Duration)
	if ld.Hold == 0 {
		if l.Pos.Has("duration") {
			return ld, b.errorf(l.Pos.Of("duration"), "load.duration must be above 0")
		}
		ld.Hold = DefaultDuration
	}
	if l.Pos.Has("rate") || l.Rate != 0 {
		return ld, b.openLoad(l, &ld)
	}
	for _, k := range []string{"start_rate", "ramp", "max_in_flight"} {
		if l.Pos.Has(k) {
			return ld, b.errorf(l.Pos.Of(k), "load.%s belongs to the open model: set load.rate too, or use users and spawn_rate", k)
		}
	}
	ld.Users = l.Users
	if !l.Pos.Has("users") && l.Users == 0 {
		ld.Users = 1
	}
	if ld.Users < 1 {
		return ld, b.errorf(l.Pos.Of("users"), "load.users must be at least 1, got %d", l.Users)
	}
	ld.SpawnRate = l.SpawnRate
	if !l.Pos.Has("spawn_rate") && l.SpawnRate == 0 {
		ld.SpawnRate = max(1, float64(ld.Users)/10)
	}
	if !(ld.SpawnRate > 0) || ld.SpawnRate > 1e6 {
		return ld, b.errorf(l.Pos.Of("spawn_rate"), "load.spawn_rate must be above 0 users per second, got %v", l.SpawnRate)
	}
	ld.Think = l.Think
	ld.Settle = time.Duration(l.Settle)
	if ld.Settle < 0 {
		return ld, b.errorf(l.Pos.Of("settle"), "load.settle must not be negative")
	}
	return ld, nil
}

func (b *builder) openLoad(l config.Load, ld *Load) error {
	for _, k := range []string{"users", "spawn_rate", "think", "settle"} {
		if l.Pos.Has(k) {
			return b.errorf(l.Pos.Of(k), "load.%s belongs to the closed model and load.rate to the open one: set one of them", k)
		}
	}
	ld.Open = true
	ld.Rate = float64(l.Rate)
	if !(ld.Rate > 0) {
		return b.errorf(l.Pos.Of("rate"), "load.rate must be above zero")
	}
	ld.StartRate = float64(l.StartRate)
	ld.RateRamp = time.Duration(l.Ramp)
	if l.Pos.Has("start_rate") && !l.Pos.Has("ramp") {
		return b.errorf(l.Pos.Of("start_rate"), "load.start_rate needs load.ramp, the time to climb from it to load.rate")
	}
	if ld.StartRate > ld.Rate {
		return b.errorf(l.Pos.Of("start_rate"), "the ramp ends below its start: load.start_rate %g/s is above load.rate %g/s", ld.StartRate, ld.Rate)
	}
	ld.MaxInFlight = l.MaxInFlight
	if !l.Pos.Has("max_in_flight") && ld.MaxInFlight == 0 {
		ld.MaxInFlight = DefaultMaxInFlight
	}
	if ld.MaxInFlight < 1 {
		return b.errorf(l.Pos.Of("max_in_flight"), "load.max_in_flight must be at least 1, got %d", l.MaxInFlight)
	}
	return nil
}

func (b *builder) tls() error {
	t := b.cfg.TLS
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.Insecure} //nolint:gosec // only when the user asks for it
	b.p.Insecure = t.Insecure
	if t.CAFile != "" {
		path := b.relative(t.CAFile)
		pem, err := os.ReadFile(path)
		if err != nil {
			return b.errorf(t.Pos.Of("ca_file"), "tls.ca_file: cannot read %s: %v", path, unwrapPathError(err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return b.errorf(t.Pos.Of("ca_file"), "tls.ca_file: %s holds no PEM certificate", path)
		}
		conf.RootCAs = pool
		b.p.CAFile = path
	}
	b.p.TLS = conf
	return nil
}

// relative resolves a path from the config file's folder.
func (b *builder) relative(p string) string {
	if filepath.IsAbs(p) || b.cfg.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(b.cfg.File), p)
}

// Relative resolves a file named in the config from the config file's folder.
func Relative(cfg *config.Config, p string) string {
	return (&builder{cfg: cfg}).relative(p)
}

var (
	methodRe = regexp.MustCompile(`^[A-Z]+$`)
	tokenRe  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	varRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (b *builder) requests() error {
	if len(b.cfg.Tasks) == 0 {
		return b.errorf(b.cfg.Pos.Of("tasks"), "no tasks: list at least one request under tasks:")
	}
	endpoints := map[string]int{}
	for i := range b.cfg.Setup {
		r, err := b.request(&b.cfg.Setup[i], "setup", i, true)
		if err != nil {
			return err
		}
		if _, dup := endpoints[r.Name]; dup {
			return b.errorf(b.cfg.Setup[i].Pos.Of("name"), "setup[%d]: name %q is used by another setup step", i, r.Name)
		}
		endpoints[r.Name] = len(b.p.Endpoints)
		r.Endpoint = len(b.p.Endpoints)
		b.p.Endpoints = append(b.p.Endpoints, Endpoint{Name: r.Name, Setup: true})
		b.p.Setup = append(b.p.Setup, r)
	}
	total := 0
	for i := range b.cfg.Tasks {
		r, err := b.request(&b.cfg.Tasks[i], "tasks", i, false)
		if err != nil {
			return err
		}
		if e, ok := endpoints[r.Name]; ok && b.p.Endpoints[e].Setup {
			return b.errorf(b.cfg.Tasks[i].Pos.Of("name"), "tasks[%d]: name %q is already a setup step's name", i, r.Name)
		}
		e, ok := endpoints[r.Name]
		if !ok {
			e = len(b.p.Endpoints)
			endpoints[r.Name] = e
			b.p.Endpoints = append(b.p.Endpoints, Endpoint{Name: r.Name})
		}
		r.Endpoint = e
		total += r.Weight
		b.p.cumWeights = append(b.p.cumWeights, total)
		b.p.Tasks = append(b.p.Tasks, r)
	}
	if total == 0 {
		return b.errorf(b.cfg.Pos.Of("tasks"), "every task has weight 0: at least one task needs a weight above 0")
	}
	return nil
}

func (b *builder) request(c *config.Request, list string, i int, setup bool) (Request, error) {
	where := fmt.Sprintf("%s[%d]", list, i)
	pos := c.Pos
	r := Request{Name: c.Name, Method: strings.ToUpper(c.Method), Weight: 1}
	if c.Path == "" {
		return r, b.errorf(pos.Of("path"), "%s: path is required, as in path: /api/products", where)
	}
	if !strings.HasPrefix(c.Path, "/") {
		return r, b.errorf(pos.Of("path"), "%s: path %q must start with / (it is joined to target)", where, c.Path)
	}
	if i := strings.IndexFunc(c.Path, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return r, b.errorf(pos.Of("path"), "%s: path %q has a space or control character: escape it (a space is %%20)", where, c.Path)
	}
	if r.Name == "" {
		r.Name = c.Path
	}
	if r.Method == "" {
		r.Method = http.MethodGet
		if c.JSON != nil || c.Body != "" {
			r.Method = http.MethodPost
		}
	}
	if !methodRe.MatchString(r.Method) {
		return r, b.errorf(pos.Of("method"), "%s: invalid method %q", where, c.Method)
	}
	if c.Weight != nil {
		if setup {
			return r, b.errorf(pos.Of("weight"), "%s: setup steps run once each, in order: weight does not apply", where)
		}
		if *c.Weight < 0 {
			return r, b.errorf(pos.Of("weight"), "%s: weight must be 0 or more, got %d", where, *c.Weight)
		}
		r.Weight = *c.Weight
	}
	lookup := func(name string) (int, bool) { s, ok := b.slots[name]; return s, ok }
	tmpl := func(key, s string, esc func(string) string) (Template, error) {
		var escLit func(string) string
		if key == "query" {
			escLit = queryEscape
		}
		t, err := parseTemplate(s, esc, escLit, lookup)
		if err != nil {
			return t, b.errorf(pos.Of(key), "%s.%s: %v", where, key, err)
		}
		return t, nil
	}

	// URL: target + path + query.
	pathPart, rawQuery, _ := strings.Cut(c.Path, "?")
	path, err := tmpl("path", pathPart, pathEscape)
	if err != nil {
		return r, err
	}
	parts := []Template{Literal(b.p.Target.String()), path}
	var queries []Template
	if rawQuery != "" {
		q, err := tmpl("path", rawQuery, queryEscape)
		if err != nil {
			return r, err
		}
		queries = append(queries, q)
	}
	for _, k := range sortedKeys(c.Query) {
		v, err := tmpl("query", c.Query[k], queryEscape)
		if err != nil {
			return r, err
		}
		queries = append(queries, concat(Literal(url.QueryEscape(k)+"="), v))
	}
	for j, q := range queries {
		sep := "&"
		if j == 0 {
			sep = "?"
		}
		parts = append(parts, Literal(sep), q)
	}
	r.URL = concat(parts...)

	// Headers: defaults, then the request's own, by canonical name.
	headers := map[string]string{}
	for k, v := range b.cfg.Defaults.Headers {
		headers[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range c.Headers {
		headers[http.CanonicalHeaderKey(k)] = v
	}

	// Body.
	if c.JSON != nil && c.Body != "" {
		return r, b.errorf(pos.Of("json"), "%s: set json or body, not both", where)
	}
	if c.JSON != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.JSON); err != nil {
			return r, b.errorf(pos.Of("json"), "%s.json: cannot be sent as JSON: %v", where, err)
		}
		if r.Body, err = tmpl("json", strings.TrimSuffix(buf.String(), "\n"), jsonEscape); err != nil {
			return r, err
		}
		r.HasBody = true
		if _, ok := headers["Content-Type"]; !ok {
			headers["Content-Type"] = "application/json"
		}
	} else if c.Body != "" {
		if r.Body, err = tmpl("body", c.Body, nil); err != nil {
			return r, err
		}
		r.HasBody = true
	}
	for _, k := range sortedKeys(headers) {
		if !tokenRe.MatchString(k) {
			return r, b.errorf(pos.Of("headers"), "%s: invalid header name %q", where, k)
		}
		if strings.ContainsAny(headers[k], "\r\n") {
			return r, b.errorf(pos.Of("headers"), "%s: header %s holds a line break", where, k)
		}
		v, err := tmpl("headers", headers[k], nil)
		if err != nil {
			return r, err
		}
		if (k == "Authorization" || k == "Cookie" || k == "Proxy-Authorization") && v.Static() && headers[k] != "" {
			b.p.Secrets = append(b.p.Secrets, headers[k])
		}
		r.Headers = append(r.Headers, Header{Name: k, Value: v})
	}

	r.Expect = Expect{Status: c.Expect.Status, Contains: c.Expect.Contains}
	r.Timeout = time.Duration(c.Timeout)
	if r.Timeout == 0 {
		r.Timeout = b.p.Timeout
	}

	// Extraction, after the templates: a step cannot use what it extracts itself.
	if len(c.Extract) > 0 && !setup {
		return r, b.errorf(pos.Of("extract"), "%s: extract is for setup steps; tasks use the values as {{name}}", where)
	}
	for _, name := range sortedKeys(c.Extract) {
		if !varRe.MatchString(name) {
			return r, b.errorf(pos.Of("extract"), "%s.extract: %q is not a valid name (letters, digits and _)", where, name)
		}
		jp, err := jsonpath.Compile(c.Extract[name])
		if err != nil {
			return r, b.errorf(pos.Of("extract"), "%s.extract.%s: %v", where, name, err)
		}
		slot, ok := b.slots[name]
		if !ok {
			slot = len(b.p.Vars)
			b.slots[name] = slot
			b.p.Vars = append(b.p.Vars, name)
		}
		r.Extract = append(r.Extract, Extract{Var: name, Slot: slot, Path: jp})
	}
	return r, nil
}

// Fingerprint is what a baseline must share with this plan to be compared with it.
// Each phase of a baseline has its own: this is the main phase's.
func (p *Plan) Fingerprint() baseline.Fingerprint { return p.PhaseFingerprint(max(p.Main, 0)) }

// PhaseFingerprint is what a baseline's phase must share with phase i of this plan.
func (p *Plan) PhaseFingerprint(i int) baseline.Fingerprint {
	l := p.Phases[i].Load
	f := baseline.Fingerprint{Model: "closed", Users: l.Users}
	if l.Open {
		f = baseline.Fingerprint{Model: "open", Rate: l.Rate}
	}
	for _, e := range p.Endpoints {
		f.Endpoints = append(f.Endpoints, e.Name)
	}
	return f
}

func (b *builder) rules(t *config.Thresholds) error {
	p := b.p
	p.ThresholdFiles = append(p.ThresholdFiles, t.File)
	first := len(p.Rules)
	for _, a := range t.Abort {
		p.Aborts = append(p.Aborts, AbortRule{AbortRule: a, File: t.File})
	}
	if len(t.All) > 0 || len(t.Endpoints) > 0 {
		if p.Main < 0 {
			pos := t.Pos.Of("all")
			if !t.Pos.Has("all") {
				pos = t.Pos.Of("endpoints")
			}
			return config.Errorf(t.File, pos, "rules outside phases: judge the phase named %s, and this config's phases are %s: put them under phases:",
				MainPhase, strings.Join(p.phaseNames(), ", "))
		}
		if err := b.phaseRules(t, p.Main, t.All, t.Endpoints); err != nil {
			return err
		}
	}
	for _, pr := range t.Phases {
		i := p.phaseIndex(pr.Name)
		if i < 0 {
			return config.Errorf(t.File, pr.Pos, "unknown phase %q: the config's phases are %s", pr.Name, strings.Join(p.phaseNames(), ", "))
		}
		if err := b.phaseRules(t, i, pr.All, pr.Endpoints); err != nil {
			return err
		}
	}
	for i := first; i < len(p.Rules); i++ {
		r := &p.Rules[i]
		if r.Ref == nil || r.Ref.Baseline() {
			continue
		}
		if r.RefPhase = p.phaseIndex(r.Ref.Phase); r.RefPhase < 0 {
			return config.Errorf(t.File, r.Pos, "rule %q: unknown phase %q: the config's phases are %s", r.Text, r.Ref.Phase, strings.Join(p.phaseNames(), ", "))
		}
		// A reference reads what another phase measured, never another rule's limit, so
		// references cannot chain into cycles; a phase against itself is the one loop.
		if r.RefPhase == r.Phase {
			return config.Errorf(t.File, r.Pos, "rule %q judges phase %s against itself: compare it with another phase, or use a drift rule for how it changed over its hold", r.Text, r.Ref.Phase)
		}
	}
	if t.Baseline != "" {
		return b.resolveBaseline(t, p.Rules[first:])
	}
	return nil
}

// phaseRules adds one phase's rules over all requests and per endpoint.
func (b *builder) phaseRules(t *config.Thresholds, phase int, all []config.Rule, endpoints config.EndpointRules) error {
	p := b.p
	add := func(r config.Rule, endpoint int, scope string) error {
		p.Rules = append(p.Rules, Rule{Rule: r, Endpoint: endpoint, Scope: scope, File: t.File, Phase: phase})
		return nil
	}
	for _, r := range all {
		if err := add(r, -1, "all"); err != nil {
			return err
		}
	}
	for _, er := range endpoints {
		idx := -1
		for i, e := range p.Endpoints {
			if e.Name == er.Name {
				idx = i
			}
		}
		if idx < 0 {
			names := make([]string, len(p.Endpoints))
			for i, e := range p.Endpoints {
				names[i] = e.Name
			}
			return config.Errorf(t.File, er.Pos, "unknown endpoint %q: the config's endpoints are %s", er.Name, strings.Join(names, ", "))
		}
		for _, r := range er.Rules {
			if err := add(r, idx, er.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *Plan) phaseIndex(name string) int {
	for i, ph := range p.Phases {
		if ph.Name == name {
			return i
		}
	}
	return -1
}

func (p *Plan) phaseNames() []string {
	names := make([]string, len(p.Phases))
	for i, ph := range p.Phases {
		names[i] = ph.Name
	}
	return names
}

// resolveBaseline reads the file's baseline, checks that it comes from the same load,
// and turns every "baseline ± N" into a limit.
func (b *builder) resolveBaseline(t *config.Thresholds, rules []Rule) error {
	path := t.Baseline
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(t.File), path)
	}
	base, err := baseline.Read(path)
	if err != nil {
		return config.Errorf(t.File, t.Pos.Of("baseline"), "%v", err)
	}
	checked := map[int]*baseline.Phase{}
	for i := range rules {
		r := &rules[i]
		if !r.AgainstBaseline() {
			continue
		}
		ph, ok := checked[r.Phase]
		if !ok {
			name := b.p.Phases[r.Phase].Name
			if ph, ok = base.Phase(name, r.Phase == b.p.Main); !ok {
				return config.Errorf(t.File, r.Pos, "rule %q: baseline %s has no phase %q: record a new one from a run with it", r.Text, path, name)
			}
			if diff := ph.Fingerprint.Mismatch(b.p.PhaseFingerprint(r.Phase)); diff != "" {
				where := ""
				if len(b.p.Phases) > 1 {
					where = " in phase " + name
				}
				return config.Errorf(t.File, t.Pos.Of("baseline"),
					"baseline %s comes from a different config%s (%s): record a new one with perfgate baseline", path, where, diff)
			}
			checked[r.Phase] = ph
		}
		m, ok := ph.Find(r.Scope)
		if !ok {
			return config.Errorf(t.File, r.Pos, "rule %q: baseline %s has no endpoint %q", r.Text, path, r.Scope)
		}
		v, err := m.Value(r.Metric, r.Quantile)
		if err != nil {
			return config.Errorf(t.File, r.Pos, "rule %q: %v", r.Text, err)
		}
		r.BaselineValue = v
		r.Limit = r.Ref.Apply(v)
	}
	return nil
}

// dedupe drops repeated and empty values, keeping the first of each in order.
func dedupe(values []string) []string {
	seen := map[string]bool{}
	out := values[:0]
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// redactURL hides a password in a URL's user info.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// RedactedTarget is the target URL with any password hidden, safe to print.
func (p *Plan) RedactedTarget() string { return p.Target.Redacted() }

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
