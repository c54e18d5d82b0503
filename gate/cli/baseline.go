package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/baseline"
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
	var searches []*report.CapacityResult
	var runPaths, searchPaths []string
	for _, path := range paths {
		data, err := userfile.Read("result", path)
		if err != nil {
			c.errorf("baseline: %v", err)
			return ExitUsage
		}
		if report.IsCapacityResult(data) {
			res, err := report.ReadCapacityJSON(data)
			if err != nil {
				c.errorf("baseline: %s: %v", path, err)
				return ExitUsage
			}
			searches, searchPaths = append(searches, res), append(searchPaths, path)
			continue
		}
		res, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			c.errorf("baseline: %s: %v", path, err)
			return ExitUsage
		}
		results, runPaths = append(results, res), append(runPaths, path)
	}
	b := &baseline.File{Version: baseline.Version, Created: time.Now().UTC()}
	if len(results) > 0 {
		var err error
		if b, err = report.Baseline(results, runPaths, time.Now(), force); err != nil {
			c.errorf("baseline: %v", err)
			return ExitUsage
		}
	}
	if len(searches) > 0 {
		var err error
		if b.Capacity, err = report.CapacityBaseline(searches, searchPaths, force); err != nil {
			c.errorf("baseline: %v", err)
			return ExitUsage
		}
	}
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		c.errorf("baseline: %v", err)
		return ExitInvalid
	}
	var err error
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
		var parts []string
		if len(b.Runs) > 0 {
			parts = append(parts, fmt.Sprintf("%s, %d endpoints, %s requests in the measured windows", plural(len(b.Runs), "run"),
				len(b.Endpoints), report.Count(b.All.Requests)))
		}
		if b.Capacity != nil {
			v, _ := b.Capacity.Value("capacity")
			parts = append(parts, fmt.Sprintf("%s, capacity %s on average", plural(len(b.Capacity.Searches), "capacity search"),
				report.FormatLevel(b.Capacity.Unit, v)))
		}
		c.say(c.Stdout, "wrote %s: %s\n", out, strings.Join(parts, "; "))
	}
	return ExitPass
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
