package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// When perfgate itself runs out of file descriptors, the requests it could not make are
// the generator's failures: not the target's errors, and the run has no verdict (exit
// 3), whichever way the users are run.
func TestGeneratorOutOfDescriptorsIsInvalid(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, tc := range []struct{ name, think string }{
		{"event loop", "0s"},
		{"a goroutine per user", "1ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{
				"c.yaml": "target: " + srv.URL + "\nload: {users: 300, spawn_rate: 100000, duration: 1s, think: " + tc.think + "}\n" +
					"defaults: {timeout: 1s}\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
				"t.yaml": "all: [error_rate < 1%]\n",
			})
			// The hard limit too: Go raises the soft limit to the hard one at start.
			r := limited(t, dir, "ulimit -n 64", "run", "-c", "c.yaml", "--json", "r.json")
			if r.code != ExitInvalid || !strings.Contains(r.stdout, "perfgate ran out of file descriptors (EMFILE)") {
				t.Fatalf("exit %d, want 3 for the generator's failures\n%s%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "perfgate: warning: the plan may hold 300 connections open, and perfgate may open 64 files (ulimit -n)") {
				t.Errorf("no warning of the limit before the run:\n%s", r.stderr)
			}
			var res struct {
				Reasons []struct{ Code string }
				Phases  []struct {
					Hold, Ramp struct {
						All struct {
							Requests, Errors  int64
							GeneratorFailures int64 `json:"generator_failures"`
						}
					}
				}
			}
			data, err := os.ReadFile(filepath.Join(dir, "r.json"))
			if err != nil || json.Unmarshal(data, &res) != nil {
				t.Fatalf("result: %v\n%s", err, data)
			}
			if len(res.Reasons) == 0 || res.Reasons[0].Code != "generator_failed" {
				t.Errorf("reasons %+v, want generator_failed", res.Reasons)
			}
			hold, ramp := res.Phases[0].Hold.All, res.Phases[0].Ramp.All
			if hold.GeneratorFailures+ramp.GeneratorFailures == 0 || hold.Requests == 0 || hold.Errors != 0 || ramp.Errors != 0 {
				t.Errorf("hold %+v, ramp %+v: want the target's requests without errors, and the generator's failures apart", hold, ramp)
			}
		})
	}
}

// Every run stops by itself within its ramp, hold and timeout and a few seconds, whatever
// the target does: here 100,000 users against a target that refuses every connection
// after the probe, each failed connect made again at once.
func TestRunAgainstARefusingTargetStopsByItself(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("100,000 users")
	}
	addr := loopback.RefusingAfterFirst(t)
	dir := writeFiles(t, map[string]string{
		"c.yaml": "target: http://" + addr + "\nload: {users: 100000, spawn_rate: 1000000, duration: 2s}\n" +
			"defaults: {timeout: 1s}\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
		"t.yaml": "all: [error_rate < 1%]\n",
	})
	// The bound leaves room for a busy machine: starting 100,000 users takes a few
	// seconds of two processors (about 2.5 s here alone), and 2 s of hold and 1 s of
	// timeout follow. A run that does not stop by itself never ends.
	start := time.Now()
	r := perfgate(t, dir, 90*time.Second, "run", "-c", "c.yaml", "--json", "r.json")
	took := time.Since(start)
	if r.code != ExitFail && r.code != ExitInvalid {
		t.Fatalf("exit %d after %v, want 1 (every request failed) or 3 (the generator could not keep up)\n%s%s", r.code, took, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.json")); err != nil {
		t.Errorf("no result after %v: %v", took, err)
	}
	t.Logf("stopped by itself after %v (exit %d)", took.Round(time.Millisecond), r.code)
}

// limited runs the built binary in dir under a shell that first runs limit (ulimit ...).
func limited(t *testing.T, dir, limit string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", limit + ` && exec "$0" "$@"`, binary(t)}, args...)...)
	cmd.Dir, cmd.Env = dir, suiteEnv()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) || ctx.Err() != nil {
		t.Fatalf("perfgate %v under %q: %v\n%s%s", args, limit, err, out.String(), errb.String())
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}
