package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// Shard is one of several processes that share a run's load, each on a machine of its
// own (perfgate run --shard I --shards N), whose results perfgate merge judges as one
// run. Index counts from 0; Of is 0 or 1 for a run that is not sharded.
type Shard struct {
	Index, Of int
}

// Sharded reports whether the run is one shard of several.
func (s Shard) Sharded() bool { return s.Of > 1 }

// String says which shard: "shard 3 of 8", counting from 1 as people do.
func (s Shard) String() string { return fmt.Sprintf("shard %d of %d", s.Index+1, s.Of) }

// MaxShards is the most shards a run may be split into.
const MaxShards = 1000

// ForShard returns the plan of shard s: each phase's load shared so that the shards'
// loads add up to the plan's, with the same timing.
//
//   - Closed model: the users are apportioned, the first Users mod Of shards taking one
//     more than the rest; each shard spawns its own at the rate that makes its ramp as
//     long as the whole one, and a shard whose users are all started sooner (one user
//     starts at once) settles the difference, so that every shard's hold begins when
//     the plan's does.
//   - Open model: every shard runs the one schedule and sends arrivals Index,
//     Index + Of, Index + 2 Of...: the union of the shards' arrivals is the schedule,
//     each at its planned time. max_in_flight is shared as the users are.
//
// A hold that may go on while a rule is inconclusive (MaxHold) does not go with shards:
// each would decide on its own share, and the holds would end apart.
func (p *Plan) ForShard(s Shard) (*Plan, error) {
	if !s.Sharded() {
		return p, nil
	}
	if s.Of > MaxShards || s.Index < 0 || s.Index >= s.Of {
		return nil, fmt.Errorf("shard %d of %d: shards count from 1 to at most %d", s.Index+1, s.Of, MaxShards)
	}
	q := *p
	q.Shard, q.digest = s, p.Digest()
	q.Phases = make([]Phase, len(p.Phases))
	for i, ph := range p.Phases {
		l := ph.Load
		if l.Extends() {
			return nil, fmt.Errorf("phase %s: load.max_duration does not go with shards: each would decide on its own share when to end its hold, and the holds would end apart", ph.Name)
		}
		if l.Open {
			if l.MaxInFlight < s.Of {
				return nil, fmt.Errorf("phase %s: max_in_flight %d is fewer than the %d shards", ph.Name, ph.MaxInFlight, s.Of)
			}
			l.MaxInFlight = apportion(l.MaxInFlight, s)
		} else {
			if l.Users < s.Of {
				return nil, fmt.Errorf("phase %s: %d users are fewer than the %d shards", ph.Name, l.Users, s.Of)
			}
			n := apportion(l.Users, s)
			ramp := l.Ramp()
			l.Users = n
			if n > 1 && ramp > 0 {
				l.SpawnRate = float64(n-1) / ramp.Seconds()
			}
			l.Settle += ramp - l.Ramp()
		}
		q.Phases[i] = Phase{Name: ph.Name, Load: l}
	}
	q.Load = q.Phases[max(q.Main, 0)].Load
	if p.Phase < len(q.Phases) {
		q.Load = q.Phases[p.Phase].Load
	}
	return &q, nil
}

// apportion is shard s's share of n: n / Of, and one more for the first n mod Of shards.
func apportion(n int, s Shard) int {
	share := n / s.Of
	if s.Index < n%s.Of {
		share++
	}
	return share
}

// ShareOf counts the arrivals i of [from, to) that shard s sends: those with i mod Of
// equal to Index (all of them for a run that is not sharded).
func (s Shard) ShareOf(from, to int64) int64 {
	if !s.Sharded() {
		return max(0, to-from)
	}
	if to <= from {
		return 0
	}
	// Arrivals below x that are the shard's: ceil((x - Index) / Of) for x > Index.
	below := func(x int64) int64 {
		if x <= int64(s.Index) {
			return 0
		}
		return (x - int64(s.Index) + int64(s.Of) - 1) / int64(s.Of)
	}
	return below(to) - below(from)
}

// Digest identifies the load and the rules a plan runs, not the shard that runs
// it (a shard's plan has the whole plan's): the target, each phase's load, the requests (their names, methods, paths and
// weights; not their headers or bodies, which may hold secrets), the rules and how they
// are judged. Shards of one run, and the merge that judges them, share it.
func (p *Plan) Digest() string {
	if p.digest != "" {
		return p.digest // a shard's: the whole plan's
	}
	var b strings.Builder
	fmt.Fprintf(&b, "target %s\ntimeout %s\nconfidence %g warn %t\n", p.RedactedTarget(), p.Timeout, p.Confidence, p.WarnInconclusive)
	for _, ph := range p.Phases {
		l := ph.Load
		fmt.Fprintf(&b, "phase %s open %t users %d spawn %g think %s..%s rate %g from %g ramp %s in-flight %d settle %s hold %s max %s\n",
			ph.Name, l.Open, l.Users, roundRate(l.SpawnRate), l.Think.Min, l.Think.Max, l.Rate, l.StartRate, l.RateRamp, l.MaxInFlight, l.Settle, l.Hold, l.MaxHold)
	}
	slots := make([]string, len(p.Vars))
	for i, v := range p.Vars {
		slots[i] = "{{" + v + "}}"
	}
	for _, list := range [][]Request{p.Setup, p.Tasks} {
		for _, r := range list {
			fmt.Fprintf(&b, "request %s %s %s weight %d\n", r.Name, r.Method, RedactURL(r.URL.Render(slots)), r.Weight)
		}
	}
	// Files by name alone: shards and the merge may reach them by other paths.
	for _, r := range p.Rules {
		fmt.Fprintf(&b, "rule %s: %s [%s] phase %d\n", filepath.Base(r.File), r.Text, r.Scope, r.Phase)
	}
	for _, r := range p.Aborts {
		fmt.Fprintf(&b, "abort %s for %s\n", r.Text, r.For)
	}
	for _, r := range p.ResourceRules {
		fmt.Fprintf(&b, "resource %s: %s\n", filepath.Base(r.File), r.Text)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// roundRate keeps a spawn rate to six significant digits: a rate read back from a file
// may differ in its last bits.
func roundRate(v float64) float64 {
	if v == 0 {
		return 0
	}
	mag := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-5)
	return math.Round(v/mag) * mag
}
