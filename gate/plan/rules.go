package plan

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/resource"
)

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
	// baseline (Rule.Ref.Baseline() is set): the mean of its runs' values; the verdict
	// computes the limit from it. Baseline holds each run's record of the rule's scope.
	BaselineValue float64
	Baseline      []baseline.Series
}

// CapacityRule is a rule on what a capacity search found, with the file it came from.
// A rule against the baseline has its Limit and Unit from the baseline's searches
// (BaselineValue, the mean of their capacities or knees).
type CapacityRule struct {
	config.CapacityRule
	File          string
	BaselineValue float64
}

// ResourceRule is a rule on one of the target's resources, with the file it came from:
// Series indexes Plan.Resources.Series, and LimitSeries the series its limit is read
// from for a rule on a share ("cpu < 80%" reads gomaxprocs), or -1.
type ResourceRule struct {
	config.ResourceRule
	File                string
	Series, LimitSeries int
}

// AbortRule is an abort rule with the file it came from.
type AbortRule struct {
	config.AbortRule
	File string
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
	capFirst := len(p.CapacityRules)
	for _, c := range t.Capacity {
		p.CapacityRules = append(p.CapacityRules, CapacityRule{CapacityRule: c, File: t.File})
	}
	for _, r := range t.Resources {
		rr, err := b.resourceRule(t.File, r)
		if err != nil {
			return err
		}
		p.ResourceRules = append(p.ResourceRules, rr)
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
		return b.resolveBaseline(t, p.Rules[first:], p.CapacityRules[capFirst:])
	}
	return nil // a rule against the baseline needs a file that names one (config.ParseThresholds)
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
		if p.Endpoints[idx].Setup {
			// Setup runs as each user starts, in the ramp, which is reported but never
			// judged: such a rule could only ever have no samples.
			return config.Errorf(t.File, er.Pos, "%q is a setup step: it runs in the ramp, before the hold that rules judge, so a rule on it would never have samples", er.Name)
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
func (b *builder) resolveBaseline(t *config.Thresholds, rules []Rule, capacity []CapacityRule) error {
	path := t.Baseline
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(t.File), path)
	}
	base, err := baseline.Read(path)
	if err != nil {
		return config.Errorf(t.File, t.Pos.Of("baseline"), "%v", err)
	}
	if !slices.ContainsFunc(b.p.Baselines, func(f BaselineFile) bool { return f.Path == path }) {
		b.p.Baselines = append(b.p.Baselines, BaselineFile{Path: path, File: base})
	}
	for i := range capacity {
		c := &capacity[i]
		if !c.Baseline {
			continue
		}
		if base.Capacity == nil {
			return config.Errorf(t.File, c.Pos, "capacity rule %q: baseline %s records no capacity search: record one from perfgate capacity's result files", c.Text, path)
		}
		v, ok := base.Capacity.Value(c.Metric)
		if !ok {
			return config.Errorf(t.File, c.Pos, "capacity rule %q: a search of baseline %s found no %s", c.Text, path, c.Metric)
		}
		c.BaselineValue, c.Unit, c.Limit = v, base.Capacity.Unit, v*(1+c.Amount/100)
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
				return config.Errorf(t.File, t.Pos.Of("baseline"),
					"baseline %s comes from a different config in phase %s (%s): record a new one with perfgate baseline", path, name, diff)
			}
			checked[r.Phase] = ph
		}
		runs, ok := base.Series(ph.Name, r.Phase == b.p.Main, r.Scope)
		if !ok {
			return config.Errorf(t.File, r.Pos, "rule %q: baseline %s has no endpoint %q", r.Text, path, r.Scope)
		}
		var sum float64
		for _, run := range runs {
			v, err := run.Metrics.Value(r.Metric)
			if err != nil {
				return config.Errorf(t.File, r.Pos, "rule %q: %v", r.Text, err)
			}
			sum += v
		}
		r.BaselineValue, r.Baseline = sum/float64(len(runs)), runs
	}
	return nil
}

// resourceRule places a resource rule among the plan's resources: it needs a source, a
// series of its name, and for a share of a limit, the series the limit is read from.
func (b *builder) resourceRule(file string, r config.ResourceRule) (ResourceRule, error) {
	res := b.p.Resources
	if res == nil {
		return ResourceRule{}, config.Errorf(file, r.Pos, "resource rule %q: the config reads no resources: set resources.scrape: (or --scrape) to the target's /metrics", r.Text)
	}
	out := ResourceRule{ResourceRule: r, File: file, Series: -1, LimitSeries: -1}
	var names []string
	for i, s := range res.Series {
		names = append(names, s.Name)
		if s.Name == r.Name {
			out.Series = i
		}
	}
	if out.Series < 0 {
		return ResourceRule{}, config.Errorf(file, r.Pos, "resource rule %q: no resource %q: the config reads %s", r.Text, r.Name, strings.Join(names, ", "))
	}
	if r.Share {
		limit, ok := resource.LimitOf[r.Name]
		for i, s := range res.Series {
			if ok && s.Name == limit {
				out.LimitSeries = i
			}
		}
		if out.LimitSeries < 0 {
			return ResourceRule{}, config.Errorf(file, r.Pos, "resource rule %q: a share needs the limit of %s, and none is read (limits: %s)", r.Text, r.Name, resource.LimitNames())
		}
	}
	return out, nil
}
