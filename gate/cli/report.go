package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/internal/userfile"
	"github.com/perfgate/perfgate/gate/report"
)

// reportFlags are where perfgate report writes.
type reportFlags struct {
	html, junit, json, markdown string
	quiet                       bool
}

// report re-renders saved results: the last one named is reported, any before it (runs
// or baseline files) are drawn beside it.
func (c *Command) report(args []string) int {
	var f reportFlags
	fs := c.newFlagSet("report", "report RESULT.json... [flags]",
		"Renders a saved result again, to any report: the console (unless -q), an offline HTML\n"+
			"report, JUnit XML, the Markdown job summary, or the JSON result itself. Name several\n"+
			"files to compare: the last is the run reported, the ones before it (earlier runs' results,\n"+
			"or a baseline file of perfgate baseline) are drawn beside it in the HTML report, as in\n"+
			"  perfgate report thresholds/baseline.json perfgate-result.json --html report.html\n"+
			"A capacity search's result (perfgate capacity) is reported alone. Nothing is judged\n"+
			"again: the verdict is the one the run reached. Exits 0 once every report is written,\n"+
			"2 for a file that is not a result, 3 when a report could not be written.")
	fs.StringVar(&f.html, "html", "", "self-contained HTML report `file`")
	fs.StringVar(&f.junit, "junit", "", "JUnit XML report `file`")
	fs.StringVar(&f.json, "json", "", "JSON result `file`")
	fs.StringVar(&f.markdown, "markdown", "", "Markdown summary `file` (for example $GITHUB_STEP_SUMMARY)")
	fs.BoolVar(&f.quiet, "q", false, "write no console report")
	var paths []string
	for len(args) > 0 && (args[0] == "" || args[0][0] != '-') {
		paths, args = append(paths, args[0]), args[1:]
	}
	if code, done := c.parse(fs, args); done {
		return code
	}
	paths = append(paths, fs.Args()...)
	if len(paths) == 0 {
		c.errorf("report: name a result file, as in perfgate report perfgate-result.json --html report.html")
		return ExitUsage
	}
	if err := checkPaths([]flagPath{{"--html", f.html}, {"--junit", f.junit}, {"--json", f.json}, {"--markdown", f.markdown}}); err != nil {
		c.errorf("report: %v", err)
		return ExitUsage
	}
	last := paths[len(paths)-1]
	data, err := userfile.Read("result", last)
	if err != nil {
		c.errorf("report: %v", err)
		return ExitUsage
	}
	out := io.Writer(c.Stdout)
	if report.IsCapacityResult(data) {
		if len(paths) > 1 {
			c.errorf("report: %s is a capacity search's result, which is reported alone", last)
			return ExitUsage
		}
		res, err := report.ReadCapacityJSON(data)
		if err != nil {
			c.errorf("report: %s: %v", last, err)
			return ExitUsage
		}
		if !f.quiet {
			if err := report.WriteCapacityConsole(out, res); err != nil {
				c.errorf("cannot write the report to stdout: %v", err)
			}
		}
		return reportExit(writeReportFiles(c, res, []reportFile[*report.CapacityResult]{
			{f.html, report.WriteCapacityHTML}, {f.junit, report.WriteCapacityJUnit},
			{f.markdown, report.WriteCapacityMarkdown}, {f.json, report.WriteCapacityJSON}}, nil, out))
	}
	res, err := readResultData(last, data)
	if err != nil {
		c.errorf("report: %v", err)
		return ExitUsage
	}
	var refs []report.Reference
	for _, path := range paths[:len(paths)-1] {
		ref, err := readReference(path)
		if err != nil {
			c.errorf("report: %v", err)
			return ExitUsage
		}
		refs = append(refs, ref)
	}
	if !f.quiet {
		if err := report.WriteConsole(out, res); err != nil {
			c.errorf("cannot write the report to stdout: %v", err)
		}
	}
	html := func(w io.Writer, r *report.Result) error { return report.WriteHTML(w, r, refs) }
	return reportExit(writeReportFiles(c, res, []reportFile[*report.Result]{
		{f.html, html}, {f.junit, report.WriteJUnit}, {f.markdown, report.WriteMarkdown}, {f.json, report.WriteJSON}}, nil, out))
}

func reportExit(failed []string) int {
	if len(failed) > 0 {
		return ExitInvalid
	}
	return ExitPass
}

// readResultData reads a run's result file.
func readResultData(path string, data []byte) (*report.Result, error) {
	res, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return res, nil
}

// readReference reads a run's result or a baseline file to draw beside the run
// reported, named by its file's name.
func readReference(path string) (report.Reference, error) {
	data, err := userfile.Read("result", path)
	if err != nil {
		return report.Reference{}, err
	}
	name := filepath.Base(path)
	if report.IsCapacityResult(data) {
		return report.Reference{}, fmt.Errorf("%s is a capacity search's result, which is reported alone", path)
	}
	if isBaselineFile(data) {
		f, err := baseline.Read(path)
		if err != nil {
			return report.Reference{}, err
		}
		return report.BaselineReference(name, f), nil
	}
	res, err := readResultData(path, data)
	if err != nil {
		return report.Reference{}, err
	}
	return report.ReferenceOf(name, res), nil
}

// flagPath is a report file a flag names.
type flagPath struct{ flag, path string }

// isBaselineFile reports whether data is a baseline file (perfgate baseline's).
func isBaselineFile(data []byte) bool {
	var head struct {
		Version string `json:"version"`
	}
	return json.Unmarshal(data, &head) == nil && strings.HasPrefix(head.Version, "perfgate.baseline/")
}
