package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perfgate/perfgate/gate/internal/runnerfile"
	"github.com/perfgate/perfgate/gate/load"
)

func githubEnv(t *testing.T) (map[string]string, func(string) string) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	return env, func(k string) string { return env[k] }
}

func TestGitHubPublish(t *testing.T) {
	env, getenv := githubEnv(t)
	if !GitHubEnabled(getenv) || GitHubEnabled(func(string) string { return "" }) {
		t.Fatal("GitHubEnabled")
	}
	var log bytes.Buffer
	g := NewGitHub(getenv, &log)
	r := fixture(t, nil, thDoc)
	if err := g.Publish(r, Paths{JUnit: "out/junit.xml", JSON: "out/result.json"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	outs := runnerfile.Parse(t, string(data))
	want := map[string]string{
		"verdict": "fail", "junit-path": "out/junit.xml", "result-path": "out/result.json",
		"p99-ms": "153.087", "error-rate": "0.012",
	}
	for k, v := range want {
		if outs[k] != v {
			t.Errorf("output %s = %q, want %q", k, outs[k], v)
		}
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	var md bytes.Buffer
	WriteMarkdown(&md, r)
	if !strings.HasPrefix(string(summary), md.String()) {
		t.Errorf("job summary is not the Markdown report:\n%s", summary)
	}
	wantLog := []string{
		"::error file=thresholds/release.yaml,line=3,title=perfgate%3A threshold breached::error_rate < 1%25 [all]: measured 1.2%25, limit < 1%25, 3,000 samples\n",
		"::error file=thresholds/release.yaml,line=7,title=perfgate%3A threshold breached::p95 < 100ms [/api/products/:id]: measured 148ms, limit < 100ms, 1,500 samples\n",
	}
	if log.String() != strings.Join(wantLog, "") {
		t.Errorf("annotations:\n%s\nwant:\n%s", log.String(), strings.Join(wantLog, ""))
	}
}

func TestGitHubInvalidRunWarns(t *testing.T) {
	_, getenv := githubEnv(t)
	var log bytes.Buffer
	r := fixture(t, func(l *load.Result) { l.Canceled, l.CanceledIn = true, load.Hold }, thDoc)
	if err := NewGitHub(getenv, &log).Publish(r, Paths{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "::warning title=perfgate%3A no valid verdict::no valid verdict: the run was cancelled during the hold") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestGitHubMissingFilesAreErrorsNotPanics(t *testing.T) {
	r := fixture(t, nil, thDoc)
	var log bytes.Buffer
	err := NewGitHub(func(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] }, &log).Publish(r, Paths{})
	if err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT is not set") || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY is not set") {
		t.Errorf("err = %v", err)
	}
	dir := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "no", "such", "dir"), "GITHUB_STEP_SUMMARY": dir}[k]
	}
	err = NewGitHub(getenv, &log).Publish(r, Paths{})
	if err == nil || !strings.Contains(err.Error(), "cannot write the step outputs to GITHUB_OUTPUT") || !strings.Contains(err.Error(), "cannot write the job summary") {
		t.Errorf("err = %v", err)
	}
}

func TestGitHubMask(t *testing.T) {
	var log bytes.Buffer
	_, getenv := githubEnv(t)
	if err := NewGitHub(getenv, &log).Mask("s3cret", "two\nlines", ""); err != nil {
		t.Fatal(err)
	}
	if log.String() != "::add-mask::s3cret\n::add-mask::two\n::add-mask::lines\n" {
		t.Errorf("masks = %q", log.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestGitHubLogWriteFailureIsAnError(t *testing.T) {
	_, getenv := githubEnv(t)
	if err := NewGitHub(getenv, failingWriter{}).Mask("x"); err == nil {
		t.Error("a mask that could not be written was not reported")
	}
}
