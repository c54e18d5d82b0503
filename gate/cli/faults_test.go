package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/demo"
	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// The fault matrix: a real misbehaving peer on loopback for each way a target can fail.
// Every case runs the whole gate and checks that nothing crashes, that the errors are
// classified by kind, that the reports are written, and that the verdict is the right one.

const faultConfig = `target: ${TARGET_URL}
load: {users: 3, spawn_rate: 100, duration: 1500ms, think: 20ms}
defaults: {timeout: 300ms}
tasks: [{name: get, path: /x}]
thresholds: [t.yaml]
`

// rawListener serves each connection with handle, on loopback.
func rawListener(t *testing.T, handle func(net.Conn)) string {
	return "http://" + loopback.Serve(t, handle)
}

// readRequest consumes one request head from r. The probe perfgate sends before the
// load (GET /) is answered normally, so that the fault shows during the run; probe says
// whether this was it.
func readRequest(c net.Conn, r *bufio.Reader) (probe bool, err error) {
	first := true
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false, err
		}
		if first {
			probe, first = strings.HasPrefix(line, "GET / "), false
		}
		if line == "\r\n" {
			if probe {
				_, err = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
			}
			return probe, err
		}
	}
}

// rawLoad serves raw TCP: the probe is answered normally, and each load request goes to
// onLoad, which says whether to keep the connection for the next one.
func rawLoad(t *testing.T, onLoad func(net.Conn) bool) string {
	return rawListener(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			probe, err := readRequest(c, r)
			if err != nil || (!probe && !onLoad(c)) {
				return
			}
		}
	})
}

// faulty answers the probe (GET /) normally and the load with h.
func faulty(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			return
		}
		h(w, r)
	})
}

func TestFaultMatrix(t *testing.T) {
	var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	cases := []struct {
		name    string
		target  func(t *testing.T) string
		kinds   []string // error kinds that must appear in the hold
		code    int
		reasons string // for exit 3
	}{
		{
			name: "connection reset",
			target: func(t *testing.T) string {
				return rawLoad(t, func(c net.Conn) bool {
					c.(*net.TCPConn).SetLinger(0) // RST instead of FIN
					return false
				})
			},
			kinds: []string{"connection_reset"}, code: ExitFail,
		},
		{
			name: "stalls past the request timeout",
			target: func(t *testing.T) string {
				srv := httptest.NewServer(faulty(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-time.After(5 * time.Second):
					case <-r.Context().Done():
					}
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			kinds: []string{"timeout"}, code: ExitFail,
		},
		{
			name: "trickles its body slower than the timeout",
			target: func(t *testing.T) string {
				srv := httptest.NewServer(faulty(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100")
					w.WriteHeader(200)
					for range 100 {
						if _, err := w.Write([]byte("x")); err != nil {
							return
						}
						w.(http.Flusher).Flush()
						time.Sleep(20 * time.Millisecond)
					}
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			kinds: []string{"timeout"}, code: ExitFail,
		},
		{
			name: "malformed HTTP",
			target: func(t *testing.T) string {
				return rawLoad(t, func(c net.Conn) bool {
					_, err := c.Write([]byte("HTTP/1.1 OK 200\r\n\r\n"))
					return err == nil
				})
			},
			kinds: []string{"transport"}, code: ExitFail,
		},
		{
			name: "a redirect loop is a response, not followed",
			target: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, r.URL.Path, http.StatusFound)
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			code: ExitPass,
		},
		{
			name: "TLS handshake failure (not TLS at all)",
			target: func(t *testing.T) string {
				srv := httptest.NewServer(okHandler)
				t.Cleanup(srv.Close)
				return strings.Replace(srv.URL, "http://", "https://", 1)
			},
			code: ExitInvalid, reasons: "answers plain HTTP, not HTTPS",
		},
		{
			name: "untrusted certificate",
			target: func(t *testing.T) string {
				srv := httptest.NewTLSServer(okHandler)
				srv.Config.ErrorLog = discardLog()
				t.Cleanup(srv.Close)
				return srv.URL
			},
			code: ExitInvalid, reasons: "TLS failed",
		},
	}
	// With think time each user has its own goroutine; without, and with no setup, the
	// users run on the event loop, and so does the open model. All must meet every
	// fault the same way.
	for _, model := range [][]string{{"--think", "20ms"}, {"--think", "0s"}, {"--rate", "100/s"}} {
		for _, tc := range cases {
			t.Run(tc.name+", "+strings.Join(model, " "), func(t *testing.T) {
				t.Parallel()
				runFault(t, tc.target(t), "all: [error_rate < 1%]\n", tc.code, tc.kinds, tc.reasons, model...)
			})
		}
	}
}

// runFault runs the gate against target and checks the outcome and the reports.
func runFault(t *testing.T, target, rules string, code int, kinds []string, reasons string, extra ...string) map[string]any {
	t.Helper()
	dir := writeFiles(t, map[string]string{"perfgate.yaml": faultConfig, "t.yaml": rules})
	got, out, errs := invokeNoChdir(t, dir, map[string]string{"TARGET_URL": target}, append([]string{"run", "-c", filepath.Join(dir, "perfgate.yaml"),
		"--junit", filepath.Join(dir, "j.xml"), "--json", filepath.Join(dir, "r.json")}, extra...)...)
	if got != code {
		t.Errorf("exit %d, want %d\n%s\n%s", got, code, out, errs)
	}
	if strings.Contains(out+errs, "panic") || strings.Contains(out+errs, "goroutine ") {
		t.Errorf("a crash reached the user:\n%s%s", out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "j.xml")); err != nil {
		t.Errorf("JUnit not written: %v", err)
	}
	res := readResult(t, filepath.Join(dir, "r.json"))
	hold := holdAll(t, res)
	byKind, _ := hold["errors_by_kind"].(map[string]any)
	for _, k := range kinds {
		if n, _ := byKind[k].(float64); n == 0 {
			t.Errorf("no %s errors counted; by kind: %v", k, byKind)
		}
	}
	if reasons != "" && !strings.Contains(strings.Join(reasonsOf(res), ";"), reasons) {
		t.Errorf("reasons %v, want %q", res["reasons"], reasons)
	}
	return res
}

func TestFaultHugeResponseIsReadInBoundedMemory(t *testing.T) {
	const size = 100 << 20
	chunk := make([]byte, 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	dir := writeFiles(t, map[string]string{"perfgate.yaml": strings.Replace(faultConfig, "timeout: 300ms", "timeout: 20s", 1), "t.yaml": "all: [error_rate < 1%]\n"})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	code, out, errs := invokeNoChdir(t, dir, map[string]string{"TARGET_URL": srv.URL}, "run", "-c", filepath.Join(dir, "perfgate.yaml"),
		"--users", "1", "--duration", "500ms", "--junit", "", "--json", filepath.Join(dir, "r.json"))
	runtime.ReadMemStats(&after)
	if code != ExitPass {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	res := readResult(t, filepath.Join(dir, "r.json"))
	all := holdAll(t, res)
	requests, bytes := all["requests"].(float64), all["bytes_received"].(float64)
	// The server side of this test allocates too; the bodies themselves must not be kept.
	if allocated := after.TotalAlloc - before.TotalAlloc; float64(allocated) > bytes/4 {
		t.Errorf("%d MB allocated to receive %.0f MB: bodies must be counted and dropped, not kept", allocated>>20, bytes/(1<<20))
	}
	if requests < 1 || bytes != requests*size {
		t.Errorf("%v requests, %v bytes: every byte of each 100 MB body must be counted", requests, bytes)
	}
}

func TestFaultServerDiesAndComesBack(t *testing.T) {
	// Users with think time have goroutines; without, they run on the event loop, as
	// does the open model.
	for _, model := range [][]string{{"--think", "20ms"}, {"--think", "0s"}, {"--rate", "100/s"}} {
		t.Run(strings.Join(model, " "), func(t *testing.T) {
			t.Parallel()
			serverDiesAndComesBack(t, model)
		})
	}
}

func serverDiesAndComesBack(t *testing.T, model []string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var served atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, "ok")
	})}
	go srv.Serve(ln)
	// Down from 500 ms to 1000 ms into a 2 s hold, then up again on the same port.
	go func() {
		time.Sleep(600 * time.Millisecond)
		srv.Close()
		time.Sleep(500 * time.Millisecond)
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		srv2 := &http.Server{Handler: srv.Handler}
		t.Cleanup(func() { srv2.Close() })
		srv2.Serve(ln2)
	}()
	doc := strings.Replace(faultConfig, "duration: 1500ms", "duration: 2s", 1)
	// A quarter of the hold down: however fast the users are when it is up, more than
	// 0.1% of their requests fail.
	dir := writeFiles(t, map[string]string{"perfgate.yaml": doc, "t.yaml": "all: [error_rate < 0.1%]\n"})
	code, out, errs := invokeNoChdir(t, dir, map[string]string{"TARGET_URL": "http://" + addr}, append([]string{"run", "-c", filepath.Join(dir, "perfgate.yaml"),
		"--junit", "", "--json", filepath.Join(dir, "r.json")}, model...)...)
	if code != ExitFail {
		t.Errorf("exit %d, want 1 (errors while the server was down)\n%s\n%s", code, out, errs)
	}
	res := readResult(t, filepath.Join(dir, "r.json"))
	all := holdAll(t, res)
	byKind, _ := all["errors_by_kind"].(map[string]any)
	if n, _ := byKind["connect_refused"].(float64); n == 0 {
		t.Errorf("no connect_refused while the server was down: %v", byKind)
	}
	if ok := all["requests"].(float64) - all["errors"].(float64); ok < 20 {
		t.Errorf("only %v successful requests: the users did not recover when the server came back", ok)
	}
}

// TestAbortStopsABrokenRunEarly: a candidate that fails every request is stopped by its
// abort rule long before the end of the hold, as failed (exit 1), with all the reports.
func TestAbortStopsABrokenRunEarly(t *testing.T) {
	for _, load := range []string{"--users=10", "--rate=200/s"} {
		t.Run(load, func(t *testing.T) {
			srv := httptest.NewServer(demo.New(demo.Options{ErrorRate: 1}).Handler())
			defer srv.Close()
			rules := "all: [error_rate < 1%]\nabort:\n  - error_rate > 50% for 1s\n"
			dir := writeFiles(t, map[string]string{"perfgate.yaml": demoConfig(), "thresholds/demo.yaml": rules})
			start := time.Now()
			code, out, errs := invokeNoChdir(t, dir, nil, "run", "-c", filepath.Join(dir, "perfgate.yaml"), "--target", srv.URL,
				load, "--duration", "30s", "--progress", "250ms", "--junit", filepath.Join(dir, "j.xml"), "--json", filepath.Join(dir, "r.json"))
			if code != ExitFail {
				t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
			}
			// Long before the end of the 30 s hold, on the run's clock and on the wall's (a
			// busy machine makes the wall's seconds of start-up and reports longer).
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("the run took %v, its whole hold: the abort rule should have stopped it within seconds", took)
			}
			if !strings.Contains(out, "Stopped early: stopped at ") || !strings.Contains(out, "error_rate > 50% for 1s held") {
				t.Errorf("stdout does not say why it stopped:\n%s", out)
			}
			res := readResult(t, filepath.Join(dir, "r.json"))
			if res["aborted"] == nil || res["verdict"] != "fail" || res["reasons"] != nil {
				t.Errorf("result: aborted %v verdict %v reasons %v", res["aborted"], res["verdict"], res["reasons"])
			}
			if aborted, _ := res["aborted"].(map[string]any); aborted == nil || aborted["at_seconds"].(float64) > 15 {
				t.Errorf("stopped at %v, want within the first half of the 30 s hold", aborted)
			}
			junit, _ := os.ReadFile(filepath.Join(dir, "j.xml"))
			if !strings.Contains(string(junit), `name="error_rate &gt; 50% for 1s [abort]"`) {
				t.Errorf("JUnit has no abort testcase:\n%s", junit)
			}
		})
	}
}

// Baseline tests compare a healthy sample API with one four times as slow. A busy
// machine adds tens of milliseconds to a p99 of a few hundred requests (the 3rd
// largest); at 100 ms against 400 ms that noise stays well inside the rules' +50% either
// way, where at 20 ms against 40 ms it flipped verdicts beside a CPU hog.
const healthyLatency, slowerLatency = 100 * time.Millisecond, 400 * time.Millisecond

// TestBaselineRegression: record a baseline from a healthy run, then judge a slower
// candidate against it; a baseline of another config is refused.
func TestBaselineRegression(t *testing.T) {
	healthy := httptest.NewServer(demo.New(demo.Options{Latency: healthyLatency}).Handler())
	defer healthy.Close()
	slower := httptest.NewServer(demo.New(demo.Options{Latency: slowerLatency}).Handler())
	defer slower.Close()
	rules := "baseline: baseline.json\nall:\n  - p99 < baseline + 50%\n  - error_rate < baseline + 0.5pp\nendpoints:\n  /api/products:\n    - throughput > baseline - 30%\n"
	dir := writeFiles(t, map[string]string{"perfgate.yaml": demoConfig(), "thresholds/demo.yaml": "all: [p99 < 5s]\n", "thresholds/release.yaml": rules})
	cfg := filepath.Join(dir, "perfgate.yaml")
	run := func(target string, extra ...string) (int, string, string) {
		return invokeNoChdir(t, dir, nil, append([]string{"run", "-c", cfg, "--target", target, "--users", "10", "--spawn-rate", "100",
			"--think", "20ms", "--duration", "1500ms", "--junit", "", "--json", filepath.Join(dir, "r.json")}, extra...)...)
	}
	if code, out, errs := run(healthy.URL); code != ExitPass {
		t.Fatalf("baseline run: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := invokeNoChdir(t, dir, nil, "baseline", filepath.Join(dir, "r.json"), "-o", filepath.Join(dir, "thresholds", "baseline.json"))
	if code != ExitPass || !strings.Contains(out, "wrote ") {
		t.Fatalf("baseline: exit %d\n%s\n%s", code, out, errs)
	}
	release := []string{"--thresholds", filepath.Join(dir, "thresholds", "release.yaml")}

	if code, out, errs := run(healthy.URL, release...); code != ExitPass || !strings.Contains(out, "against the baseline") {
		t.Errorf("same speed as the baseline: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(slower.URL, append(release, "--html", filepath.Join(dir, "run.html"))...)
	if code != ExitFail || !strings.Contains(out, "breached: p99 < baseline + 50% [all]: measured") || !strings.Contains(out, "(baseline + 50%: ") {
		t.Errorf("four times as slow: exit %d, want 1 with the baseline in the message\n%s\n%s", code, out, errs)
	}
	// The run's HTML report draws the baseline its rules read beside it.
	if page := readFile(t, filepath.Join(dir, "run.html")); !strings.Contains(page, "<td>baseline.json</td>") {
		t.Errorf("the run's HTML report lacks its baseline:\n%.800s", page)
	}
	// The failed run, rendered again beside its baseline to every format: the JSON is the
	// run's own, byte for byte, and the HTML report draws the baseline beside the run.
	again := func(name string) string { return filepath.Join(dir, "again", name) }
	code, out, errs = invokeNoChdir(t, dir, nil, "report", filepath.Join(dir, "thresholds", "baseline.json"), filepath.Join(dir, "r.json"),
		"--html", again("report.html"), "--junit", again("junit.xml"), "--markdown", again("summary.md"), "--json", again("r.json"))
	if code != ExitPass || !strings.Contains(out, "Verdict: FAIL") || !strings.Contains(out, "wrote "+again("report.html")) {
		t.Errorf("report: exit %d\n%s\n%s", code, out, errs)
	}
	if a, b := readFile(t, filepath.Join(dir, "r.json")), readFile(t, again("r.json")); a != b {
		t.Errorf("the result rendered again differs from the run's:\n%s\n%s", a, b)
	}
	if page := readFile(t, again("report.html")); !strings.Contains(page, "<td>baseline.json</td>") || !strings.Contains(page, `v-fail`) {
		t.Errorf("the HTML report lacks the baseline beside the failed run:\n%.800s", page)
	}
	if md := readFile(t, again("summary.md")); !strings.Contains(md, "## perfgate: ❌ FAIL") {
		t.Errorf("summary:\n%s", md)
	}
	junitxsd.Validate(t, again("junit.xml"))
	// Something that is no result is a usage error, naming the file.
	code, _, errs = invokeNoChdir(t, dir, nil, "report", filepath.Join(dir, "perfgate.yaml"))
	if code != ExitUsage || !strings.Contains(errs, "perfgate.yaml: not a perfgate result") {
		t.Errorf("report of a config: exit %d %q", code, errs)
	}
	// Another load is another config.
	code, _, errs = invokeNoChdir(t, dir, nil, append([]string{"validate", "-c", cfg, "--users", "11"}, release...)...)
	if code != ExitUsage || !strings.Contains(errs, "comes from a different config in phase peak (10 users, not 11)") {
		t.Errorf("other load: exit %d %q", code, errs)
	}
	// A damaged or missing baseline is a clear error.
	os.WriteFile(filepath.Join(dir, "thresholds", "baseline.json"), []byte("{"), 0o644)
	code, _, errs = invokeNoChdir(t, dir, nil, append([]string{"validate", "-c", cfg}, release...)...)
	if code != ExitUsage || !strings.Contains(errs, "release.yaml:1:11: baseline file") || !strings.Contains(errs, "is not valid JSON") {
		t.Errorf("damaged baseline: exit %d %q", code, errs)
	}
}

func TestBaselinePerPhase(t *testing.T) {
	healthy := httptest.NewServer(demo.New(demo.Options{Latency: healthyLatency}).Handler())
	defer healthy.Close()
	slower := httptest.NewServer(demo.New(demo.Options{Latency: slowerLatency}).Handler())
	defer slower.Close()
	phased := strings.Replace(demoConfig(), "  think: 1s..3s\n",
		"  think: 20ms\n  phases:\n    - {name: single-user, users: 1, duration: 1s}\n    - {name: peak, users: 10, spawn_rate: 100, duration: 1500ms}\n", 1)
	rules := "baseline: baseline.json\nall: [p99 < baseline + 50%, error_rate < 5%]\nphases:\n  single-user: [p99 < baseline + 50%, error_rate < baseline + 1pp]\n"
	dir := writeFiles(t, map[string]string{"perfgate.yaml": phased, "thresholds/demo.yaml": "all: [p99 < 5s]\n", "thresholds/release.yaml": rules})
	cfg := filepath.Join(dir, "perfgate.yaml")
	release := []string{"--thresholds", filepath.Join(dir, "thresholds", "release.yaml")}
	run := func(target string, extra ...string) (int, string, string) {
		return invokeNoChdir(t, dir, nil, append([]string{"run", "-c", cfg, "--target", target,
			"--junit", "", "--json", filepath.Join(dir, "r.json")}, extra...)...)
	}
	if code, out, errs := run(healthy.URL); code != ExitPass {
		t.Fatalf("baseline run: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := invokeNoChdir(t, dir, nil, "baseline", filepath.Join(dir, "r.json"), "-o", filepath.Join(dir, "thresholds", "baseline.json")); code != ExitPass {
		t.Fatalf("baseline: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := run(slower.URL, release...)
	if code != ExitFail ||
		!strings.Contains(out, "breached: p99 < baseline + 50% [single-user: all]: measured") ||
		!strings.Contains(out, "breached: p99 < baseline + 50% [peak: all]: measured") ||
		!regexp.MustCompile(`(?m)^  regression\s+FAIL\s+2 of 3 rules breached$`).MatchString(out) {
		t.Errorf("four times as slow in both phases: exit %d\n%s\n%s", code, out, errs)
	}
	// Each phase's load is its own fingerprint.
	other := strings.Replace(phased, "{name: single-user, users: 1,", "{name: single-user, users: 2,", 1)
	os.WriteFile(cfg, []byte(other), 0o644)
	code, _, errs = invokeNoChdir(t, dir, nil, append([]string{"validate", "-c", cfg}, release...)...)
	if code != ExitUsage || !strings.Contains(errs, "comes from a different config in phase single-user (1 users, not 2)") {
		t.Errorf("other load in a phase: exit %d %q", code, errs)
	}
	// A baseline recorded without the phase cannot judge it.
	os.WriteFile(cfg, []byte(strings.Replace(phased, "single-user", "warm-up", 2)), 0o644)
	os.WriteFile(filepath.Join(dir, "thresholds", "release.yaml"), []byte(strings.Replace(rules, "single-user", "warm-up", 1)), 0o644)
	code, _, errs = invokeNoChdir(t, dir, nil, append([]string{"validate", "-c", cfg}, release...)...)
	if code != ExitUsage || !strings.Contains(errs, `release.yaml:4:13: rule "p99 < baseline + 50%": baseline `) || !strings.Contains(errs, `has no phase "warm-up"`) {
		t.Errorf("phase missing from the baseline: exit %d %q", code, errs)
	}
}

// readFile is a file's text; a missing file fails the test.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
