package cli

import (
	"bytes"
	"os"
	"time"

	"github.com/perfgate/perfgate/gate/internal/userfile"
	"github.com/perfgate/perfgate/gate/report"
)

// baseline records a result file as the baseline later runs are compared with.
func (c *Command) baseline(args []string) int {
	var out string
	fs := c.newFlagSet("baseline", "baseline RESULT.json -o FILE",
		"Records the measured window of a run (its JSON result) as a baseline: per endpoint and\n"+
			"for all requests, percentiles, error rate, throughput, sample counts and histograms.\n"+
			"Commit it, name it in a threshold file (baseline: FILE) and write rules such as\n"+
			"\"p99 < baseline + 15%\" or \"error_rate < baseline + 0.5pp\".")
	fs.StringVar(&out, "o", "", "baseline `file` to write (default: standard output)")
	// The result file comes first: take it off before the flags.
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-') {
		if code, done := c.parse(fs, args); done {
			return code
		}
		c.errorf("baseline: name the result file, as in perfgate baseline perfgate-result.json -o thresholds/baseline.json")
		return ExitUsage
	}
	resultPath := args[0]
	if code, done := c.parse(fs, args[1:]); done {
		return code
	}
	data, err := userfile.Read("result", resultPath)
	if err != nil {
		c.errorf("baseline: %v", err)
		return ExitUsage
	}
	res, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		c.errorf("baseline: %s: %v", resultPath, err)
		return ExitUsage
	}
	b, err := report.Baseline(res, time.Now())
	if err != nil {
		c.errorf("baseline: %s: %v", resultPath, err)
		return ExitUsage
	}
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		c.errorf("baseline: %v", err)
		return ExitInvalid
	}
	if out == "" {
		_, err = c.Stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(out, buf.Bytes(), 0o644)
	}
	if err != nil {
		c.errorf("baseline: %v", err)
		return ExitInvalid
	}
	if out != "" {
		c.say(c.Stdout, "wrote %s: %d endpoints, %s requests in the measured window\n", out, len(b.Endpoints), report.Count(b.All.Requests))
	}
	return ExitPass
}
