package poller

import (
	"testing"
	"time"
)

func TestArrivedAtStaysBetweenTheSendAndTheRead(t *testing.T) {
	from := time.Now()
	now := from.Add(10 * time.Millisecond)
	wall := func(d time.Duration) int64 { return from.Add(d).UnixNano() }
	cases := []struct {
		name  string
		stamp int64
		want  time.Duration // after from
	}{
		{"no stamp", 0, 10 * time.Millisecond},
		{"stamped", wall(4 * time.Millisecond), 4 * time.Millisecond},
		{"after the read (a clock step)", wall(time.Second), 10 * time.Millisecond},
		{"before the send (a clock step)", wall(-time.Second), 0},
	}
	for _, tc := range cases {
		if got := ArrivedAt(tc.stamp, from, now).Sub(from); got != tc.want {
			t.Errorf("%s: arrived %v after the send, want %v", tc.name, got, tc.want)
		}
	}
}
