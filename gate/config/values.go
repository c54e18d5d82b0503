package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a length of time written with a unit, as in 30s, 5m or 1m30s.
type Duration time.Duration

// ParseDuration reads a non-negative duration with a unit. A bare number other than 0 is
// refused: "30" could mean seconds or milliseconds, and a gate must not guess.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("duration %q needs a unit, as in %ss or %sms", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use a number and a unit: 500ms, 30s, 5m, 1m30s)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(scalar(n))
	if err != nil || n.Kind != yaml.ScalarNode {
		if err == nil {
			err = fmt.Errorf("expected a duration, got %s", describe(n))
		}
		return nodeErrorf(n, "%v", err)
	}
	*d = Duration(v)
	return nil
}

// Think is the uniform pause between one user's tasks, [Min, Max].
type Think struct {
	Min, Max time.Duration
}

// ParseThink reads "1s..3s" (uniform between the two) or a single duration (constant).
func ParseThink(s string) (Think, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "..")
	a, err := ParseDuration(lo)
	if err != nil {
		return Think{}, fmt.Errorf("think: %v", err)
	}
	if !isRange {
		return Think{Min: a, Max: a}, nil
	}
	b, err := ParseDuration(hi)
	if err != nil {
		return Think{}, fmt.Errorf("think: %v", err)
	}
	if b < a {
		return Think{}, fmt.Errorf("think range %q ends below its start", s)
	}
	return Think{Min: a, Max: b}, nil
}

// String formats t the way ParseThink reads it.
func (t Think) String() string {
	if t.Min == t.Max {
		return t.Min.String()
	}
	return t.Min.String() + ".." + t.Max.String()
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Think) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErrorf(n, "think: expected a range such as 1s..3s, got %s", describe(n))
	}
	v, err := ParseThink(n.Value)
	if err != nil {
		return nodeErrorf(n, "%v", err)
	}
	*t = v
	return nil
}

// StatusList is one expected HTTP status or a list of them.
type StatusList []int

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *StatusList) UnmarshalYAML(n *yaml.Node) error {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	default:
		return nodeErrorf(n, "status: expected a status code or a list of them, got %s", describe(n))
	}
	for _, it := range items {
		code, err := strconv.Atoi(scalar(it))
		if err != nil || it.Kind != yaml.ScalarNode || code < 100 || code > 599 {
			return nodeErrorf(it, "status: expected an HTTP status code (100-599), got %s", describe(it))
		}
		*s = append(*s, code)
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// Rate is a number of arrivals per unit of time, written with its unit: 150/s, 9000/m.
type Rate float64

// ParseRate reads a rate into arrivals per second. It must be above zero unless
// allowZero (a ramp may start from nothing).
func ParseRate(s string, allowZero bool) (float64, error) {
	s = strings.TrimSpace(s)
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("rate %q needs a unit, as in %s/s", s, s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || f != f || f > 1e9 {
		return 0, fmt.Errorf("invalid rate %q (write arrivals per second as 150/s, or per minute as 9000/m)", s)
	}
	switch strings.TrimSpace(unit) {
	case "s", "sec":
	case "m", "min":
		f /= 60
	case "h":
		f /= 3600
	default:
		return 0, fmt.Errorf("invalid rate unit in %q (use /s, /m or /h)", s)
	}
	if f < 0 || (f == 0 && !allowZero) {
		return 0, fmt.Errorf("rate %q must be above zero", s)
	}
	return f, nil
}

// UnmarshalYAML implements yaml.Unmarshaler. A zero rate is accepted here (a ramp may
// start at 0/s); the plan refuses a zero target rate.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErrorf(n, "expected a rate such as 150/s, got %s", describe(n))
	}
	v, err := ParseRate(n.Value, true)
	if err != nil {
		return nodeErrorf(n, "%v", err)
	}
	*r = Rate(v)
	return nil
}

// Percent is a share written as a percentage, 95% (or a fraction, 0.95), kept as a
// fraction.
type Percent float64

// UnmarshalYAML reads 95% or 0.95.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(scalar(n))
	num, pct := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if n.Kind != yaml.ScalarNode || err != nil || f != f {
		return nodeErrorf(n, "expected a percentage such as 95%%, got %s", describe(n))
	}
	if pct {
		f /= 100
	}
	*p = Percent(f)
	return nil
}
