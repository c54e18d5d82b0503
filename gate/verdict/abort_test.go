package verdict

import (
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/stats"
)

func abortRule(t *testing.T, s string) plan.AbortRule {
	t.Helper()
	r, err := config.ParseAbortRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return plan.AbortRule{AbortRule: r, File: "t.yaml"}
}

func win(i int, requests, errors int64, p99 time.Duration) stats.Window {
	return stats.Window{Start: time.Duration(i) * 10 * time.Second, Length: 10 * time.Second, All: counts(requests, errors, p99)}
}

func TestWatch(t *testing.T) {
	cases := []struct {
		name    string
		rule    string
		windows []stats.Window
		firesAt int // index of the window it fires on, -1 for never
	}{
		{"two bad windows in a row", "error_rate > 50% for 20s",
			[]stats.Window{win(0, 100, 60, 0), win(1, 100, 70, 0), win(2, 100, 0, 0)}, 1},
		{"one good window breaks the streak", "error_rate > 50% for 20s",
			[]stats.Window{win(0, 100, 60, 0), win(1, 100, 10, 0), win(2, 100, 90, 0), win(3, 100, 90, 0)}, 3},
		{"one noisy window does not fire", "p99 > 2s for 30s",
			[]stats.Window{win(0, 1000, 0, 3*time.Second), win(1, 1000, 0, time.Second), win(2, 1000, 0, 3*time.Second), win(3, 1000, 0, 3*time.Second)}, -1},
		{"no requests breaks a latency streak", "p99 > 2s for 20s",
			[]stats.Window{win(0, 1000, 0, 3*time.Second), win(1, 0, 0, 0), win(2, 1000, 0, 3*time.Second)}, -1},
		{"no requests counts for throughput", "throughput < 1/s for 20s",
			[]stats.Window{win(0, 0, 0, 0), win(1, 0, 0, 0)}, 1},
		{"shorter than a window fires on the first", "error_rate > 1% for 1s",
			[]stats.Window{win(0, 100, 2, 0)}, 0},
	}
	for _, tc := range cases {
		w := NewWatch([]plan.AbortRule{abortRule(t, tc.rule)})
		fired := -1
		var a *Abort
		for i, win := range tc.windows {
			if a = w.Observe(win); a != nil {
				fired = i
				break
			}
		}
		if fired != tc.firesAt {
			t.Errorf("%s: fired at window %d, want %d", tc.name, fired, tc.firesAt)
		}
		if a != nil && a.At != tc.windows[fired].Start+tc.windows[fired].Length {
			t.Errorf("%s: at %v", tc.name, a.At)
		}
	}
}

func TestWithAbortFailsTheRun(t *testing.T) {
	v := Verdict{Status: Pass, Checks: []Check{{Passed: true}}}
	a := Abort{Rule: abortRule(t, "error_rate > 50% for 20s"), At: 40 * time.Second, Measured: 0.7}
	got := v.WithAbort(a)
	if got.Status != Fail || len(got.Reasons) != 0 || got.Aborted == nil || len(got.Checks) != 2 || got.Checks[1].Passed {
		t.Errorf("verdict = %+v", got)
	}
	if got.Checks[1].Rule.Scope != "abort" || got.Checks[1].Rule.Text != "error_rate > 50% for 20s" {
		t.Errorf("abort check = %+v", got.Checks[1].Rule)
	}
	// Another reason for no verdict stays: the run is still invalid.
	v.Status, v.Reasons = Invalid, []string{"setup failed"}
	if got := v.WithAbort(a); got.Status != Invalid {
		t.Errorf("status = %v, want invalid", got.Status)
	}
}
