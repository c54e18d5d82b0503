package cli

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/perfgate/perfgate/gate/internal/userfile"
	"github.com/perfgate/perfgate/gate/report"
)

// baseline records result files as the baseline later runs are compared with.
func (c *Command) baseline(args []string) int {
	var out string
	var force bool
	fs := c.newFlagSet("baseline", "baseline RESULT.json... -o FILE",
		"Records the measured window of one or more runs (their JSON results) as a baseline: per\n"+
			"endpoint and for all requests, percentiles, error rate, throughput, sample counts and\n"+
			"histograms, and each run's time windows. Record several runs made at different times\n"+
			"(3 to 5): rules against the baseline then know how much runs differ from each other,\n"+
			"which is what varies most on shared CI machines. Commit it, name it in a threshold file\n"+
			"(baseline: FILE) and write rules such as \"p99 < baseline + 15%\" or\n"+
			"\"error_rate < baseline + 0.5pp\". A run recorded on a machine too contended to judge is\n"+
			"refused unless --force.")
	fs.StringVar(&out, "o", "", "baseline `file` to write (default: standard output)")
	fs.BoolVar(&force, "force", false, "keep runs recorded on a machine too contended to judge")
	// The result files come first: take them off before the flags.
	var paths []string
	for len(args) > 0 && (args[0] == "" || args[0][0] != '-') {
		paths, args = append(paths, args[0]), args[1:]
	}
	if code, done := c.parse(fs, args); done {
		return code
	}
	paths = append(paths, fs.Args()...)
	if len(paths) == 0 {
		c.errorf("baseline: name the result files, as in perfgate baseline perfgate-result.json -o thresholds/baseline.json")
		return ExitUsage
	}
	var results []*report.Result
	for _, path := range paths {
		data, err := userfile.Read("result", path)
		if err != nil {
			c.errorf("baseline: %v", err)
			return ExitUsage
		}
		res, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			c.errorf("baseline: %s: %v", path, err)
			return ExitUsage
		}
		results = append(results, res)
	}
	b, err := report.Baseline(results, paths, time.Now(), force)
	if err != nil {
		c.errorf("baseline: %v", err)
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
		c.say(c.Stdout, "wrote %s: %s, %d endpoints, %s requests in the measured windows\n", out, plural(len(b.Runs), "run"),
			len(b.Endpoints), report.Count(b.All.Requests))
	}
	return ExitPass
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
