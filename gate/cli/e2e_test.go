package cli

// End-to-end tests: the built binary, as a user or a CI job runs it, against the
// built-in sample API on loopback. They assert exit codes, output and report files.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/junitxsd"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary the end-to-end tests built, once they have all run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds cmd/perfgate once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "perfgate-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "perfgate")
		// Without the VCS stamp the binary says "perfgate dev", as the golden files do,
		// whether the checkout is clean (a pseudo-version otherwise) or not.
		out, err := exec.Command("go", "build", "-buildvcs=false", "-o", binPath, "../../cmd/perfgate").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// perfgate runs the binary in dir and waits for it, up to a bound.
// suiteEnv is the environment of the binary the end-to-end tests run: this one's, with
// contention recorded, not judged (see testCommand).
func suiteEnv() []string { return append(os.Environ(), "PERFGATE_CONTENTION=record") }

func perfgate(t *testing.T, dir string, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir, cmd.Env = dir, suiteEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("perfgate %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("perfgate %v did not finish within %v\n%s", args, timeout, out.String())
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

func TestE2EDemoPasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The README's first command, as a new user runs it: 200 users, a 20 s ramp, a 30 s hold.
	r := perfgate(t, dir, 3*time.Minute, "demo", "--html", "report.html")
	if r.code != ExitPass {
		t.Fatalf("demo exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"perfgate dev: 200 users (spawn 10/s, ramp 19.9s), hold 30s, think 1s..3s",
		"hold users 200/200",
		"/api/products/:id",
		"Ramp: ", "(login 200, ",
		"Verdict: PASS, all 6 rules held (exit 0)",
		"wrote perfgate-junit.xml",
		"wrote report.html",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r.stdout)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !bytes.Contains(page, []byte(`<header class="verdict v-pass">`)) || !bytes.Contains(page, []byte("/api/products/:id")) {
		t.Errorf("the HTML report is not the run's (%v):\n%.600s", err, page)
	}
	// A progress line every 2 s of the clock (a twentieth of the 30 s hold; the first
	// one sooner): 25 or 26 in the ramp's 20 s and the hold's 30 s, the ramp's with some
	// of the 200 users.
	progress := regexp.MustCompile(`(?m)^\[ *\d+s\] (ramp|hold) users \d+/200  requests [\d,]+  [\d.]+ req/s  p99 \S+  errors 0 \(0\.00%\)$`)
	if n := len(progress.FindAllString(r.stdout, -1)); n < 24 || n > 27 || !strings.Contains(r.stdout, "s] ramp users ") {
		t.Errorf("%d progress lines, want 24 to 27 with the ramp's among them:\n%s", n, r.stdout)
	}
	junitxsd.Validate(t, filepath.Join(dir, "perfgate-junit.xml"))
	res := readResult(t, filepath.Join(dir, "perfgate-result.json"))
	if res["verdict"] != "pass" || res["version"] != "perfgate.result/v2" {
		t.Errorf("result = %v %v", res["verdict"], res["version"])
	}
}

func TestE2EDemoRegressFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := perfgate(t, dir, time.Minute, "demo", "--regress", "--users", "40", "--spawn-rate", "40", "--duration", "5s")
	if r.code != ExitFail {
		t.Fatalf("demo --regress exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Verdict: FAIL", "breached: p99 < 300ms [all]: measured", "breached: p95 < 200ms [all]"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r.stdout)
		}
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "perfgate-junit.xml"))
	if !strings.Contains(string(junit), `<failure message="measured`) {
		t.Errorf("JUnit has no failure:\n%s", junit)
	}
	junitxsd.Validate(t, filepath.Join(dir, "perfgate-junit.xml"))
}

func TestE2EInvalidConfig(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"perfgate.yaml": "target: http://127.0.0.1:9\nload:\n  users: 10\n  duration: 5 min\n"})
	r := perfgate(t, dir, 30*time.Second, "run")
	if r.code != ExitUsage || r.stderr != "perfgate: perfgate.yaml:4:13: invalid duration \"5 min\" (use a number and a unit: 500ms, 30s, 5m, 1m30s)\n"+
		"  4 |   duration: 5 min\n    |             ^\n" {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "perfgate-junit.xml")); err == nil {
		t.Error("a config error wrote a report: nothing was run")
	}
}

func TestE2EUnreachableTarget(t *testing.T) {
	t.Parallel()
	dir := demoFiles(t)
	r := perfgate(t, dir, 30*time.Second, "run", "--target", "http://"+freeAddr(t))
	if r.code != ExitInvalid || !strings.Contains(r.stderr, "connection refused") || !strings.Contains(r.stdout, "Verdict: INVALID") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	junitxsd.Validate(t, filepath.Join(dir, "perfgate-junit.xml"))
}

// serveDemo starts the binary's sample API on a free loopback port, waits until it
// answers, and stops it when the test ends.
func serveDemo(t *testing.T, flags ...string) (addr string, srv *exec.Cmd) {
	t.Helper()
	addr = freeAddr(t)
	srv = exec.Command(binary(t), append([]string{"serve-demo", "--addr", addr}, flags...)...)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait() // reap it; an error only says a test already did
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return addr, srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve-demo did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestE2EServeDemoThenRun(t *testing.T) {
	t.Parallel()
	addr, srv := serveDemo(t, "--latency", "1ms", "--jitter", "2ms")

	dir := demoFiles(t)
	r := perfgate(t, dir, time.Minute, "run", "-c", "perfgate.yaml", "--target", "http://"+addr,
		"--users", "30", "--spawn-rate", "60", "--duration", "3s", "--think", "10ms..30ms", "--progress", "1s")
	if r.code != ExitPass || strings.Count(r.stdout, "hold users 30/30") < 1 {
		t.Errorf("run exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	if err := srv.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve-demo exited with %v on SIGINT, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("serve-demo did not stop on SIGINT")
	}
}

// TestE2ECancelWritesReports sends what CI sends on cancel (SIGTERM, or SIGINT from a
// terminal) to the built binary mid-run: load stops within 2 s, the reports say what
// was measured and that the run was cancelled, and the exit code is 3. A second signal
// ends the process at once.
func TestE2ECancelWritesReports(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals []os.Signal
	}{
		{"SIGTERM", []os.Signal{syscall.SIGTERM}},
		{"SIGINT", []os.Signal{os.Interrupt}},
		{"SIGINT twice", []os.Signal{os.Interrupt, os.Interrupt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := exec.Command(binary(t), "demo", "--users", "20", "--spawn-rate", "100", "--duration", "5m", "--think", "50ms", "--progress", "500ms")
			cmd.Dir, cmd.Env = dir, suiteEnv()
			out := &syncBuffer{}
			cmd.Stdout = out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			// Wait for the hold, as shown by a progress line.
			for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "] hold "); {
				if time.Now().After(deadline) {
					t.Fatalf("the run never reached its hold:\n%s", out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			sent := time.Now()
			for _, sig := range tc.signals {
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("perfgate did not stop on %s", tc.name)
			}
			if took := time.Since(sent); took > 2*time.Second {
				t.Errorf("stopping took %v, want under 2s", took)
			}
			if len(tc.signals) > 1 {
				// Exit 3 if the first signal's shutdown finished first, else killed by the second.
				if code := cmd.ProcessState.ExitCode(); code != ExitInvalid && code != -1 {
					t.Errorf("exit %d after two signals", code)
				}
				return
			}
			if code := cmd.ProcessState.ExitCode(); code != ExitInvalid {
				t.Errorf("exit %d after %s, want 3\n%s", code, tc.name, out.String())
			}
			res := readResult(t, filepath.Join(dir, "perfgate-result.json"))
			if res["verdict"] != "invalid" || !strings.Contains(strings.Join(reasonsOf(res), ";"), "cancelled") {
				t.Errorf("result verdict %v reasons %v", res["verdict"], res["reasons"])
			}
			if hold := holdAll(t, res); hold["requests"].(float64) == 0 {
				t.Error("the requests measured before the signal are missing from the result")
			}
			junitxsd.Validate(t, filepath.Join(dir, "perfgate-junit.xml"))
		})
	}
}

// syncBuffer is a bytes.Buffer that a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// reasonsOf lists the messages of a result's reasons.
func reasonsOf(res map[string]any) []string {
	var out []string
	list, _ := res["reasons"].([]any)
	for _, x := range list {
		r, _ := x.(map[string]any)
		s, _ := r["message"].(string)
		out = append(out, s)
	}
	return out
}

// mainPhase is the phase of a result whose figures the reports show first.
func mainPhase(t *testing.T, res map[string]any) map[string]any {
	t.Helper()
	main := res["settings"].(map[string]any)["main_phase"]
	for _, ph := range res["phases"].([]any) {
		if ph := ph.(map[string]any); ph["name"] == main {
			return ph
		}
	}
	t.Fatalf("no main phase %v in the result", main)
	return nil
}

// holdAll is the main phase's figures over all requests of its hold.
func holdAll(t *testing.T, res map[string]any) map[string]any {
	return mainPhase(t, res)["hold"].(map[string]any)["all"].(map[string]any)
}
