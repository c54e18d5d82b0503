package poller

import "time"

// ArrivedAt places a kernel receive stamp (see StampReader) on the monotonic clock of
// now (the time the loop learned of the data), never before from nor after now: a wall
// clock stepped in between cannot make a latency negative or longer than the one the
// loop saw. A zero stamp (none) is now.
func ArrivedAt(stamp int64, from, now time.Time) time.Time {
	if stamp == 0 {
		return now
	}
	ago := now.Sub(time.Unix(0, stamp)) // wall-clock difference: stamp has no monotonic reading
	return now.Add(-min(max(ago, 0), now.Sub(from)))
}
