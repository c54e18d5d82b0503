package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// A run reads the target's resources from a /metrics endpoint (here a real client_golang
// registry) at every window's end and shows them beside latency; a source that cannot
// be read is said, and the latency verdict stands.
func TestE2EResourcesBesideLatency(t *testing.T) {
	t.Parallel()
	addr, _ := serveDemo(t, "--latency", "1ms", "--jitter", "2ms")
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()

	for _, tc := range []struct {
		name, scrape string
		want         []string
		warn         string
	}{
		{"read", metrics.URL + "/metrics", []string{"Target resources (mean, max over", "memory ", "not exposed or not read: sched_latency, db_in_use"}, "has no sched_latency (go_sched_latencies_seconds), db_in_use"},
		{"down", "http://" + freeAddr(t) + "/metrics", []string{"Target resources: none could be read", "connection refused"}, "the target's resources will be missing"},
	} {
		dir := demoFiles(t)
		cfg := demoConfig() + "resources: {scrape: '" + tc.scrape + "'}\n"
		if err := os.WriteFile(filepath.Join(dir, "perfgate.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		r := perfgate(t, dir, time.Minute, "run", "--target", "http://"+addr, "--users", "20", "--spawn-rate", "40",
			"--duration", "3s", "--think", "10ms..30ms", "--progress", "1s")
		if r.code != ExitPass {
			t.Errorf("%s: exit %d\n%s%s", tc.name, r.code, r.stdout, r.stderr)
		}
		for _, want := range tc.want {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: stdout lacks %q:\n%s", tc.name, want, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, tc.warn) {
			t.Errorf("%s: stderr lacks %q:\n%s", tc.name, tc.warn, r.stderr)
		}
		data, err := os.ReadFile(filepath.Join(dir, "perfgate-result.json"))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Phases []struct {
				Resources []struct {
					Name    string
					Mean    float64
					Windows int
					Of      int
					Error   string
				}
			}
			Windows []struct {
				Stage     string
				Resources map[string]float64
			}
		}
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatal(err)
		}
		stats := map[string]int{}
		for i, s := range res.Phases[0].Resources {
			stats[s.Name] = i
		}
		mem := res.Phases[0].Resources[stats["memory"]]
		held := 0
		for _, w := range res.Windows {
			if w.Stage == "hold" && w.Resources["memory"] > 0 {
				held++
			}
		}
		switch tc.name {
		case "read":
			if mem.Windows < 2 || mem.Windows != mem.Of || !(mem.Mean > 0) || held != mem.Windows {
				t.Errorf("memory over the hold: %+v, %d hold windows with it", mem, held)
			}
		case "down":
			if mem.Windows != 0 || mem.Of < 2 || !strings.Contains(mem.Error, "connection refused") || held != 0 {
				t.Errorf("memory with the source down: %+v", mem)
			}
		}
	}
}

// TestE2EResourceRules runs the built binary against the sample API with a pool of 2
// connections held 20 ms each, far over what 20 users ask of it, reading its own
// /metrics: "cpu < 100%" holds, "db_waits == 0" is breached (exit 1), and with the
// metrics source down the rule has no data and fails closed (exit 3) while the latency
// rule is still judged. Every report carries the resource rules.
func TestE2EResourceRules(t *testing.T) {
	t.Parallel()
	addr, _ := serveDemo(t, "--latency", "20ms", "--jitter", "0s", "--pool", "2")
	for _, tc := range []struct {
		name, scrape, rules string
		code                int
		want                []string
	}{
		{"held", "/metrics", "[cpu < 100%]", ExitPass, []string{"PASS  resources  cpu < 100%  measured", "% of gomaxprocs (mean of"}},
		{"breached", "/metrics", "[cpu < 100%, db_waits == 0]", ExitFail, []string{"FAIL  resources  db_waits == 0  measured", "limit == 0/s"}},
		{"no data", "http://" + freeAddr(t) + "/metrics", "[db_waits == 0]", ExitInvalid, []string{"NO DATA  resources  db_waits == 0  no data: db_waits was read in 0 of the hold's",
			"PASS     all        p99 < 10s", "a resource rule had no data, and fails closed: db_waits == 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{
				"perfgate.yaml":        demoConfig() + "resources: {scrape: '" + tc.scrape + "'}\n",
				"thresholds/demo.yaml": "all: [p99 < 10s]\nresources: " + tc.rules + "\n",
			})
			r := perfgate(t, dir, time.Minute, "run", "--target", "http://"+addr, "--users", "20", "--spawn-rate", "40",
				"--duration", "3s", "--think", "10ms..30ms", "--progress", "500ms")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			res := readResultFile(t, filepath.Join(dir, "perfgate-result.json"), r)
			last := res.Checks[len(res.Checks)-1]
			if last.Scope != "resources" || last.Kind != "resource" || (tc.code == ExitInvalid) != (last.Measured == nil) {
				t.Errorf("the JSON's last check %+v", last)
			}
			junit, err := os.ReadFile(filepath.Join(dir, "perfgate-junit.xml"))
			if err != nil || !strings.Contains(string(junit), last.Rule) {
				t.Errorf("JUnit lacks %q: %v\n%s", last.Rule, err, junit)
			}
		})
	}
}
