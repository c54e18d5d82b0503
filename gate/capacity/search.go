package capacity

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Unit is what a level counts: arrivals a second (the open model) or users (the closed
// model).
type Unit int

// Units.
const (
	Rate Unit = iota
	Users
)

func (u Unit) String() string {
	if u == Users {
		return "users"
	}
	return "rate"
}

// Role is why a step ran.
type Role int

// Roles of steps, in the order a search takes them.
const (
	Probe        Role = iota // growing (or, when the first step broke, shrinking) by Factor
	Bisect                   // halving the bracket
	ConfirmBelow             // a longer hold at the bracket's low end: must hold
	ConfirmAbove             // a longer hold at the bracket's high end: must break
)

var roleNames = [...]string{Probe: "probe", Bisect: "bisect", ConfirmBelow: "confirm below", ConfirmAbove: "confirm above"}

func (r Role) String() string { return roleNames[r] }

// Confirms reports whether the role is a confirmation hold.
func (r Role) Confirms() bool { return r == ConfirmBelow || r == ConfirmAbove }

// Outcome is what one step showed.
type Outcome int

// Outcomes of a step.
const (
	// Held: every rule of the gate held, and the load was delivered.
	Held Outcome = iota
	// Broke: a rule was breached, or the target could not take the load (arrivals held
	// back, fewer requests completed than offered, a user's setup failed).
	Broke
	// Unsure: a statistical rule stayed inconclusive. The search counts it as not held:
	// a capacity is a load at which the rules hold for sure.
	Unsure
	// GeneratorLimit: perfgate itself could not deliver the load (its processors, its
	// files, a contended machine): the step says nothing of the target, and the search
	// ends there.
	GeneratorLimit
	// Stopped: the step was cancelled, or the target did not answer before any load.
	Stopped
	// Contended: the machine was too busy to judge (see verdict's contended): the step
	// says nothing of the target, but a busy neighbour passes, so the search pauses
	// and runs the step again, up to MaxContended times in all.
	Contended
)

var outcomeNames = [...]string{Held: "held", Broke: "broke", Unsure: "unsure", GeneratorLimit: "generator limit", Stopped: "stopped", Contended: "contended"}

func (o Outcome) String() string { return outcomeNames[o] }

// Step is one load step of a search and what it measured.
type Step struct {
	Level float64
	Role  Role
	// Outcome is what it showed; Why names the breached rule or the reason, for any
	// outcome but Held.
	Outcome Outcome
	Why     string
	// Collapsed is set when the target fell over at this step: most requests failed.
	Collapsed bool
	// Start is when the step began; Load how long its load ran (ramp and hold).
	Start time.Time
	Load  time.Duration
	// Offered is the planned arrival rate of the hold (open model; 0 in the closed
	// model), Achieved the rate at which requests completed in it.
	Offered, Achieved float64
	// Latency percentiles of the hold, in seconds, and its error rate.
	P50, P90, P99 float64
	ErrorRate     float64
	Requests      int64
	// Resources are the target's resources over the hold (see package resource), by
	// name: each one's mean over the hold's windows; Growth its change from the hold's
	// first window to its last, as a share of the first. Both nil without a source.
	Resources, Growth map[string]float64
}

// Settings shape a search. The zero value of a field means its default.
type Settings struct {
	Unit Unit
	// From is the first level; To the highest one tried (default 100 times From).
	From, To float64
	// Factor is how much each probe step grows (default 2).
	Factor float64
	// Precision is the bracket's width, relative to its low end, at which bisection
	// stops (default 2%).
	Precision float64
	// Budget is the load time the search may use in all (default 8 minutes): a step
	// that might take it past is not started.
	Budget time.Duration
	// Cooldown is the pause between steps, for the target to recover (default 5 s; it
	// is not load, so not in the budget). NoCooldown makes it none.
	Cooldown   time.Duration
	NoCooldown bool
	// Cost is the longest load time a step of the role at a level may take: its ramp
	// and its longest hold.
	Cost func(role Role, level float64) time.Duration
}

// Defaults of Settings.
const (
	DefaultFactor    = 2
	DefaultPrecision = 0.02
	DefaultBudget    = 8 * time.Minute
	DefaultCooldown  = 5 * time.Second
	// maxConfirmRounds bounds how often a bracket whose confirmation failed is searched
	// again: a target whose answers do not repeat has no capacity to find.
	maxConfirmRounds = 6
	// MaxContended is how many contended steps a search runs again, each after
	// ContendedPause (not load, so not in the budget); past them, the machine is too
	// busy for a search, which ends as generator limited.
	MaxContended   = 3
	ContendedPause = 20 * time.Second
)

// WithDefaults returns the settings with each zero field at its default.
func (s Settings) WithDefaults() Settings {
	if s.To <= 0 {
		s.To = 100 * s.From
	}
	if s.Factor <= 1 {
		s.Factor = DefaultFactor
	}
	if s.Precision <= 0 {
		s.Precision = DefaultPrecision
	}
	if s.Budget <= 0 {
		s.Budget = DefaultBudget
	}
	if s.Cooldown <= 0 {
		s.Cooldown = DefaultCooldown
	}
	if s.NoCooldown {
		s.Cooldown = 0
	}
	if s.Cost == nil {
		s.Cost = func(Role, float64) time.Duration { return 0 }
	}
	return s
}

// Check reports what is wrong with the settings, if anything.
func (s Settings) Check() error {
	switch {
	case !(s.From > 0):
		return fmt.Errorf("the first level must be above 0, got %v", s.From)
	case s.To != 0 && s.To < s.From:
		return fmt.Errorf("the highest level %v is below the first, %v", s.To, s.From)
	case s.Unit == Users && (s.From != math.Trunc(s.From) || s.To != math.Trunc(s.To)):
		return fmt.Errorf("users are whole: %v to %v", s.From, s.To)
	case s.Factor != 0 && s.Factor <= 1:
		return fmt.Errorf("the probe's factor must be above 1, got %v", s.Factor)
	case s.Precision < 0 || s.Precision >= 1:
		return fmt.Errorf("the precision must be between 0 and 100%%, got %v", s.Precision)
	}
	return nil
}

// Try runs one step at level and reports what it showed.
type Try func(ctx context.Context, level float64, role Role) Step

// End is why a search ended.
type End int

// Ends of a search.
const (
	// Found: the capacity lies in a bracket no wider than the precision, and both of
	// its ends were confirmed.
	Found End = iota
	// Unconfirmed: the bracket was found, but the budget ran out before it was narrow
	// or confirmed, or its confirmations kept failing.
	Unconfirmed
	// AtLeast: every level up to the highest held; the capacity is beyond it.
	AtLeast
	// NoneHeld: even the lowest level tried broke.
	NoneHeld
	// TargetDown: the target fell over and did not recover at a lower level.
	TargetDown
	// GeneratorLimited: perfgate could not deliver a level; the capacity is at least
	// the highest that held.
	GeneratorLimited
	// Undecided: no step had held yet when one could not tell whether the rules hold
	// (a rule inconclusive to the end of its hold): a lower level, with fewer requests,
	// would tell even less. Longer steps can.
	Undecided
	// Cancelled: the search was cancelled, or the target did not answer.
	Cancelled
)

var endNames = [...]string{Found: "found", Unconfirmed: "unconfirmed", AtLeast: "at least", NoneHeld: "none held",
	TargetDown: "target down", GeneratorLimited: "generator limited", Undecided: "undecided", Cancelled: "cancelled"}

func (e End) String() string { return endNames[e] }

// Result is what a search found.
type Result struct {
	Unit Unit
	// Capacity is the highest level that held (confirmed when End is Found). Low and
	// High bracket where the target stops holding: Low held, High broke; High is 0 when
	// no level broke.
	Capacity, Low, High float64
	End                 End
	// Why says, in a few words, why a search that found no confirmed capacity ended.
	Why string
	// Steps are every step, in the order they ran.
	Steps []Step
	// Load is the load time the steps used in all.
	Load time.Duration
	// Knee is the step where latency starts to climb steeply, if the curve has one.
	Knee *Knee
	// Bottleneck is what ran out first, when the target's resources were read.
	Bottleneck *Bottleneck
}

// Search finds the highest level at which try's steps hold: it grows the level by
// Factor from From until a step breaks (or shrinks it, if the first one did), then
// bisects the bracket until it is no wider than Precision, then confirms its ends with
// longer holds (the low end must hold, the high end must break), and searches again
// if a confirmation says otherwise. After a step at which the target fell over, the low
// end is confirmed at once: a target that does not recover at a level it held has
// fallen over, and the search ends. A step that might take the load past Budget is not
// started. sleep waits out the cooldowns (on a fake clock in tests).
func Search(ctx context.Context, s Settings, try Try, sleep func(context.Context, time.Duration) error) Result {
	s = s.WithDefaults()
	x := &search{s: s, held: map[float64]bool{}, confirmed: map[float64]bool{}}
	res := x.run(ctx, try, sleep)
	res.Unit, res.Steps, res.Load = s.Unit, x.steps, x.load
	res.Knee = FindKnee(x.steps)
	res.Bottleneck = FindBottleneck(res)
	return res
}

type search struct {
	s Settings
	// held is each level's latest outcome (a confirmation overrides what a shorter
	// step showed); confirmed the levels whose confirmation agreed.
	held      map[float64]bool
	confirmed map[float64]bool
	steps     []Step
	load      time.Duration
	rounds    int
	// recheck is set after a step at which the target fell over (Step.Collapsed).
	recheck bool
	// contended counts the steps the machine was too busy to judge.
	contended int
}

// bracket is the highest level that held below the lowest that broke (0: none), and
// that lowest (+Inf: none broke).
func (x *search) bracket() (lo, hi float64) {
	hi = math.Inf(1)
	for l, ok := range x.held {
		if !ok && l < hi {
			hi = l
		}
	}
	for l, ok := range x.held {
		if ok && l < hi && l > lo {
			lo = l
		}
	}
	return lo, hi
}

// narrow reports whether a bracket is as narrow as the search goes.
func (x *search) narrow(lo, hi float64) bool {
	if x.s.Unit == Users && hi-lo <= 1 {
		return true
	}
	return (hi-lo)/lo <= x.s.Precision
}

// level rounds a level to what the unit allows: whole users, a rate to three
// significant digits (a step of 1,237.5/s says no more than one of 1,240/s).
func (x *search) level(v float64) float64 {
	if x.s.Unit == Users {
		return math.Max(1, math.Round(v))
	}
	mag := math.Pow(10, math.Floor(math.Log10(v))-2)
	return math.Round(v/mag) * mag
}

func (x *search) run(ctx context.Context, try Try, sleep func(context.Context, time.Duration) error) Result {
	s := x.s
	for {
		lo, hi := x.bracket()
		next, role := 0.0, Probe
		switch {
		case x.recheck && lo > 0 && !x.confirmed[lo] && x.affords(ConfirmBelow, lo):
			// The target fell over: whether it recovers at a level that held is the
			// low end's confirmation, and tells a fall from a capacity.
			next, role = lo, ConfirmBelow
		case len(x.held) == 0:
			next = s.From // the first step, or again after it was contended
		case math.IsInf(hi, 1):
			if lo >= s.To {
				return Result{Capacity: lo, Low: lo, End: AtLeast, Why: fmt.Sprintf("every level up to %v held", s.To)}
			}
			next = math.Min(x.level(lo*s.Factor), s.To)
		case lo == 0:
			next = x.level(hi / s.Factor)
			if next >= hi || next < x.s.From/math.Pow(s.Factor, 8) {
				return Result{High: hi, End: NoneHeld, Why: fmt.Sprintf("every level tried broke, the lowest %v", hi)}
			}
		case x.narrow(lo, hi) || !x.affords(Bisect, (lo+hi)/2):
			switch {
			case !x.confirmed[lo]:
				next, role = lo, ConfirmBelow
			case !x.confirmed[hi]:
				next, role = hi, ConfirmAbove
			case x.narrow(lo, hi):
				return Result{Capacity: lo, Low: lo, High: hi, End: Found}
			default:
				return x.unconfirmed(lo, hi, "the budget ran out before the bracket was narrow")
			}
		default:
			next, role = x.level((lo+hi)/2), Bisect
			if next <= lo || next >= hi {
				next, role = lo, ConfirmBelow // as narrow as the levels go
				if x.confirmed[lo] {
					next, role = hi, ConfirmAbove
				}
			}
		}
		if !x.affords(role, next) {
			if lo > 0 && !math.IsInf(hi, 1) {
				return x.unconfirmed(lo, hi, "the budget ran out")
			}
			return Result{Capacity: lo, Low: lo, High: finite(hi), End: Unconfirmed, Why: "the budget ran out before a step broke"}
		}
		if len(x.steps) > 0 && s.Cooldown > 0 {
			if err := sleep(ctx, s.Cooldown); err != nil {
				return Result{Capacity: lo, Low: lo, High: finite(hi), End: Cancelled, Why: "cancelled"}
			}
		}
		st := try(ctx, next, role)
		st.Level, st.Role = next, role
		x.steps = append(x.steps, st)
		x.load += st.Load
		switch st.Outcome {
		case Stopped:
			return Result{Capacity: lo, Low: lo, High: finite(hi), End: Cancelled, Why: st.Why}
		case GeneratorLimit:
			return Result{Capacity: lo, Low: lo, End: GeneratorLimited,
				Why: fmt.Sprintf("perfgate could not deliver %v: %s", next, st.Why)}
		case Contended:
			x.contended++
			if x.contended > MaxContended {
				return Result{Capacity: lo, Low: lo, End: GeneratorLimited,
					Why: fmt.Sprintf("the machine stayed too busy to judge: %d steps contended", x.contended)}
			}
			if err := sleep(ctx, ContendedPause); err != nil {
				return Result{Capacity: lo, Low: lo, High: finite(hi), End: Cancelled, Why: "cancelled"}
			}
			continue // the same step again: nothing was learnt
		}
		if st.Outcome == Unsure && lo == 0 {
			return Result{High: finite(hi), End: Undecided,
				Why: fmt.Sprintf("at %v, %s after the longest hold: lengthen the steps", next, st.Why)}
		}
		ok := st.Outcome == Held
		if st.Collapsed && lo >= next {
			// It held here or higher before: the target has fallen over, not only
			// reached its capacity, and what it shows from now on is not its capacity.
			return Result{Capacity: lo, Low: lo, High: finite(hi), End: TargetDown,
				Why: fmt.Sprintf("the target fell over: most requests failed at %v, which held before", next)}
		}
		x.held[next], x.recheck = ok, st.Collapsed
		if role.Confirms() {
			if agreed := ok == (role == ConfirmBelow); agreed {
				x.confirmed[next] = true
			} else {
				// The longer hold disagrees: the bracket moves, and its new ends must be
				// confirmed afresh.
				clear(x.confirmed)
				x.rounds++
				if x.rounds >= maxConfirmRounds {
					lo, hi := x.bracket()
					return x.unconfirmed(lo, hi, fmt.Sprintf("a confirmation hold disagreed %d times", x.rounds))
				}
			}
		}
	}
}

// affords reports whether a step of the role fits in the budget, keeping room for the
// two confirmations when it is not one.
// affords reports whether the budget has room for a step of the role at level and the
// confirmations still to come (near level: the capacity is about there by then).
func (x *search) affords(role Role, level float64) bool {
	need := x.s.Cost(role, level)
	switch role {
	case Probe, Bisect:
		need += 2 * x.s.Cost(ConfirmBelow, level)
	case ConfirmBelow:
		need += x.s.Cost(ConfirmAbove, level)
	}
	return x.load+need <= x.s.Budget
}

func (x *search) unconfirmed(lo, hi float64, why string) Result {
	return Result{Capacity: lo, Low: lo, High: finite(hi), End: Unconfirmed, Why: why}
}

func finite(v float64) float64 {
	if math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Knee is the step at which latency starts to climb steeply: the point of the
// p90-latency/level curve farthest below the chord from its first point to its last
// (Satopää et al., "Finding a Kneedle in a Haystack", 2011), on the steps that said
// something of the target, each level's latest. The p90 includes the queueing of the
// open model's late sends, as every percentile perfgate reports does, and is steadier
// than the p99 over a short step: one slow second moves a step's p99, not its p90.
type Knee struct {
	// Step is the index in Result.Steps.
	Step     int
	Level    float64
	P90, P99 float64
}

// Knee limits: a curve whose p90 at its highest level is less than minRise times its
// p90 at its lowest has no knee (latency stays flat; the limit is elsewhere, such as
// errors), nor one whose farthest point is less than minBend of the normalised range
// below the chord (latency grows in a straight line).
const (
	minRise = 1.5
	minBend = 0.1
)

// FindKnee returns where the steps' latency starts to climb steeply, or nil when the
// curve has no knee.
func FindKnee(steps []Step) *Knee {
	latest := map[float64]int{}
	for i, st := range steps {
		if (st.Outcome == Held || st.Outcome == Broke || st.Outcome == Unsure) && st.Requests > 0 {
			latest[st.Level] = i
		}
	}
	idx := make([]int, 0, len(latest))
	for _, i := range latest {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpFloat(steps[a].Level, steps[b].Level) })
	if len(idx) < 3 {
		return nil
	}
	first, last := steps[idx[0]], steps[idx[len(idx)-1]]
	if !(last.P90 >= minRise*first.P90) || last.Level <= first.Level {
		return nil
	}
	best, bend := -1, minBend
	for _, i := range idx[1 : len(idx)-1] {
		x := (steps[i].Level - first.Level) / (last.Level - first.Level)
		y := (steps[i].P90 - first.P90) / (last.P90 - first.P90)
		if d := x - y; d > bend {
			best, bend = i, d
		}
	}
	if best < 0 {
		return nil
	}
	return &Knee{Step: best, Level: steps[best].Level, P90: steps[best].P90, P99: steps[best].P99}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
