package run

import (
	"testing"
	"time"
)

// at0 is off the 10 s boundaries.
var at0 = time.Date(2026, 12, 1, 12, 0, 3, 0, time.UTC)

func TestNextBoundary(t *testing.T) {
	cases := []struct {
		at    time.Time
		every time.Duration
		want  time.Time
	}{
		{at0, 10 * time.Second, at0.Add(7 * time.Second)},
		{at0.Add(7 * time.Second), 10 * time.Second, at0.Add(17 * time.Second)}, // on a boundary: the next one
		{at0, 3 * time.Second, at0.Add(3 * time.Second)},                        // 12:00:06 is a multiple of 3 s since the epoch
		{at0.Add(time.Nanosecond), 250 * time.Millisecond, at0.Add(250 * time.Millisecond)},
	}
	for _, tc := range cases {
		if got := nextBoundary(tc.at, tc.every); !got.Equal(tc.want) {
			t.Errorf("after %v every %v: %v, want %v", tc.at, tc.every, got, tc.want)
		}
	}
}
