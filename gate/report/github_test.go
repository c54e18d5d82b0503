package report

import (
	"bytes"
	"fmt"
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
	if err := g.Publish(r, Paths{JUnit: "out/junit.xml", JSON: "out/result.json", HTML: "out/report.html"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	outs := runnerfile.Parse(t, string(data))
	want := map[string]string{
		"verdict": "fail", "junit-path": "out/junit.xml", "result-path": "out/result.json", "html-path": "out/report.html",
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

// The largest run a user is likely to make (200 endpoints, each with a rule, four
// phases) stays inside every limit of GitHub's: ten error annotations a step (the rest
// named in the summary), a job summary under 1 MiB, and its HTML report of a sensible
// size.
func TestGitHubLimits(t *testing.T) {
	r := wideFixture(t)
	if n := breached(r); n <= MaxErrorAnnotations {
		t.Fatalf("the fixture breaches %d rules: too few to test the limit", n)
	}
	env, getenv := githubEnv(t)
	var log bytes.Buffer
	if err := NewGitHub(getenv, &log).Publish(r, Paths{JSON: "r.json"}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "::error "); n != MaxErrorAnnotations {
		t.Errorf("%d error annotations, want %d", n, MaxErrorAnnotations)
	}
	summary, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	if len(summary) > 1<<20 {
		t.Errorf("job summary of %d bytes: over GitHub's 1 MiB", len(summary))
	}
	if want := "rules were breached: GitHub shows the first 10 as annotations"; !bytes.Contains(summary, []byte(want)) {
		t.Errorf("the summary does not say that only 10 are annotated")
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, r, nil); err != nil {
		t.Fatal(err)
	}
	if page.Len() > 4<<20 {
		t.Errorf("HTML report of %d bytes for 200 endpoints", page.Len())
	}
	t.Logf("200 endpoints, 4 phases: summary %d KB, HTML report %d KB, %d rules breached", len(summary)>>10, page.Len()>>10, breached(r))
}

// A summary too large for GitHub keeps each table's heading, first rows and total, and
// says how many rows it left out.
func TestFitMarkdown(t *testing.T) {
	var b strings.Builder
	b.WriteString("## perfgate: ❌ FAIL\n\n| endpoint | p99 |\n|---|--:|\n")
	for i := range 50000 {
		fmt.Fprintf(&b, "| `/api/%d` | %d ms |\n", i, i)
	}
	b.WriteString("| **all** | 9 ms |\n\nafter the table\n")
	got := fitMarkdown(b.String(), 1<<20)
	if len(got) > 1<<20 {
		t.Fatalf("%d bytes", len(got))
	}
	for _, want := range []string{"## perfgate: ❌ FAIL", "| `/api/0` | 0 ms |", "| … 49900 more rows: the JSON result", "| **all** | 9 ms |", "after the table"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%.2000s", want, got)
		}
	}
	// A document with no table to shorten is cut at a line's end, saying so.
	long := strings.Repeat("a line of text\n", 100000)
	got = fitMarkdown(long, 1<<16)
	if len(got) > 1<<16 || !strings.HasSuffix(got, "The JSON result has everything.**\n") || !strings.Contains(got, "a line of text\n\n**The summary") {
		t.Errorf("cut: %d bytes, ends %q", len(got), got[len(got)-120:])
	}
}

// A pull request's comment of the largest run lists 20 breached rules and says how many
// more; any comment is cut to GitHub's limit at a line's end.
func TestCommentLimits(t *testing.T) {
	r := wideFixture(t)
	c := Comment(r, "<!-- m -->", "", 65536)
	if n := strings.Count(c, "| ❌ |"); n != commentRows {
		t.Errorf("%d breached rules listed, want %d", n, commentRows)
	}
	if want := fmt.Sprintf("… and %d more", breached(r)-commentRows); !strings.Contains(c, want) {
		t.Errorf("the comment does not say %q:\n%s", want, c)
	}
	short := Comment(r, "<!-- m -->", "", 600)
	if n := len([]rune(short)); n > 600 || !strings.HasPrefix(short, "<!-- m -->\n") || !strings.HasSuffix(short, "*Cut to fit GitHub's limit on a comment.*\n") {
		t.Errorf("cut to 600: %d characters:\n%s", n, short)
	}
}
