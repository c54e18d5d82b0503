package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/demo"
	"github.com/perfgate/perfgate/gate/internal/runnerfile"
)

// invoke runs a command in-process, in dir, with the given environment.
func invoke(t *testing.T, dir string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	return invokeNoChdir(t, dir, env, args...)
}

// invokeNoChdir runs a command in-process without changing folder, so that tests can run
// in parallel; paths must be absolute.
func invokeNoChdir(t *testing.T, _ string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return invokeWith(context.Background(), testCommand(env), args...)
}

// testCommand is a Command with the environment env, as a process started with it has.
// The suite is the machine's busiest neighbour, so runs record contention without
// judging it (PERFGATE_CONTENTION=record) unless env says otherwise.
func testCommand(env map[string]string) *Command {
	if _, set := env["PERFGATE_CONTENTION"]; !set {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["PERFGATE_CONTENTION"] = "record"
	}
	return &Command{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		}}
}

// invokeWith runs c with args under ctx, and returns what it printed.
func invokeWith(ctx context.Context, c *Command, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	code = c.Run(ctx, args)
	return code, out.String(), errb.String()
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// demoConfig is the demo's config with its thresholds in the folder of a test's copy.
func demoConfig() string {
	return strings.Replace(string(demo.ConfigFile), "../../thresholds/", "thresholds/", 1)
}

func demoFiles(t *testing.T) string {
	th, err := os.ReadFile("../../thresholds/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return writeFiles(t, map[string]string{"perfgate.yaml": demoConfig(), "thresholds/demo.yaml": string(th)})
}

func TestValidate(t *testing.T) {
	dir := demoFiles(t)
	code, out, errs := invoke(t, dir, nil, "validate")
	if code != ExitPass || !strings.Contains(out, "perfgate.yaml is valid: 200 users (spawn 10/s, ramp 19.9s), hold 30s, think 1s..3s; 1 setup steps, 2 tasks, 3 endpoints, 6 rules") {
		t.Errorf("validate = %d\n%s%s", code, out, errs)
	}
}

// The demo's config as committed validates and runs from where it lies, its thresholds
// found relative to it, as the README tells a user to try it.
func TestDemoConfigStandsAlone(t *testing.T) {
	config, err := filepath.Abs("../demo/perfgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := invokeNoChdir(t, "", nil, "validate", "-c", config)
	if code != ExitPass || !strings.Contains(out, "is valid") {
		t.Fatalf("validate -c %s: exit %d\nstdout:\n%s\nstderr:\n%s", config, code, out, errs)
	}
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	dir := t.TempDir()
	code, out, errs = invokeNoChdir(t, "", map[string]string{"TARGET_URL": srv.URL}, "run", "-c", config,
		"--users", "20", "--spawn-rate", "200", "--duration", "1500ms", "--think", "10ms",
		"--json", filepath.Join(dir, "r.json"), "--junit", filepath.Join(dir, "j.xml"))
	// The config's relative paths (its thresholds) resolve from its own folder: the run
	// reads its six rules and judges them. Which verdict a 1.5 s run against a server in
	// this process reaches on a busy machine is not this test's question.
	thresholds, _ := filepath.Abs("../../thresholds/demo.yaml")
	judged := code == ExitPass || code == ExitFail || code == ExitInvalid && strings.Contains(out, "could not wake its users on time")
	if !judged || !strings.Contains(out, "6 rules from "+thresholds) || !strings.Contains(out, "Verdict: ") {
		t.Errorf("run -c %s: exit %d\nstdout:\n%s\nstderr:\n%s", config, code, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := demoFiles(t)
	broken := writeFiles(t, map[string]string{
		"perfgate.yaml":    "target: http://127.0.0.1:1\nload:\n  userz: 3\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
		"neg.yaml":         "target: http://127.0.0.1:1\ntasks:\n  - path: /\n    weight: -1\nthresholds: [t.yaml]\n",
		"badendpoint.yaml": "target: http://127.0.0.1:1\ntasks: [{path: /a}]\nthresholds: [u.yaml]\n",
		"nothresh.yaml":    "target: http://127.0.0.1:1\ntasks: [{path: /a}]\n",
		"t.yaml":           "all: [p99 < 1s]\n",
		"u.yaml":           "all: [p99 < 1s]\nendpoints:\n  /b: [p99 < 1s]\n",
	})
	cases := []struct {
		dir  string
		args []string
		want string
	}{
		{broken, []string{"validate"}, "perfgate.yaml:3:3: unknown key \"userz\" (did you mean \"users\"?)"},
		{broken, []string{"run", "-c", "neg.yaml"}, "neg.yaml:4:13: tasks[0]: weight must be between 0 and 1000000, got -1"},
		{broken, []string{"run", "--config", "badendpoint.yaml"}, "u.yaml:3:3: unknown endpoint \"/b\""},
		{broken, []string{"validate", "-c", "nothresh.yaml"}, "nothresh.yaml:1:1: no thresholds"},
		{broken, []string{"validate", "-c", "missing.yaml"}, "config file missing.yaml does not exist"},
		{dir, []string{"run", "--users", "0"}, "--users must be at least 1"},
		{dir, []string{"run", "--duration", "10"}, "invalid value \"10\" for flag -duration: duration \"10\" needs a unit"},
		{dir, []string{"run", "--think", "3s..1s"}, "ends below its start"},
		{dir, []string{"run", "--duration", "1m", "--max-duration", "30s"}, "--max-duration of 30s is shorter than the hold (1m0s)"},
		{dir, []string{"run", "--thresholds", "nope.yaml"}, "thresholds file nope.yaml does not exist"},
		{dir, []string{"run", "extra"}, "unexpected argument \"extra\""},
		{dir, []string{"launch"}, "unknown command \"launch\""},
		{dir, nil, "Usage:"},
		{dir, []string{"serve-demo", "--error-rate", "2"}, "not between 0 and 1"},
	}
	for _, tc := range cases {
		code, out, errs := invoke(t, tc.dir, nil, tc.args...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
		if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
			t.Errorf("%v: a stack trace reached the user:\n%s", tc.args, errs)
		}
		if out != "" && tc.args != nil {
			t.Errorf("%v: stdout = %q, want nothing on a usage error", tc.args, out)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "validate", "demo", "serve-demo", "baseline"} {
		code, out, errs := invoke(t, t.TempDir(), nil, cmd, "--help")
		if code != ExitPass || strings.Count(out, "Usage: perfgate "+cmd) != 1 || !strings.Contains(out, "-") || errs != "" {
			t.Errorf("%s --help: exit %d, want the usage once on stdout and nothing on stderr\nstdout:\n%s\nstderr:\n%s", cmd, code, out, errs)
		}
	}
	code, out, _ := invoke(t, t.TempDir(), nil, "--help")
	if code != ExitPass || !strings.Contains(out, "Exit codes:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	code, out, _ = invoke(t, t.TempDir(), nil, "version")
	if code != ExitPass || !strings.HasPrefix(out, "perfgate ") {
		t.Errorf("version: exit %d %q", code, out)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func readResult(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("report not written: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUnreachableTargetIsInvalidWithReports(t *testing.T) {
	dir := demoFiles(t)
	code, out, errs := invoke(t, dir, nil, "run", "--target", "http://"+freeAddr(t), "--duration", "1s")
	if code != ExitInvalid || !strings.Contains(errs, "cannot reach target http://127.0.0.1:") || !strings.Contains(errs, "connection refused") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	res := readResult(t, filepath.Join(dir, "perfgate-result.json"))
	if res["verdict"] != "invalid" || res["exit_code"] != float64(3) {
		t.Errorf("result verdict %v exit %v", res["verdict"], res["exit_code"])
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "perfgate-junit.xml"))
	if !strings.Contains(string(junit), `type="invalid"`) || !strings.Contains(string(junit), "connection refused") {
		t.Errorf("JUnit does not say why:\n%s", junit)
	}
}

func TestFailedLoginIsInvalidAndLeaksNoSecret(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	dir := demoFiles(t)
	const secret = "hunter2-not-the-password"
	code, out, errs := invoke(t, dir, map[string]string{"PERFGATE_PASSWORD": secret},
		"run", "--target", srv.URL, "--users", "2", "--spawn-rate", "100", "--duration", "1s")
	if code != ExitInvalid || !strings.Contains(out, `setup failed for user`) || !strings.Contains(out, `step "login": status 401`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for name, text := range map[string]string{"stdout": out, "stderr": errs} {
		if strings.Contains(text, secret) {
			t.Errorf("%s holds the password", name)
		}
	}
	for _, f := range []string{"perfgate-result.json", "perfgate-junit.xml"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if len(data) == 0 || bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s is missing or holds the password", f)
		}
	}
}

func TestRunPassesAndFailsOnTheSampleAPI(t *testing.T) {
	dir := demoFiles(t)
	for _, tc := range []struct {
		opts demo.Options
		code int
		want string
	}{
		{demo.Options{}, ExitPass, "Verdict: PASS, all 6 rules held (exit 0)"},
		{demo.Options{ErrorRate: 0.5}, ExitFail, "breached: error_rate < 1% [all]: measured"},
	} {
		// A 1.5 s hold against a server in this process: on a busy machine its users can
		// wake late, or its latency pass a limit, for a second; such a run is made again,
		// at most twice (fullAttempts), and logged.
		var code int
		var out, errs string
		for attempt := 1; ; attempt++ {
			srv := httptest.NewServer(demo.New(tc.opts).Handler())
			code, out, errs = invoke(t, dir, nil, "run", "--target", srv.URL, "--users", "20", "--spawn-rate", "200",
				"--duration", "1500ms", "--think", "10ms", "--json", "out/r.json", "--junit", "out/j.xml")
			srv.Close()
			if code == tc.code && strings.Contains(out, tc.want) || attempt == fullAttempts {
				break
			}
			t.Logf("run %d: exit %d, want %d; running again. Its rules:\n%s", attempt, code, tc.code, ruleLines(out))
		}
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, out, errs)
		}
		res := readResult(t, filepath.Join(dir, "out/r.json"))
		if res["exit_code"] != float64(tc.code) {
			t.Errorf("result exit_code = %v", res["exit_code"])
		}
		if _, err := os.Stat(filepath.Join(dir, "out/j.xml")); err != nil {
			t.Error(err)
		}
	}
}

func TestHTTPSTargets(t *testing.T) {
	srv := httptest.NewTLSServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	dir := demoFiles(t)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	short := []string{"run", "--target", srv.URL, "--users", "3", "--spawn-rate", "100", "--duration", "500ms", "--think", "10ms", "--thresholds", "thresholds/demo.yaml"}
	for _, tc := range []struct {
		extra []string
		code  int
		want  string
	}{
		{nil, ExitInvalid, "TLS failed"},
		{[]string{"--ca-file", ca}, ExitPass, "Verdict: PASS"},
		{[]string{"--insecure"}, ExitPass, "Verdict: PASS"},
		// The protocol the target chose by ALPN, and the handshakes apart.
		{[]string{"--insecure"}, ExitPass, "HTTP/1.1 over TLS: 3 handshakes"},
	} {
		code, out, errs := invoke(t, dir, nil, append(short, tc.extra...)...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s%s", tc.extra, code, tc.code, tc.want, out, errs)
		}
	}
	h2 := httptest.NewUnstartedServer(demo.New(demo.Options{}).Handler())
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	code, out, errs := invoke(t, dir, nil, append(short[:2:2], append([]string{h2.URL}, append(short[3:], "--insecure")...)...)...)
	if code != ExitPass || !strings.Contains(out, "HTTP/2 over TLS: 3 handshakes") {
		t.Errorf("h2: exit %d\n%s%s", code, out, errs)
	}
}

func TestMissingDefaultConfig(t *testing.T) {
	code, _, errs := invoke(t, t.TempDir(), nil, "run")
	if code != ExitUsage || !strings.Contains(errs, "no perfgate.yaml in this folder: pass -c FILE") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// A pass whose report cannot be written is no pass (exit 3), and every report that was
// written says so: none contradicts the exit code.
func TestReportWriteFailureIsNotAPass(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	dir := demoFiles(t)
	out := filepath.Join(dir, "out")
	c := testCommand(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "gh-output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "gh-summary")})
	// The folder of the JSON result turns into a file once the run is over.
	c.beforeReports = func() {
		os.RemoveAll(out)
		os.WriteFile(out, nil, 0o644)
	}
	code, stdout, errs := invokeWith(context.Background(), c, "run", "-c", filepath.Join(dir, "perfgate.yaml"), "--target", srv.URL,
		"--users", "2", "--spawn-rate", "100", "--duration", "300ms", "--think", "10ms", "--json", filepath.Join(out, "r.json"), "--junit", filepath.Join(dir, "j.xml"))
	if code != ExitInvalid || !strings.Contains(errs, "cannot write") {
		t.Fatalf("exit %d, stderr %q: a pass whose report cannot be written must not exit 0\n%s", code, errs, stdout)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "j.xml"))
	summary, _ := os.ReadFile(filepath.Join(dir, "gh-summary"))
	outputs, _ := os.ReadFile(filepath.Join(dir, "gh-output"))
	if !strings.Contains(string(junit), `name="verdict" value="invalid"`) || strings.Contains(string(junit), "Verdict: PASS") ||
		!strings.Contains(string(junit), "could not be written") {
		t.Errorf("JUnit contradicts exit 3:\n%s", junit)
	}
	if !strings.Contains(string(summary), "INVALID") || strings.Contains(string(summary), "PASS") || strings.Count(string(summary), "## perfgate") != 1 {
		t.Errorf("the job summary contradicts exit 3, or was written twice:\n%s", summary)
	}
	if v := runnerfile.Parse(t, string(outputs))["verdict"]; v != "invalid" {
		t.Errorf("the verdict output is %q:\n%s", v, outputs)
	}
}

// Report paths are handled deliberately: a symbolic link is followed, a device is
// written straight into, two reports at one path, a directory or a path under a file
// are errors before any load.
func TestReportPaths(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	dir := demoFiles(t)
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "reports"), 0o755)
	os.Symlink("reports/real.json", filepath.Join(dir, "link.json"))
	run := func(extra ...string) (int, string, string) {
		return invokeNoChdir(t, dir, nil, append([]string{"run", "-c", filepath.Join(dir, "perfgate.yaml"), "--target", srv.URL,
			"--users", "2", "--spawn-rate", "100", "--duration", "300ms", "--think", "10ms"}, extra...)...)
	}
	code, _, errs := run("--json", filepath.Join(dir, "link.json"), "--junit", "/dev/null")
	if code != ExitPass {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "link.json")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "reports", "real.json")); err != nil || !strings.Contains(string(data), `"verdict": "pass"`) {
		t.Errorf("the report did not reach the file the link names: %v", err)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/null is no longer a device: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--json", filepath.Join(dir, "x"), "--junit", filepath.Join(dir, "x")}, "name the same file"},
		{[]string{"--json", filepath.Join(dir, "reports")}, "is a directory"},
		{[]string{"--junit", filepath.Join(dir, "file", "j.xml")}, "is not a folder"},
	} {
		for _, cmd := range []string{"validate", "run"} {
			args := append([]string{cmd, "-c", filepath.Join(dir, "perfgate.yaml"), "--target", srv.URL}, tc.args...)
			code, out, errs := invokeNoChdir(t, dir, nil, args...)
			if code != ExitUsage || !strings.Contains(errs, tc.want) || strings.Contains(out, "requests") {
				t.Errorf("%s %v: exit %d, stderr %q; want exit 2 before any load, saying %q", cmd, tc.args, code, errs, tc.want)
			}
		}
	}
}

var _ = http.StatusOK

func TestOpenModelFlags(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	dir := demoFiles(t)
	code, out, errs := invoke(t, dir, nil, "run", "--target", srv.URL, "--rate", "200/s", "--duration", "1s", "--progress", "500ms")
	if code != ExitPass {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"open model, 200/s (ramp 0s from 0/s), hold 1s, at most 1000 in flight",
		"hold in flight ",
		"Measured window: hold at 200/s, 1.0s: 200 of 200 requests due were sent",
		"Service time (from the actual send): p50",
		"Open model: requests are sent on a fixed schedule",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q\n%s", want, out)
		}
	}
	res := readResult(t, filepath.Join(dir, "perfgate-result.json"))
	l := mainPhase(t, res)["load"].(map[string]any)
	if l["model"] != "open" || l["rate"] != float64(200) || l["users"] != nil {
		t.Errorf("load = %v", l)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0/s"}, "--rate must be above zero"},
		{[]string{"--rate", "150"}, "rate \"150\" needs a unit"},
		{[]string{"--rate", "10/s", "--max-in-flight", "0"}, "--max-in-flight must be at least 1"},
		{[]string{"--rate", "10/s", "--users", "3"}, "do not mix"},
		{[]string{"--rate", "10/s", "--start-rate", "20/s", "--ramp", "5s"}, "the ramp ends below its start"},
		{[]string{"--ramp", "5s"}, "need a rate"},
	} {
		code, _, errs := invoke(t, dir, nil, append([]string{"validate"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestOpenModelShortfallExitsInvalid(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{Latency: 100 * time.Millisecond}).Handler())
	defer srv.Close()
	dir := demoFiles(t)
	code, out, errs := invoke(t, dir, nil, "run", "--target", srv.URL, "--rate", "100/s", "--max-in-flight", "2",
		"--duration", "1s", "--timeout", "300ms")
	if code != ExitInvalid || !strings.Contains(out, "the planned rate was not delivered") ||
		!strings.Contains(out, "all 2 requests allowed in flight (max_in_flight) were busy") {
		t.Errorf("exit %d, want 3 with the shortfall explained\n%s\n%s", code, out, errs)
	}
}
