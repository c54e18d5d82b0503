package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/perfgate/perfgate/gate/demo"
)

// hostile is text an attacker would put in a name, a certificate or a response: a line
// break into a workflow command, a workflow command of the old form, a terminal escape,
// and Markdown that would show a link and an image in the job summary.
const hostile = "x\n::error file=pwned::owned\r\n##[set-output name=verdict;]pass \x1b]8;;http://evil.example\x07 [click](http://evil.example) ![i](http://evil.example/i.png) <img src=x>"

// ownCommands are the workflow commands perfgate itself writes; a line that starts
// with any other is an injected one.
var ownCommands = regexp.MustCompile(`^::(add-mask::|error |warning )`)

// codeSpan matches a Markdown code span, where nothing is markup.
var codeSpan = regexp.MustCompile("`[^`\n]*`")

// assertNeutral fails if text holds a line that starts a workflow command perfgate did
// not write, a workflow command of the old form anywhere, a control character but a
// newline, or (in Markdown) a link, an image or HTML outside a code span.
func assertNeutral(t *testing.T, name, text string, markdown bool) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		switch {
		case strings.HasPrefix(trimmed, "::") && !ownCommands.MatchString(trimmed):
			t.Errorf("%s line %d starts a workflow command: %q", name, i+1, line)
		case strings.Contains(line, "##["):
			t.Errorf("%s line %d holds a workflow command: %q", name, i+1, line)
		case strings.ContainsFunc(line, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }):
			t.Errorf("%s line %d holds a control character: %q", name, i+1, line)
		}
		if markdown {
			outside := codeSpan.ReplaceAllString(line, "")
			for _, markup := range []string{"](", "![", "<img", "<a ", "http://evil"} {
				if strings.Contains(outside, markup) {
					t.Errorf("%s line %d holds %q outside a code span: %q", name, i+1, markup, line)
				}
			}
		}
	}
}

// githubRun runs perfgate in dir as a GitHub Actions step, and returns everything it
// wrote: stdout, stderr, the job summary, the step outputs and the report files.
func githubRun(t *testing.T, dir string, env map[string]string, args ...string) (code int, written map[string]string) {
	t.Helper()
	full := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "gh-output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "gh-summary")}
	for k, v := range env {
		full[k] = v
	}
	code, out, errs := invoke(t, dir, full, args...)
	written = map[string]string{"stdout": out, "stderr": errs}
	for _, f := range []string{"gh-output", "gh-summary", "perfgate-junit.xml", "perfgate-result.json"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		written[f] = string(data)
	}
	return code, written
}

// Names from the user's files and words of the target (a certificate's names in a TLS
// error) are neutral wherever perfgate prints them: on stdout and stderr, in the job
// summary, the annotations and the step outputs.
func TestOutsideBytesNeverBecomeCommands(t *testing.T) {
	t.Run("endpoint names from the config", func(t *testing.T) {
		srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
		defer srv.Close()
		quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\x1b", `\e`, "\x07", `\a`).Replace(hostile)
		doc := strings.Replace(demoConfig(), "  - name: /api/products\n", "  - name: \""+quoted+"\"\n", 1)
		rules := "all: [p99 < 1us]\nendpoints:\n  \"" + quoted + "\": [p99 < 1us]\n"
		dir := writeFiles(t, map[string]string{"perfgate.yaml": doc, "thresholds/demo.yaml": rules})
		code, written := githubRun(t, dir, map[string]string{"TARGET_URL": srv.URL},
			"run", "--users", "4", "--spawn-rate", "100", "--duration", "800ms", "--think", "10ms")
		if code != ExitFail || !strings.Contains(written["stdout"], "owned") {
			t.Fatalf("exit %d, want 1 with the hostile name shown\n%s\n%s", code, written["stdout"], written["stderr"])
		}
		for name, text := range written {
			assertNeutral(t, name, text, name == "gh-summary")
		}
		var outputs []string
		for _, line := range strings.Split(written["gh-output"], "\n") {
			if k, _, ok := strings.Cut(line, "<<"); ok {
				outputs = append(outputs, k)
			}
		}
		if strings.Join(outputs, ",") != "error-rate,html-path,junit-path,p99-ms,result-path,verdict" {
			t.Errorf("step outputs %v", outputs)
		}
	})
	t.Run("a certificate's names in a TLS error", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{hostileCert(t, "no-such-name."+strings.ReplaceAll(hostile, " ", "-"))}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		defer srv.Close()
		dir := demoFiles(t)
		// localhost: a name to check the certificate's against; it is loopback.
		target := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		ca := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.TLS.Certificates[0].Certificate[0]}), 0o644); err != nil {
			t.Fatal(err)
		}
		code, written := githubRun(t, dir, nil, "run", "--target", target, "--ca-file", ca, "--duration", "1s")
		if code != ExitInvalid || !strings.Contains(written["stderr"], "owned") {
			t.Fatalf("exit %d, want 3 with the certificate's names in the reason\n%s\n%s", code, written["stdout"], written["stderr"])
		}
		for name, text := range written {
			assertNeutral(t, name, text, name == "gh-summary")
		}
	})
}

// hostileCert is a self-signed certificate for a DNS name that no one would give it.
func hostileCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostile"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{name}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("a certificate for %q: %v", name, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Secrets stay secret on the paths a happy run never takes: a target password in the
// URL (parsed or not), a secret in a path that names its endpoint, a secret where a
// number belongs, the action echoing its inputs. Nothing perfgate writes, report files
// included, holds one.
func TestSecretsStaySecretOnEveryPath(t *testing.T) {
	const password, key, token = "pw-Sup3rSecret-A", "key-Sup3rSecret-B", "tok-Sup3rSecret-C"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != "perf" || pw != password || r.URL.Query().Get("key") != key {
			w.WriteHeader(401)
		}
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	withPassword := strings.Replace(srv.URL, "http://", "http://perf:"+password+"@", 1)
	config := "target: ${TARGET_URL}\nload: {users: 2, spawn_rate: 100, duration: 600ms, think: 10ms}\n" +
		"tasks: [{path: \"/api/items?key=${API_KEY}\"}]\nthresholds: [t.yaml]\n"
	noLeak := func(name string, written map[string]string) {
		t.Helper()
		for f, text := range written {
			if f == "stdout" {
				var kept []string
				for _, l := range strings.Split(text, "\n") {
					if !strings.HasPrefix(l, "::add-mask::") {
						kept = append(kept, l)
					}
				}
				text = strings.Join(kept, "\n")
			}
			if strings.Contains(text, "Sup3rSecret") {
				t.Errorf("%s: %s holds a secret:\n%s", name, f, text)
			}
		}
	}

	t.Run("a run with a password in the target and a key in a path", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"perfgate.yaml": config, "t.yaml": "all: [error_rate < 1%]\n"})
		code, written := githubRun(t, dir, map[string]string{"TARGET_URL": withPassword, "API_KEY": key}, "run")
		if code != ExitPass {
			t.Fatalf("exit %d, want 0: the password and key were not both sent\n%s\n%s", code, written["stdout"], written["stderr"])
		}
		if !strings.HasPrefix(written["stdout"], "::add-mask::") || !strings.Contains(written["stdout"], "/api/items?key=***") {
			t.Errorf("masks do not come first, or the endpoint is not named with its key hidden:\n%s", written["stdout"])
		}
		noLeak("run", written)
	})
	t.Run("a password the URL parser cannot read", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"perfgate.yaml": config, "t.yaml": "all: [error_rate < 1%]\n"})
		code, written := githubRun(t, dir, map[string]string{"TARGET_URL": "http://perf:pw Sup3rSecret%zz@127.0.0.1:9", "API_KEY": key}, "validate")
		if code != ExitUsage || !strings.Contains(written["stderr"], "perf:xxxxx@127.0.0.1:9") {
			t.Errorf("exit %d, stderr %q", code, written["stderr"])
		}
		noLeak("validate", written)
	})
	t.Run("a secret where a number belongs", func(t *testing.T) {
		doc := strings.Replace(config, "load: {users: 2, spawn_rate: 100, duration: 600ms, think: 10ms}", "load:\n  users: ${API_TOKEN}", 1)
		dir := writeFiles(t, map[string]string{"perfgate.yaml": doc, "t.yaml": "all: [error_rate < 1%]\n"})
		code, written := githubRun(t, dir, map[string]string{"TARGET_URL": srv.URL, "API_KEY": key, "API_TOKEN": token}, "validate")
		if code != ExitUsage || !strings.Contains(written["stderr"], "perfgate.yaml:3:") {
			t.Errorf("exit %d, stderr %q", code, written["stderr"])
		}
		noLeak("validate", written)
	})
	t.Run("the action echoing its inputs", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"perfgate.yaml": config, "t.yaml": "all: [error_rate < 1%]\n"})
		code, written := githubRun(t, dir, map[string]string{"API_KEY": key, "INPUT_TARGET": withPassword,
			"INPUT_ARGS": "--duration 500ms --ca-file x --target " + withPassword, "INPUT_WORKING-DIRECTORY": dir}, "action")
		lines := strings.Split(written["stdout"], "\n")
		if !strings.HasPrefix(lines[0], "::add-mask::") || !strings.Contains(written["stdout"], "perfgate run --target http://perf:xxxxx@") {
			t.Errorf("exit %d; masks first, then the inputs redacted:\n%s\n%s", code, written["stdout"], written["stderr"])
		}
		noLeak("action", written)
	})
}
