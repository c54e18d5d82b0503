package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/golden"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/run/runtest"
)

// The command line's output is pinned: what validate, run, help and the usage errors
// print, to stdout and to stderr, with the exit code. Runs go to a scripted engine on a
// fake clock, so that every figure is the same each time.
func TestGoldenOutput(t *testing.T) {
	dir := demoFiles(t)
	writeFile := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("typo.yaml", "target: http://127.0.0.1:1\nload:\n  users: 3\n  spawn_rat: 1\ntasks: [{path: /}]\nthresholds: [thresholds/demo.yaml]\n")
	writeFile("badrule.yaml", "target: http://127.0.0.1:1\ntasks: [{path: /}]\nthresholds: [bad.yaml]\n")
	writeFile("bad.yaml", "all:\n  - p99 < 300\n")
	cases := []struct {
		name    string
		args    []string
		latency time.Duration // of the scripted engine's requests
	}{
		{"validate", []string{"validate"}, 0},
		{"validate-full", []string{"validate", "--profile", "full"}, 0},
		{"run-pass", []string{"run"}, 10 * time.Millisecond},
		{"run-fail", []string{"run"}, 250 * time.Millisecond},
		{"errors", nil, 0},
		{"help", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			switch tc.name {
			case "errors":
				for _, args := range [][]string{
					{"validate", "-c", "typo.yaml"}, {"validate", "-c", "badrule.yaml"}, {"validate", "-c", "nope.yaml"},
					{"run", "--users", "0"}, {"run", "--rate", "10/s", "--users", "3"}, {"run", "--bogus"}, {"launch"},
				} {
					transcript(t, &out, dir, args, 0)
				}
			case "help":
				for _, cmd := range []string{"", "run", "validate", "demo", "serve-demo", "baseline", "action"} {
					transcript(t, &out, dir, strings.Fields(cmd+" --help"), 0)
				}
			default:
				transcript(t, &out, dir, tc.args, tc.latency)
			}
			golden.Check(t, tc.name+".txt", out.Bytes())
		})
	}
}

// transcript runs perfgate in dir and writes what it printed, as a user would see it.
func transcript(t *testing.T, w *bytes.Buffer, dir string, args []string, latency time.Duration) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var stdout, stderr bytes.Buffer
	c := &Command{Stdout: &stdout, Stderr: &stderr, Env: func(string) (string, bool) { return "", false }}
	if latency > 0 {
		c.runWith = scriptedRun(latency)
	}
	code := c.Run(context.Background(), args)
	fmt.Fprintf(w, "$ perfgate %s\nexit %d\n--- stdout\n%s--- stderr\n%s\n", strings.Join(args, " "), code, stdout.String(), stderr.String())
}

// scriptedRun runs the demo's load on a fake clock, from 12:00:04: a ramp of 19.9 s in
// which the 200 users log in, then a 30 s hold at 100 requests a second, 3:1 between
// the two tasks, every request taking about latency.
func scriptedRun(latency time.Duration) run.Options {
	clock := runtest.NewClock(time.Date(2026, 12, 1, 12, 0, 4, 0, time.UTC))
	eng := &runtest.Engines{Make: func(_ int, p *plan.Plan, rec load.Recorder) *runtest.Engine {
		ramp := p.Ramp()
		var events []runtest.Event
		n := 0
		for at := 50 * time.Millisecond; at < ramp+p.Hold; at += 100 * time.Millisecond {
			ev := runtest.Event{At: at}
			for range 10 {
				s := load.Sample{User: n % 200, Endpoint: 1 + n%4/3, Stage: load.Hold, Status: 200, // 3 of 4 to /api/products
					Latency: latency + time.Duration(n%17)*time.Millisecond/4, Bytes: 512}
				switch {
				case n < 200:
					s.Endpoint, s.Stage = 0, load.Ramp // each user logs in first
				case at < ramp:
					s.Stage = load.Ramp
				}
				ev.Samples = append(ev.Samples, s)
				n++
			}
			events = append(events, ev)
		}
		return &runtest.Engine{Clock: clock, Rec: rec, Events: events, HoldAt: ramp, End: ramp + p.Hold, Users: p.Users,
			Facts: func(l *load.Result) { l.GeneratorCPU = 0.04 }}
	}}
	host := runtest.Host{Clock: clock, Processors: 2, Pressure: 0.02, Others: 0.05, Steal: 0.001, Wait: 0.003}
	return run.Options{Clock: clock, NewEngine: eng.New, Probe: func(context.Context, *plan.Plan) error { return nil }, Host: host.Read}
}
