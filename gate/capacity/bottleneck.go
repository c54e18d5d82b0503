package capacity

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/resource"
)

// Kinds of bottleneck: what ran out first as the load grew.
const (
	CPUBound        = "cpu"
	MemoryBound     = "memory"
	PoolBound       = "pool"
	ConnectionBound = "connections"
	NoneVisible     = "none visible"
)

// Limits at which a resource has run out, by the USE method (utilisation, saturation):
// the processors Go may use (GOMAXPROCS) busy, or a goroutine ready to run waiting
// CPUWait for one of them on average (a host that steals processor time leaves them less
// than busy, but the wait shows it), the database pool's connections all in
// use or PoolWaits of the requests waiting for one, file descriptors (each connection holds one) near
// their limit, resident memory near its limit (Go's GOMEMLIMIT, or the source's
// memory_limit) or leaking: growing through the holds of LeakSteps steps in a row (a
// warm-up grows in the first only).
const (
	CPUBusy      = 0.90
	CPUWait      = time.Millisecond
	PoolBusy     = 0.95
	FDsBusy      = 0.90
	MemoryBusy   = 0.90
	MemoryGrowth = 0.10
	LeakSteps    = 2
	// PoolWaits is the share of a step's requests that must wait for a connection for
	// the pool to have run out: a pool of 4 half used makes a caller wait now and then
	// (0.25 waits a second at 200/s), one at its limit makes many (31-43 a second at
	// 300/s, 10-14%).
	PoolWaits = 0.05
)

// Use is one resource's utilisation and saturation at a step: what share of it was
// busy (Utilisation, -1 when its limit is unknown), and how much work waited for it
// (Saturation: how long a goroutine ready to run waited for a processor, in seconds;
// the pool's waits a second; for memory, its growth over the hold).
type Use struct {
	Kind        string
	Utilisation float64
	Saturation  float64
	// Detail says it in words, with the figures: "db_in_use 10 of db_max_open 10".
	Detail string
	RanOut bool
}

// Bottleneck is what ran out first as the load grew, and how each resource stood at the
// step it is read at: the knee, or without one the highest step that held.
type Bottleneck struct {
	Kind string
	// Level is where it first ran out (0 for none visible), and Why the figures that
	// show it (or, for none visible, what the resources were).
	Level float64
	Why   string
	// At is the level the resources are shown at, and Uses how each stood there.
	At   float64
	Uses []Use
}

// uses reads a step's resources as the four kinds the stress test names, those its
// source exposes; leak says whether the target's memory leaked through the search.
func uses(st Step, leak bool) []Use {
	r, g := st.Resources, st.Growth
	var out []Use
	if cpu, ok := r["cpu"]; ok {
		u := Use{Kind: CPUBound, Utilisation: -1, Detail: fmt.Sprintf("cpu %.3g processors", cpu)}
		if against(&u, "cpu", cpu, r[resource.LimitOf["cpu"]], "%.3g", " processors") {
			u.RanOut = u.Utilisation >= CPUBusy
		}
		if wait, ok := r["sched_latency"]; ok {
			u.Saturation = wait
			u.Detail += fmt.Sprintf(", a goroutine ready to run waited %s for a processor", seconds(wait))
			u.RanOut = u.RanOut || wait >= CPUWait.Seconds()
		}
		out = append(out, u)
	}
	if inUse, ok := r["db_in_use"]; ok {
		u := Use{Kind: PoolBound, Utilisation: -1, Saturation: r["db_waits"], Detail: fmt.Sprintf("db_in_use %.3g", inUse)}
		against(&u, "db_in_use", inUse, r[resource.LimitOf["db_in_use"]], "%.3g", "")
		if u.Saturation > 0 {
			u.Detail += fmt.Sprintf(", %.3g waits/s", u.Saturation)
		}
		u.RanOut = u.Utilisation >= PoolBusy || (u.Saturation > 0 && u.Saturation >= PoolWaits*st.Achieved)
		out = append(out, u)
	}
	if fds, ok := r["open_fds"]; ok {
		u := Use{Kind: ConnectionBound, Utilisation: -1, Detail: fmt.Sprintf("open_fds %.0f", fds)}
		if against(&u, "open_fds", fds, r[resource.LimitOf["open_fds"]], "%.0f", "") {
			u.RanOut = u.Utilisation >= FDsBusy
		}
		out = append(out, u)
	}
	if mem, ok := r["memory"]; ok {
		u := Use{Kind: MemoryBound, Utilisation: -1, Saturation: g["memory"], Detail: fmt.Sprintf("memory %.1fMB", mem/1e6)}
		if limit := r[resource.LimitOf["memory"]]; resource.Limited(limit) {
			u.Utilisation = mem / limit
			u.Detail += fmt.Sprintf(" of %.1fMB (%.0f%%)", limit/1e6, 100*u.Utilisation)
		}
		u.Detail += fmt.Sprintf(", %+.0f%% over the hold", 100*u.Saturation)
		if leak && u.Saturation >= MemoryGrowth {
			u.Detail += ", growing step after step"
		}
		u.RanOut = u.Utilisation >= MemoryBusy || (leak && u.Saturation >= MemoryGrowth)
		out = append(out, u)
	}
	return out
}

// leaking reports whether the target's memory grew through the holds of LeakSteps or
// more steps in a row, in the order they ran: memory that keeps growing whatever the
// load, where a warm-up grows in the first step only.
func leaking(steps []Step) bool {
	n := 0
	for _, st := range steps {
		if st.Outcome != Held && st.Outcome != Broke && st.Outcome != Unsure {
			continue
		}
		if g, ok := st.Growth["memory"]; ok && g >= MemoryGrowth {
			n++
		} else {
			n = 0
		}
		if n >= LeakSteps {
			return true
		}
	}
	return false
}

// against reads a resource's value v against its limit, when the source shows one: its
// utilisation, and the figures in words ("db_in_use 10 of 10 (100%)"), v printed by vf.
func against(u *Use, name string, v, limit float64, vf, unit string) bool {
	if !(limit > 0) {
		return false
	}
	u.Utilisation = v / limit
	u.Detail = fmt.Sprintf("%s "+vf+" of %g%s (%.0f%%)", name, v, limit, unit, 100*u.Utilisation)
	return true
}

// FindBottleneck says which resource ran out first as the steps' load grew: the kind
// that ran out at the lowest level, among the steps up to the first that broke (past it
// everything is overloaded, and saturation there shows the overload, not its cause).
// Where two ran out at the same level, the busier one is named. When the source shows
// none that ran out, it says so: a bottleneck is never guessed. Without a resource
// source, it is nil.
func FindBottleneck(res Result) *Bottleneck {
	steps := latestByLevel(res.Steps)
	if len(steps) == 0 || steps[0].Resources == nil {
		return nil
	}
	at := steps[len(steps)-1]
	if res.Knee != nil {
		at = res.Steps[res.Knee.Step]
	} else if res.Low > 0 {
		for _, st := range steps {
			if st.Level == res.Low {
				at = st
			}
		}
	}
	leak := leaking(res.Steps)
	b := &Bottleneck{Kind: NoneVisible, At: at.Level, Uses: uses(at, leak)}
	for _, st := range steps {
		if res.High > 0 && st.Level > res.High {
			break
		}
		var first *Use
		for _, u := range uses(st, leak) {
			if u.RanOut && (first == nil || u.Utilisation > first.Utilisation) {
				first = &u
			}
		}
		if first != nil {
			b.Kind, b.Level = first.Kind, st.Level
			b.Why = first.Detail
			return b
		}
	}
	var shown []string
	for _, u := range b.Uses {
		shown = append(shown, u.Detail)
	}
	b.Why = "no resource the source shows ran out up to the first step that broke"
	if len(shown) > 0 {
		b.Why += fmt.Sprintf(" (at %v: %s)", at.Level, strings.Join(shown, "; "))
	}
	return b
}

// latestByLevel is each level's latest step that said something of the target, in
// order of level.
func latestByLevel(steps []Step) []Step {
	latest := map[float64]Step{}
	for _, st := range steps {
		if st.Outcome == Held || st.Outcome == Broke || st.Outcome == Unsure {
			latest[st.Level] = st
		}
	}
	out := make([]Step, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Step) int { return cmpFloat(a.Level, b.Level) })
	return out
}

// seconds says a duration in seconds as a person would read it: "1.2ms", "350us".
func seconds(s float64) string {
	return strings.Replace(time.Duration(s*float64(time.Second)).Round(time.Microsecond).String(), "µs", "us", 1)
}
