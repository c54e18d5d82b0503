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
	// Hold is the measured window at peak.
	Hold    time.Duration
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
func (p *Plan) Ramp() time.Duration {
	if p.Open {
		return p.RateRamp
	}
	if p.Users <= 1 {
		return 0
	}
	return time.Duration(float64(p.Users-1) / p.SpawnRate * float64(time.Second))
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
	l := b.cfg.Load
	if err := b.hold(l); err != nil {
		return err
	}
	if l.Pos.Has("rate") || l.Rate != 0 {
		return b.openLoad(l)
	}
	for _, k := range []string{"start_rate", "ramp", "max_in_flight"} {
		if l.Pos.Has(k) {
			return b.errorf(l.Pos.Of(k), "load.%s belongs to the open model: set load.rate too, or use users and spawn_rate", k)
		}
	}
	p := b.p
	p.Users = l.Users
	if !l.Pos.Has("users") && l.Users == 0 {
		p.Users = 1
	}
	if p.Users < 1 {
		return b.errorf(l.Pos.Of("users"), "load.users must be at least 1, got %d", l.Users)
	}
	p.SpawnRate = l.SpawnRate
	if !l.Pos.Has("spawn_rate") && l.SpawnRate == 0 {
		p.SpawnRate = max(1, float64(p.Users)/10)
	}
	if !(p.SpawnRate > 0) || p.SpawnRate > 1e6 {
		return b.errorf(l.Pos.Of("spawn_rate"), "load.spawn_rate must be above 0 users per second, got %v", l.SpawnRate)
	}
	p.Think = l.Think
	return nil
}

// hold reads what both models share: the hold and the request timeout.
func (b *builder) hold(l config.Load) error {
	p := b.p
	p.Hold = time.Duration(l.Duration)
	if p.Hold == 0 {
		if l.Pos.Has("duration") {
			return b.errorf(l.Pos.Of("duration"), "load.duration must be above 0")
		}
		p.Hold = DefaultDuration
	}
	p.Timeout = time.Duration(b.cfg.Defaults.Timeout)
	if p.Timeout == 0 {
		if b.cfg.Defaults.Pos.Has("timeout") {
			return b.errorf(b.cfg.Defaults.Pos.Of("timeout"), "defaults.timeout must be above 0")
		}
		p.Timeout = DefaultTimeout
	}
	return nil
}

func (b *builder) openLoad(l config.Load) error {
	for _, k := range []string{"users", "spawn_rate", "think"} {
		if l.Pos.Has(k) {
			return b.errorf(l.Pos.Of(k), "load.%s belongs to the closed model and load.rate to the open one: set one of them", k)
		}
	}
	p := b.p
	p.Open = true
	p.Rate = float64(l.Rate)
	if !(p.Rate > 0) {
		return b.errorf(l.Pos.Of("rate"), "load.rate must be above zero")
	}
	p.StartRate = float64(l.StartRate)
	p.RateRamp = time.Duration(l.Ramp)
	if l.Pos.Has("start_rate") && !l.Pos.Has("ramp") {
		return b.errorf(l.Pos.Of("start_rate"), "load.start_rate needs load.ramp, the time to climb from it to load.rate")
	}
	if p.StartRate > p.Rate {
		return b.errorf(l.Pos.Of("start_rate"), "the ramp ends below its start: load.start_rate %g/s is above load.rate %g/s", p.StartRate, p.Rate)
	}
	p.MaxInFlight = l.MaxInFlight
	if !l.Pos.Has("max_in_flight") && p.MaxInFlight == 0 {
		p.MaxInFlight = DefaultMaxInFlight
	}
	if p.MaxInFlight < 1 {
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
func (p *Plan) Fingerprint() baseline.Fingerprint {
	f := baseline.Fingerprint{Model: "closed", Users: p.Users}
	if p.Open {
		f = baseline.Fingerprint{Model: "open", Rate: p.Rate}
	}
	for _, e := range p.Endpoints {
		f.Endpoints = append(f.Endpoints, e.Name)
	}
	return f
}

func (b *builder) rules(t *config.Thresholds) error {
	b.p.ThresholdFiles = append(b.p.ThresholdFiles, t.File)
	first := len(b.p.Rules)
	for _, r := range t.All {
		b.p.Rules = append(b.p.Rules, Rule{Rule: r, Endpoint: -1, Scope: "all", File: t.File})
	}
	for _, a := range t.Abort {
		b.p.Aborts = append(b.p.Aborts, AbortRule{AbortRule: a, File: t.File})
	}
	for _, er := range t.Endpoints {
		idx := -1
		for i, e := range b.p.Endpoints {
			if e.Name == er.Name {
				idx = i
			}
		}
		if idx < 0 {
			names := make([]string, len(b.p.Endpoints))
			for i, e := range b.p.Endpoints {
				names[i] = e.Name
			}
			return config.Errorf(t.File, er.Pos, "unknown endpoint %q: the config's endpoints are %s", er.Name, strings.Join(names, ", "))
		}
		for _, r := range er.Rules {
			b.p.Rules = append(b.p.Rules, Rule{Rule: r, Endpoint: idx, Scope: er.Name, File: t.File})
		}
	}
	if t.Baseline != "" {
		return b.resolveBaseline(t, b.p.Rules[first:])
	}
	return nil
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
	if diff := base.Fingerprint.Mismatch(b.p.Fingerprint()); diff != "" {
		return config.Errorf(t.File, t.Pos.Of("baseline"),
			"baseline %s comes from a different config (%s): record a new one with perfgate baseline", path, diff)
	}
	for i := range rules {
		r := &rules[i]
		if r.Baseline == nil {
			continue
		}
		m, ok := base.Find(r.Scope)
		if !ok {
			return config.Errorf(t.File, r.Pos, "rule %q: baseline %s has no endpoint %q", r.Text, path, r.Scope)
		}
		v, err := m.Value(r.Metric, r.Quantile)
		if err != nil {
			return config.Errorf(t.File, r.Pos, "rule %q: %v", r.Text, err)
		}
		r.BaselineValue = v
		r.Limit = r.Baseline.Apply(v)
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
