package verdict

import (
	"slices"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
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
		{"a percentile windows keep now", "p75 > 1s for 10s",
			[]stats.Window{win(0, 1000, 0, 3*time.Second)}, 0},
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

// The verdict finds the abort rule that stopped a run by watching its windows again: the
// rule is a failed check, and the run fails (exit 1) unless it has no valid verdict for
// another reason.
func TestAbortFailsTheRun(t *testing.T) {
	p := &plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 5s", -1)}, Aborts: []plan.AbortRule{abortRule(t, "error_rate > 50% for 20s")}}
	stopped := delivered()
	stopped.Stopped = true
	rec := &run.Record{StoppedAt: 2, Phases: []run.Phase{ran("peak", stopped, summary(100, 0)), {Name: "recovery"}}}
	for _, w := range []stats.Window{win(0, 100, 10, 0), win(1, 100, 60, 0), win(2, 100, 70, 0)} {
		rec.Windows = append(rec.Windows, run.Window{Window: w, Phase: 0, Stage: load.Hold})
	}
	p.Rules = append(p.Rules, rule(t, "p99 < 5s", -1))
	p.Rules[1].Phase = 1
	v := Judge(p, rec)
	if v.Status != Fail || len(v.Reasons) != 0 || v.Aborted == nil || len(v.Checks) != 3 {
		t.Fatalf("verdict = %+v", v)
	}
	if a := v.Aborted; a.At != 30*time.Second || a.Measured != 0.7 || a.Requests != 100 || a.Phase != 0 {
		t.Errorf("abort = %+v", a)
	}
	c := v.Checks[2]
	if c.Status != Fail || c.Group != GroupAbort || c.Rule.Scope != "abort" || c.Rule.Text != "error_rate > 50% for 20s" || c.Limit != 0.5 {
		t.Errorf("abort check = %+v", c)
	}
	// The phase it stopped keeps its own verdict; the next one did not run, and that is
	// no reason for no verdict: the abort rule is the verdict.
	if v.Phases[0].Status != Pass || v.Phases[1].Status != NotRun || v.Checks[1].Status != NotRun {
		t.Errorf("phases %+v, checks %+v", v.Phases, v.Checks)
	}
	var groups []string
	for _, g := range v.Groups {
		groups = append(groups, g.Name+":"+g.Status.String())
	}
	if !slices.Equal(groups, []string{"peak:pass", "recovery:not run", "abort:fail"}) {
		t.Errorf("groups %v", groups)
	}
	// Another reason for no verdict stays: the run is still invalid.
	rec.Phases[0].Load.SetupFailure = &load.SetupFailure{N: 1, Attempts: 3, Err: "x"}
	if v := Judge(p, rec); v.Status != Invalid || v.Aborted == nil {
		t.Errorf("status = %v, want invalid", v.Status)
	}
	// A record stopped by no rule of the plan cannot pass.
	rec.Phases[0].Load.SetupFailure = nil
	if v := Judge(&plan.Plan{Rules: p.Rules}, rec); v.Status != Invalid || !slices.Equal(codes(v.Reasons), []Code{Unexplained}) {
		t.Errorf("stopped by no rule: %v %+v", v.Status, v.Reasons)
	}
}
