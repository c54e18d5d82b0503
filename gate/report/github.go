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
	JUnit, JSON string
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
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		errs = append(errs, err)
	} else if err := g.fileCommand("GITHUB_STEP_SUMMARY", "job summary", func() { g.action.AddStepSummary(md.String()) }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (g *GitHub) annotate(r *Result) {
	for _, c := range r.Checks {
		if c.Status != "fail" {
			continue
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
