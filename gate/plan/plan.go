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
	"github.com/perfgate/perfgate/gate/internal/safetext"
	"github.com/perfgate/perfgate/gate/internal/wire"
	"github.com/perfgate/perfgate/gate/jsonpath"
)

// Defaults used when the config leaves a setting out.
const (
	DefaultDuration    = 5 * time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 1000
)

// BaselineFile is a baseline file a threshold file names, read.
type BaselineFile struct {
	Path string
	File *baseline.File
}

// Plan is everything the engine needs to run and the verdict needs to judge. It is not
// changed after Build returns.
type Plan struct {
	// ConfigFile and ThresholdFiles name the files the plan came from.
	ConfigFile     string
	ThresholdFiles []string
	// Baselines are the baseline files the rules read, each once, for the reports to
	// draw beside the run.
	Baselines []BaselineFile

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
	// Protocol is the HTTP version the load speaks, HTTP1 or HTTP2: asked for by the
	// config, or, when it leaves it to the target ("" here), what the target chose
	// when the run probed it (load.Probe).
	Protocol string

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
	// CapacityRules judge a capacity search (perfgate capacity); a run leaves them alone.
	CapacityRules []CapacityRule
	// ResourceRules judge the target's resources over the main phase's hold.
	ResourceRules []ResourceRule
	// Resources, when set, is the target's metrics endpoint and the series read from it
	// at every window's end.
	Resources *Resources
	// Confidence is one less the family-wise error of the run's statistical rules: the
	// chance that a run whose every rule holds fails anyway (0.95 by default).
	// WarnInconclusive makes a rule that stays inconclusive a warning, not a reason for
	// no verdict.
	Confidence       float64
	WarnInconclusive bool
	// RecordContention records how contended the machine was without judging it.
	RecordContention bool
	// Shard is which share of the load this plan runs, for a run split over several
	// processes (see ForShard); the zero value runs all of it. digest is then the
	// whole plan's Digest.
	Shard  Shard
	digest string
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

// Pick maps a uniform number in [0, TotalWeight) to a task index.
func (p *Plan) Pick(n int) int {
	return sort.SearchInts(p.cumWeights, n+1)
}

// TotalWeight is the sum of the task weights.
func (p *Plan) TotalWeight() int { return p.cumWeights[len(p.cumWeights)-1] }

// Share is the part of the tasks' requests that go to the endpoint (-1: all of them):
// the weights of its tasks over all the weights. A setup step's is 0.
func (p *Plan) Share(endpoint int) float64 {
	if endpoint < 0 {
		return 1
	}
	w, total := 0, 0
	for _, t := range p.Tasks {
		total += t.Weight
		if t.Endpoint == endpoint {
			w += t.Weight
		}
	}
	if w == 0 {
		return 0
	}
	return float64(w) / float64(total)
}

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
	steps := []func() error{b.target, b.load, b.tls, b.verdict, b.resources}
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
	if len(b.p.Rules) == 0 && len(b.p.ResourceRules) == 0 && len(thresholds) > 0 {
		t := thresholds[0]
		return nil, config.Errorf(t.File, t.Pos.Node, "no rules to judge the run: abort rules can only stop it; add rules under all: or endpoints:")
	}
	b.p.Secrets = dedupe(append(b.p.Secrets, b.cfg.Secrets...))
	return b.p, nil
}

// DefaultConfidence is verdict.confidence when the config leaves it out.
const DefaultConfidence = 0.95

func (b *builder) verdict() error {
	v := b.cfg.Verdict
	b.p.Confidence = float64(v.Confidence)
	if !v.Pos.Has("confidence") {
		b.p.Confidence = DefaultConfidence
	}
	if !(b.p.Confidence >= 0.5 && b.p.Confidence < 1) {
		return b.errorf(v.Pos.Of("confidence"), "verdict.confidence must be at least 50%% and below 100%%, got %v%%", 100*b.p.Confidence)
	}
	var err error
	if b.p.WarnInconclusive, err = b.either(v.Pos, "inconclusive", v.Inconclusive, "invalid", "warn",
		"invalid (no valid verdict, exit 3) or warn"); err != nil {
		return err
	}
	b.p.RecordContention, err = b.either(v.Pos, "contention", v.Contention, "judge", "record",
		"judge (a run too contended to judge has no valid verdict) or record")
	return err
}

// either reads verdict.key, a choice of two words: the default (also when left out) or
// other, which it reports as true.
func (b *builder) either(pos config.Positions, key, value, def, other, explain string) (bool, error) {
	switch value {
	case "", def:
		return false, nil
	case other:
		return true, nil
	}
	return false, b.errorf(pos.Of(key), "verdict.%s must be %s, got %q", key, explain, value)
}

func (b *builder) target() error {
	c := b.cfg
	pos := c.Pos.Of("target")
	if c.Target == "" {
		return b.errorf(pos, "target is not set: set target: in the config or pass --target URL")
	}
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return b.errorf(pos, "target %q is not an http:// or https:// URL with a host", RedactURL(c.Target))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return b.errorf(pos, "target %q must not have a query or fragment: put those in the task paths", RedactURL(c.Target))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if pw := URLPassword(c.Target); pw != "" {
		b.p.Secrets = append(b.p.Secrets, pw)
	}
	b.p.Target = u
	return nil
}

// The HTTP versions a plan's load may speak, by their ALPN names.
const (
	HTTP1 = "http/1.1"
	HTTP2 = "h2"
)

func (b *builder) tls() error {
	t := b.cfg.TLS
	switch t.Protocol {
	case "", "auto":
		if b.p.Target.Scheme == "http" {
			b.p.Protocol = HTTP1 // no HTTP/2 without TLS (h2c): no server a browser meets speaks it
		}
	case HTTP1, HTTP2:
		if t.Protocol == HTTP2 && b.p.Target.Scheme != "https" {
			return b.errorf(t.Pos.Of("protocol"), "tls.protocol: h2 needs an https:// target (HTTP/2 is spoken over TLS)")
		}
		b.p.Protocol = t.Protocol
	default:
		return b.errorf(t.Pos.Of("protocol"), "tls.protocol: %q is none of auto, http/1.1, h2", t.Protocol)
	}
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
		// Named by its path, with any secret that came into it (${API_KEY} in a query)
		// hidden: the name is printed in every report.
		r.Name = safetext.Redact(c.Path, append(append([]string(nil), b.cfg.Secrets...), b.p.Secrets...))
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
		if *c.Weight < 0 || *c.Weight > MaxWeight {
			return r, b.errorf(pos.Of("weight"), "%s: weight must be between 0 and %d, got %d", where, MaxWeight, *c.Weight)
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
		if !wire.ValidHeaderValue(headers[k]) {
			return r, b.errorf(pos.Of("headers"), "%s: header %s holds a line break or another control character", where, k)
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
	if r.Timeout > MaxRequestTime {
		return r, b.errorf(pos.Of("timeout"), "%s: timeout of %s is longer than %s", where, r.Timeout, MaxRequestTime)
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

// RedactURL hides a password in a URL's user info, also in a URL that does not parse
// (a stray %, a space in the password): everything between the first ":" after "://" and
// the last "@" is the password then.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User == nil {
			return s
		}
		return u.Redacted()
	}
	if URLPassword(s) == "" {
		return s
	}
	scheme, rest, _ := strings.Cut(s, "://")
	at := strings.LastIndex(rest, "@")
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// URLPassword is the password in a URL's user info, "" if it has none; read as
// RedactURL reads it when the URL does not parse.
func URLPassword(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User == nil {
			return ""
		}
		pw, _ := u.User.Password()
		return pw
	}
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return ""
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// LongestTimeout is the longest any request may take: the default timeout, or a
// request's own if longer. Latency histograms reach it.
func (p *Plan) LongestTimeout() time.Duration {
	longest := p.Timeout
	for _, list := range [][]Request{p.Setup, p.Tasks} {
		for _, rq := range list {
			longest = max(longest, rq.Timeout)
		}
	}
	return longest
}

// RedactedTarget is the target URL with any password hidden, safe to print.
func (p *Plan) RedactedTarget() string { return p.Target.Redacted() }

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
