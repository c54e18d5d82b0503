package cli

// End-to-end tests of the article's minimum viable load test: `perfgate demo --profile
// full` on the built binary, against the sample API healthy and made to misbehave in
// one way at a time. Each question is a verdict of its own; the right one must fail.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/report"
)

// fullDemo runs the full profile scaled down: 20 users with 150-250 ms of think (about
// 100 requests a second at peak, 200 at 2x: the sample API serves 150 well), a 6 s hold
// in 500 ms windows (12 windows for the drift rules), 5 s for each other phase.
func fullDemo(t *testing.T, misbehave ...string) (result, *report.Result, string) {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"demo", "--profile", "full", "--users", "20", "--spawn-rate", "20",
		"--think", "150ms..250ms", "--duration", "6s", "--progress", "500ms"}, misbehave...)
	r := perfgate(t, dir, 2*time.Minute, args...)
	data, err := os.ReadFile(filepath.Join(dir, "perfgate-result.json"))
	if err != nil {
		t.Fatalf("no result: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	var res report.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return r, &res, dir
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
