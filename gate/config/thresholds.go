package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
	Pos   Positions
}

// AbortRule is a rule over the run's recent time windows, such as
// "error_rate > 50% for 20s": when it has held for that long, the run stops as failed.
type AbortRule struct {
	Rule
	For time.Duration
}

// AbortMetrics are the metrics an abort rule may watch: those of a time window.
var AbortMetrics = []string{"p50", "p90", "p95", "p99", "max", "error_rate", "throughput"}

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
	ok := false
	for _, m := range AbortMetrics {
		ok = ok || r.Metric == m
	}
	if !ok {
		return AbortRule{}, fmt.Errorf("abort rule %q: %s is not watched over time (abort rules use %s)", s, r.Metric, strings.Join(AbortMetrics, ", "))
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

// Kind says what a metric measures, and so which units its limit takes.
type Kind int

// Metric kinds.
const (
	KindLatency Kind = iota // a duration; Limit in seconds
	KindRatio               // a fraction of requests; Limit in 0..1
	KindRate                // requests per second
	KindCount               // a number of requests
)

// Rule is one threshold such as "p99 < 300ms".
type Rule struct {
	// Text is the rule as written, used as its name in reports.
	Text string
	// Metric is p50, p99.9, max, mean, error_rate, throughput, requests...
	Metric string
	// Quantile is set for percentile metrics, in (0, 100).
	Quantile float64
	Kind     Kind
	// Op is one of < <= > >=.
	Op string
	// Limit is in base units: seconds, a fraction, per second, or a count. For a rule
	// against the baseline it is filled in when the baseline is read.
	Limit float64
	// Baseline is set for a rule such as "p99 < baseline + 15%".
	Baseline *BaselineRef
	Pos      Pos
}

// BaselineRef is the right-hand side of a rule against the recorded baseline: the
// baseline's value of the same metric, plus or minus a tolerance.
type BaselineRef struct {
	// Amount is signed; Unit is "%" (of the baseline's value) or "pp" (percentage points,
	// for error_rate), or "" for the baseline's value itself.
	Amount float64
	Unit   string
}

// Apply returns the limit for a baseline value.
func (b BaselineRef) Apply(base float64) float64 {
	switch b.Unit {
	case "%":
		return base * (1 + b.Amount/100)
	case "pp":
		return base + b.Amount/100
	}
	return base
}

// String writes the reference as a rule does.
func (b BaselineRef) String() string {
	if b.Unit == "" {
		return "baseline"
	}
	sign := "+"
	if b.Amount < 0 {
		sign = "-"
	}
	return fmt.Sprintf("baseline %s %s%s", sign, strconv.FormatFloat(math.Abs(b.Amount), 'f', -1, 64), b.Unit)
}

// parseBaselineRef reads "baseline", "baseline + 15%", "baseline - 10%", "baseline + 0.5pp".
func parseBaselineRef(k Kind, s string) (*BaselineRef, error) {
	rest, ok := strings.CutPrefix(s, "baseline")
	if !ok {
		return nil, nil
	}
	if rest == "" {
		return &BaselineRef{}, nil
	}
	sign := 1.0
	switch rest[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return nil, fmt.Errorf("expected baseline + N%% or baseline - N%%, got %q", s)
	}
	num, unit := rest[1:], ""
	switch {
	case strings.HasSuffix(num, "pp"):
		num, unit = strings.TrimSuffix(num, "pp"), "pp"
	case strings.HasSuffix(num, "%"):
		num, unit = strings.TrimSuffix(num, "%"), "%"
	default:
		return nil, fmt.Errorf("the tolerance in %q needs a unit: %% of the baseline, or pp (percentage points) for error_rate", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f != f || f > 1e6 {
		return nil, fmt.Errorf("invalid tolerance in %q", s)
	}
	if unit == "pp" && k != KindRatio {
		return nil, fmt.Errorf("pp (percentage points) is for error_rate; write a %% of the baseline")
	}
	return &BaselineRef{Amount: sign * f, Unit: unit}, nil
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

// Metrics lists the metric names a rule may use; pNN for any percentile also works.
var Metrics = []string{"p50", "p90", "p95", "p99", "p99.9", "max", "mean", "error_rate", "throughput", "requests"}

// ParseRule reads "metric op value", for example "p99 < 300ms", "error_rate < 1%",
// "throughput > 80/s" or "requests >= 1000".
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
	if len(fields) > 3 && strings.HasPrefix(fields[2], "baseline") {
		fields = []string{fields[0], fields[1], strings.Join(fields[2:], "")}
	}
	if len(fields) != 3 {
		return Rule{}, fmt.Errorf("rule %q: expected \"metric op value\", as in \"p99 < 300ms\"", s)
	}
	r := Rule{Text: strings.Join(fields, " "), Metric: fields[0], Op: fields[1]}
	switch r.Op {
	case "<", "<=", ">", ">=":
	default:
		return Rule{}, fmt.Errorf("rule %q: unknown operator %q (use <, <=, > or >=)", s, r.Op)
	}
	var err error
	r.Kind, r.Quantile, err = metricKind(r.Metric)
	if err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	}
	if r.Baseline, err = parseBaselineRef(r.Kind, fields[2]); err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	} else if r.Baseline != nil {
		r.Text = r.Metric + " " + r.Op + " " + r.Baseline.String()
		return r, nil
	}
	r.Limit, err = parseLimit(r.Kind, fields[2])
	if err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	}
	return r, nil
}

func metricKind(m string) (Kind, float64, error) {
	switch m {
	case "max", "mean":
		return KindLatency, 0, nil
	case "error_rate":
		return KindRatio, 0, nil
	case "throughput":
		return KindRate, 0, nil
	case "requests":
		return KindCount, 0, nil
	}
	if q, ok := strings.CutPrefix(m, "p"); ok {
		v, err := strconv.ParseFloat(q, 64)
		if err == nil && v > 0 && v < 100 && !strings.ContainsAny(q, "eE+-") {
			return KindLatency, v, nil
		}
	}
	return 0, 0, fmt.Errorf("unknown metric %q (known: %s, or any percentile such as p75)", m, strings.Join(Metrics, ", "))
}

func parseLimit(k Kind, v string) (float64, error) {
	switch k {
	case KindLatency:
		d, err := ParseDuration(v)
		if err != nil {
			return 0, err
		}
		return d.Seconds(), nil
	case KindRatio:
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
	case KindRate:
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
			if r.Baseline != nil {
				return nil, &Error{File: file, Pos: r.Pos, Msg: fmt.Sprintf("rule %q compares with the baseline, but this file names none: add baseline: FILE (made by perfgate baseline)", r.Text)}
			}
		}
	}
	if len(t.All) == 0 && len(t.Endpoints) == 0 && len(t.Abort) == 0 {
		return nil, &Error{File: file, Pos: t.Pos.Node, Msg: "no rules: write rules under all:, endpoints: or abort:"}
	}
	return &t, nil
}

// rules lists the file's rules, all and per endpoint.
func (t *Thresholds) rules() []Rule {
	out := append([]Rule(nil), t.All...)
	for _, e := range t.Endpoints {
		out = append(out, e.Rules...)
	}
	return out
}
