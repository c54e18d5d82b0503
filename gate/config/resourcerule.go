package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ResourceRule is a rule on one of the target's resources over the main phase's hold
// (see resources: in the config), such as "cpu < 80%", "db_waits == 0" or
// "memory < 512MB".
type ResourceRule struct {
	Text string
	// Name is the resource, as resources.series (or the defaults) name it.
	Name string
	// Op is one of < <= > >= ==.
	Op string
	// Limit is in the resource's own unit (bytes, processors, a count, per second for a
	// counter, seconds), or a share of its limit when Share is set ("cpu < 80%": 0.8 of
	// gomaxprocs).
	Limit float64
	Share bool
	Pos   Pos
}

// byteUnits are the sizes a resource rule's limit may be written in.
var byteUnits = []struct {
	suffix string
	scale  float64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

// ParseResourceRule reads "name op value": a share of the resource's limit ("80%"), a
// size ("512MB", "1GiB"), a rate ("0/s", for a counter), a time ("1ms", in seconds) or
// a number.
func ParseResourceRule(s string) (ResourceRule, error) {
	example := `as in "cpu < 80%", "db_waits == 0" or "memory < 512MB"`
	fields := strings.Fields(s)
	if len(fields) != 3 {
		return ResourceRule{}, fmt.Errorf("resource rule %q: expected \"resource op value\", %s", s, example)
	}
	r := ResourceRule{Name: fields[0], Op: fields[1], Text: strings.Join(fields, " ")}
	switch r.Op {
	case "<", "<=", ">", ">=", "==":
	default:
		return ResourceRule{}, fmt.Errorf("resource rule %q: unknown operator %q (use <, <=, >, >= or ==)", s, r.Op)
	}
	value, scale := fields[2], 1.0
	if v, ok := strings.CutSuffix(value, "%"); ok {
		value, scale, r.Share = v, 0.01, true
	} else if v, ok := strings.CutSuffix(value, "/s"); ok {
		value = v
	} else if d, err := time.ParseDuration(value); err == nil && d >= 0 {
		value = strconv.FormatFloat(d.Seconds(), 'g', -1, 64) // a time, in seconds: "1ms"
	} else {
		for _, u := range byteUnits {
			if v, ok := strings.CutSuffix(value, u.suffix); ok {
				value, scale = v, u.scale
				break
			}
		}
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || !(f >= 0) || f > 1e18 {
		return ResourceRule{}, fmt.Errorf("resource rule %q: %q is not a value such as 80%%, 512MB, 0/s, 1ms or 40", s, fields[2])
	}
	r.Limit = f * scale
	return r, nil
}

// UnmarshalYAML reads one resource rule from a string.
func (r *ResourceRule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErrorf(n, "expected a resource rule such as \"cpu < 80%%\", got %s", describe(n))
	}
	rule, err := ParseResourceRule(n.Value)
	if err != nil {
		return nodeErrorf(n, "%v", err)
	}
	rule.Pos = posOf(n)
	*r = rule
	return nil
}

// Holds reports whether measured keeps the rule's limit.
func (r ResourceRule) Holds(measured float64) bool {
	switch r.Op {
	case "<":
		return measured < r.Limit
	case "<=":
		return measured <= r.Limit
	case ">":
		return measured > r.Limit
	case ">=":
		return measured >= r.Limit
	}
	return measured == r.Limit
}
