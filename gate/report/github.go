package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// GitHub writes what GitHub Actions shows of a run: secret masks, step outputs, the job
// summary and an annotation per breached rule. It is used only when GITHUB_ACTIONS=true.
type GitHub struct {
	getenv func(string) string
	action *githubactions.Action
	// marks is where each runner file ended before this run first wrote to it: a
	// second Publish (the reports written again) takes back what the first added.
	marks map[string]int64
}

// GitHubEnabled reports whether the process runs as a GitHub Actions step.
func GitHubEnabled(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// NewGitHub returns a writer whose workflow commands go to out (the step's log) and whose
// files are named by getenv.
func NewGitHub(getenv func(string) string, out io.Writer) *GitHub {
	return &GitHub{getenv: getenv, action: githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(out))}
}

// Mask asks the runner to hide each value wherever it would appear in the log. Call it
// before anything that might print the value.
func (g *GitHub) Mask(values ...string) error {
	return guard(func() {
		for _, v := range values {
			// The runner masks line by line: a value with line breaks is masked per line.
			for _, line := range strings.Split(v, "\n") {
				if strings.TrimSpace(line) != "" {
					g.action.AddMask(line)
				}
			}
		}
	})
}

// Paths names the report files, for the step outputs.
type Paths struct {
	JUnit, JSON, HTML string
}

// Publish writes annotations, step outputs and the job summary. Every part is tried;
// the errors of those that failed are returned together.
func (g *GitHub) Publish(r *Result, p Paths) error {
	var errs []error
	if err := guard(func() { g.annotate(r) }); err != nil {
		errs = append(errs, fmt.Errorf("annotations: %w", err))
	}
	if err := g.outputs(r, p); err != nil {
		errs = append(errs, err)
	}
	md, err := Summary(r)
	if err != nil {
		errs = append(errs, err)
	} else if err := g.fileCommand("GITHUB_STEP_SUMMARY", "job summary", func() { g.action.AddStepSummary(md) }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MaxSummary is the most a step's job summary may hold: GitHub refuses a larger one (1
// MiB), and the summary is kept a little under it.
const MaxSummary = 1<<20 - 4<<10

// Summary is the job summary of a run, within GitHub's limits: the Markdown summary,
// with a note on the breached rules that have no annotation, shortened (its longest
// tables to their first rows) when it would not fit.
func Summary(r *Result) (string, error) {
	var md bytes.Buffer
	if n := breached(r); n > MaxErrorAnnotations {
		fmt.Fprintf(&md, "> [!NOTE]\n> %d rules were breached: GitHub shows the first %d as annotations, the table below has every one.\n\n", n, MaxErrorAnnotations)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		return "", err
	}
	if md.Len() <= MaxSummary {
		return md.String(), nil
	}
	return fitMarkdown(md.String(), MaxSummary), nil
}

// breached counts the rules that failed.
func breached(r *Result) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == "fail" {
			n++
		}
	}
	return n
}

// MaxErrorAnnotations is how many error annotations GitHub shows of one step: the
// breached rules past it are named in the job summary instead.
const MaxErrorAnnotations = 10

func (g *GitHub) annotate(r *Result) {
	n := 0
	for _, c := range r.Checks {
		if c.Status != "fail" {
			continue
		}
		if n++; n > MaxErrorAnnotations {
			break
		}
		g.action.WithFieldsMap(map[string]string{
			"file": c.File, "line": strconv.Itoa(c.Line), "title": "perfgate: threshold breached",
		}).Errorf("%s [%s]: %s", c.Rule, r.where(c), c.Message)
	}
	if r.Verdict == "invalid" {
		g.action.WithFieldsMap(map[string]string{"title": "perfgate: no valid verdict"}).
			Warningf("no valid verdict: %s", strings.Join(r.reasonMessages(), "; "))
	}
}

// Outputs are the step outputs a workflow can read as steps.<id>.outputs.<name>.
func Outputs(r *Result, p Paths) map[string]string {
	out := map[string]string{
		"verdict":     r.Verdict,
		"junit-path":  p.JUnit,
		"result-path": p.JSON,
		"html-path":   p.HTML,
		"p99-ms":      "",
		"error-rate":  "",
	}
	if all := r.main().Hold.All; all.Requests > 0 {
		out["p99-ms"] = strconv.FormatFloat(all.LatencyMs.P99, 'f', -1, 64)
		out["error-rate"] = strconv.FormatFloat(all.ErrorRate, 'f', -1, 64)
	}
	return out
}

func (g *GitHub) outputs(r *Result, p Paths) error {
	outs := Outputs(r, p)
	names := make([]string, 0, len(outs))
	for k := range outs {
		names = append(names, k)
	}
	sort.Strings(names)
	return g.fileCommand("GITHUB_OUTPUT", "step outputs", func() {
		for _, k := range names {
			g.action.SetOutput(k, outs[k])
		}
	})
}

// fileCommand runs a go-githubactions call that appends to the file named by env, which
// panics when the variable is unset or the file cannot be written: check first, and turn
// anything left into an error.
func (g *GitHub) fileCommand(env, what string, call func()) error {
	path := g.getenv(env)
	if path == "" {
		return fmt.Errorf("cannot write the %s: %s is not set", what, env)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write the %s to %s: %w", what, env, err)
	}
	if mark, ok := g.marks[env]; ok {
		err = f.Truncate(mark)
	} else if info, serr := f.Stat(); serr == nil {
		if g.marks == nil {
			g.marks = map[string]int64{}
		}
		g.marks[env] = info.Size()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write the %s to %s: %w", what, env, err)
	}
	if err := guard(call); err != nil {
		return fmt.Errorf("cannot write the %s: %w", what, err)
	}
	return nil
}

// guard turns a panic of the GitHub library into an error.
func guard(call func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", p)
		}
	}()
	call()
	return nil
}

// fitMarkdown shortens a Markdown document to at most limit bytes: each table longer
// than some number of rows keeps its heading, its first rows and its last (a total) and
// says how many it left out; fewer rows each time until the document fits, and as a last
// resort it is cut at a line's end, saying so.
func fitMarkdown(md string, limit int) string {
	lines := strings.Split(md, "\n")
	for _, keep := range []int{100, 40, 15, 5, 1} {
		var out []string
		for i := 0; i < len(lines); {
			j := i
			for j < len(lines) && strings.HasPrefix(lines[j], "|") {
				j++
			}
			if j == i {
				out = append(out, lines[i])
				i++
				continue
			}
			table := lines[i:j] // heading, separator, rows
			if rows := len(table) - 2; rows > keep+1 {
				cols := strings.Count(table[1], "|") - 1
				gap := fmt.Sprintf("| … %d more rows: the JSON result (or its HTML report) has every one |%s", rows-keep-1, strings.Repeat(" |", max(cols-1, 0)))
				table = append(append(append([]string{}, table[:2+keep]...), gap), table[len(table)-1])
			}
			out = append(out, table...)
			i = j
		}
		if s := strings.Join(out, "\n"); len(s) <= limit {
			return s
		}
	}
	const cut = "\n\n**The summary was cut here: it would not fit GitHub's limit of 1 MiB. The JSON result has everything.**\n"
	s := md[:limit-len(cut)]
	if i := strings.LastIndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	return s + cut
}
