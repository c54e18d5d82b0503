package report

import (
	"bytes"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/internal/golden"
	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
	"github.com/perfgate/perfgate/gate/verdict"
)

const cfgDoc = `target: http://127.0.0.1:8080
load: {users: 200, spawn_rate: 10, duration: 30s, think: 1s..3s}
setup:
  - {name: login, path: /auth/token, json: {username: u, password: p}, extract: {token: $.access_token}}
tasks:
  - {name: /api/products, weight: 3, path: /api/products, headers: {Authorization: "Bearer {{token}}"}}
  - {name: "/api/products/:id", path: /api/products/1, headers: {Authorization: "Bearer {{token}}"}}
  - {name: /never, weight: 0, path: /never}
`

const thDoc = `all:
  - p99 < 300ms
  - error_rate < 1%
  - throughput > 80/s
endpoints:
  /api/products/:id:
    - p95 < 100ms
`

// neverRule judges an endpoint that gets no traffic: it can only be invalid.
const neverRule = `  /never:
    - p99 < 1s
`

// fixture builds a run with fixed numbers and times, so reports are byte-stable; facts
// changes what the engine reports, when not nil.
func fixture(t *testing.T, facts func(*load.Result), rules string) *Result {
	return fixtureOf(t, cfgDoc, facts, rules)
}

// openCfgDoc is cfgDoc in the open model.
var openCfgDoc = strings.Replace(cfgDoc, "load: {users: 200, spawn_rate: 10, duration: 30s, think: 1s..3s}",
	"load: {rate: 100/s, start_rate: 10/s, ramp: 20s, duration: 30s, max_in_flight: 64}", 1)

// buildPlan builds the plan of a config and one threshold file.
func buildPlan(t *testing.T, doc, rules string) *plan.Plan {
	t.Helper()
	env := func(string) (string, bool) { return "", false }
	cfg, err := config.ParseConfig("perfgate.yaml", []byte(doc), env)
	if err != nil {
		t.Fatal(err)
	}
	th, err := config.ParseThresholds("thresholds/release.yaml", []byte(rules), env)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg, []*config.Thresholds{th})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fixtureOf(t *testing.T, doc string, facts func(*load.Result), rules string) *Result {
	t.Helper()
	p, rec := fixtureRecord(t, doc, facts, rules)
	return build(t, p, rec)
}

// fixtureRecord is the plan and record fixtureOf renders.
func fixtureRecord(t *testing.T, doc string, facts func(*load.Result), rules string) (*plan.Plan, *run.Record) {
	t.Helper()
	p := buildPlan(t, doc, rules)
	var opts []stats.Option
	if p.Open {
		opts = append(opts, stats.OpenModel())
	}
	col := stats.New(len(p.Endpoints), p.Timeout, opts...)
	for i := range 200 {
		col.Record(load.Sample{User: i, Endpoint: 0, Stage: load.Ramp, Latency: time.Duration(20+i%7) * time.Millisecond, Status: 200, Bytes: 120})
	}
	for i := range 3000 {
		s := load.Sample{User: i % 200, Endpoint: 1 + i%2, Stage: load.Hold, Latency: time.Duration(5+i%150) * time.Millisecond, Status: 200, Bytes: 900}
		if p.Open {
			s.Lag = time.Duration(i%40) * time.Millisecond
			s.Service = s.Latency - s.Lag/2
		}
		if i%100 == 1 {
			s.Status, s.Kind = 503, load.Status5xx
		}
		if i%500 == 3 {
			s.Status, s.Kind, s.Latency = 0, load.Timeout, 5*time.Second
		}
		col.Record(s)
	}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	facts0 := load.Result{
		Start: start, HoldStart: start.Add(20 * time.Second), HoldEnd: start.Add(50 * time.Second),
		End: start.Add(50200 * time.Millisecond), PlannedUsers: 200, PeakUsers: 200, GeneratorCPU: 0.123, Processors: 2,
	}
	if p.Open {
		facts0.PlannedUsers, facts0.PeakUsers, facts0.Open = 0, 0, true
		facts0.Delivery = load.Delivery{Planned: 3000, Sent: 3000, Late: 750, PeakInFlight: 64, CapReached: true}
	}
	if facts != nil {
		facts(&facts0)
	}
	infos := []stats.EndpointInfo{}
	for _, e := range p.Endpoints {
		infos = append(infos, stats.EndpointInfo{Name: e.Name, Setup: e.Setup})
	}
	rec := &run.Record{Start: start, End: facts0.End, StoppedAt: -1, Phases: []run.Phase{{
		Name: p.Phases[0].Name, Plan: p.ForPhase(0), Ran: true, Load: facts0,
		Hold: col.Summarize(load.Hold, facts0.HoldDuration(), infos), Ramp: col.Summarize(load.Ramp, 20*time.Second, infos),
	}}}
	for i := range 5 {
		w := stats.Window{Start: time.Duration(i) * 10 * time.Second, Length: 10 * time.Second,
			All: windowCounts(int64(600+i), int64(i), 80*time.Millisecond, time.Duration(150+10*i)*time.Millisecond, time.Second)}
		stage := load.Hold
		if i < 2 {
			stage = load.Ramp
		}
		// A 2-processor machine, other processes busy for 3 s of its 20 s each window.
		host := hostload.Usage{Wall: 10 * time.Second, Pressure: time.Duration(i+1) * 100 * time.Millisecond, PressureWall: 10 * time.Second,
			Busy: 4 * time.Second, Self: time.Second, Steal: 20 * time.Millisecond, Idle: 16*time.Second - 20*time.Millisecond,
			Wait: 50 * time.Millisecond, WaitWall: 10 * time.Second}
		rec.Windows = append(rec.Windows, run.Window{Window: w, Users: 200, Stage: stage, Host: host})
	}
	return p, rec
}

// build judges a record and renders it.
func build(t *testing.T, p *plan.Plan, rec *run.Record) *Result {
	t.Helper()
	v := verdict.Judge(p, rec)
	code := map[verdict.Status]int{verdict.Pass: 0, verdict.Fail: 1, verdict.Invalid: 3}[v.Status]
	r, err := Build(Input{Tool: "perfgate test", Plan: p, Record: rec, Verdict: v, ExitCode: code})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// windowCounts are a window's figures: half the requests at p50, up to 99% of them at
// p99, the rest at max.
func windowCounts(requests, errors int64, p50, p99, max time.Duration) stats.WindowCounts {
	h := hdrhistogram.New(1, (time.Minute + time.Second).Microseconds(), 3)
	if requests > 0 {
		// HdrHistogram's p99 is the value at the int(0.99 n + 0.5)th request.
		through99 := min(requests-1, int64(0.99*float64(requests)+0.5))
		through50 := int64(0.5*float64(requests) + 0.5)
		_ = h.RecordValues(p50.Microseconds(), through50)
		_ = h.RecordValues(p99.Microseconds(), through99-through50)
		_ = h.RecordValues(max.Microseconds(), requests-through99)
	}
	return stats.WindowCounts{Requests: requests, Errors: errors, Latency: stats.Compact(h)}
}

func render(t *testing.T, r *Result, write func(*bytes.Buffer, *Result) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	cancelled := func(l *load.Result) { l.Canceled, l.CanceledIn = true, load.Hold }
	for _, tc := range []struct {
		name  string
		facts func(*load.Result)
		rules string
		doc   string
	}{
		{"fail", nil, thDoc, cfgDoc},
		{"invalid", cancelled, thDoc + neverRule, cfgDoc},
		{"open", nil, thDoc, openCfgDoc},
		// HTTPS, as the lean client speaks it: its handshakes apart.
		{"https", func(l *load.Result) {
			l.Handshakes = load.Handshakes{Count: 212, Resumed: 12, Total: 212 * 1800 * time.Microsecond, Max: 9 * time.Millisecond}
		}, thDoc, strings.Replace(cfgDoc, "http://127.0.0.1:8080", "https://127.0.0.1:8443", 1) + "tls: {protocol: http/1.1}\n"},
	} {
		r := fixtureOf(t, tc.doc, tc.facts, tc.rules)
		goldenAll(t, tc.name, r)
	}
	// The target's resources, read from its /metrics: the last window's scrape failed.
	p, rec := fixtureRecord(t, cfgDoc+"resources:\n  scrape: http://127.0.0.1:9100/metrics\n  series:\n"+
		"    - {name: cpu, metric: process_cpu_seconds_total, counter: true}\n    - {name: memory, metric: process_resident_memory_bytes}\n"+
		"    - {name: db_waits, metric: go_sql_wait_count_total, counter: true}\n", nil, thDoc)
	for i := range rec.Windows {
		rec.Windows[i].Resources = []resource.Value{{V: 0.25 + 0.1*float64(i), OK: true}, {V: 4.2e7 + 1e6*float64(i), OK: true}, {}}
	}
	rec.Windows[4].Resources, rec.Windows[4].ResourceError = nil, "metrics source http://127.0.0.1:9100/metrics: status 503"
	goldenAll(t, "resources", build(t, p, rec))
	goldenAll(t, "phases", phasesFixture(t, false))
	goldenAll(t, "aborted", phasesFixture(t, true))
}

// goldenAll pins every report format of r.
func goldenAll(t *testing.T, name string, r *Result) {
	t.Helper()
	for _, tc := range []struct{ name string }{{name}} {
		golden.Check(t, tc.name+".console.txt", render(t, r, func(b *bytes.Buffer, r *Result) error { return WriteConsole(b, r) }))
		golden.Check(t, tc.name+".junit.xml", render(t, r, func(b *bytes.Buffer, r *Result) error { return WriteJUnit(b, r) }))
		golden.Check(t, tc.name+".result.json", render(t, r, func(b *bytes.Buffer, r *Result) error { return WriteJSON(b, r) }))
		golden.Check(t, tc.name+".summary.md", render(t, r, func(b *bytes.Buffer, r *Result) error { return WriteMarkdown(b, r) }))
		golden.Check(t, tc.name+".report.html", render(t, r, func(b *bytes.Buffer, r *Result) error { return WriteHTML(b, r, nil) }))
		golden.Check(t, tc.name+".comment.md", []byte(Comment(r, `<!-- perfgate:comment "perf" -->`, "https://github.example/acme/shop/actions/runs/42", 65536)))
	}
}

func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	junitxsd.Validate(t, filepath.Join("testdata", "fail.junit.xml"), filepath.Join("testdata", "invalid.junit.xml"),
		filepath.Join("testdata", "open.junit.xml"), filepath.Join("testdata", "phases.junit.xml"), filepath.Join("testdata", "aborted.junit.xml"))
}

func TestVerdicts(t *testing.T) {
	r := fixture(t, nil, thDoc)
	if r.Verdict != "fail" || r.ExitCode != 1 {
		t.Fatalf("verdict = %s, exit %d", r.Verdict, r.ExitCode)
	}
	var failed []string
	for _, c := range r.Checks {
		if c.Status != "pass" {
			failed = append(failed, c.Rule+" ["+c.Scope+"]")
		}
	}
	// error_rate is 1% 5xx + 0.2% timeouts; /api/products/:id's p95 is about 148ms.
	want := "error_rate < 1% [all],p95 < 100ms [/api/products/:id]"
	if strings.Join(failed, ",") != want {
		t.Errorf("failed = %q, want %q", strings.Join(failed, ","), want)
	}
	r = fixture(t, nil, thDoc+neverRule)
	if r.Verdict != "invalid" || r.ExitCode != 3 || r.Checks[len(r.Checks)-1].Measured != nil {
		t.Errorf("a rule without samples gave verdict %s: it must never pass, and the run has no valid verdict", r.Verdict)
	}
}

func TestJSONRoundTripKeepsHistograms(t *testing.T) {
	r := fixture(t, nil, thDoc)
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	all := back.Main().Hold.All
	h, err := hdrhistogram.Decode([]byte(all.Histogram))
	if err != nil {
		t.Fatal(err)
	}
	if h.TotalCount() != all.Requests {
		t.Errorf("decoded histogram holds %d values, want %d", h.TotalCount(), all.Requests)
	}
	if got := float64(h.ValueAtQuantile(99)) / 1000; got != all.LatencyMs.P99 {
		t.Errorf("decoded p99 = %vms, report says %vms", got, all.LatencyMs.P99)
	}
	// A window's histogram too.
	w := back.Windows[2]
	if h, err := hdrhistogram.Decode([]byte(w.Histogram)); err != nil || h.TotalCount() != w.Requests || float64(h.ValueAtQuantile(99))/1000 != w.P99Ms {
		t.Errorf("window histogram: %v", err)
	}
	if _, err := ReadJSON(strings.NewReader(`{"version":"other/v9"}`)); err == nil {
		t.Error("another version was accepted")
	}
}

// A result of version 1 reads back as this version, and renders as it did.
func TestReadsVersionOneResults(t *testing.T) {
	for _, name := range []string{"fail", "invalid", "open", "phases"} {
		f, err := os.Open(filepath.Join("testdata", "v1", name+".result.json"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ReadJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Version != ResultVersion || len(r.Phases) == 0 || r.Main() == nil || len(r.Verdicts) == 0 {
			t.Fatalf("%s: version %q, %d phases, %d verdicts", name, r.Version, len(r.Phases), len(r.Verdicts))
		}
		console, err := os.ReadFile(filepath.Join("testdata", name+".console.txt"))
		if err != nil {
			t.Fatal(err)
		}
		// Version 1 did not record how contended the machine was, nor intervals.
		console = regexp.MustCompile(`; machine: [^\n]*`).ReplaceAll(console, nil)
		console = regexp.MustCompile(` \[[^\]\n,]*, [^\]\n]*\]|; [\d.]+% interval from [^\n;]*`).ReplaceAll(console, nil)
		if got := render(t, r, func(b *bytes.Buffer, r *Result) error { return WriteConsole(b, r) }); !bytes.Equal(got, console) {
			t.Errorf("%s: the v1 result renders otherwise than the run did:\n%s", name, got)
		}
		if _, err := Baseline([]*Result{r}, []string{"r.json"}, time.Now(), false); (err == nil) != (r.Verdict != "invalid") {
			t.Errorf("%s: baseline from a v1 result: %v", name, err)
		}
	}
}

func TestCleanDropsIllegalXML(t *testing.T) {
	if got := clean("a\x00b\x1bc\td\uFFFEe"); got != "abc\tde" {
		t.Errorf("clean = %q", got)
	}
}

func TestFormat(t *testing.T) {
	cases := map[string]string{
		FormatValue("latency", 0.2999): "300ms",
		FormatValue("latency", 1.5):    "1.5s",
		FormatValue("latency", 0.0004): "400us",
		FormatValue("ratio", 0.017094): "1.71%",
		FormatValue("rate", 80):        "80/s",
		FormatValue("count", 12345):    "12,345",
		Count(-1234567):                "-1,234,567",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

const phasesTh = `all:
  - p99 < 300ms
  - p99 drift < 20%
phases:
  single-user: [p99 < 100ms]
  overload: [error_rate < 5%]
  recovery: [p99 < 2 * single-user.p99]
`

// phasesFixture is a run of the full profile with fixed numbers: the peak drifts, the
// overload sheds too much, the recovery holds; or, aborted, an abort rule stops the
// overload after its first 10 s, and the recovery does not run.
func phasesFixture(t *testing.T, aborted bool) *Result {
	t.Helper()
	rules := phasesTh
	if aborted {
		rules += "abort: [error_rate > 5% for 10s]\n"
	}
	p := buildPlan(t, strings.Replace(cfgDoc, "think: 1s..3s}", "think: 1s..3s, profile: full}", 1), rules)
	infos := []stats.EndpointInfo{}
	for _, e := range p.Endpoints {
		infos = append(infos, stats.EndpointInfo{Name: e.Name, Setup: e.Setup})
	}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := start
	rec := &run.Record{Start: start, StoppedAt: -1}
	for i := range p.Phases {
		pp := p.ForPhase(i)
		if aborted && i == 3 {
			rec.Phases = append(rec.Phases, run.Phase{Name: pp.PhaseName(), Plan: pp})
			continue
		}
		col := stats.New(len(p.Endpoints), p.Timeout)
		base, errEvery := []int{8, 20, 40, 9}[i], []int{0, 0, 10, 0}[i]
		for j := range 1000 {
			s := load.Sample{User: j % 10, Endpoint: 1 + j%2, Stage: load.Hold, Latency: time.Duration(base+j%12) * time.Millisecond, Status: 200}
			if errEvery > 0 && j%errEvery == 0 {
				s.Status, s.Kind = 503, load.Status5xx
			}
			col.Record(s)
		}
		ramp := pp.Ramp()
		facts := load.Result{Start: at, HoldStart: at.Add(ramp), HoldEnd: at.Add(ramp + pp.Hold), End: at.Add(ramp + pp.Hold),
			PlannedUsers: pp.Users, PeakUsers: pp.Users, GeneratorCPU: 0.05, Processors: 2}
		if i == 1 { // the peak: twelve 10 s windows whose p99 climbs 3 ms a window
			for k := range 12 {
				// p99 over all requests: 30+3k ms; /api/products 25+3k ms.
				wc := stats.New(len(p.Endpoints), p.Timeout)
				for j := range 80 {
					s := load.Sample{User: j, Endpoint: 1, Stage: load.Hold, Latency: 20 * time.Millisecond, Status: 200}
					switch {
					case j >= 60:
						s.Endpoint, s.Latency = 2, 21*time.Millisecond
						if j >= 70 {
							s.Latency = time.Duration(30+3*k) * time.Millisecond
						}
						if j == 79 {
							s.Status, s.Kind = 503, load.Status5xx
						}
					case j >= 30:
						s.Latency = time.Duration(25+3*k) * time.Millisecond
					}
					wc.Record(s)
				}
				w := wc.CloseWindow(0, 10*time.Second)
				w.Start = at.Add(ramp).Sub(start) + time.Duration(k)*10*time.Second
				rec.Windows = append(rec.Windows, run.Window{Window: w, Phase: i, Users: pp.Users, Stage: load.Hold})
			}
		}
		if aborted && i == 2 { // one 10 s window of the overload, 10% of it errors
			w := col.CloseWindow(at.Add(ramp).Sub(start), at.Add(ramp+10*time.Second).Sub(start))
			rec.Windows = append(rec.Windows, run.Window{Window: w, Phase: i, Users: pp.Users, Stage: load.Hold})
			rec.StoppedAt = len(rec.Windows) - 1
			facts.Stopped, facts.HoldEnd, facts.End = true, at.Add(ramp+10*time.Second), at.Add(ramp+10*time.Second)
		}
		rec.Phases = append(rec.Phases, run.Phase{Name: pp.PhaseName(), Plan: pp, Ran: true, Load: facts,
			Hold: col.Summarize(load.Hold, pp.Hold, infos), Ramp: col.Summarize(load.Ramp, ramp, infos)})
		at = facts.End
	}
	rec.End = at
	return build(t, p, rec)
}

func TestPhasesReport(t *testing.T) {
	r := phasesFixture(t, false)
	got := map[string]string{}
	for _, g := range r.Verdicts {
		got[g.Name] = g.Verdict
	}
	want := map[string]string{"peak": "pass", "peak drift": "fail", "single-user": "pass", "overload": "fail", "recovery": "pass"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("verdict of %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(r.Phases) != 4 || r.Phases[2].Verdict != "fail" || r.Phases[0].Verdict != "pass" || r.Main().Hold.All.Requests != 1000 || r.Main().Name != "peak" {
		t.Errorf("phases = %+v", r.Phases)
	}
	if !r.Started.Equal(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) || !r.Ended.Equal(r.Started.Add(87850*time.Millisecond)) {
		t.Errorf("run from %v to %v", r.Started, r.Ended)
	}
}

// sureFixture is a run whose rules are judged on intervals: twelve 2.5 s windows of a
// 30 s hold, two endpoints, latencies of 5 ms plus an exponential of mean 20 ms (p99
// about 97 ms), 1% errors. p99 < 300ms passes for sure, p99 < 98ms cannot be told, and
// error_rate < 1.5% passes; with warn the inconclusive rule is a warning.
func sureFixture(t *testing.T, warn bool) *Result {
	t.Helper()
	doc := cfgDoc
	if warn {
		doc += "verdict: {inconclusive: warn}\n"
	}
	p := buildPlan(t, doc, "all:\n  - p99 < 300ms\n  - p99 < 98ms\n  - error_rate < 1.5%\n  - max < 10s\n")
	rng := rand.New(rand.NewPCG(1, 2))
	col := stats.New(len(p.Endpoints), p.Timeout)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	rec := &run.Record{Start: start, End: start.Add(50 * time.Second), StoppedAt: -1}
	n := 0
	for w := range 12 {
		for range 250 {
			lat := time.Duration((5 + 20*rng.ExpFloat64()) * float64(time.Millisecond))
			s := load.Sample{User: n % 200, Endpoint: 1 + n%2, Stage: load.Hold, Latency: lat, Status: 200, Bytes: 900}
			if n%100 == 7 {
				s.Status, s.Kind = 503, load.Status5xx
			}
			col.Record(s)
			n++
		}
		from := 20*time.Second + time.Duration(w)*2500*time.Millisecond
		win := col.CloseWindow(from, from+2500*time.Millisecond)
		host := hostload.Usage{Wall: 2500 * time.Millisecond, Wait: 25 * time.Millisecond, WaitWall: 2500 * time.Millisecond, Runs: 2000}
		rec.Windows = append(rec.Windows, run.Window{Window: win, Users: 200, Stage: load.Hold, Host: host})
	}
	infos := []stats.EndpointInfo{}
	for _, e := range p.Endpoints {
		infos = append(infos, stats.EndpointInfo{Name: e.Name, Setup: e.Setup})
	}
	facts := load.Result{Start: start, HoldStart: start.Add(20 * time.Second), HoldEnd: start.Add(50 * time.Second),
		End: start.Add(50 * time.Second), PlannedUsers: 200, PeakUsers: 200, GeneratorCPU: 0.05, Processors: 2}
	rec.Phases = []run.Phase{{Name: p.Phases[0].Name, Plan: p.ForPhase(0), Ran: true, Load: facts,
		Hold: col.Summarize(load.Hold, facts.HoldDuration(), infos), Ramp: col.Summarize(load.Ramp, 20*time.Second, infos)}}
	return build(t, p, rec)
}

// TestGoldenSure pins how every report shows a rule judged on its interval, an
// inconclusive one, and the same treated as a warning.
func TestGoldenSure(t *testing.T) {
	r := sureFixture(t, false)
	if r.Verdict != "invalid" || len(r.Reasons) != 1 || r.Reasons[0].Code != "inconclusive" || r.ExitCode != 3 {
		t.Fatalf("verdict %s, exit %d, reasons %+v: want invalid, inconclusive; checks %+v", r.Verdict, r.ExitCode, r.Reasons, r.Checks)
	}
	want := []string{"pass", "inconclusive", "pass", "pass"}
	for i, c := range r.Checks {
		if c.Status != want[i] || (c.Interval == nil) != (c.Metric == "max") {
			t.Errorf("%s: %s, interval %+v; want %s, with an interval unless a maximum", c.Rule, c.Status, c.Interval, want[i])
		}
	}
	goldenAll(t, "sure", r)
	w := sureFixture(t, true)
	if w.Verdict != "pass" || w.Warnings != 1 || !w.InconclusiveWarns || w.ExitCode != 0 {
		t.Fatalf("with warn: verdict %s, %d warnings, exit %d", w.Verdict, w.Warnings, w.ExitCode)
	}
	goldenAll(t, "sure-warn", w)
}

// TestBaselineOfSeveralRuns records three runs as one baseline: each run kept with its
// windows, the figures pooled, the file read back with every run's series; a run from
// another load, or recorded on a machine too contended to judge, is refused (the latter
// unless forced).
func TestBaselineOfSeveralRuns(t *testing.T) {
	runs := []*Result{fixture(t, nil, thDoc), fixture(t, nil, thDoc), fixture(t, nil, thDoc)}
	names := []string{"a.json", "b.json", "c.json"}
	f, err := Baseline(runs, names, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Runs) != 3 || f.All.Requests != 3*runs[0].Main().Hold.All.Requests || len(f.Runs[0].Phases[0].Windows) != 3 {
		t.Fatalf("%d runs, %d requests pooled, %d windows in the first: want 3, 3x, its 3 hold windows", len(f.Runs), f.All.Requests, len(f.Runs[0].Phases[0].Windows))
	}
	path := filepath.Join(t.TempDir(), "baseline.json")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := baseline.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	series, ok := back.Series("peak", true, "/api/products/:id")
	if !ok || len(series) != 3 || len(series[2].Windows) != 3 || series[0].Metrics.Requests != runs[0].Main().Hold.Endpoints[2].Requests {
		t.Fatalf("series %v, %+v", ok, series)
	}
	// Another load.
	other := fixtureOf(t, strings.Replace(cfgDoc, "users: 200", "users: 100", 1), nil, thDoc)
	if _, err := Baseline([]*Result{runs[0], other}, []string{"a.json", "other.json"}, time.Now(), false); err == nil || !strings.Contains(err.Error(), "other.json comes from another load") {
		t.Errorf("another load: %v", err)
	}
	// A contended run.
	busy := fixture(t, nil, thDoc)
	busy.Verdict, busy.Reasons = "invalid", []Reason{{Code: "contended", Message: "too busy"}}
	if _, err := Baseline([]*Result{runs[0], busy}, []string{"a.json", "busy.json"}, time.Now(), false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("a contended run: %v", err)
	}
	forced, err := Baseline([]*Result{runs[0], busy}, []string{"a.json", "busy.json"}, time.Now(), true)
	if err != nil || !forced.Runs[1].Contended || forced.Runs[0].Contended {
		t.Errorf("forced: %v, %+v", err, forced)
	}
	// A run far from the others: its hold's latencies 30% longer.
	slow := fixture(t, nil, thDoc)
	h, err := baseline.Decode(slow.Main().Hold.All.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	longer := hdrhistogram.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	for _, b := range h.Distribution() {
		if err := longer.RecordValues((b.From+b.To)/2*13/10, b.Count); err != nil {
			t.Fatal(err)
		}
	}
	if slow.Main().Hold.All.Histogram, err = (&histEncoder{}).encode(longer); err != nil {
		t.Fatal(err)
	}
	three := []*Result{runs[0], runs[1], slow}
	if _, err := Baseline(three, []string{"a.json", "b.json", "slow.json"}, time.Now(), false); err == nil || !strings.Contains(err.Error(), "slow.json: its p50") || !strings.Contains(err.Error(), "+30% from the runs' median") {
		t.Errorf("a run apart: %v", err)
	}
	if _, err := Baseline(three, []string{"a.json", "b.json", "slow.json"}, time.Now(), true); err != nil {
		t.Errorf("a run apart, forced: %v", err)
	}
}

// TestOutlier: the run farthest from the runs' median is found when it lies over 10% away; runs that vary as
// quiet ones do are not. The first row is five baseline runs' p99 measured here.
func TestOutlier(t *testing.T) {
	for _, tc := range []struct {
		vals []float64
		want int
	}{
		{[]float64{16.20, 16.19, 16.07, 18.82, 16.13}, 3},
		{[]float64{16.20, 16.19, 16.07, 17.5, 16.13}, -1},
		{[]float64{20, 16.19, 16.07, 16.3}, 0},
		{[]float64{14.2, 16.19, 16.07, 16.3}, 0},
		{[]float64{10, 11, 12}, -1},
		{[]float64{0, 0, 0}, -1},
	} {
		if got, _ := outlier(tc.vals, OutlierShare); got != tc.want {
			t.Errorf("outlier(%v) = %d, want %d", tc.vals, got, tc.want)
		}
	}
}

// TestRoundKeepsLargeValues: a resource as large as Go's unset memory limit (the largest
// int64) keeps its value; small ones round to their digits.
func TestRoundKeepsLargeValues(t *testing.T) {
	for _, tc := range []struct{ v, want float64 }{
		{9.223372036854776e18, 9.223372036854776e18}, {1.23456789, 1.234568}, {-2.5000004, -2.5}, {0, 0},
	} {
		if got := round(tc.v, 6); got != tc.want {
			t.Errorf("round(%v, 6) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// JUnit consumers add the testcases' times up: they come to the run's measured time,
// the load's testcases carrying it and each rule's judgement none (a 30 s hold with
// seven rules read as 240 s before).
func TestJUnitTimesAddUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *Result
	}{{"one phase", fixture(t, nil, thDoc)}, {"four phases", phasesFixture(t, false)}} {
		var b bytes.Buffer
		if err := WriteJUnit(&b, tc.r); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Time   float64 `xml:"time,attr"`
			Suites []struct {
				Time  float64 `xml:"time,attr"`
				Cases []struct {
					Name string  `xml:"name,attr"`
					Time float64 `xml:"time,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		want := 0.0
		for _, ph := range tc.r.Phases {
			want += ph.Delivery.HoldSeconds
		}
		total := 0.0
		for _, s := range doc.Suites {
			sum := 0.0
			for _, c := range s.Cases {
				sum += c.Time
			}
			if math.Abs(sum-s.Time) > 0.01 {
				t.Errorf("%s: a suite's testcases add up to %.3fs, the suite says %.3fs", tc.name, sum, s.Time)
			}
			total += sum
		}
		if math.Abs(total-want) > 0.01 || math.Abs(doc.Time-want) > 0.01 {
			t.Errorf("%s: testcases add up to %.3fs (testsuites %.3fs), the holds to %.3fs", tc.name, total, doc.Time, want)
		}
	}
}
