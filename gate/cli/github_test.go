package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perfgate/perfgate/gate/internal/ghfake"
	"github.com/perfgate/perfgate/gate/internal/runnerfile"
)

// secretAPI issues a known token and checks every secret it is sent.
func secretAPI(t *testing.T, password, token, cookie string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/token", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		if !strings.Contains(buf.String(), password) {
			w.WriteHeader(401)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q}`, token)
	})
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("Cookie") != cookie {
			w.WriteHeader(403)
			return
		}
		fmt.Fprint(w, `{"items":[]}`)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const secretConfig = `target: ${TARGET_URL}
load: {users: 3, spawn_rate: 100, duration: 1s, think: 10ms}
defaults:
  headers: {Cookie: "${SESSION_COOKIE}"}
setup:
  - name: login
    path: /auth/token
    json: {username: u, password: "${PERFGATE_PASSWORD}"}
    extract: {token: $.access_token}
tasks:
  - {name: items, path: /api/items, headers: {Authorization: "Bearer {{token}}"}}
thresholds: [t.yaml]
`

// TestSecretsNeverLeak runs a whole gate as a GitHub Actions step with known secrets (a
// password from the environment, a token extracted at login, Authorization and Cookie
// headers) and searches every stream and file it writes for them.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		password = "pw-Sup3rSecret-001"
		token    = "tok-Sup3rSecret-002"
		cookie   = "sid=Sup3rSecret-003"
	)
	srv := secretAPI(t, password, token, cookie)
	// A second of three users is a few hundred requests: too few to show an error rate
	// under 1% for sure, enough for 5%.
	for _, rules := range []string{"all: [p99 < 10s, error_rate < 5%]\n", "all: [p99 < 1us]\nendpoints:\n  items: [max < 1us]\n"} {
		dir := writeFiles(t, map[string]string{"perfgate.yaml": secretConfig, "t.yaml": rules})
		env := map[string]string{
			"TARGET_URL": srv.URL, "PERFGATE_PASSWORD": password, "SESSION_COOKIE": cookie,
			"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "gh-output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "gh-summary"),
		}
		code, out, errs := invoke(t, dir, env, "run", "--progress", "200ms")
		if code != ExitPass && code != ExitFail {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		if code == ExitFail && !strings.Contains(out, "::error file=t.yaml,line=1,") {
			t.Errorf("no annotation for the breached rule:\n%s", out)
		}
		// Masks come first, for the secrets known before the run.
		lines := strings.Split(out, "\n")
		if lines[0] != "::add-mask::"+cookie || lines[1] != "::add-mask::"+password {
			t.Errorf("stdout does not start with the masks:\n%s", strings.Join(lines[:3], "\n"))
		}
		var masked []string
		var rest strings.Builder
		for _, l := range lines {
			if m, ok := strings.CutPrefix(l, "::add-mask::"); ok {
				masked = append(masked, m)
				continue
			}
			rest.WriteString(l + "\n")
		}
		if !strings.Contains(strings.Join(masked, ","), token) {
			t.Errorf("the extracted token was not masked: masks %q", masked)
		}
		files := map[string]string{"stdout (masks aside)": rest.String(), "stderr": errs}
		for _, f := range []string{"perfgate-junit.xml", "perfgate-result.json", "gh-output", "gh-summary"} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil || len(data) == 0 {
				t.Errorf("%s was not written: %v", f, err)
			}
			files[f] = string(data)
		}
		for name, text := range files {
			for _, secret := range []string{password, token, cookie, "Sup3rSecret"} {
				if strings.Contains(text, secret) {
					t.Errorf("%s holds the secret %q", name, secret)
				}
			}
		}
	}
}

func TestActionReadsInputs(t *testing.T) {
	const password, token, cookie = "pw-action-secret", "tok-action-secret", "sid=action-secret"
	srv := secretAPI(t, password, token, cookie)
	dir := writeFiles(t, map[string]string{"gate/perfgate.yaml": secretConfig, "gate/t.yaml": "all: [p99 < 10s]\n", "gate/strict.yaml": "all: [p99 < 1us]\n",
		"event.json": `{"number": 7, "pull_request": {"number": 7}}`})
	gh := &ghfake.API{Token: "ghs_action-token"}
	gh.Others(130)
	api := httptest.NewServer(gh)
	defer api.Close()
	env := map[string]string{
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": filepath.Join(dir, "event.json"), "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_API_URL": api.URL, "GITHUB_JOB": "perf", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "42",
		"INPUT_GITHUB-TOKEN": "ghs_action-token",
		"GITHUB_ACTIONS":     "true", "GITHUB_OUTPUT": filepath.Join(dir, "gh-output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "gh-summary"),
		"TARGET_URL": "http://127.0.0.1:9", "PERFGATE_PASSWORD": password, "SESSION_COOKIE": cookie,
		"INPUT_WORKING-DIRECTORY": filepath.Join(dir, "gate"),
		"INPUT_TARGET":            srv.URL,
		"INPUT_DURATION":          "800ms",
		"INPUT_USERS":             "2",
		"INPUT_PROFILE":           "peak",
		"INPUT_THRESHOLDS":        "t.yaml\nstrict.yaml",
		"INPUT_JUNIT":             "reports/junit.xml",
		"INPUT_ARGS":              "--progress 300ms",
		"PERFGATE_CONTENTION":     "record", // as testCommand's: the suite is its own busiest neighbour
	}
	var out, errb bytes.Buffer
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	c := &Command{Stdout: &out, Stderr: &errb,
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		}}
	code := c.Run(context.Background(), []string{"action"})
	if code != ExitFail {
		t.Fatalf("exit %d, want 1 (strict.yaml fails)\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "perfgate run --target "+srv.URL+" --users 2 --duration 800ms --profile peak --junit reports/junit.xml --thresholds t.yaml --thresholds strict.yaml --pr-comment --progress 300ms") {
		t.Errorf("the inputs were not passed on:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "::add-mask::"+password) || !strings.Contains(out.String(), "::add-mask::ghs_action-token") {
		t.Error("secret-looking environment variables, or the github-token input, were not masked")
	}
	// The pull request's comment: one, after the others, with the verdict and the
	// breached rule, a link to the run, and no secret.
	comments, _ := gh.Seen()
	if len(comments) != 131 || !strings.Contains(out.String(), "commented on pull request #7") {
		t.Fatalf("%d comments\n%s\n%s", len(comments), out.String(), errb.String())
	}
	body := comments[130].Body
	for _, want := range []string{`<!-- perfgate:comment "perf" -->`, "### perfgate: ❌ FAIL", "`p99 < 1us`", "https://github.example/acme/shop/actions/runs/42"} {
		if !strings.Contains(body, want) {
			t.Errorf("the comment lacks %q:\n%s", want, body)
		}
	}
	for _, secret := range []string{password, token, "action-secret", "ghs_action-token"} {
		if strings.Contains(body, secret) {
			t.Errorf("the comment holds a secret %q", secret)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "gh-output"))
	outs := runnerfile.Parse(t, string(data))
	if outs["verdict"] != "fail" || outs["junit-path"] != "reports/junit.xml" || outs["p99-ms"] == "" {
		t.Errorf("outputs = %v", outs)
	}
	if _, err := os.Stat(filepath.Join(dir, "gate", "reports", "junit.xml")); err != nil {
		t.Errorf("JUnit not written in the working directory: %v", err)
	}

	code, _, errs := invoke(t, dir, map[string]string{}, "action")
	if code != ExitUsage || !strings.Contains(errs, "GITHUB_ACTIONS=true") {
		t.Errorf("outside GitHub Actions: exit %d %q", code, errs)
	}
}

func TestNothingGitHubOutsideActions(t *testing.T) {
	srv := secretAPI(t, "pw-xxxxxx", "tok-xxxxxx", "sid=xxxxxx")
	dir := writeFiles(t, map[string]string{"perfgate.yaml": secretConfig, "t.yaml": "all: [p99 < 1us]\n"})
	env := map[string]string{"TARGET_URL": srv.URL, "PERFGATE_PASSWORD": "pw-xxxxxx", "SESSION_COOKIE": "sid=xxxxxx",
		"GITHUB_OUTPUT": filepath.Join(dir, "gh-output")}
	code, out, errs := invoke(t, dir, env, "run")
	if code != ExitFail || strings.Contains(out+errs, "::") {
		t.Errorf("exit %d; workflow commands printed outside GitHub Actions:\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "gh-output")); err == nil {
		t.Error("GITHUB_OUTPUT written outside GitHub Actions")
	}
}

// A pull request from a fork gets a read-only token: the run's verdict stands, and the
// comment is skipped, saying why; run again, a comment already there is updated in place.
func TestPullRequestComment(t *testing.T) {
	srv := secretAPI(t, "pw-xxxxxx", "tok-xxxxxx", "sid=xxxxxx")
	dir := writeFiles(t, map[string]string{"perfgate.yaml": secretConfig, "t.yaml": "all: [p99 < 10s]\n", "event.json": `{"pull_request": {"number": 7}}`})
	gh := &ghfake.API{Token: "ghs_tok", ReadOnly: true}
	api := httptest.NewServer(gh)
	defer api.Close()
	env := map[string]string{"TARGET_URL": srv.URL, "PERFGATE_PASSWORD": "pw-xxxxxx", "SESSION_COOKIE": "sid=xxxxxx",
		"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": filepath.Join(dir, "event.json"), "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_API_URL": api.URL, "GITHUB_JOB": "perf", "GITHUB_TOKEN": "ghs_tok"}
	args := []string{"run", "-c", filepath.Join(dir, "perfgate.yaml"), "--thresholds", filepath.Join(dir, "t.yaml"), "--duration", "500ms",
		"--users", "2", "--junit", "", "--json", "", "--pr-comment"}
	code, out, errs := invokeNoChdir(t, dir, env, args...)
	if code != ExitPass || !strings.Contains(out, "pull request comment skipped: GitHub refused the comment (403: Resource not accessible by integration); a pull request from a fork") {
		t.Fatalf("fork: exit %d\n%s\n%s", code, out, errs)
	}
	gh.SetReadOnly(false)
	for i, want := range []string{"commented on pull request #7", "updated the comment on pull request #7"} {
		code, out, errs = invokeNoChdir(t, dir, env, append(args, "--pr-comment-key", "perf (arm64)")...)
		if code != ExitPass || !strings.Contains(out, want) {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, code, out, errs)
		}
	}
	comments, _ := gh.Seen()
	if len(comments) != 1 || !strings.Contains(comments[0].Body, `<!-- perfgate:comment "perf (arm64)" -->`) || !strings.Contains(comments[0].Body, "✅ PASS") {
		t.Errorf("comments %+v", comments)
	}
	// Without a token, or outside a pull request, it says so and the verdict stands.
	delete(env, "GITHUB_TOKEN")
	if code, _, errs = invokeNoChdir(t, dir, env, args...); code != ExitPass || !strings.Contains(errs, "pull request comment: no token") {
		t.Errorf("no token: exit %d %q", code, errs)
	}
	env["GITHUB_TOKEN"], env["GITHUB_EVENT_NAME"] = "ghs_tok", "push"
	if code, out, _ = invokeNoChdir(t, dir, env, args...); code != ExitPass || !strings.Contains(out, "not a pull request's workflow run") {
		t.Errorf("push: exit %d %q", code, out)
	}
}

func TestRunLinkTakesOnlyPlainValues(t *testing.T) {
	if got := runLink("https://github.example", "acme/shop", "42"); got != "https://github.example/acme/shop/actions/runs/42" {
		t.Errorf("link %q", got)
	}
	for _, bad := range [][3]string{{"javascript:alert(1)", "acme/shop", "42"}, {"https://github.example", "acme/shop) [x](y", "42"}, {"https://github.example", "acme/shop", "42\n::warning::x"}} {
		if got := runLink(bad[0], bad[1], bad[2]); got != "" {
			t.Errorf("runLink%q = %q, want none", bad, got)
		}
	}
}
