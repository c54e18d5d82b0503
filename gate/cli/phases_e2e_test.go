package cli

// End-to-end tests of the article's minimum viable load test: `perfgate demo --profile
// full` on the built binary, against the sample API healthy and made to misbehave in
// one way at a time. Each question is a verdict of its own; the right one must fail.

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/thresholds"
)

// fullDemo runs the full profile scaled down: 20 users with 150-250 ms of think (about
// 100 requests a second at peak, 200 at 2x: the sample API serves 150 well), a 6 s hold
// in 500 ms windows (12 windows for the drift rules), 5 s for each other phase.
func fullDemo(t *testing.T, misbehave ...string) (result, *report.Result, string) {
	t.Helper()
	dir := t.TempDir()
	// A phase of one user makes about 450 requests in its 5 s: one slow request among
	// them (a busy machine's) leaves its p99 unsure, so its hold may go on, as the peak's.
	args := append([]string{"demo", "--profile", "full", "--users", "20", "--spawn-rate", "20",
		"--think", "150ms..250ms", "--duration", "6s", "--max-duration", "18s", "--progress", "500ms"}, misbehave...)
	r := perfgate(t, dir, 2*time.Minute, args...)
	return r, readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r), dir
}

// fullRun runs the full profile, scaled as fullDemo, with the demo's config and
// thresholds/demo-full.yaml against a sample API started with flags.
func fullRun(t *testing.T, flags ...string) (result, *report.Result) {
	t.Helper()
	return fullRunWith(t, flags, nil)
}

// fullRunWith is fullRun with run flags added after the usual ones.
func fullRunWith(t *testing.T, serveFlags, runFlags []string) (result, *report.Result) {
	t.Helper()
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
	res := readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r)
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
	r, res, dir := fullDemo(t)
	if r.code != ExitPass {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	want := map[string]string{"single-user": "pass", "peak": "pass", "peak drift": "pass", "overload": "pass", "recovery": "pass"}
	if got := verdicts(res); len(got) != len(want) {
		t.Errorf("verdicts = %v, want %v", got, want)
	} else {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("verdict of %s = %q, want %q", k, got[k], v)
			}
		}
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
	r, res, _ := fullDemo(t, "--leak", "5ms")
	if r.code != ExitFail {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", r.code, r.stdout)
	}
	got := verdicts(res)
	if got["peak drift"] != "fail" || got["single-user"] != "pass" || got["peak"] != "pass" {
		t.Errorf("verdicts = %v: the drift should fail, the baseline and peak latencies hold", got)
	}
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
	r, res, _ := fullDemo(t, "--fall-over")
	if r.code != ExitFail {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", r.code, r.stdout)
	}
	got := verdicts(res)
	if got["recovery"] != "fail" || got["single-user"] != "pass" || got["peak"] != "pass" || got["peak drift"] != "pass" {
		t.Errorf("verdicts = %v: only the failure mode (overload, recovery) should fail", got)
	}
	if !strings.Contains(r.stdout, "breached: p99 < 2 * single-user.p99 [recovery: all]: measured") {
		t.Errorf("stdout does not name the recovery rule:\n%s", r.stdout)
	}
}

func TestE2EFullProfileSlowAloneFailsTheBaseline(t *testing.T) {
	t.Parallel()
	// 120 ms for every request: too slow for one user (p99 < 100ms), fine at peak
	// (p99 < 300ms), and never over capacity. 40 users make the peak's 6 s about 750
	// requests: enough to show its error rate under 1% for sure.
	r, res := fullRunWith(t, []string{"--latency", "120ms", "--jitter", "0s", "--capacity", "400"}, []string{"--users", "40", "--spawn-rate", "40"})
	if r.code != ExitFail {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := verdicts(res)
	// Recovery's one user makes about 40 requests of 120 ms in its 5 s: with none of
	// them failing, an error rate under 1% is still not shown at the run's confidence
	// (the rule of three: up to ~7%), so that rule, and the question, is inconclusive.
	// A breached rule elsewhere makes the run fail all the same.
	for q, want := range map[string]string{"single-user": "fail", "peak": "pass", "peak drift": "pass", "overload": "pass", "recovery": "inconclusive"} {
		if got[q] != want {
			t.Errorf("verdict of %s = %q, want %q (all: %v)\n%s", q, got[q], want, got, r.stdout)
		}
	}
}

func TestE2EFullProfileOverCapacityAtPeakFailsThePeak(t *testing.T) {
	t.Parallel()
	// 20 ms a request keeps one user under 50 requests a second, within a capacity of 55;
	// the peak's 20 users ask for about 90 a second, and the API sheds over a third of
	// them: an error rate past 1% for sure, even with the few windows of a 6 s hold.
	r, res := fullRun(t, "--latency", "20ms", "--jitter", "0s", "--capacity", "55")
	if r.code != ExitFail {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := verdicts(res)
	if got["peak"] != "fail" || got["single-user"] != "pass" {
		t.Errorf("verdicts = %v: the peak should fail, one user alone pass\n%s", got, r.stdout)
	}
	if !strings.Contains(r.stdout, "breached: error_rate < 1% [peak: all]: measured") {
		t.Errorf("stdout does not name the peak's error rate:\n%s", r.stdout)
	}
}
