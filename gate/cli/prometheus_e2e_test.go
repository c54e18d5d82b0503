package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/promtest"
)

// TestE2EResourcesFromARealPrometheus runs the built binary against the sample API (a
// pool of 2, overloaded) while a real Prometheus (Debian's package) scrapes the API's
// /metrics; the run reads the API's resources from the server's HTTP API over each
// phase's span: every hold window gets its point, and "db_waits == 0" on the server's
// rate is breached (exit 1). With the server stopped halfway through the load, the
// query fails: the rule has no data and fails closed (exit 3), with the server named,
// and the latency rule is still judged.
func TestE2EResourcesFromARealPrometheus(t *testing.T) {
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Fatal("needs a Prometheus server: apt-get install prometheus (.ci/run installs it)")
	}
	t.Parallel()
	addr, _ := serveDemo(t, "--latency", "20ms", "--jitter", "0s", "--pool", "2")
	for _, tc := range []struct {
		name     string
		stopHalf bool
		code     int
		want     []string
	}{
		{"read", false, ExitFail, []string{"FAIL  resources  db_waits == 0", "Target resources (mean, max over", "goroutines "}},
		{"down halfway", true, ExitInvalid, []string{"a resource rule had no data, and fails closed: db_waits == 0", "NO DATA  resources  db_waits == 0",
			"PASS     all        p99 < 10s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, stop := promtest.Start(t, addr)
			cfg := demoConfig() + "resources:\n  prometheus: " + url + "\n  series:\n" +
				"    - {name: goroutines, query: 'go_goroutines{job=\"target\"}'}\n" +
				"    - {name: db_waits, query: 'sum(rate(go_sql_wait_count_total{job=\"target\"}[3s]))'}\n"
			dir := writeFiles(t, map[string]string{
				"perfgate.yaml":        cfg,
				"thresholds/demo.yaml": "all: [p99 < 10s]\nresources: [goroutines > 0, db_waits == 0]\n",
			})
			if tc.stopHalf {
				go func() { time.Sleep(2 * time.Second); stop() }()
			}
			r := perfgate(t, dir, time.Minute, "run", "--target", "http://"+addr, "--users", "20", "--spawn-rate", "40",
				"--duration", "4s", "--think", "10ms..30ms", "--progress", "1s")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			res := readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r)
			if tc.stopHalf {
				if !strings.Contains(r.stdout, url) {
					t.Errorf("the message does not name the server %s:\n%s", url, r.stdout)
				}
				return
			}
			data, err := os.ReadFile(filepath.Join(dir, "perfgate-result.json"))
			if err != nil || !strings.Contains(string(data), `"goroutines"`) {
				t.Fatalf("no goroutines in the result: %v", err)
			}
			for _, c := range res.Checks {
				if c.Rule == "goroutines > 0" && (c.Status != "pass" || c.Measured == nil || *c.Measured < 5) {
					t.Errorf("goroutines > 0: %+v", c)
				}
			}
		})
	}
}
