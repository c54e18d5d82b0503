package load

import (
	"testing"
	"time"
)

func TestScheduleAt(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		s    Schedule
		i    int64
		want time.Duration
	}{
		{"constant, first", Schedule{Rate: 100, Hold: time.Second}, 0, 0},
		{"constant", Schedule{Rate: 100, Hold: time.Second}, 7, 70 * ms},
		{"constant, fractional rate", Schedule{Rate: 0.5, Hold: time.Minute}, 3, 6 * time.Second},
		// Ramp 0 -> 100/s over 2 s: N(t) = 25 t^2, so arrival 25 is due at 1 s, 100 at 2 s.
		{"ramp from zero", Schedule{Rate: 100, Ramp: 2 * time.Second, Hold: time.Second}, 25, time.Second},
		{"end of ramp", Schedule{Rate: 100, Ramp: 2 * time.Second, Hold: time.Second}, 100, 2 * time.Second},
		{"hold after ramp", Schedule{Rate: 100, Ramp: 2 * time.Second, Hold: time.Second}, 150, 2500 * ms},
		// Ramp 50 -> 150/s over 1 s: N(t) = 50 t + 50 t^2; N(0.5) = 37.5.
		{"ramp from a rate", Schedule{StartRate: 50, Rate: 150, Ramp: time.Second, Hold: time.Second}, 0, 0},
		{"flat ramp", Schedule{StartRate: 100, Rate: 100, Ramp: time.Second, Hold: time.Second}, 50, 500 * ms},
	}
	for _, tc := range cases {
		got := tc.s.At(tc.i)
		if d := got - tc.want; d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("%s: At(%d) = %v, want %v", tc.name, tc.i, got, tc.want)
		}
	}
	s := Schedule{StartRate: 50, Rate: 150, Ramp: time.Second, Hold: time.Second}
	// N(0.5) = 50*0.5 + 50*0.25 = 37.5: arrival 37 is due just before 0.5 s, 38 just after.
	if s.At(37) >= 500*ms || s.At(38) <= 500*ms {
		t.Errorf("ramp from a rate: At(37) = %v, At(38) = %v around 0.5 s", s.At(37), s.At(38))
	}
}

func TestScheduleIsMonotonic(t *testing.T) {
	for _, s := range []Schedule{
		{Rate: 1000, Hold: time.Second},
		{Rate: 1000, Ramp: 3 * time.Second, Hold: time.Second},
		{StartRate: 10, Rate: 1000, Ramp: 3 * time.Second, Hold: time.Second},
	} {
		prev := time.Duration(-1)
		for i := range s.Total() {
			at := s.At(i)
			if at <= prev {
				t.Fatalf("%+v: At(%d) = %v is not after %v", s, i, at, prev)
			}
			prev = at
		}
	}
}

func TestScheduleTotal(t *testing.T) {
	cases := []struct {
		s    Schedule
		want int64
	}{
		{Schedule{Rate: 100, Hold: time.Second}, 100},
		{Schedule{Rate: 1000, Hold: 30 * time.Second}, 30000},
		{Schedule{Rate: 100, Ramp: 2 * time.Second, Hold: time.Second}, 200},
		{Schedule{StartRate: 50, Rate: 150, Ramp: time.Second, Hold: 2 * time.Second}, 400},
		{Schedule{Rate: 0.5, Hold: 3 * time.Second}, 2},
	}
	for _, tc := range cases {
		if got := tc.s.Total(); got != tc.want {
			t.Errorf("%+v: Total() = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func FuzzSchedule(f *testing.F) {
	f.Add(10.0, 100.0, int64(2000), int64(1000), int64(50))
	f.Fuzz(func(t *testing.T, r0, r1 float64, rampMs, holdMs, i int64) {
		if !(r0 >= 0 && r1 > 0 && r0 <= r1 && r1 < 1e6) || rampMs < 0 || holdMs <= 0 || rampMs > 1e6 || holdMs > 1e6 || i < 0 || i > 1e7 {
			return
		}
		s := Schedule{StartRate: r0, Rate: r1, Ramp: time.Duration(rampMs) * time.Millisecond, Hold: time.Duration(holdMs) * time.Millisecond}
		if a, b := s.At(i), s.At(i+1); b < a || a < 0 {
			t.Fatalf("%+v: At(%d) = %v, At(%d) = %v", s, i, a, i+1, b)
		}
	})
}

func TestHoldArrivals(t *testing.T) {
	for _, s := range []Schedule{
		{Rate: 200, Hold: time.Second},
		{StartRate: 0, Rate: 200, Ramp: time.Second, Hold: 500 * time.Millisecond},
		{StartRate: 10, Rate: 7, Ramp: 1300 * time.Millisecond, Hold: 2 * time.Second},
	} {
		var want int64
		for i := range s.Total() {
			if s.InHold(s.At(i)) {
				want++
			}
		}
		if got := s.HoldArrivals(); got != want {
			t.Errorf("%+v: %d arrivals in the hold, counted %d", s, got, want)
		}
	}
}
