package cli

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EAnInconclusiveHoldGoesOn runs the built binary against the sample API failing
// 2% of its requests, with rules on the error rate and a hold of 2 s that may go on to
// 5 s. A rule far from its limit is decided at 2 s and the hold ends there; a rule
// whose limit is the API's own error rate cannot be told at any length (at 99.9%
// confidence it is decided by chance in about 1 run of 1,000), so the hold goes on,
// window by window, to its longest, and the run ends inconclusive: exit 3, with the
// interval, the looks and the reason in the reports.
func TestE2EAnInconclusiveHoldGoesOn(t *testing.T) {
	t.Parallel()
	addr, _ := serveDemo(t, "--latency", "2ms", "--jitter", "2ms", "--error-rate", "2%")
	for _, tc := range []struct {
		name, rule string
		code       int
		hold       float64
	}{
		{"decided", "error_rate < 50%", ExitPass, 2},
		{"undecidable", "error_rate < 2%", ExitInvalid, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := "target: http://" + addr + "\n" +
				"load: {users: 4, spawn_rate: 100, think: 5ms, duration: 2s, max_duration: 5s}\n" +
				"verdict: {confidence: 99.9%}\n" +
				"setup: [{name: login, method: POST, path: /auth/token, json: {username: testuser, password: testpass}, extract: {token: $.access_token}}]\n" +
				"tasks: [{name: list, path: /api/products, headers: {Authorization: \"Bearer {{token}}\"}}]\n" +
				"thresholds: [t.yaml]\n"
			if err := os.WriteFile(filepath.Join(dir, "perfgate.yaml"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "t.yaml"), []byte("all:\n  - "+tc.rule+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := perfgate(t, dir, time.Minute, "run", "--progress", "500ms")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			res := readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r)
			ph := res.Main()
			if h := ph.Delivery.HoldSeconds; h < tc.hold-0.3 || h > tc.hold+0.6 {
				t.Errorf("hold of %.2fs, want %.0fs\n%s", h, tc.hold, r.stdout)
			}
			c := res.Checks[0]
			if c.Interval == nil || c.Interval.Low > *c.Measured || c.Interval.High < *c.Measured || c.Interval.Level < 0.998 {
				t.Errorf("check %+v, interval %+v: want the measured value inside a 99.8%% interval", c, c.Interval)
			}
			switch tc.code {
			case ExitPass:
				// Judged at the first look after 2 s of at most 5: the share
				// ln(1 + (e - 1) t/5) of the error, 0.52 at t = 2 s. On a busy machine
				// the look comes late, but no later than the hold's end.
				share := func(t float64) float64 { return math.Log(1 + (math.E-1)*min(t/5, 1)) }
				lo, hi := share(2)-0.03, share(ph.Delivery.HoldSeconds)+0.03
				if c.Status != "pass" || c.Interval.ErrorSpent < lo || c.Interval.ErrorSpent > hi || strings.Contains(r.stdout, "holding on") {
					t.Errorf("decided at the planned hold: %s, spent %v, want [%.3f, %.3f]\n%s", c.Status, c.Interval.ErrorSpent, lo, hi, r.stdout)
				}
			case ExitInvalid:
				// The last look, at the longest hold, spends what the earlier ones left.
				if c.Status != "inconclusive" || c.Interval.ErrorSpent <= 0 || c.Interval.ErrorSpent > 0.2 || len(res.Reasons) != 1 || res.Reasons[0].Code != "inconclusive" ||
					!strings.Contains(r.stdout, "a rule is inconclusive after 2s of the hold: holding on (at most 5s)") ||
					!strings.Contains(r.stdout, "the interval straddles the limit") {
					t.Errorf("status %s, reasons %+v\n%s", c.Status, res.Reasons, r.stdout)
				}
			}
		})
	}
}

// TestE2EABaselineOfSeveralRuns records three runs of the sample API as one baseline
// with the built binary, then judges a candidate against it, unchanged and three times as slow:
// the unchanged one passes "p99 < baseline + 50%" with the baseline's three runs in its
// interval, the slow one fails it.
func TestE2EABaselineOfSeveralRuns(t *testing.T) {
	t.Parallel()
	cfg := func(addr, rules string) string {
		return "target: http://" + addr + "\n" +
			"load: {users: 8, spawn_rate: 100, think: 5ms, duration: 3s}\n" +
			"setup: [{name: login, method: POST, path: /auth/token, json: {username: testuser, password: testpass}, extract: {token: $.access_token}}]\n" +
			"tasks: [{name: list, path: /api/products, headers: {Authorization: \"Bearer {{token}}\"}}]\n" +
			"thresholds: [" + rules + "]\n"
	}
	addr, _ := serveDemo(t, "--latency", "10ms", "--jitter", "5ms")
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("plain.yaml", "all: [p99 < 1s]\n")
	write("base.yaml", cfg(addr, "plain.yaml"))
	// perfgate baseline refuses runs that disagree (one 10% off the others' median: a
	// busy few seconds); as a user would, the runs are then recorded again, at most
	// twice more (fullAttempts in all).
	var r result
	for attempt := 1; ; attempt++ {
		var results []string
		for i := range 3 {
			name := filepath.Join(dir, "r"+string(rune('1'+i))+".json")
			if r := perfgate(t, dir, time.Minute, "run", "-c", "base.yaml", "--progress", "250ms", "--json", name, "--junit", ""); r.code != ExitPass {
				t.Fatalf("baseline run %d: exit %d\n%s\n%s", i+1, r.code, r.stdout, r.stderr)
			}
			results = append(results, name)
		}
		r = perfgate(t, dir, time.Minute, append(append([]string{"baseline"}, results...), "-o", filepath.Join(dir, "baseline.json"))...)
		if r.code == ExitPass || attempt == fullAttempts || !strings.Contains(r.stderr, "the runs of a baseline should agree") {
			break
		}
		t.Logf("baseline refused, recording its runs again: %s", r.stderr)
	}
	if r.code != ExitPass || !strings.Contains(r.stdout, "3 runs") {
		t.Fatalf("baseline: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	write("gate.yaml", "baseline: baseline.json\nall: [p99 < baseline + 50%]\n")
	for _, tc := range []struct {
		name  string
		flags []string
		code  int
	}{
		{"unchanged", []string{"--latency", "10ms", "--jitter", "5ms"}, ExitPass},
		{"three times as slow", []string{"--latency", "30ms", "--jitter", "15ms"}, ExitFail},
	} {
		cand, _ := serveDemo(t, tc.flags...)
		write("cand.yaml", cfg(cand, "gate.yaml"))
		r := perfgate(t, dir, time.Minute, "run", "-c", "cand.yaml", "--progress", "250ms", "--json", filepath.Join(dir, "c.json"), "--junit", "")
		if r.code != tc.code || !strings.Contains(r.stdout, "and 3 baseline runs") {
			t.Errorf("%s: exit %d, want %d, with the baseline's 3 runs in the interval\n%s\n%s", tc.name, r.code, tc.code, r.stdout, r.stderr)
		}
	}
}
