package plan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/resource"
)

func noEnv(string) (string, bool) { return "", false }

func build(t *testing.T, cfgDoc, thDoc string) (*Plan, error) {
	t.Helper()
	cfg, err := config.ParseConfig("perfgate.yaml", []byte(cfgDoc), noEnv)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var ths []*config.Thresholds
	if thDoc != "" {
		th, err := config.ParseThresholds("t.yaml", []byte(thDoc), noEnv)
		if err != nil {
			t.Fatalf("thresholds: %v", err)
		}
		ths = append(ths, th)
	}
	return Build(cfg, ths)
}

const base = `target: http://127.0.0.1:8080/base/
load: {users: 20, spawn_rate: 10, duration: 30s, think: 1s..3s}
defaults:
  headers: {X-Team: perf}
setup:
  - name: login
    path: /auth/token
    json: {username: u, password: "p\"w<>"}
    extract: {token: $.access_token, uid: $.user.id}
tasks:
  - name: list
    weight: 3
    path: /api/products?page=1
    query: {owner: "{{uid}}"}
    headers: {Authorization: "Bearer {{token}}"}
  - name: detail
    path: /api/products/{{uid}}
  - name: list
    weight: 0
    path: /api/other
`

func TestBuild(t *testing.T) {
	p, err := build(t, base, "all: [p99 < 1s]\nendpoints:\n  detail: [error_rate < 1%]\n  list: [max < 2s]\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.Users != 20 || p.SpawnRate != 10 || p.Hold != 30*time.Second || p.Timeout != DefaultTimeout {
		t.Errorf("load = %d %v %v %v", p.Users, p.SpawnRate, p.Hold, p.Timeout)
	}
	if got := p.Ramp(); got != 1900*time.Millisecond {
		t.Errorf("Ramp() = %v, want 1.9s (the 20th user starts at 19/10 s)", got)
	}
	wantEndpoints := []Endpoint{{"login", true}, {"list", false}, {"detail", false}}
	if len(p.Endpoints) != 3 {
		t.Fatalf("endpoints = %v", p.Endpoints)
	}
	for i, e := range wantEndpoints {
		if p.Endpoints[i] != e {
			t.Errorf("endpoint %d = %v, want %v", i, p.Endpoints[i], e)
		}
	}
	if p.Tasks[2].Endpoint != p.Tasks[0].Endpoint {
		t.Errorf("tasks with one name must share an endpoint")
	}
	vars := make([]string, len(p.Vars))
	for i, name := range p.Vars {
		vars[i] = map[string]string{"token": "t/k n", "uid": "a b&c"}[name]
	}
	login, list, detail := p.Setup[0], p.Tasks[0], p.Tasks[1]
	if login.Method != "POST" || list.Method != "GET" {
		t.Errorf("methods = %s %s: json implies POST, none implies GET", login.Method, list.Method)
	}
	if got := login.Body.Render(vars); got != `{"password":"p\"w<>","username":"u"}` {
		t.Errorf("login body = %s", got)
	}
	if got := list.URL.Render(vars); got != "http://127.0.0.1:8080/base/api/products?page=1&owner=a+b%26c" {
		t.Errorf("list URL = %s", got)
	}
	if got := detail.URL.Render(vars); got != "http://127.0.0.1:8080/base/api/products/a%20b&c" {
		t.Errorf("detail URL = %s", got)
	}
	hdr := map[string]string{}
	for _, h := range list.Headers {
		hdr[h.Name] = h.Value.Render(vars)
	}
	if hdr["Authorization"] != "Bearer t/k n" || hdr["X-Team"] != "perf" {
		t.Errorf("headers = %v", hdr)
	}
	if len(p.Rules) != 3 || p.Rules[0].Endpoint != -1 || p.Rules[1].Endpoint != 2 || p.Rules[2].Endpoint != 1 {
		t.Errorf("rules = %+v", p.Rules)
	}
}

func TestJSONBodyEscapesValues(t *testing.T) {
	p, err := build(t, "target: http://h\nsetup:\n  - {path: /a, extract: {v: $.v}}\ntasks:\n  - path: /b\n    json: {q: \"x{{v}}y\"}\n", "all: [p99 < 1s]")
	if err != nil {
		t.Fatal(err)
	}
	got := p.Tasks[0].Body.Render([]string{"\"}\n"})
	if got != `{"q":"x\"}\ny"}` {
		t.Errorf("body = %s", got)
	}
}

func TestPick(t *testing.T) {
	p, err := build(t, "target: http://h\ntasks:\n  - {path: /a, weight: 3}\n  - {path: /z, weight: 0}\n  - {path: /b}\n", "all: [p99 < 1s]")
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalWeight() != 4 {
		t.Fatalf("total weight = %d", p.TotalWeight())
	}
	want := []int{0, 0, 0, 2}
	for n, w := range want {
		if got := p.Pick(n); got != w {
			t.Errorf("Pick(%d) = %d, want %d", n, got, w)
		}
	}
}

func TestDefaults(t *testing.T) {
	p, err := build(t, "target: http://h\ntasks: [{path: /}]\n", "all: [p99 < 1s]")
	if err != nil {
		t.Fatal(err)
	}
	if p.Users != 1 || p.SpawnRate != 1 || p.Hold != DefaultDuration || p.Think != (config.Think{}) || p.Tasks[0].Name != "/" {
		t.Errorf("defaults: users %d rate %v hold %v think %v name %q", p.Users, p.SpawnRate, p.Hold, p.Think, p.Tasks[0].Name)
	}
	p, _ = build(t, "target: http://h\nload: {users: 200}\ntasks: [{path: /}]\n", "all: [p99 < 1s]")
	if p.SpawnRate != 20 {
		t.Errorf("default spawn rate for 200 users = %v, want 20 (a 10 s ramp)", p.SpawnRate)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name, cfg, th, want string
	}{
		{"no target", "tasks: [{path: /}]", "", "perfgate.yaml:1:1: target is not set"},
		{"bad target", "target: ftp://h\ntasks: [{path: /}]", "", "perfgate.yaml:1:9: target \"ftp://h\" is not an http:// or https:// URL"},
		{"password in target hidden", "target: 'http://u:hunter2@'\ntasks: [{path: /}]", "", "http://u:xxxxx@"},
		{"no tasks", "target: http://h", "", "no tasks"},
		{"negative weight", "target: http://h\ntasks:\n  - path: /\n    weight: -2\n", "", "perfgate.yaml:4:13: tasks[0]: weight must be between 0 and 1000000, got -2"},
		{"zero weights", "target: http://h\ntasks: [{path: /, weight: 0}]", "", "every task has weight 0"},
		{"relative path", "target: http://h\ntasks:\n  - path: api\n", "", "perfgate.yaml:3:11: tasks[0]: path \"api\" must start with /"},
		{"users zero", "target: http://h\nload: {users: 0}\ntasks: [{path: /}]", "", "perfgate.yaml:2:15: load.users must be between 1 and 1000000"},
		{"spawn rate", "target: http://h\nload: {spawn_rate: -1}\ntasks: [{path: /}]", "", "perfgate.yaml:2:20: load.spawn_rate must be above 0"},
		{"unknown var", "target: http://h\ntasks:\n  - path: /\n    headers: {A: '{{tok}}'}\n", "", "perfgate.yaml:4:14: tasks[0].headers: {{tok}} is not extracted by any earlier setup step"},
		{"var used before extracted", "target: http://h\nsetup:\n  - {path: /a, headers: {A: '{{t}}'}, extract: {t: $.t}}\ntasks: [{path: /}]", "", "{{t}} is not extracted"},
		{"weight on setup", "target: http://h\nsetup:\n  - {path: /a, weight: 2}\ntasks: [{path: /}]", "", "weight does not apply"},
		{"extract in task", "target: http://h\ntasks:\n  - {path: /, extract: {a: $.a}}", "", "extract is for setup steps"},
		{"bad json path", "target: http://h\nsetup:\n  - {path: /a, extract: {t: access_token}}\ntasks: [{path: /}]", "", "must start with $"},
		{"json and body", "target: http://h\ntasks:\n  - {path: /, body: x, json: {a: 1}}", "", "set json or body, not both"},
		{"bad method", "target: http://h\ntasks:\n  - {path: /, method: 'GE T'}", "", "invalid method"},
		{"bad ca file", "target: https://h\ntls: {ca_file: /nonexistent/ca.pem}\ntasks: [{path: /}]", "", "perfgate.yaml:2:16: tls.ca_file: cannot read /nonexistent/ca.pem"},
		{"bad protocol", "target: https://h\ntls: {protocol: http/3}\ntasks: [{path: /}]", "", "perfgate.yaml:2:17: tls.protocol: \"http/3\" is none of auto, http/1.1, h2"},
		{"h2 without tls", "target: http://h\ntls: {protocol: h2}\ntasks: [{path: /}]", "", "perfgate.yaml:2:17: tls.protocol: h2 needs an https:// target"},
		{"unknown endpoint", "target: http://h\ntasks: [{name: /api/products, path: /p}]", "endpoints:\n  /api/produts:\n    - p99 < 1s\n", "t.yaml:2:3: unknown endpoint \"/api/produts\": the config's endpoints are /api/products"},
		{"confidence too low", "target: http://h\ntasks: [{path: /}]\nverdict: {confidence: 40%}", "", "perfgate.yaml:3:23: verdict.confidence must be at least 50% and below 100%, got 40%"},
		{"bad inconclusive", "target: http://h\ntasks: [{path: /}]\nverdict: {inconclusive: pass}", "", "perfgate.yaml:3:25: verdict.inconclusive must be invalid (no valid verdict, exit 3) or warn, got \"pass\""},
		{"bad contention", "target: http://h\ntasks: [{path: /}]\nverdict:\n  contention: ignore\n", "", "perfgate.yaml:4:15: verdict.contention must be judge"},
		{"setup and task share a name", "target: http://h\nsetup: [{name: x, path: /a}]\ntasks: [{name: x, path: /b}]", "", "already a setup step's name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, tc.cfg, tc.th)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	cfg, err := config.ParseConfig("f.yaml", []byte("target: http://h\ndefaults:\n  headers: {Cookie: 'sid=abc'}\ntasks:\n  - path: /\n    headers: {authorization: 'Basic Zm9v'}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	th, _ := config.ParseThresholds("t.yaml", []byte("all: [p99 < 1s]"), noEnv)
	p, err := Build(cfg, []*config.Thresholds{th})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.Secrets, "|")
	if !strings.Contains(got, "sid=abc") || !strings.Contains(got, "Basic Zm9v") {
		t.Errorf("secrets = %q, want the static Cookie and Authorization values", got)
	}
}

func TestOpenModel(t *testing.T) {
	p, err := build(t, "target: http://h\nload: {rate: 150/s, start_rate: 10/s, ramp: 30s, duration: 1m}\ntasks: [{path: /}]\n", "all: [p99 < 1s]")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Open || p.Rate != 150 || p.StartRate != 10 || p.Ramp() != 30*time.Second || p.Hold != time.Minute || p.MaxInFlight != DefaultMaxInFlight {
		t.Errorf("open plan = %+v", p)
	}
	cases := map[string]string{
		"load: {rate: 0/s}":                              "perfgate.yaml:2:14: load.rate must be above zero",
		"load: {rate: 10/s, max_in_flight: 0}":           "perfgate.yaml:2:35: load.max_in_flight must be between 1 and 1000000, got 0",
		"load: {rate: 10/s, start_rate: 20/s, ramp: 5s}": "perfgate.yaml:2:32: the ramp ends below its start",
		"load: {rate: 10/s, start_rate: 5/s}":            "load.start_rate needs load.ramp",
		"load: {rate: 10/s, users: 5}":                   "perfgate.yaml:2:27: load.users belongs to the closed model",
		"load: {users: 5, max_in_flight: 9}":             "perfgate.yaml:2:33: load.max_in_flight belongs to the open model",
	}
	if _, err := config.ParseConfig("f.yaml", []byte("load: {rate: 150}"), noEnv); err == nil || err.Error() != `f.yaml:1:14: rate "150" needs a unit, as in 150/s` {
		t.Errorf("rate without a unit: %v", err)
	}
	if _, err := config.ParseConfig("f.yaml", []byte("load: {rate: -3/s}"), noEnv); err == nil || !strings.Contains(err.Error(), "f.yaml:1:14: rate \"-3/s\" must be above zero") {
		t.Errorf("negative rate: %v", err)
	}
	for load, want := range cases {
		_, err := build(t, "target: http://h\n"+load+"\ntasks: [{path: /}]\n", "all: [p99 < 1s]")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", load, err, want)
		}
	}
}

const phasesConfig = `target: http://127.0.0.1:8080
load:
  users: 50
  spawn_rate: 5
  duration: 2m
  think: 1s
  phases:
    - {name: warm, users: 1, duration: 20s}
    - {name: peak}
    - {name: burst, rate: 300/s, duration: 30s}
tasks:
  - {name: home, path: /}
`

func TestPhases(t *testing.T) {
	p, err := build(t, phasesConfig, "all: [p99 < 1s]\nphases:\n  burst: [error_rate < 5%, p99 < 2 * warm.p99]\n  warm: [p99 drift < 20%]\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Phase{
		{"warm", Load{Users: 1, SpawnRate: 5, Think: config.Think{Min: time.Second, Max: time.Second}, Hold: 20 * time.Second}},
		{"peak", Load{Users: 50, SpawnRate: 5, Think: config.Think{Min: time.Second, Max: time.Second}, Hold: 2 * time.Minute}},
		{"burst", Load{Open: true, Rate: 300, MaxInFlight: DefaultMaxInFlight, Hold: 30 * time.Second}},
	}
	if len(p.Phases) != len(want) {
		t.Fatalf("phases = %+v", p.Phases)
	}
	for i := range want {
		if p.Phases[i] != want[i] {
			t.Errorf("phase %d = %+v, want %+v", i, p.Phases[i], want[i])
		}
	}
	if p.Main != 1 || p.Users != 50 || p.ForPhase(2).Rate != 300 || p.ForPhase(2).PhaseName() != "burst" {
		t.Errorf("main %d, users %d", p.Main, p.Users)
	}
	got := map[string]int{}
	for _, r := range p.Rules {
		got[r.Text] = r.Phase
		if r.Ref != nil && r.RefPhase != 0 {
			t.Errorf("%s refers to phase %d, want 0 (warm)", r.Text, r.RefPhase)
		}
	}
	wantRules := map[string]int{"p99 < 1s": 1, "error_rate < 5%": 2, "p99 < 2 * warm.p99": 2, "p99 drift < 20%": 0}
	for text, phase := range wantRules {
		if g, ok := got[text]; !ok || g != phase {
			t.Errorf("rule %q in phase %d (found %v), want %d", text, g, ok, phase)
		}
	}
}

func TestFullProfile(t *testing.T) {
	p, err := build(t, "target: http://h\nload: {users: 200, spawn_rate: 10, duration: 5m, think: 1s..3s, profile: full}\ntasks: [{path: /}]\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ph := range p.Phases {
		names = append(names, ph.Name)
	}
	if strings.Join(names, ",") != "single-user,peak,overload,recovery" || p.Main != 1 {
		t.Fatalf("phases %v, main %d", names, p.Main)
	}
	one, peak, over := p.Phases[0].Load, p.Phases[1].Load, p.Phases[2].Load
	rec := p.Phases[3].Load
	if one.Users != 1 || one.Think != (config.Think{}) || one.Hold != time.Minute || rec.Settle != 12*time.Second || rec.Users != 1 || rec.Hold != time.Minute {
		t.Errorf("single user = %+v, recovery %+v", one, p.Phases[3].Load)
	}
	if over.Users != 400 || over.SpawnRate != 20 || over.Hold != time.Minute || over.Think != peak.Think || peak.Users != 200 {
		t.Errorf("overload = %+v", over)
	}
	// An open-model peak doubles its rate.
	p, err = build(t, "target: http://h\nload: {rate: 100/s, duration: 20s, profile: full}\ntasks: [{path: /}]\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	if over := p.Phases[2].Load; !over.Open || over.Rate != 200 || over.Hold != 5*time.Second {
		t.Errorf("open overload = %+v", over)
	}
	// A peak that may go on three times its hold lets the other phases go on as long.
	p, err = build(t, "target: http://h\nload: {users: 20, duration: 5m, max_duration: 15m, profile: full}\ntasks: [{path: /}]\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range p.Phases {
		if want := 3 * ph.Load.Hold; ph.Load.MaxHold != want {
			t.Errorf("%s: may go on to %s, want %s", ph.Name, ph.Load.MaxHold, want)
		}
	}
}

func TestPhaseErrors(t *testing.T) {
	withPhases := func(phases string) string {
		return "target: http://h\nload:\n  users: 5\n  phases:\n" + phases + "tasks: [{path: /}]\n"
	}
	cases := []struct{ cfg, th, want string }{
		{withPhases("    - {users: 1}\n"), "all: [p99 < 1s]", "perfgate.yaml:5:7: load.phases[0]: name is required"},
		{withPhases("    - {name: 1st}\n"), "all: [p99 < 1s]", "perfgate.yaml:5:14: load.phases[0]: name \"1st\" must start with a letter"},
		{withPhases("    - {name: a}\n    - {name: a}\n"), "all: [p99 < 1s]", "perfgate.yaml:6:14: load.phases[1]: phase \"a\" is named twice"},
		{withPhases("    - {name: a, users: 0}\n"), "all: [p99 < 1s]", "perfgate.yaml:5:24: load.users must be between 1 and 1000000"},
		{withPhases("    - {name: a, rate: 5/s, think: 1s}\n"), "all: [p99 < 1s]", "perfgate.yaml:5:35: load.phases[0]: think belongs to the closed model and rate to the open one"},
		{withPhases("    - {name: a}\n    - {name: b}\n"), "all: [p99 < 1s]", "t.yaml:1:6: rules outside phases: judge the phase named peak, and this config's phases are a, b"},
		{withPhases("    - {name: peak}\n"), "phases:\n  pek: [p99 < 1s]", "t.yaml:2:3: unknown phase \"pek\": the config's phases are peak"},
		{withPhases("    - {name: peak}\n"), "all: [p99 < 2 * peak.p50]", "t.yaml:1:7: rule \"p99 < 2 * peak.p50\" judges phase peak against itself"},
		{withPhases("    - {name: peak}\n"), "all: [p99 < 2 * single.p99]", "t.yaml:1:7: rule \"p99 < 2 * single.p99\": unknown phase \"single\""},
		{withPhases("    - {name: a}\n    - {name: peak}\n"), "phases:\n  a: [p99 < baseline]\nbaseline: b.json", "t.yaml:3:11: baseline file b.json does not exist"},
		{"target: http://h\nload: {profile: fast}\ntasks: [{path: /}]\n", "all: [p99 < 1s]", "perfgate.yaml:2:17: unknown profile \"fast\" (known: peak, full)"},
		{"target: http://h\nload: {profile: full, phases: [{name: a}]}\ntasks: [{path: /}]\n", "all: [p99 < 1s]", "perfgate.yaml:2:17: set load.profile or load.phases, not both"},
	}
	for _, tc := range cases {
		_, err := build(t, tc.cfg, tc.th)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("config %q, thresholds %q:\n got %v\nwant %s", tc.cfg, tc.th, err, tc.want)
		}
	}
}

// A capacity rule against the baseline takes its limit and unit from the searches the
// baseline records.
func TestCapacityRulesAgainstTheBaseline(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	withCapacity := write("cap.json", `{"version": "perfgate.baseline/v2", "capacity": {"unit": "rate", "searches": [
		{"source": "a.json", "capacity": 480, "bracket_low": 480, "bracket_high": 490, "knee": 400},
		{"source": "b.json", "capacity": 520, "bracket_low": 520, "bracket_high": 530}]}}`)
	p, err := build(t, base, "baseline: "+withCapacity+"\nall: [p99 < 1s]\ncapacity:\n  - capacity > baseline - 10%\n  - capacity > 100/s\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CapacityRules) != 2 {
		t.Fatalf("capacity rules %+v", p.CapacityRules)
	}
	if r := p.CapacityRules[0]; r.BaselineValue != 500 || r.Limit != 450 || r.Unit != "rate" || r.File != "t.yaml" {
		t.Errorf("against the baseline: %+v", r)
	}
	for _, tc := range []struct{ th, want string }{
		{"baseline: " + withCapacity + "\nall: [p99 < 1s]\ncapacity: [knee > baseline]\n", "a search of baseline " + withCapacity + " found no knee"},
		{"baseline: " + write("none.json", `{"version": "perfgate.baseline/v2"}`) + "\nall: [p99 < 1s]\ncapacity: [capacity > baseline]\n", "records no capacity search"},
		{"baseline: " + write("bad.json", `{"version": "perfgate.baseline/v2", "capacity": {"unit": "kg", "searches": []}}`) + "\nall: [p99 < 1s]\ncapacity: [capacity > baseline]\n", "capacity unit \"kg\""},
	} {
		if _, err := build(t, base, tc.th); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestResources(t *testing.T) {
	p, err := build(t, base+"resources: {scrape: 'http://u:pw1@127.0.0.1:9100/metrics'}\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.Resources == nil || len(p.Resources.Series) != len(resource.Defaults) || !slices.Contains(p.Secrets, "pw1") {
		t.Errorf("resources %+v, secrets %v", p.Resources, p.Secrets)
	}
	p, err = build(t, base+"resources:\n  scrape: http://127.0.0.1:9100/metrics\n  series:\n    - {name: queue, metric: app_queue_depth, labels: {queue: orders}}\n    - {name: busy, metric: app_busy_seconds_total, counter: true}\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Resources.Series; len(s) != 2 || s[0].Labels["queue"] != "orders" || !s[1].Counter {
		t.Errorf("series %+v", s)
	}
	// A Prometheus server: each series a query.
	p, err = build(t, base+"resources:\n  prometheus: http://127.0.0.1:9090\n  series: [{name: cpu, query: 'sum(rate(process_cpu_seconds_total[30s]))'}]\n", "all: [p99 < 1s]\n")
	if err != nil || p.Resources.Prometheus != "http://127.0.0.1:9090" || len(p.Resources.Series) != 1 || p.Resources.Series[0].Query == "" {
		t.Errorf("prometheus source: %+v, %v", p.Resources, err)
	}
	for _, tc := range []struct{ doc, want string }{
		{"resources: {prometheus: 'http://h:9090', scrape: /metrics}\n", "name one source"},
		{"resources: {prometheus: 'http://h:9090'}\n", "list the series to read"},
		{"resources: {prometheus: 'http://h:9090', series: [{name: cpu, metric: m}]}\n", "query: is not set"},
		{"resources: {prometheus: 'ftp://h'}\n", "resources.prometheus \"ftp://h\" is not an http://"},
		{"resources: {scrape: /metrics, series: [{name: cpu, metric: m, query: 'up'}]}\n", "query: is for a Prometheus server"},
	} {
		if _, err := build(t, base+tc.doc, "all: [p99 < 1s]\n"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.doc, err, tc.want)
		}
	}
	// A path is on the target.
	if p, err := build(t, base+"resources: {scrape: /metrics}\n", "all: [p99 < 1s]\n"); err != nil || p.Resources.Scrape != p.Target.String()+"/metrics" {
		t.Errorf("scrape of a path: %v, target %v, %v", p.Resources, p.Target, err)
	}
	if p, _ := build(t, base, "all: [p99 < 1s]\n"); p.Resources != nil {
		t.Error("resources without a source")
	}
	for _, tc := range []struct{ doc, want string }{
		{"resources: {scrape: 'ftp://h/metrics'}\n", "resources.scrape \"ftp://h/metrics\" is neither an http:// or https:// URL"},
		{"resources:\n  series: [{name: a, metric: b}]\n", "name where to read them"},
		{"resources:\n  scrape: http://h/m\n  series: [{name: Queue, metric: b}]\n", "name \"Queue\" must be lower-case"},
		{"resources:\n  scrape: http://h/m\n  series: [{name: a, metric: b}, {name: a, metric: c}]\n", "\"a\" is named twice"},
		{"resources:\n  scrape: http://h/m\n  series: [{name: a}]\n", "metric: is not set"},
		{"resources:\n  scrape: http://h/m\n  series: [{name: a, metric: m, counter: true, mean: true}]\n", ":54: resources.series[0] (a): counter: reads a rate and mean: a histogram's mean: set one"},
		{"resources:\n  scrape: http://h/m\n  serie: []\n", "unknown key \"serie\""},
	} {
		cfg, err := config.ParseConfig("perfgate.yaml", []byte(base+tc.doc), noEnv)
		if err == nil {
			_, err = Build(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// TestResourceRules: a resource rule names a resource the config reads, and a share
// needs its limit; each mistake is the threshold file's, with its line.
func TestResourceRules(t *testing.T) {
	src := base + "resources: {scrape: /metrics}\n"
	p, err := build(t, src, "resources:\n  - cpu < 80%\n  - db_waits == 0\n")
	if err != nil {
		t.Fatal(err)
	}
	rr := p.ResourceRules
	if len(rr) != 2 || p.Resources.Series[rr[0].Series].Name != "cpu" || p.Resources.Series[rr[0].LimitSeries].Name != "gomaxprocs" ||
		p.Resources.Series[rr[1].Series].Name != "db_waits" || rr[1].LimitSeries != -1 || rr[1].File != "t.yaml" {
		t.Errorf("rules %+v", rr)
	}
	for _, tc := range []struct{ cfg, th, want string }{
		{base, "resources: [cpu < 80%]\n", "t.yaml:1:13: resource rule \"cpu < 80%\": the config reads no resources"},
		{src, "resources: [queue < 10]\n", "no resource \"queue\": the config reads cpu, memory"},
		{src, "resources: [goroutines < 10%]\n", "a share needs the limit of goroutines, and none is read (limits: cpu of gomaxprocs"},
	} {
		if _, err := build(t, tc.cfg, tc.th); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
