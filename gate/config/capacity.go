package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// CapacityRule is a rule on what a capacity search found (perfgate capacity), such as
// "capacity > 400/s", "capacity > 50 users", "knee > 300/s" or
// "capacity > baseline - 10%".
type CapacityRule struct {
	Text string
	// Metric is "capacity" (the highest level that held) or "knee" (where latency starts
	// to climb steeply).
	Metric string
	Op     string
	// Limit is a rate (per second) or a number of users, as Unit says; for a rule
	// against the baseline it is computed from the baseline's value.
	Limit float64
	// Unit is "rate" or "users": the search's model must match. It is "" for a rule
	// against the baseline, which takes the baseline's.
	Unit string
	// Baseline is set for a rule against the recorded baseline; Amount is its signed
	// tolerance in percent ("baseline - 10%": -10).
	Baseline bool
	Amount   float64
	Pos      Pos
}

// CapacityMetrics are what capacity rules may judge.
var CapacityMetrics = []string{"capacity", "knee"}

// ParseCapacityRule reads "capacity op value": a rate ("400/s"), users ("50 users"), or
// the baseline with an optional tolerance ("baseline - 10%").
func ParseCapacityRule(s string) (CapacityRule, error) {
	example := `as in "capacity > 400/s", "capacity > 50 users" or "capacity > baseline - 10%"`
	fields := strings.Fields(s)
	if len(fields) < 3 {
		return CapacityRule{}, fmt.Errorf("capacity rule %q: expected \"metric op value\", %s", s, example)
	}
	r := CapacityRule{Metric: fields[0], Op: fields[1]}
	if r.Metric != "capacity" && r.Metric != "knee" {
		return CapacityRule{}, fmt.Errorf("capacity rule %q: unknown metric %q (capacity rules judge %s)", s, r.Metric, strings.Join(CapacityMetrics, " or "))
	}
	switch r.Op {
	case "<", "<=", ">", ">=":
	default:
		return CapacityRule{}, fmt.Errorf("capacity rule %q: unknown operator %q (use <, <=, > or >=)", s, r.Op)
	}
	value := strings.Join(fields[2:], " ")
	if rest, ok := strings.CutPrefix(strings.ReplaceAll(value, " ", ""), "baseline"); ok {
		r.Baseline = true
		if rest != "" {
			sign := 1.0
			switch rest[0] {
			case '+':
			case '-':
				sign = -1
			default:
				return CapacityRule{}, fmt.Errorf("capacity rule %q: expected baseline + N%% or baseline - N%%", s)
			}
			num, ok := strings.CutSuffix(rest[1:], "%")
			f, err := strconv.ParseFloat(num, 64)
			if !ok || err != nil || !(f >= 0) || f > 1000 {
				return CapacityRule{}, fmt.Errorf("capacity rule %q: the tolerance is a percentage of the baseline's %s, as in baseline - 10%%", s, r.Metric)
			}
			r.Amount = sign * f
		}
		r.Text = fmt.Sprintf("%s %s %s", r.Metric, r.Op, formatBaseline(r.Amount))
		return r, nil
	}
	if n, ok := strings.CutSuffix(value, " users"); ok || strings.HasSuffix(value, " user") {
		n = strings.TrimSuffix(n, " user")
		v, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || v < 0 {
			return CapacityRule{}, fmt.Errorf("capacity rule %q: invalid number of users %q", s, n)
		}
		r.Limit, r.Unit = float64(v), "users"
	} else {
		v, err := ParseRate(value, true)
		if err != nil {
			return CapacityRule{}, fmt.Errorf("capacity rule %q: %v; or give users, %s", s, err, example)
		}
		r.Limit, r.Unit = v, "rate"
	}
	r.Text = fmt.Sprintf("%s %s %s", r.Metric, r.Op, value)
	return r, nil
}

func formatBaseline(amount float64) string {
	switch {
	case amount > 0:
		return "baseline + " + strconv.FormatFloat(amount, 'f', -1, 64) + "%"
	case amount < 0:
		return "baseline - " + strconv.FormatFloat(math.Abs(amount), 'f', -1, 64) + "%"
	}
	return "baseline"
}

// UnmarshalYAML reads one capacity rule from a string.
func (r *CapacityRule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErrorf(n, "expected a capacity rule such as \"capacity > 400/s\", got %s", describe(n))
	}
	rule, err := ParseCapacityRule(n.Value)
	if err != nil {
		return nodeErrorf(n, "%v", err)
	}
	rule.Pos = posOf(n)
	*r = rule
	return nil
}
