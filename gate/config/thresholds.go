package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perfgate/perfgate/gate/metric"
)

// Thresholds is one threshold file: rules over every request ("all") and per endpoint.
type Thresholds struct {
	File string `yaml:"-"`
	// Baseline names the baseline file that "baseline" in rules refers to, relative to
	// this file.
	Baseline  string        `yaml:"baseline"`
	All       []Rule        `yaml:"all"`
	Endpoints EndpointRules `yaml:"endpoints"`
	// Abort rules stop the run at once, as failed, when they hold for a while.
	Abort []AbortRule `yaml:"abort"`
	// Capacity rules judge what a capacity search found (perfgate capacity); a gate's
	// run leaves them alone.
	Capacity []CapacityRule `yaml:"capacity"`
	// Resources rules judge the target's resources over the main phase's hold (and a
	// capacity search's at its capacity): "cpu < 80%", "db_waits == 0".
	Resources []ResourceRule `yaml:"resources"`
	// Phases holds the rules of named phases. The rules above judge the phase named
	// peak: the only phase of a run without phases.
	Phases PhaseRules `yaml:"phases"`
	Pos    Positions
}

// PhaseRules keeps the phases of a threshold file in the order they were written.
type PhaseRules []PhaseRule

// PhaseRule is the rules of one phase: a list (over all its requests), or all: and
// endpoints: as at the top of the file.
type PhaseRule struct {
	Name      string
	Pos       Pos
	All       []Rule
	Endpoints EndpointRules
}

// UnmarshalYAML reads phase name -> rules, keeping the file's order.
func (p *PhaseRules) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nodeErrorf(n, "phases: expected a mapping of phase name to rules, got %s", describe(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if seen[k.Value] {
			return nodeErrorf(k, "phase %q is listed twice", k.Value)
		}
		seen[k.Value] = true
		pr := PhaseRule{Name: k.Value, Pos: posOf(k)}
		if v.Kind == yaml.MappingNode {
			var body struct {
				All       []Rule        `yaml:"all"`
				Endpoints EndpointRules `yaml:"endpoints"`
				Pos       Positions
			}
			if err := decodeStruct(v, &body); err != nil {
				return err
			}
			pr.All, pr.Endpoints = body.All, body.Endpoints
		} else if err := decodeValue(v, &pr.All, k.Value); err != nil {
			return err
		}
		*p = append(*p, pr)
	}
	return nil
}

// AbortRule is a rule over the run's recent time windows, such as
// "error_rate > 50% for 20s": when it has held for that long, the run stops as failed.
type AbortRule struct {
	Rule
	For time.Duration
}

// ParseAbortRule reads "metric op value for duration".
func ParseAbortRule(s string) (AbortRule, error) {
	i := strings.LastIndex(s, " for ")
	if i < 0 {
		return AbortRule{}, fmt.Errorf("abort rule %q: expected \"metric op value for duration\", as in \"error_rate > 50%% for 20s\"", s)
	}
	r, err := ParseRule(s[:i])
	if err != nil {
		return AbortRule{}, err
	}
	d, err := ParseDuration(s[i+5:])
	if err != nil {
		return AbortRule{}, fmt.Errorf("abort rule %q: %v", s, err)
	}
	if d <= 0 {
		return AbortRule{}, fmt.Errorf("abort rule %q: the time must be above 0", s)
	}
	if r.Ref != nil || r.Drift {
		return AbortRule{}, fmt.Errorf("abort rule %q: an abort rule compares a window with a fixed limit, as in \"p99 > 2s for 30s\"", s)
	}
	if !r.Metric.OverTime() {
		return AbortRule{}, fmt.Errorf("abort rule %q: %s is not watched over time (abort rules use %s)", s, r.Metric, strings.Join(metric.OverTimeNamed(), ", "))
	}
	r.Text = r.Text + " for " + d.String()
	return AbortRule{Rule: r, For: d}, nil
}

// UnmarshalYAML reads one abort rule from a string.
func (a *AbortRule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErrorf(n, "expected an abort rule such as \"error_rate > 50%% for 20s\", got %s", describe(n))
	}
	rule, err := ParseAbortRule(n.Value)
	if err != nil {
		return nodeErrorf(n, "%v", err)
	}
	rule.Pos = posOf(n)
	*a = rule
	return nil
}

// EndpointRules keeps the endpoints of a threshold file in the order they were written.
type EndpointRules []EndpointRule

// EndpointRule is the list of rules for one endpoint name.
type EndpointRule struct {
	Name  string
	Pos   Pos
	Rules []Rule
}

// Rule is one threshold such as "p99 < 300ms".
type Rule struct {
	// Text is the rule as written, used as its name in reports.
	Text string
	// Metric is what the rule measures: p50, p99.9, max, mean, error_rate, throughput,
	// requests...
	Metric metric.Metric
	// Op is one of < <= > >=.
	Op string
	// Limit is in base units: seconds, a fraction, per second, or a count. For a rule
	// against the baseline it is filled in when the baseline is read.
	Limit float64
	// Ref is set for a rule that compares with the baseline or another phase, such as
	// "p99 < baseline + 15%" or "p99 < 2 * single-user.p99".
	Ref *Ref
	// Drift is set for a rule on how the metric moved over the hold, such as
	// "p99 drift < 20%": Limit is then a fraction of the start's value (latency,
	// throughput) or a difference in error rate.
	Drift bool
	Pos   Pos
}

// AgainstBaseline reports whether the rule compares with the recorded baseline.
func (r Rule) AgainstBaseline() bool { return r.Ref != nil && r.Ref.Baseline() }

// Ref is the right-hand side of a rule that compares with another measurement: the
// recorded baseline ("p99 < baseline + 15%") or another phase of the run
// ("p99 < 2 * single-user.p99"). The limit is Factor times the referenced value, plus
// or minus a tolerance.
type Ref struct {
	// Phase names the phase read; "" is the recorded baseline.
	Phase string
	// Metric is the metric read there: the rule's own for the baseline.
	Metric metric.Metric
	Factor float64
	// Amount is signed; Unit is "%" (of the referenced value) or "pp" (percentage points,
	// for error_rate), or "" for no tolerance.
	Amount float64
	Unit   string
}

// Baseline reports whether the reference is the recorded baseline.
func (r Ref) Baseline() bool { return r.Phase == "" }

// Name is what the reference reads: "baseline" or "single-user.p99".
func (r Ref) Name() string {
	if r.Baseline() {
		return "baseline"
	}
	return r.Phase + "." + r.Metric.Name
}

// Apply returns the limit for a referenced value.
func (r Ref) Apply(v float64) float64 {
	v *= r.Factor
	switch r.Unit {
	case "%":
		return v * (1 + r.Amount/100)
	case "pp":
		return v + r.Amount/100
	}
	return v
}

// String writes the reference as a rule does.
func (r Ref) String() string {
	out := r.Name()
	if r.Factor != 1 {
		out = strconv.FormatFloat(r.Factor, 'f', -1, 64) + " * " + out
	}
	if r.Unit == "" {
		return out
	}
	sign := "+"
	if r.Amount < 0 {
		sign = "-"
	}
	return fmt.Sprintf("%s %s %s%s", out, sign, strconv.FormatFloat(math.Abs(r.Amount), 'f', -1, 64), r.Unit)
}

// parseRef reads the right-hand side of a rule as a reference: "baseline",
// "baseline + 15%", "baseline - 0.5pp", "single-user.p99", "2 * single-user.p99",
// "single-user.p99 + 50%". It returns nil, nil when s is a plain limit. Spaces have been
// removed from s.
func parseRef(m metric.Metric, s string) (*Ref, error) {
	ref := &Ref{Factor: 1}
	body := s
	if f, rest, ok := strings.Cut(s, "*"); ok {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || v > 1e6 {
			return nil, fmt.Errorf("invalid factor %q in %q: write a number above 0, as in 2 * single-user.p99", f, s)
		}
		ref.Factor, body = v, rest
	}
	var rest string
	if after, ok := strings.CutPrefix(body, "baseline"); ok && (after == "" || after[0] == '+' || after[0] == '-') {
		ref.Metric, rest = m, after
	} else if name, after, ok := strings.Cut(body, "."); ok && PhaseNameOK(name) {
		end := strings.IndexAny(after, "+-")
		if end < 0 {
			end = len(after)
		}
		other, err := metric.Lookup(after[:end])
		if err != nil {
			return nil, fmt.Errorf("in %q: %v", s, err)
		}
		if other.Kind() != m.Kind() {
			return nil, fmt.Errorf("%s and %s measure different things: compare a metric with one of its kind", m, other)
		}
		ref.Phase, ref.Metric, rest = name, other, after[end:]
	} else if body != s {
		return nil, fmt.Errorf("expected baseline or PHASE.METRIC after %q, as in 2 * single-user.p99", s[:len(s)-len(body)])
	} else {
		return nil, nil
	}
	if rest == "" {
		return ref, nil
	}
	sign := 1.0
	if rest[0] == '-' {
		sign = -1
	}
	num, unit := rest[1:], ""
	switch {
	case strings.HasSuffix(num, "pp"):
		num, unit = strings.TrimSuffix(num, "pp"), "pp"
	case strings.HasSuffix(num, "%"):
		num, unit = strings.TrimSuffix(num, "%"), "%"
	default:
		return nil, fmt.Errorf("the tolerance in %q needs a unit: %% of the %s value, or pp (percentage points) for error_rate", s, ref.Name())
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f != f || f > 1e6 {
		return nil, fmt.Errorf("invalid tolerance in %q", s)
	}
	if unit == "pp" && m.Kind() != metric.Ratio {
		return nil, fmt.Errorf("pp (percentage points) is for error_rate; write a %% of the %s value", ref.Name())
	}
	ref.Amount, ref.Unit = sign*f, unit
	return ref, nil
}

// PhaseNameOK reports whether s may name a phase: a letter, then letters, digits, - and _.
func PhaseNameOK(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_')) {
			return false
		}
	}
	return s != "baseline" && s != "all"
}

// UnmarshalYAML implements yaml.Unmarshaler with strict keys.
func (t *Thresholds) UnmarshalYAML(n *yaml.Node) error {
	type plain Thresholds
	return decodeStruct(n, (*plain)(t))
}

// UnmarshalYAML reads endpoint name -> list of rules, keeping the file's order.
func (e *EndpointRules) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nodeErrorf(n, "endpoints: expected a mapping of endpoint name to a list of rules, got %s", describe(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if seen[k.Value] {
			return nodeErrorf(k, "endpoint %q is listed twice", k.Value)
		}
		seen[k.Value] = true
		var rules []Rule
		if err := decodeValue(v, &rules, k.Value); err != nil {
			return err
		}
		*e = append(*e, EndpointRule{Name: k.Value, Pos: posOf(k), Rules: rules})
	}
	return nil
}

// UnmarshalYAML reads one rule from a string.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErrorf(n, "expected a rule such as \"p99 < 300ms\", got %s", describe(n))
	}
	rule, err := ParseRule(n.Value)
	if err != nil {
		return nodeErrorf(n, "%v", err)
	}
	rule.Pos = posOf(n)
	*r = rule
	return nil
}

// ParseRule reads "metric op value", for example "p99 < 300ms", "error_rate < 1%",
// "throughput > 80/s" or "requests >= 1000"; the value may refer to the baseline or
// another phase ("p99 < baseline + 15%", "p99 < 2 * single-user.p99"). A drift rule
// reads "metric drift op change": "p99 drift < 20%", "error_rate drift < 0.5pp".
func ParseRule(s string) (Rule, error) {
	fields := strings.Fields(s)
	if len(fields) == 1 {
		// Allow "p99<300ms": split at the operator.
		if i := strings.IndexAny(s, "<>"); i > 0 {
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			fields = []string{s[:i], s[i:j], s[j:]}
		}
	}
	drift := len(fields) > 1 && fields[1] == "drift"
	if drift {
		fields = append(fields[:1:1], fields[2:]...)
	}
	if len(fields) > 3 && (strings.HasPrefix(fields[2], "baseline") || strings.Contains(fields[2], ".") ||
		strings.HasSuffix(fields[2], "*") || strings.HasPrefix(fields[3], "*")) {
		// A reference with spaces: "p99 < 2 * single-user.p99 + 10%".
		fields = []string{fields[0], fields[1], strings.Join(fields[2:], "")}
	}
	if len(fields) != 3 {
		return Rule{}, fmt.Errorf("rule %q: expected \"metric op value\", as in \"p99 < 300ms\"", s)
	}
	r := Rule{Text: strings.Join(fields, " "), Op: fields[1], Drift: drift}
	switch r.Op {
	case "<", "<=", ">", ">=":
	default:
		return Rule{}, fmt.Errorf("rule %q: unknown operator %q (use <, <=, > or >=)", s, r.Op)
	}
	var err error
	if r.Metric, err = metric.Lookup(fields[0]); err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	}
	if drift {
		if !r.Metric.OverTime() {
			return Rule{}, fmt.Errorf("rule %q: drift is followed over time windows, which keep %s", s, strings.Join(metric.OverTimeNamed(), ", "))
		}
		if r.Limit, err = parseDriftLimit(r.Metric.Kind(), fields[2]); err != nil {
			return Rule{}, fmt.Errorf("rule %q: %v", s, err)
		}
		r.Text = r.Metric.Name + " drift " + r.Op + " " + fields[2]
		return r, nil
	}
	if r.Ref, err = parseRef(r.Metric, fields[2]); err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	} else if r.Ref != nil {
		r.Text = r.Metric.Name + " " + r.Op + " " + r.Ref.String()
		return r, nil
	}
	r.Limit, err = parseLimit(r.Metric.Kind(), fields[2])
	if err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	}
	return r, nil
}

// parseDriftLimit reads how far a metric may move over the hold: a signed percentage of
// its value at the start ("20%", "-10%"), or for error_rate percentage points ("0.5pp").
func parseDriftLimit(k metric.Kind, v string) (float64, error) {
	num, unit := v, "%"
	if k == metric.Ratio {
		unit = "pp"
	}
	num, ok := strings.CutSuffix(num, unit)
	if !ok {
		if k == metric.Ratio {
			return 0, fmt.Errorf("the drift of error_rate is in percentage points: write 0.5pp")
		}
		return 0, fmt.Errorf("drift is a percentage of the value at the start of the hold: write 20%%")
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e6 {
		return 0, fmt.Errorf("invalid drift %q", v)
	}
	return f / 100, nil
}

func parseLimit(k metric.Kind, v string) (float64, error) {
	switch k {
	case metric.Latency:
		d, err := ParseDuration(v)
		if err != nil {
			return 0, err
		}
		return d.Seconds(), nil
	case metric.Ratio:
		if p, ok := strings.CutSuffix(v, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
				return 0, fmt.Errorf("invalid percentage %q (0%% to 100%%)", v)
			}
			return f / 100, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
			return 0, fmt.Errorf("invalid error rate %q (write a percentage such as 1%% or a fraction such as 0.01)", v)
		}
		return f, nil
	case metric.Rate:
		num, unit, _ := strings.Cut(v, "/")
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid rate %q (write requests per second as 80/s, or 4800/m)", v)
		}
		switch unit {
		case "", "s":
			return f, nil
		case "m", "min":
			return f / 60, nil
		case "h":
			return f / 3600, nil
		}
		return 0, fmt.Errorf("invalid rate unit in %q (use /s, /m or /h)", v)
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid count %q (a whole number)", v)
		}
		return float64(n), nil
	}
}

// ReadThresholds reads and decodes a threshold file.
func ReadThresholds(path string, env Env) (*Thresholds, error) {
	data, err := readFile("thresholds", path)
	if err != nil {
		return nil, err
	}
	return ParseThresholds(path, data, env)
}

// ParseThresholds decodes a threshold document; file names it in errors.
func ParseThresholds(file string, data []byte, env Env) (*Thresholds, error) {
	var t Thresholds
	if _, err := decodeDocument(file, data, env, &t); err != nil {
		return nil, err
	}
	t.File = file
	if t.Baseline == "" {
		for _, r := range t.rules() {
			if r.AgainstBaseline() {
				return nil, &Error{File: file, Pos: r.Pos, Msg: fmt.Sprintf("rule %q compares with the baseline, but this file names none: add baseline: FILE (made by perfgate baseline)", r.Text)}
			}
		}
		for _, r := range t.Capacity {
			if r.Baseline {
				return nil, &Error{File: file, Pos: r.Pos, Msg: fmt.Sprintf("capacity rule %q compares with the baseline, but this file names none: add baseline: FILE (made by perfgate baseline from capacity results)", r.Text)}
			}
		}
	}
	if len(t.rules()) == 0 && len(t.Abort) == 0 && len(t.Capacity) == 0 && len(t.Resources) == 0 {
		return nil, &Error{File: file, Pos: t.Pos.Node, Msg: "no rules: write rules under all:, endpoints:, phases:, abort:, capacity: or resources:"}
	}
	return &t, nil
}

// rules lists the file's rules: all, per endpoint, and per phase.
func (t *Thresholds) rules() []Rule {
	out := append([]Rule(nil), t.All...)
	for _, e := range t.Endpoints {
		out = append(out, e.Rules...)
	}
	for _, p := range t.Phases {
		out = append(out, p.All...)
		for _, e := range p.Endpoints {
			out = append(out, e.Rules...)
		}
	}
	return out
}
