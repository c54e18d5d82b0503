package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/config"
)

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
	// Hold is the measured window at peak. MaxHold, when longer, lets the hold go on
	// past Hold, window by window, while a statistical rule is inconclusive.
	Hold    time.Duration
	MaxHold time.Duration
}

// Extends reports whether the hold may go on past Hold.
func (l Load) Extends() bool { return l.MaxHold > l.Hold }

// LongestHold is the longest the hold may last: MaxHold if it extends, else Hold.
func (l Load) LongestHold() time.Duration { return max(l.Hold, l.MaxHold) }

// Limits of a load: past them a plan is refused, since no run of perfgate's could deliver
// it (a million users on one machine, a day's hold) and some would take the machine's
// memory before the first request.
const (
	MaxUsers       = 1_000_000
	MaxInFlight    = 1_000_000
	MaxWeight      = 1_000_000
	MaxStage       = 24 * time.Hour // a hold, a ramp, a settle
	MaxRequestTime = time.Hour      // a timeout, a think time
)

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

func (b *builder) load() error {
	p, l := b.p, b.cfg.Load
	p.Timeout = time.Duration(b.cfg.Defaults.Timeout)
	if p.Timeout == 0 {
		if b.cfg.Defaults.Pos.Has("timeout") {
			return b.errorf(b.cfg.Defaults.Pos.Of("timeout"), "defaults.timeout must be above 0")
		}
		p.Timeout = DefaultTimeout
	}
	if p.Timeout > MaxRequestTime {
		return b.errorf(b.cfg.Defaults.Pos.Of("timeout"), "defaults.timeout of %s is longer than %s", p.Timeout, MaxRequestTime)
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
//
// A peak whose hold may go on while a rule is inconclusive (MaxHold) lets the other
// phases go on in the same proportion.
func fullProfile(peak Load) []Phase {
	short := max(peak.Hold/5, 5*time.Second)
	one := Load{Users: 1, SpawnRate: 1, Hold: short}
	if peak.Extends() {
		one.MaxHold = time.Duration(float64(short) * float64(peak.MaxHold) / float64(peak.Hold))
	}
	recovery := one
	recovery.Settle = short / 5
	over := peak
	over.Hold, over.MaxHold = short, one.MaxHold
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
	if ld.Hold > MaxStage {
		return ld, b.errorf(l.Pos.Of("duration"), "load.duration of %s is longer than %s", ld.Hold, MaxStage)
	}
	if l.Pos.Has("max_duration") || l.MaxDuration != 0 {
		ld.MaxHold = time.Duration(l.MaxDuration)
		switch {
		case ld.MaxHold < ld.Hold:
			return ld, b.errorf(l.Pos.Of("max_duration"), "load.max_duration of %s is shorter than load.duration (%s): it is how long an inconclusive hold may go on", ld.MaxHold, ld.Hold)
		case ld.MaxHold > MaxStage:
			return ld, b.errorf(l.Pos.Of("max_duration"), "load.max_duration of %s is longer than %s", ld.MaxHold, MaxStage)
		}
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
	if ld.Users < 1 || ld.Users > MaxUsers {
		return ld, b.errorf(l.Pos.Of("users"), "load.users must be between 1 and %d, got %d", MaxUsers, l.Users)
	}
	ld.SpawnRate = l.SpawnRate
	if !l.Pos.Has("spawn_rate") && l.SpawnRate == 0 {
		ld.SpawnRate = max(1, float64(ld.Users)/10)
	}
	if !(ld.SpawnRate > 0) || ld.SpawnRate > 1e6 {
		return ld, b.errorf(l.Pos.Of("spawn_rate"), "load.spawn_rate must be above 0 and at most a million users per second, got %v", l.SpawnRate)
	}
	if r := ld.Ramp(); r > MaxStage {
		return ld, b.errorf(l.Pos.Of("spawn_rate"), "at %g users per second the ramp would last %s, longer than %s: start them faster", ld.SpawnRate, r.Round(time.Hour), MaxStage)
	}
	ld.Think = l.Think
	if ld.Think.Max > MaxRequestTime {
		return ld, b.errorf(l.Pos.Of("think"), "load.think of %s is longer than %s", ld.Think.Max, MaxRequestTime)
	}
	ld.Settle = time.Duration(l.Settle)
	if ld.Settle < 0 || ld.Settle > MaxStage {
		return ld, b.errorf(l.Pos.Of("settle"), "load.settle must be between 0 and %s", MaxStage)
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
	if ld.MaxInFlight < 1 || ld.MaxInFlight > MaxInFlight {
		return b.errorf(l.Pos.Of("max_in_flight"), "load.max_in_flight must be between 1 and %d, got %d", MaxInFlight, l.MaxInFlight)
	}
	if ld.RateRamp < 0 || ld.RateRamp > MaxStage {
		return b.errorf(l.Pos.Of("ramp"), "load.ramp must be between 0 and %s", MaxStage)
	}
	if ld.Rate*ld.Hold.Seconds() < 1 {
		return b.errorf(l.Pos.Of("rate"), "at %g/s no request is due in a hold of %s: raise the rate or lengthen the hold", ld.Rate, ld.Hold)
	}
	return nil
}
