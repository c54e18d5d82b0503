package cli

// End-to-end tests of the article's minimum viable load test: `perfgate demo --profile
// full` on the built binary, against the sample API healthy and made to misbehave in
// one way at a time. Each question is a verdict of its own; the right one must fail.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/thresholds"
)

// outcome is what a full-profile test expects of a run: its exit code and the verdict
// of each question it names.
type outcome struct {
	code     int
	verdicts map[string]string
}

// missed says how a run differs from the outcome, or "" when it does not.
func (o outcome) missed(r result, res *report.Result) string {
	got := verdicts(res)
	var miss []string
	if r.code != o.code {
		miss = append(miss, fmt.Sprintf("exit %d, want %d", r.code, o.code))
	}
	for _, q := range slices.Sorted(maps.Keys(o.verdicts)) {
		if got[q] != o.verdicts[q] {
			miss = append(miss, fmt.Sprintf("verdict of %s %q, want %q", q, got[q], o.verdicts[q]))
		}
	}
	return strings.Join(miss, "; ")
}

// fullAttempts is how many runs a full-profile test makes before it gives up on the
// outcome it expects. Each phase holds for a few seconds and eleven rules share the
// run's error rate, so each is judged at a strict level; a few seconds in which this
// virtual machine runs everything slower (README, "Contention": no
// other process busy, the target's own latency up) can leave a rule unsure or move a
// drift. Such a slowdown seldom meets two runs in a row; a misjudging gate meets all.
const fullAttempts = 3

// until runs attempt until its run ends as want, at most fullAttempts times, logging
// each run that did not, and returns the last run.
func until(t *testing.T, want outcome, attempt func() (result, *report.Result, string)) (result, *report.Result, string) {
	t.Helper()
	for i := 1; ; i++ {
		r, res, dir := attempt()
		miss := want.missed(r, res)
		if miss == "" {
			return r, res, dir
		}
		if i == fullAttempts {
			t.Fatalf("%d runs, none as expected; the last: %s\nstdout:\n%s\nstderr:\n%s", i, miss, r.stdout, r.stderr)
		}
		t.Logf("run %d of %d: %s; running again. Its rules:\n%s", i, fullAttempts, miss, ruleLines(r.stdout))
	}
}

// ruleLines is the part of a run's console report that judges its rules.
func ruleLines(stdout string) string {
	if i := strings.Index(stdout, "Thresholds ("); i >= 0 {
		return stdout[i:]
	}
	return stdout
}

// fullDemo runs the full profile scaled down, until it ends as want: 20 users with
// 150-250 ms of think (about 100 requests a second at peak, 200 at 2x: the sample API
// serves 150 well), a 6 s hold in 500 ms windows (12 windows for the drift rules), 5 s
// for each other phase.
func fullDemo(t *testing.T, want outcome, misbehave ...string) (result, *report.Result, string) {
	t.Helper()
	return until(t, want, func() (result, *report.Result, string) {
		dir := t.TempDir()
		// A phase of one user makes about 450 requests in its 5 s: one slow request among
		// them (a busy machine's) leaves its p99 unsure, so its hold may go on, as the peak's.
		args := append([]string{"demo", "--profile", "full", "--users", "20", "--spawn-rate", "20",
			"--think", "150ms..250ms", "--duration", "6s", "--max-duration", "18s", "--progress", "500ms"}, misbehave...)
		r := perfgate(t, dir, 2*time.Minute, args...)
		return r, readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r), dir
	})
}

// fullRun runs the full profile, scaled as fullDemo, with the demo's config and
// thresholds/demo-full.yaml against a sample API started with serveFlags, run flags
// added after the usual ones, until it ends as want.
func fullRun(t *testing.T, want outcome, serveFlags, runFlags []string) (result, *report.Result) {
	t.Helper()
	r, res, _ := until(t, want, func() (result, *report.Result, string) {
		addr, _ := serveDemo(t, serveFlags...)
		dir := demoFiles(t)
		full, err := fs.ReadFile(thresholds.Files, "demo-full.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "thresholds", "demo.yaml"), full, 0o644); err != nil {
			t.Fatal(err)
		}
		r := perfgate(t, dir, 2*time.Minute, append([]string{"run", "--target", "http://" + addr, "--profile", "full", "--users", "20", "--spawn-rate", "20",
			"--think", "150ms..250ms", "--duration", "6s", "--progress", "250ms"}, runFlags...)...)
		return r, readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r), dir
	})
	return r, res
}

func readResultFile(t *testing.T, path string, r result) *report.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no result: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	var res report.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

// verdicts maps each question to its verdict.
func verdicts(res *report.Result) map[string]string {
	out := map[string]string{}
	for _, g := range res.Verdicts {
		out[g.Name] = g.Verdict
	}
	return out
}

func TestE2EFullProfileHealthyPasses(t *testing.T) {
	t.Parallel()
	want := map[string]string{"single-user": "pass", "peak": "pass", "peak drift": "pass", "overload": "pass", "recovery": "pass"}
	r, res, dir := fullDemo(t, outcome{ExitPass, want})
	if got := verdicts(res); len(got) != len(want) {
		t.Errorf("verdicts = %v, want %v", got, want)
	}
	var names []string
	for _, ph := range res.Phases {
		names = append(names, ph.Name)
		if ph.Verdict != "pass" || ph.Hold.All.Requests == 0 || ph.Hold.All.Histogram == "" {
			t.Errorf("phase %s: verdict %s, %d requests", ph.Name, ph.Verdict, ph.Hold.All.Requests)
		}
	}
	if strings.Join(names, ",") != "single-user,peak,overload,recovery" {
		t.Errorf("phases = %v", names)
	}
	// The overload was real: twice the users, and the API shed some of it.
	if over := res.Phases[2]; over.Load.Users != 40 || over.Hold.All.Errors == 0 {
		t.Errorf("overload: %d users, %d errors (the API sheds load above 150/s)", over.Load.Users, over.Hold.All.Errors)
	}
	for _, want := range []string{
		"phase 1/4 single-user: 1 user, hold 5s, think 0s",
		"phase 3/4 overload: 40 users",
		"Phases (the table above is peak):",
		"recovery: all     p99 < 2 * single-user.p99  measured",
		"Verdicts:",
		"Verdict: PASS, all 11 rules held (exit 0)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r.stdout)
		}
	}
	junitxsd.Validate(t, filepath.Join(dir, "perfgate-junit.xml"))
	xml, _ := os.ReadFile(filepath.Join(dir, "perfgate-junit.xml"))
	for _, suite := range []string{"perfgate: single-user", "perfgate: peak drift", "perfgate: recovery"} {
		if !strings.Contains(string(xml), `<testsuite name="`+suite+`"`) {
			t.Errorf("JUnit has no testsuite %q", suite)
		}
	}
}

func TestE2EFullProfileLeakFailsDrift(t *testing.T) {
	t.Parallel()
	// 5 ms more for every second the API runs: over the 6 s hold p99 climbs about 40%.
	// The drift fails; the baseline and peak latencies hold.
	r, res, _ := fullDemo(t, outcome{ExitFail, map[string]string{"peak drift": "fail", "single-user": "pass", "peak": "pass"}}, "--leak", "5ms")
	var drift *report.Check
	for i, c := range res.Checks {
		if c.Rule == "p99 drift < 25%" {
			drift = &res.Checks[i]
		}
	}
	if drift == nil || drift.Passed || drift.Start == nil || drift.End == nil || *drift.End <= *drift.Start*1.25 {
		t.Fatalf("drift check = %+v", drift)
	}
	if !strings.Contains(r.stdout, "breached: p99 drift < 25% [peak: all]: moved +") {
		t.Errorf("stdout does not say the drift breached:\n%s", r.stdout)
	}
}

func TestE2EFullProfileFallingOverFailsRecovery(t *testing.T) {
	t.Parallel()
	// Only the failure mode (overload, recovery) fails.
	r, _, _ := fullDemo(t, outcome{ExitFail, map[string]string{"recovery": "fail", "single-user": "pass", "peak": "pass", "peak drift": "pass"}}, "--fall-over")
	if !strings.Contains(r.stdout, "breached: p99 < 2 * single-user.p99 [recovery: all]: measured") {
		t.Errorf("stdout does not name the recovery rule:\n%s", r.stdout)
	}
}

func TestE2EFullProfileSlowAloneFailsTheBaseline(t *testing.T) {
	t.Parallel()
	// 120 ms for every request: too slow for one user (p99 < 100ms), fine at peak
	// (p99 < 300ms), and never over capacity. 40 users make the peak's 6 s about 750
	// requests: enough to show its error rate under 1% for sure.
	//
	// Recovery's one user makes about 40 requests of 120 ms in its 5 s: with none of
	// them failing, an error rate under 1% is still not shown at the run's confidence
	// (the rule of three: up to ~7%), so that rule, and the question, is inconclusive.
	// A breached rule elsewhere makes the run fail all the same.
	fullRun(t, outcome{ExitFail, map[string]string{"single-user": "fail", "peak": "pass", "peak drift": "pass", "overload": "pass", "recovery": "inconclusive"}},
		[]string{"--latency", "120ms", "--jitter", "0s", "--capacity", "400"}, []string{"--users", "40", "--spawn-rate", "40"})
}

func TestE2EFullProfileOverCapacityAtPeakFailsThePeak(t *testing.T) {
	t.Parallel()
	// 20 ms a request keeps one user under 50 requests a second, within a capacity of 55;
	// the peak's 20 users ask for about 90 a second, and the API sheds over a third of
	// them: an error rate past 1% for sure, even with the few windows of a 6 s hold.
	// The peak fails, one user alone passes.
	r, _ := fullRun(t, outcome{ExitFail, map[string]string{"peak": "fail", "single-user": "pass"}}, []string{"--latency", "20ms", "--jitter", "0s", "--capacity", "55"}, nil)
	if !strings.Contains(r.stdout, "breached: error_rate < 1% [peak: all]: measured") {
		t.Errorf("stdout does not name the peak's error rate:\n%s", r.stdout)
	}
}
