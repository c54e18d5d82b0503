package capacity

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// target is a simulated service of known capacity: a step holds when its level is at
// most the capacity, blurred by a step's noise (a short hold tells a level near the
// capacity less surely than a long one), and its p99 climbs as an M/M/1 queue's does.
type target struct {
	capacity float64
	// noise is the relative spread of where a short step sees the capacity; a
	// confirmation hold sees it with a quarter of that.
	noise float64
	rng   *rand.Rand
	// fallsOver makes every step collapse once one went over the capacity; generatorAt
	// is a level from which perfgate cannot deliver; stopAt cancels the step there.
	fallsOver   bool
	fell        bool
	generatorAt float64
	steps       Steps
	// contended is how many of the steps, from the contendFrom-th (counted from 1),
	// the machine is too busy to judge.
	contended, contendFrom, tries int
}

func (t *target) try(_ context.Context, level float64, role Role) Step {
	// A step takes its ramp and hold; the search plans for the longest it may take.
	load := t.steps.Ramp + t.steps.Hold
	if role.Confirms() {
		load = t.steps.Ramp + t.steps.ConfirmHold
	}
	st := Step{Level: level, Role: role, Load: load, Requests: 1000, Offered: level}
	if t.tries++; t.contended > 0 && t.tries >= t.contendFrom && t.tries < t.contendFrom+t.contended {
		st.Outcome, st.Why = Contended, "contended"
		return st
	}
	if t.generatorAt > 0 && level >= t.generatorAt {
		st.Outcome, st.Why = GeneratorLimit, "generator_busy"
		return st
	}
	noise := t.noise
	if role.Confirms() {
		noise /= 4
	}
	seen := t.capacity * (1 + noise*t.rng.NormFloat64())
	rho := math.Min(level/t.capacity, 0.99)
	// An M/M/1 queue's time in the system: its p90 is ln(10) means, its p99 ln(100).
	st.P90, st.P99 = 0.010/(1-rho)*2.3, 0.010/(1-rho)*4.6
	st.Achieved = math.Min(level, t.capacity)
	if t.fell || level > seen {
		st.Outcome, st.Why = Broke, "p99 < 200ms"
		if t.fallsOver {
			t.fell, st.Collapsed, st.ErrorRate = true, true, 0.9
		}
	}
	return st
}

var steps = Steps{Ramp: 3 * time.Second, Hold: 10 * time.Second, MaxHold: 20 * time.Second, ConfirmHold: 20 * time.Second}

// cost is what steps' steps cost in the open model.
func cost(role Role, level float64) time.Duration { return steps.Cost(role, Rate, level) }

func settings(from, to float64) Settings {
	return Settings{From: from, To: to, Cost: cost, NoCooldown: true}
}

func noSleep(context.Context, time.Duration) error { return nil }

// Over capacities from 50/s to 5,000/s, the search ends with a confirmed bracket no
// wider than the precision that holds the true capacity, within the budget.
func TestSearchFindsTheCapacity(t *testing.T) {
	for _, capacity := range []float64{50, 137, 480, 1000, 2345, 5000} {
		for seed := range uint64(20) {
			tg := &target{capacity: capacity, rng: rand.New(rand.NewPCG(seed, 1)), steps: steps}
			res := Search(context.Background(), settings(20, 20_000), tg.try, noSleep)
			if res.End != Found {
				t.Fatalf("capacity %v, seed %d: ended %v (%s) after %d steps", capacity, seed, res.End, res.Why, len(res.Steps))
			}
			if !(res.Low <= capacity && capacity < res.High) || (res.High-res.Low)/res.Low > DefaultPrecision {
				t.Errorf("capacity %v, seed %d: bracket %v-%v", capacity, seed, res.Low, res.High)
			}
			if res.Capacity != res.Low || res.Load > DefaultBudget {
				t.Errorf("capacity %v, seed %d: capacity %v, load %v", capacity, seed, res.Capacity, res.Load)
			}
			n := len(res.Steps)
			if res.Steps[n-2].Role != ConfirmBelow || res.Steps[n-1].Role != ConfirmAbove ||
				res.Steps[n-2].Level != res.Low || res.Steps[n-1].Level != res.High {
				t.Errorf("capacity %v, seed %d: last steps %+v, %+v, want the bracket's confirmations", capacity, seed, res.Steps[n-2], res.Steps[n-1])
			}
		}
	}
}

// A noisy target (each short step sees the capacity 3% off, on average; a confirmation
// a quarter of that) still gives a capacity within 5% of the truth, nearly always
// confirmed: confirmations that disagree move the bracket.
func TestSearchOnANoisyTarget(t *testing.T) {
	const runs = 100
	within, moved, found := 0, 0, 0
	ends := map[string]int{}
	for seed := range uint64(runs) {
		tg := &target{capacity: 1000, noise: 0.03, rng: rand.New(rand.NewPCG(seed, 2)), steps: steps}
		res := Search(context.Background(), settings(100, 10_000), tg.try, noSleep)
		if res.Load > DefaultBudget {
			t.Fatalf("seed %d: load %v over the budget", seed, res.Load)
		}
		if math.Abs(res.Capacity-1000)/1000 <= 0.05 {
			within++
		}
		if res.End == Found {
			found++
		}
		ends[res.End.String()+": "+res.Why]++
		for _, st := range res.Steps {
			if st.Role.Confirms() && (st.Outcome == Held) != (st.Role == ConfirmBelow) {
				moved++
				break
			}
		}
	}
	t.Logf("%d of %d searches within 5%% of the capacity, %d moved by a confirmation; ends %v", within, runs, moved, ends)
	// Measured with these seeds: 100 within 5%, 98 found (2 ended after six
	// disagreeing confirmations), 72 moved; the bounds leave room for a change of the
	// noise model, not of the search.
	if within < 95 || found < 90 || moved == 0 {
		t.Errorf("%d of %d searches within 5%% of the capacity, %d found, %d moved by a confirmation", within, runs, found, moved)
	}
}

func TestSearchEnds(t *testing.T) {
	t.Run("every level holds", func(t *testing.T) {
		tg := &target{capacity: 1e9, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		res := Search(context.Background(), settings(10, 100), tg.try, noSleep)
		if res.End != AtLeast || res.Capacity != 100 || res.High != 0 {
			t.Errorf("ended %v, capacity %v, high %v; want at least 100", res.End, res.Capacity, res.High)
		}
		var levels []float64
		for _, st := range res.Steps {
			levels = append(levels, st.Level)
		}
		if len(levels) != 5 || levels[0] != 10 || levels[3] != 80 || levels[4] != 100 {
			t.Errorf("levels %v, want 10, 20, 40, 80, 100", levels)
		}
	})
	t.Run("the first step breaks", func(t *testing.T) {
		tg := &target{capacity: 30, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		res := Search(context.Background(), settings(200, 0), tg.try, noSleep)
		if res.End != Found || !(res.Low <= 30 && 30 < res.High) {
			t.Errorf("ended %v (%s), bracket %v-%v; want one around 30", res.End, res.Why, res.Low, res.High)
		}
		if res.Steps[1].Level != 100 || res.Steps[2].Level != 50 || res.Steps[3].Level != 25 {
			t.Errorf("steps %v, %v, %v: want a probe down by halves", res.Steps[1].Level, res.Steps[2].Level, res.Steps[3].Level)
		}
	})
	t.Run("no level holds", func(t *testing.T) {
		tg := &target{capacity: 1e-9, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		res := Search(context.Background(), Settings{From: 100, Cost: cost, NoCooldown: true, Budget: time.Hour}, tg.try, noSleep)
		if res.End != NoneHeld || res.Capacity != 0 || len(res.Steps) > 10 {
			t.Errorf("ended %v, capacity %v after %d steps; want none held", res.End, res.Capacity, len(res.Steps))
		}
	})
	t.Run("generator limit", func(t *testing.T) {
		tg := &target{capacity: 5000, generatorAt: 1000, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		res := Search(context.Background(), settings(100, 0), tg.try, noSleep)
		if res.End != GeneratorLimited || res.Capacity != 800 || res.Why == "" {
			t.Errorf("ended %v (%s), capacity %v; want at least 800, perfgate's limit", res.End, res.Why, res.Capacity)
		}
	})
	// A busy neighbour for a while: the step runs again after a pause, at the same
	// level, and the search finds what it would have.
	t.Run("contended for a while", func(t *testing.T) {
		for _, from := range []int{1, 4} {
			var pauses int
			sleep := func(_ context.Context, d time.Duration) error {
				if d == ContendedPause {
					pauses++
				}
				return nil
			}
			tg := &target{capacity: 500, contended: MaxContended, contendFrom: from, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
			res := Search(context.Background(), settings(100, 0), tg.try, sleep)
			if res.End != Found || !(res.Low <= 500 && 500 < res.High) || pauses != MaxContended {
				t.Errorf("contended from step %d: ended %v (%s), bracket %v-%v after %d pauses", from, res.End, res.Why, res.Low, res.High, pauses)
			}
			st := res.Steps[from-1:]
			if st[0].Outcome != Contended || st[MaxContended].Outcome == Contended || st[0].Level != st[MaxContended].Level {
				t.Errorf("contended from step %d: %v at %v, then %v at %v; want the same level again", from, st[0].Outcome, st[0].Level, st[MaxContended].Outcome, st[MaxContended].Level)
			}
		}
	})
	t.Run("contended for good", func(t *testing.T) {
		tg := &target{capacity: 500, contended: 100, contendFrom: 3, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		res := Search(context.Background(), settings(100, 0), tg.try, noSleep)
		if res.End != GeneratorLimited || res.Capacity != 200 || len(res.Steps) != 2+MaxContended+1 {
			t.Errorf("ended %v (%s), capacity %v after %d steps; want at least 200 after %d contended", res.End, res.Why, res.Capacity, len(res.Steps), MaxContended+1)
		}
	})
	t.Run("the target falls over", func(t *testing.T) {
		tg := &target{capacity: 500, fallsOver: true, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		res := Search(context.Background(), settings(100, 0), tg.try, noSleep)
		// 100, 200, 400 held; 800 fell over, and 400 failed too.
		if res.End != TargetDown || res.Capacity != 400 || len(res.Steps) != 5 || res.Steps[4].Role != ConfirmBelow {
			t.Errorf("ended %v (%s), capacity %v after %d steps; want the target down after 400 failed its confirmation", res.End, res.Why, res.Capacity, len(res.Steps))
		}
	})
	t.Run("a collapse that recovers", func(t *testing.T) {
		// Over its capacity the target fails most requests, and is well again below it.
		try := func(_ context.Context, level float64, role Role) Step {
			if level > 500 {
				return Step{Outcome: Broke, Collapsed: true, ErrorRate: 0.8, Requests: 100}
			}
			return Step{Outcome: Held, Requests: 100}
		}
		res := Search(context.Background(), settings(100, 0), try, noSleep)
		if res.End != Found || res.Low != 500 || res.Steps[4].Role != ConfirmBelow || res.Steps[4].Level != 400 {
			t.Errorf("ended %v (%s), bracket %v-%v; want 500, with 400 confirmed after the collapse", res.End, res.Why, res.Low, res.High)
		}
	})
	t.Run("budget", func(t *testing.T) {
		tg := &target{capacity: 1234, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
		s := settings(10, 0)
		s.Budget = 2 * time.Minute
		res := Search(context.Background(), s, tg.try, noSleep)
		if res.End != Unconfirmed || res.Load > s.Budget || res.Why == "" {
			t.Errorf("ended %v (%s), load %v; want unconfirmed within %v", res.End, res.Why, res.Load, s.Budget)
		}
		if res.High > 0 && !(res.Low <= 1234 && 1234 < res.High) {
			t.Errorf("bracket %v-%v", res.Low, res.High)
		}
	})
	t.Run("too few requests to tell", func(t *testing.T) {
		// Unsure before any step held: going lower would only tell less.
		try := func(_ context.Context, level float64, role Role) Step {
			if level < 1000 {
				return Step{Outcome: Unsure, Why: "error_rate < 1% inconclusive", Requests: 100}
			}
			return Step{Outcome: Broke, Requests: 100}
		}
		res := Search(context.Background(), settings(50, 0), try, noSleep)
		if res.End != Undecided || len(res.Steps) != 1 || !strings.Contains(res.Why, "error_rate < 1% inconclusive") {
			t.Errorf("ended %v (%s) after %d steps; want undecided at once", res.End, res.Why, len(res.Steps))
		}
		// Once a step held, an unsure one above it counts as broken.
		try2 := func(ctx context.Context, level float64, role Role) Step {
			if level <= 100 {
				return Step{Outcome: Held, Requests: 100}
			}
			return try(ctx, level, role)
		}
		res = Search(context.Background(), settings(50, 0), try2, noSleep)
		if res.End != Found || res.Low != 100 {
			t.Errorf("ended %v (%s), bracket %v-%v; want 100", res.End, res.Why, res.Low, res.High)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		n := 0
		try := func(ctx context.Context, level float64, role Role) Step {
			n++
			if n == 3 {
				return Step{Outcome: Stopped, Why: "cancelled"}
			}
			return Step{Outcome: Held, Requests: 1}
		}
		res := Search(context.Background(), settings(10, 0), try, noSleep)
		if res.End != Cancelled || res.Capacity != 20 || len(res.Steps) != 3 {
			t.Errorf("ended %v, capacity %v after %d steps; want cancelled at the third", res.End, res.Capacity, len(res.Steps))
		}
	})
}

// The cooldown comes between steps, not before the first; a cancel during one ends the
// search.
func TestSearchCoolsDown(t *testing.T) {
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		if len(waits) == 4 {
			return context.Canceled
		}
		return nil
	}
	tg := &target{capacity: 1e9, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
	res := Search(context.Background(), Settings{From: 1, Cost: cost}, tg.try, sleep)
	if res.End != Cancelled || len(res.Steps) != 4 || len(waits) != 4 {
		t.Fatalf("ended %v after %d steps and %d waits", res.End, len(res.Steps), len(waits))
	}
	for _, w := range waits {
		if w != DefaultCooldown {
			t.Errorf("waited %v, want %v", w, DefaultCooldown)
		}
	}
}

// In users, levels are whole and the bracket narrows to one user.
func TestSearchInUsers(t *testing.T) {
	tg := &target{capacity: 37.5, rng: rand.New(rand.NewPCG(1, 1)), steps: steps}
	s := settings(5, 0)
	s.Unit = Users
	res := Search(context.Background(), s, tg.try, noSleep)
	if res.End != Found || res.Low != 37 || res.High != 38 {
		t.Errorf("ended %v (%s), bracket %v-%v; want 37-38", res.End, res.Why, res.Low, res.High)
	}
	for _, st := range res.Steps {
		if st.Level != math.Trunc(st.Level) {
			t.Errorf("level %v is not whole", st.Level)
		}
	}
}

func TestSettingsCheck(t *testing.T) {
	for _, s := range []Settings{{}, {From: 10, To: 5}, {From: 1.5, Unit: Users}, {From: 1, Factor: 1}, {From: 1, Precision: 1}} {
		if s.Check() == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	if err := (Settings{From: 10, To: 100, Unit: Users}).Check(); err != nil {
		t.Error(err)
	}
}

// The knee of an M/M/1 curve lies where utilisation is high but the queue has not yet
// run away; a flat curve or a straight line has none.
func TestFindKnee(t *testing.T) {
	curve := func(p99 func(level float64) float64, levels ...float64) []Step {
		var out []Step
		for _, l := range levels {
			out = append(out, Step{Level: l, P90: p99(l) / 2, P99: p99(l), Requests: 100, Outcome: Held})
		}
		return out
	}
	mm1 := func(l float64) float64 { return 0.01 / (1 - math.Min(l/1000, 0.995)) }
	k := FindKnee(curve(mm1, 100, 200, 400, 800, 900, 950, 1000, 1600))
	if k == nil || k.Level < 800 || k.Level > 950 {
		t.Errorf("knee %+v, want one between 800 and 950", k)
	}
	if k := FindKnee(curve(func(float64) float64 { return 0.02 }, 100, 200, 400, 800)); k != nil {
		t.Errorf("flat curve: knee %+v", k)
	}
	if k := FindKnee(curve(func(l float64) float64 { return l / 1000 }, 100, 200, 400, 800)); k != nil {
		t.Errorf("straight line: knee %+v", k)
	}
	// A level's latest step counts; a generator's limit says nothing of the target.
	steps := curve(mm1, 100, 200, 400, 800, 900)
	steps = append(steps, Step{Level: 2000, Outcome: GeneratorLimit, P90: 9, P99: 9, Requests: 100})
	if k := FindKnee(steps); k == nil || k.Level != 800 {
		t.Errorf("knee %+v, want 800", k)
	}
}
