package capacity

import (
	"strings"
	"testing"
)

// stepsOf are held steps at 100..400/s and a broken one at 450/s, each with resources
// from res(level).
func stepsOf(res func(level float64) (map[string]float64, map[string]float64)) Result {
	var steps []Step
	for _, l := range []float64{100, 200, 400, 450, 800} {
		r, g := res(l)
		o := Held
		if l > 400 {
			o = Broke
		}
		steps = append(steps, Step{Level: l, Outcome: o, Requests: 100, Achieved: l, Resources: r, Growth: g})
	}
	return Result{End: Found, Capacity: 400, Low: 400, High: 450, Steps: steps, Knee: &Knee{Step: 2, Level: 400}}
}

func TestFindBottleneck(t *testing.T) {
	calm := func(l float64) map[string]float64 {
		return map[string]float64{"cpu": 0.2 * l / 400, "gomaxprocs": 2, "db_in_use": 2, "db_max_open": 10, "db_waits": 0,
			"open_fds": 40, "max_fds": 1024, "memory": 40e6}
	}
	with := func(change func(l float64, r, g map[string]float64)) func(float64) (map[string]float64, map[string]float64) {
		return func(l float64) (map[string]float64, map[string]float64) {
			r, g := calm(l), map[string]float64{"memory": 0.01}
			change(l, r, g)
			return r, g
		}
	}
	for _, tc := range []struct {
		name  string
		res   Result
		kind  string
		level float64
		why   string
	}{
		{"pool", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["db_in_use"] = min(10, l/40)
			if l >= 400 {
				r["db_waits"] = 35
			}
		})), PoolBound, 400, "db_in_use 10 of 10 (100%), 35 waits/s"},
		// A caller waits now and then on a pool far from full: not run out.
		{"pool waits now and then", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["db_in_use"], r["db_waits"] = l/100, 0.25
		})), NoneVisible, 0, "no resource the source shows ran out"},
		// Waits of 5% of the requests or more are the pool's limit, however busy it looks.
		{"pool waits", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["db_in_use"] = l / 100
			if l >= 200 {
				r["db_waits"] = 0.06 * l
			}
		})), PoolBound, 200, "db_in_use 2 of 10 (20%), 12 waits/s"},
		{"cpu", stepsOf(with(func(l float64, r, g map[string]float64) { r["cpu"] = min(2, 1.9*l/400) })), CPUBound, 400, "cpu 1.9 of 2 processors (95%)"},
		// A host that steals processor time: the processors look 78% busy, but
		// goroutines wait for them (measured on the CPU-bound sample API: 0.2 ms a wait
		// up to 85% busy, 1.9-20 ms once it broke).
		{"cpu waits", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["cpu"], r["sched_latency"] = min(1.56, 1.56*l/400), 0.0002
			if l >= 400 {
				r["sched_latency"] = 0.0019
			}
		})), CPUBound, 400, "cpu 1.56 of 2 processors (78%), a goroutine ready to run waited 1.9ms for a processor"},
		// Busy, but goroutines hardly wait: the processors did not run out.
		{"cpu busy, no wait", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["cpu"], r["sched_latency"] = min(1.6, 1.6*l/400), 0.0002
		})), NoneVisible, 0, "waited 200us for a processor"},
		{"memory leaking", stepsOf(with(func(l float64, r, g map[string]float64) {
			if l >= 200 {
				g["memory"] = 0.3
			}
		})), MemoryBound, 200, "+30% over the hold, growing step after step"},
		// Growing in the first step only is a warm-up.
		{"memory warming up", stepsOf(with(func(l float64, r, g map[string]float64) {
			if l == 100 {
				g["memory"] = 0.3
			}
		})), NoneVisible, 0, "no resource the source shows ran out"},
		// Near its limit (Go's GOMEMLIMIT), without growing.
		{"memory at its limit", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["memory_limit"], r["memory"] = 256e6, min(250e6, 60e6*l/100)
		})), MemoryBound, 400, "memory 240.0MB of 256.0MB (94%)"},
		// No limit set: Go's is the largest int64.
		{"memory without a limit", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["memory_limit"], r["memory"] = 9.223372036854776e18, 1e9
		})), NoneVisible, 0, "memory 1000.0MB, +1% over the hold"},
		{"connections", stepsOf(with(func(l float64, r, g map[string]float64) { r["open_fds"] = min(1024, 2.4*l) })), ConnectionBound, 400, "open_fds 960 of 1024"},
		// Both ran out at 400: the busier is named.
		{"both", stepsOf(with(func(l float64, r, g map[string]float64) {
			r["cpu"], r["db_in_use"] = min(2, 1.82*l/400), min(10, l/40)
		})), PoolBound, 400, "db_in_use 10 of 10"},
		// Saturated only past the first broken step: the overload, not its cause.
		{"only in overload", stepsOf(with(func(l float64, r, g map[string]float64) {
			if l > 450 {
				r["cpu"] = 2
			}
		})), NoneVisible, 0, "no resource the source shows ran out"},
	} {
		b := FindBottleneck(tc.res)
		if b == nil || b.Kind != tc.kind || b.Level != tc.level || !strings.Contains(b.Why, tc.why) || b.At != 400 || len(b.Uses) != 4 {
			t.Errorf("%s: %+v, want %s at %v (%q)", tc.name, b, tc.kind, tc.level, tc.why)
		}
	}
	if b := FindBottleneck(Result{Steps: []Step{{Level: 1, Outcome: Held}}}); b != nil {
		t.Errorf("without resources: %+v", b)
	}
	// A source without the pool's or GOMAXPROCS' series: their utilisation is unknown, and
	// nothing is guessed.
	res := stepsOf(func(float64) (map[string]float64, map[string]float64) {
		return map[string]float64{"cpu": 1.99}, map[string]float64{}
	})
	if b := FindBottleneck(res); b.Kind != NoneVisible || b.Uses[0].Utilisation != -1 {
		t.Errorf("unknown limits: %+v", b)
	}
}
