package report

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
)

// wideHostile names one of wideFixture's endpoints: a user's text that must reach no
// report unescaped (were it markup, the page would ask the address for an image, and
// run a script).
const wideHostile = `</td><img src="http://127.0.0.1:9/leak" onerror="console.error('escaped')"><script>console.error('escaped')</script>`

// wideFixture is a run of the full profile (four phases) against 200 endpoints, each
// with its own rule, windows of every endpoint in every phase, and the machine's
// figures: the largest report a user is likely to make. One endpoint is named
// wideHostile. Judging 200 rules takes a while under -race: it is built once.
func wideFixture(t *testing.T) *Result {
	t.Helper()
	wideOnce.Lock()
	defer wideOnce.Unlock()
	if wideBuilt == nil {
		wideBuilt = buildWide(t, 200, wideHostile)
	}
	return wideBuilt
}

var (
	wideOnce  sync.Mutex
	wideBuilt *Result
)

// buildWide builds wideFixture's run of n endpoints, one named hostile.
func buildWide(t *testing.T, n int, hostile string) *Result {
	var doc, rules strings.Builder
	doc.WriteString("target: http://127.0.0.1:8080\nload: {users: 50, spawn_rate: 25, duration: 40s, think: 1s..3s, profile: full}\ntasks:\n")
	rules.WriteString("all:\n  - p99 < 300ms\n  - error_rate < 5%\nendpoints:\n")
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("/api/v2/catalogue/items/%03d/details", i)
		if i == n/2 && hostile != "" {
			names[i] = hostile
		}
		fmt.Fprintf(&doc, "  - {name: %s, path: /api/%d}\n", yamlQuote(names[i]), i)
		fmt.Fprintf(&rules, "  %s: [p99 < 40ms]\n", yamlQuote(names[i]))
	}
	p := buildPlan(t, doc.String(), rules.String())
	infos := []stats.EndpointInfo{}
	for _, e := range p.Endpoints {
		infos = append(infos, stats.EndpointInfo{Name: e.Name, Setup: e.Setup})
	}
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := start
	rec := &run.Record{Start: start, StoppedAt: -1}
	for i := range p.Phases {
		pp := p.ForPhase(i)
		col := stats.New(len(p.Endpoints), p.Timeout)
		ramp := pp.Ramp()
		windows := max(2, int((ramp+pp.Hold+9*time.Second)/(10*time.Second)))
		length := (ramp + pp.Hold) / time.Duration(windows)
		phaseStart := at.Sub(start)
		for k := range windows {
			stage := load.Hold
			if time.Duration(k)*length < ramp {
				stage = load.Ramp
			}
			wc := stats.New(len(p.Endpoints), p.Timeout)
			for e := range n {
				for j := range 6 {
					// Each endpoint its own speed; the overload (phase 2) slower, and its
					// errors growing.
					ms := 8 + e%90 + 3*j + []int{0, 5, 60, 2}[i] + k
					s := load.Sample{User: j, Endpoint: e, Stage: stage, Latency: time.Duration(ms) * time.Millisecond, Status: 200}
					if i == 2 && (e+j+k)%9 == 0 {
						s.Status, s.Kind = 503, load.Status5xx
					}
					col.Record(s)
					wc.Record(s)
				}
			}
			from := phaseStart + time.Duration(k)*length
			w := wc.CloseWindow(from, from+length)
			host := hostload.Usage{Wall: 10 * time.Second, Pressure: time.Duration(k+1) * 50 * time.Millisecond, PressureWall: 10 * time.Second,
				Busy: time.Duration(2+k%3) * time.Second, Self: time.Second, Steal: 20 * time.Millisecond, Idle: 17 * time.Second,
				Wait: 30 * time.Millisecond, WaitWall: 10 * time.Second}
			users := pp.Users
			if stage == load.Ramp {
				users = max(1, pp.Users/2)
			}
			rec.Windows = append(rec.Windows, run.Window{Window: w, Phase: i, Users: users, Stage: stage, Host: host})
		}
		facts := load.Result{Start: at, HoldStart: at.Add(ramp), HoldEnd: at.Add(ramp + pp.Hold), End: at.Add(ramp + pp.Hold),
			PlannedUsers: pp.Users, PeakUsers: pp.Users, GeneratorCPU: 0.05, Processors: 2}
		rec.Phases = append(rec.Phases, run.Phase{Name: pp.PhaseName(), Plan: pp, Ran: true, Load: facts,
			Hold: col.Summarize(load.Hold, pp.Hold, infos), Ramp: col.Summarize(load.Ramp, ramp, infos)})
		at = facts.End
	}
	rec.End = at
	return build(t, p, rec)
}

// yamlQuote quotes s as a YAML single-quoted scalar.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
