package load

import (
	"sync/atomic"
	"time"
)

// BehindShare is the share of a period's arrivals the generator may send more than
// LateLimit late by its own fault before the period counts as one in which it was
// behind its schedule. The limit judges the generator, not its neighbours: a shared
// runner's hiccup that makes a few sends 10-20 ms late once stays under it, and a
// generator that cannot hold its schedule (descheduled for much of every second, as on
// a processor a higher-priority process saturates) is over it in nearly every period.
// The README's "Generator health" gives the measurements.
const BehindShare = 0.10

// minPeriodArrivals is the fewest arrivals a period holds: at low rates a period is
// longer than a second, so that a tenth of one is a count, not one unlucky arrival.
const minPeriodArrivals = 100

// lateness counts, for each period of the hold (by due time), the arrivals sent and
// those whose own lateness, from arrival.from to the actual send, was over LateLimit:
// the generator's wake-up, its handing of the arrival to a worker and the worker's
// send, everything but a wait for max_in_flight. Samples record into it from any
// goroutine.
type lateness struct {
	period     time.Duration
	sent, late []atomic.Int32
}

// newLateness divides a hold at rate arrivals a second into periods of a second, or of
// minPeriodArrivals arrivals where that is longer.
func newLateness(hold time.Duration, rate float64) *lateness {
	period := time.Second
	if rate > 0 && minPeriodArrivals/rate > 1 {
		period = time.Duration(minPeriodArrivals / rate * float64(time.Second)).Round(time.Millisecond)
	}
	n := int(hold/period) + 1
	return &lateness{period: period, sent: make([]atomic.Int32, n), late: make([]atomic.Int32, n)}
}

// note records a hold arrival due at due (from the start of the hold) whose own
// lateness was own.
func (l *lateness) note(due, own time.Duration) {
	if l == nil {
		return
	}
	i := min(max(0, int(due/l.period)), len(l.sent)-1)
	l.sent[i].Add(1)
	if own > LateLimit {
		l.late[i].Add(1)
	}
}

// Lateness is what the open model's generator did to its own schedule in the hold.
type Lateness struct {
	// Late counts the hold's arrivals the generator itself sent more than LateLimit
	// late (see lateness).
	Late int64
	// Behind counts the periods, of Periods (each Period long, with arrivals sent), in
	// which more than BehindShare of the arrivals were among them.
	Behind, Periods int
	Period          time.Duration
}

// BehindFor is how long the periods in which the generator was behind last, in all.
func (l Lateness) BehindFor() time.Duration { return time.Duration(l.Behind) * l.Period }

func (l *lateness) summary() Lateness {
	if l == nil {
		return Lateness{}
	}
	out := Lateness{Period: l.period}
	for i := range l.sent {
		n, k := l.sent[i].Load(), l.late[i].Load()
		out.Late += int64(k)
		if n > 0 {
			out.Periods++
			if float64(k) > BehindShare*float64(n) {
				out.Behind++
			}
		}
	}
	return out
}
