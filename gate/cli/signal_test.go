package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/demo"
)

// A signal at any moment is a cancellation: during the probe, the setup, the ramp, the
// hold, the drain of the requests in flight after it, or as the reports are written,
// the run exits 3 and every report says it was cancelled; it never exits 0, and never
// gives a verdict on a run whose requests were thrown away.
func TestASignalAtAnyMomentIsACancellation(t *testing.T) {
	cases := []struct {
		name string
		// at is the path whose first request starts the countdown to the signal, after
		// wait; block is how long the target takes to answer requests of that path.
		at           string
		wait, block  time.Duration
		load         []string
		beforeReport bool
		reason       string
	}{
		{name: "probe", at: "/", wait: 100 * time.Millisecond, block: 3 * time.Second, reason: "before it started"},
		{name: "setup", at: "/auth/token", wait: 100 * time.Millisecond, block: 3 * time.Second, reason: "during the ramp"},
		{name: "ramp", at: "/api/products", wait: 300 * time.Millisecond, load: []string{"--users", "5", "--spawn-rate", "2"}, reason: "during the ramp"},
		{name: "hold", at: "/api/products", wait: 800 * time.Millisecond, load: []string{"--duration", "5s"}, reason: "during the hold"},
		// Every request takes 2 s; the hold ends 300 ms after the first: the signal comes
		// while those in flight finish.
		{name: "drain", at: "/api/products", wait: 900 * time.Millisecond, block: 2 * time.Second, load: []string{"--duration", "300ms"},
			reason: "as the requests in flight after the hold finished"},
		{name: "report writing", beforeReport: true, load: []string{"--duration", "300ms"}, reason: "once it had ended, as its reports were written"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			release := make(chan struct{})
			api := demoHandler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.at {
					once.Do(func() { time.AfterFunc(tc.wait, cancel) })
					select {
					case <-time.After(tc.block):
					case <-release:
					}
				}
				api.ServeHTTP(w, r)
			}))
			defer srv.Close()
			defer close(release) // before the server closes: it waits for its handlers
			dir := demoFiles(t)
			c := testCommand(nil)
			if tc.beforeReport {
				c.beforeReports = cancel
			}
			args := append([]string{"run", "-c", filepath.Join(dir, "perfgate.yaml"), "--target", srv.URL, "--users", "3", "--spawn-rate", "100",
				"--think", "10ms", "--junit", filepath.Join(dir, "j.xml"), "--json", filepath.Join(dir, "r.json")}, tc.load...)
			code, out, errs := invokeWith(ctx, c, args...)
			if code != ExitInvalid {
				t.Fatalf("exit %d, want 3\n%s\n%s", code, out, errs)
			}
			res := readResult(t, filepath.Join(dir, "r.json"))
			reasons := strings.Join(reasonsOf(res), "; ")
			if res["verdict"] != "invalid" || res["exit_code"] != float64(ExitInvalid) || !strings.Contains(reasons, "cancelled "+tc.reason) {
				t.Errorf("result: verdict %v, exit code %v, reasons %q; want cancelled %s", res["verdict"], res["exit_code"], reasons, tc.reason)
			}
			junit, _ := os.ReadFile(filepath.Join(dir, "j.xml"))
			if !strings.Contains(string(junit), `type="invalid"`) || !strings.Contains(string(junit), "cancelled") {
				t.Errorf("JUnit does not say the run was cancelled:\n%s", junit)
			}
		})
	}
}

// demoHandler is the built-in sample API's handler, without added latency.
func demoHandler() http.Handler { return demo.New(demo.Options{}).Handler() }
