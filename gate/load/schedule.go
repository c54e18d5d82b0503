package load

import (
	"math"
	"sort"
	"time"

	"github.com/perfgate/perfgate/gate/plan"
)

// Schedule is the open model's arrival schedule: the rate climbs linearly from StartRate
// to Rate over Ramp, then stays at Rate for Hold. It is pure arithmetic, so that where
// each request should have been sent is known exactly, whatever happens to the target.
type Schedule struct {
	StartRate, Rate float64 // arrivals per second
	Ramp, Hold      time.Duration
}

// rampArrivals is how many arrivals fall in the ramp (not rounded).
func (s Schedule) rampArrivals() float64 {
	return (s.StartRate + s.Rate) / 2 * s.Ramp.Seconds()
}

// At returns the intended send time of arrival i (0-based), from the start of the run.
func (s Schedule) At(i int64) time.Duration {
	x := float64(i)
	ramp := s.Ramp.Seconds()
	if nr := s.rampArrivals(); ramp > 0 && x < nr {
		// Arrivals so far at t: N(t) = r0 t + a t^2 / 2, with a = (r1 - r0) / T.
		a := (s.Rate - s.StartRate) / ramp
		var t float64
		if a == 0 {
			t = x / s.StartRate
		} else {
			t = (-s.StartRate + math.Sqrt(s.StartRate*s.StartRate+2*a*x)) / a
		}
		return time.Duration(t * float64(time.Second))
	} else if ramp > 0 {
		x -= nr
	}
	return s.Ramp + time.Duration(x/s.Rate*float64(time.Second))
}

// Total is the number of arrivals in the whole schedule, ramp and hold.
func (s Schedule) Total() int64 {
	end := s.Ramp + s.Hold
	n := int64(s.rampArrivals() + s.Rate*s.Hold.Seconds())
	// Correct the float estimate so that exactly the arrivals due before the end count.
	for n > 0 && s.At(n-1) >= end {
		n--
	}
	for s.At(n) < end {
		n++
	}
	return n
}

// HoldArrivals is how many arrivals of the schedule are due in the hold (At is
// increasing, so they are the last ones).
func (s Schedule) HoldArrivals() int64 {
	total := s.Total()
	first := sort.Search(int(total), func(i int) bool { return s.InHold(s.At(int64(i))) })
	return total - int64(first)
}

// InHold reports whether an arrival due at offset belongs to the measured hold.
func (s Schedule) InHold(offset time.Duration) bool { return offset >= s.Ramp }

// Before is how many arrivals of the schedule are due before offset t.
func (s Schedule) Before(t time.Duration) int64 {
	total := s.Total()
	return int64(sort.Search(int(total), func(i int) bool { return s.At(int64(i)) >= t }))
}

// holdArrivalsTo is how many hold arrivals are due before offset cut (all of them for
// cut 0, a hold not ended early).
func (s Schedule) holdArrivalsTo(cut time.Duration) int64 {
	if cut <= 0 {
		return s.HoldArrivals()
	}
	return max(0, s.Before(cut)-(s.Total()-s.HoldArrivals()))
}

// holdShareTo is how many of the hold arrivals due before offset cut (all of them for
// cut 0) are shard sh's: those whose index in the schedule it sends.
func (s Schedule) holdShareTo(cut time.Duration, sh plan.Shard) int64 {
	first := s.Total() - s.HoldArrivals()
	return sh.ShareOf(first, first+s.holdArrivalsTo(cut))
}

// shardOf is the shard's stride through the schedule: 1 for a run that is not sharded.
func shardOf(sh plan.Shard) int64 { return int64(max(1, sh.Of)) }
