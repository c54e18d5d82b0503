package merge

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/report"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
	"github.com/perfgate/perfgate/gate/verdict"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

const cfgDoc = `target: http://127.0.0.1:9
load: {users: 64, spawn_rate: 64, duration: 20s}
tasks:
  - {name: /a, path: /a, weight: 3}
  - {name: /b, path: /b}
`

func wholePlan(t testing.TB, cfg string) *plan.Plan {
	t.Helper()
	c, err := config.ParseConfig("perfgate.yaml", []byte(cfg), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	th, err := config.ParseThresholds("t.yaml", []byte("all:\n  - p99 < 1s\n  - error_rate < 5%\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(c, []*config.Thresholds{th})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sample is one request of the test's run: which window of the hold it completed in,
// its endpoint, latency and outcome.
type sample struct {
	window, endpoint int
	latency          time.Duration
	kind             load.Kind
	status           int
}

// samples are n requests over windows windows, with latencies spread from 1 us to
// seconds (every HdrHistogram magnitude) and 2% errors of two kinds.
func samples(seed uint64, n, windows int) []sample {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]sample, n)
	for i := range out {
		s := sample{window: rng.IntN(windows), endpoint: rng.IntN(2), kind: load.OK, status: 200,
			latency: time.Duration(rng.ExpFloat64() * float64(time.Duration(1)<<rng.IntN(32)))}
		switch rng.IntN(100) {
		case 0:
			s.kind, s.status = load.Status5xx, 503
		case 1:
			s.kind, s.status = load.Timeout, 0
		}
		out[i] = s
	}
	return out
}

// shardResult is the JSON result shard sh of plan whole writes when it measured ss:
// made as perfgate run makes it (a collector, a record, the verdict of a shard, the
// report), written and read back.
func shardResult(t testing.TB, whole *plan.Plan, sh plan.Shard, ss []sample, windows int, skew time.Duration) *report.Result {
	t.Helper()
	p, err := whole.ForShard(sh)
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.Rules = nil // a shard judges only whether it delivered its load
	p = &q
	col := stats.New(len(p.Endpoints), p.LongestTimeout())
	start := t0.Add(skew)
	rec := &run.Record{Start: start, StoppedAt: -1}
	const every = time.Second
	holdStart := start.Add(time.Second)
	for w := range windows {
		for _, s := range ss {
			if s.window == w {
				col.Record(load.Sample{Endpoint: s.endpoint, Stage: load.Hold, Latency: s.latency, Kind: s.kind, Status: s.status, Bytes: 100})
			}
		}
		from := time.Second + time.Duration(w)*every
		rec.Windows = append(rec.Windows, run.Window{Window: col.CloseWindow(from, from+every), Phase: 0, Stage: load.Hold, Users: p.Load.Users})
	}
	holdEnd := holdStart.Add(time.Duration(windows) * every)
	infos := []stats.EndpointInfo{{Name: "/a"}, {Name: "/b"}}
	ph := run.Phase{Name: "peak", Plan: p.ForPhase(0), Ran: true,
		Load: load.Result{Start: start, HoldStart: holdStart, HoldEnd: holdEnd, End: holdEnd, PlannedUsers: p.Load.Users, PeakUsers: p.Load.Users},
		Hold: col.Summarize(load.Hold, holdEnd.Sub(holdStart), infos), Ramp: col.Summarize(load.Ramp, time.Second, infos)}
	rec.Phases, rec.End = []run.Phase{ph}, holdEnd
	v := verdict.Judge(p, rec)
	res, err := report.Build(report.Input{Tool: "perfgate test", Plan: p, Record: rec, Verdict: v, ExitCode: exitOf(v), Window: every})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func exitOf(v verdict.Verdict) int {
	if v.Status == verdict.Pass {
		return 0
	}
	return 3
}

// hist holds ss's latencies of endpoint e (-1: all) in the windows for which in says so,
// as one collector would.
func hist(whole *plan.Plan, ss []sample, e int, in func(int) bool) []int64 {
	h := stats.NewHist(whole.LongestTimeout())
	col := stats.New(2, whole.LongestTimeout())
	for _, s := range ss {
		if (e < 0 || s.endpoint == e) && in(s.window) {
			col.Record(load.Sample{Endpoint: 0, Stage: load.Hold, Latency: s.latency, Kind: s.kind})
		}
	}
	sum := col.Summarize(load.Hold, time.Second, []stats.EndpointInfo{{Name: "x"}, {Name: "y"}})
	h.Merge(sum.Endpoints[0].Hist)
	return h.Export().Counts
}

func counts(h *hdrhistogram.Histogram) []int64 { return h.Export().Counts }

// TestMergeIsExact: a run's requests dealt out to 1, 2, 3, 8 and 32 shards and merged
// give, bucket for bucket, the histograms of one collector that saw them all: the whole
// hold's and each window's, for all requests and each endpoint; and the same counts.
func TestMergeIsExact(t *testing.T) {
	const windows, n = 6, 20000
	ss := samples(1, n, windows)
	for _, of := range []int{1, 2, 3, 8, 32} {
		t.Run(fmt.Sprint(of), func(t *testing.T) {
			cfg := strings.Replace(cfgDoc, "users: 64", fmt.Sprintf("users: %d", max(64, of)), 1)
			whole := wholePlan(t, cfg)
			parts := make([][]sample, of)
			rng := rand.New(rand.NewPCG(uint64(of), 1))
			for _, s := range ss {
				k := rng.IntN(of)
				parts[k] = append(parts[k], s)
			}
			var shards []Shard
			for k := range of {
				sh := plan.Shard{Index: k, Of: of}
				if of == 1 {
					sh = plan.Shard{Index: 0, Of: 2} // one shard alone: judged as one of two, below
				}
				shards = append(shards, Shard{Path: fmt.Sprintf("shard-%d.json", k), Result: shardResult(t, whole, sh, parts[k], windows, time.Duration(k)*time.Millisecond)})
			}
			m, err := Merge(whole, shards)
			if err != nil {
				t.Fatal(err)
			}
			if of == 1 {
				if len(m.Problems) != 1 || !strings.Contains(m.Problems[0], "shard 2 of 2 is missing") {
					t.Errorf("one shard of two: problems %q", m.Problems)
				}
			} else if len(m.Problems) != 0 {
				t.Fatalf("problems %q", m.Problems)
			}
			ph := m.Record.Phases[0]
			all := func(int) bool { return true }
			if !slices.Equal(counts(ph.Hold.All.Hist), hist(whole, ss, -1, all)) {
				t.Error("the hold's histogram of all requests differs from one collector's")
			}
			for e := range 2 {
				if !slices.Equal(counts(ph.Hold.Endpoints[e].Hist), hist(whole, ss, e, all)) {
					t.Errorf("endpoint %d: the hold's histogram differs from one collector's", e)
				}
			}
			var requests, errors int64
			for _, s := range ss {
				requests++
				if s.kind != load.OK {
					errors++
				}
			}
			if a := ph.Hold.All; a.Requests != requests || a.Errors != errors || a.ByKind[load.Timeout]+a.ByKind[load.Status5xx] != errors || a.Status[503] != a.ByKind[load.Status5xx] {
				t.Errorf("all: %d requests, %d errors, by kind %v, status %v; want %d and %d", a.Requests, a.Errors, a.ByKind, a.Status, requests, errors)
			}
			hold := m.Record.JudgedWindows(0)
			if len(hold) != windows {
				t.Fatalf("%d hold windows, want %d", len(hold), windows)
			}
			for w := range windows {
				in := func(x int) bool { return x == w }
				if !slices.Equal(counts(hold[w].All.Latency.Histogram()), hist(whole, ss, -1, in)) {
					t.Errorf("window %d: the histogram differs from one collector's", w)
				}
				if !slices.Equal(counts(hold[w].Endpoints[1].Latency.Histogram()), hist(whole, ss, 1, in)) {
					t.Errorf("window %d, endpoint 1: the histogram differs from one collector's", w)
				}
			}
			if of > 1 {
				if l := ph.Load; l.PlannedUsers != whole.Load.Users || l.PeakUsers != whole.Load.Users {
					t.Errorf("users %d planned, %d at peak; want the plan's %d", l.PlannedUsers, l.PeakUsers, whole.Load.Users)
				}
				if len(m.Shards) != of || m.Shards[of-1].SkewSeconds != float64(of-1)/1000 {
					t.Errorf("shards %+v: want each with its start skew", m.Shards)
				}
			}
		})
	}
}

// TestShardsThatDoNotMakeOneRun: a shard missing, twice, of another config, undelivered,
// or begun apart: each a problem that names the shard.
func TestShardsThatDoNotMakeOneRun(t *testing.T) {
	whole := wholePlan(t, cfgDoc)
	ss := samples(2, 3000, 4)
	shard := func(i int, skew time.Duration) Shard {
		return Shard{Path: fmt.Sprintf("s%d.json", i), Result: shardResult(t, whole, plan.Shard{Index: i, Of: 3}, ss, 4, skew)}
	}
	other := wholePlan(t, strings.Replace(cfgDoc, "weight: 3", "weight: 2", 1))
	undelivered := shard(2, 0)
	undelivered.Result.ExitCode, undelivered.Result.Reasons = 3, []report.Reason{{Code: "rate_short", Message: "sent 80% of the hold's arrivals"}}
	for _, tc := range []struct {
		name   string
		shards []Shard
		want   string
	}{
		{"missing", []Shard{shard(0, 0), shard(2, 0)}, "shard 2 of 3 is missing"},
		{"twice", []Shard{shard(0, 0), shard(1, 0), shard(1, 0), shard(2, 0)}, "s1.json and s1.json are both shard 2"},
		{"another config", []Shard{shard(0, 0), shard(1, 0), {Path: "o.json", Result: shardResult(t, other, plan.Shard{Index: 2, Of: 3}, ss, 4, 0)}},
			"shard 3 of 3 (o.json) ran another config or thresholds than this merge's"},
		{"undelivered", []Shard{shard(0, 0), shard(1, 0), undelivered}, "shard 3 of 3 (s2.json) did not deliver its load (exit 3): sent 80% of the hold's arrivals"},
		{"apart", []Shard{shard(0, 0), shard(1, 2*time.Second), shard(2, 0)}, "phase peak: shard 2 of 3 (s1.json) began its hold 2s after shard 1 of 3 (s0.json) did (at most 250ms apart)"},
		{"not a shard", []Shard{shard(0, 0), shard(1, 0), shard(2, 0), {Path: "run.json", Result: &report.Result{}}}, "run.json is not a shard's result"},
	} {
		m, err := Merge(whole, tc.shards)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(m.Problems) != 1 || !strings.Contains(m.Problems[0], tc.want) {
			t.Errorf("%s: problems %q, want one with %q", tc.name, m.Problems, tc.want)
		}
		if m.Record == nil {
			t.Errorf("%s: the shards there are are not merged for the reports", tc.name)
		}
	}
}

// BenchmarkMerge32Shards merges 32 shards' results of a 5-minute hold of the demo's
// shape (30 windows of 10 s, two endpoints), each a file as perfgate run writes it:
// reading them (JSON, histograms decoded) and merging. The bound: under 2 s and
// 100 MB. `go test -bench Merge32 -benchmem ./gate/merge` reports both per merge.
func BenchmarkMerge32Shards(b *testing.B) {
	whole := wholePlan(b, strings.Replace(cfgDoc, "users: 64", "users: 320", 1))
	const of, windows = 32, 30
	var files [][]byte
	for k := range of {
		res := shardResult(b, whole, plan.Shard{Index: k, Of: of}, samples(uint64(k), 30000, windows), windows, 0)
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf, res); err != nil {
			b.Fatal(err)
		}
		files = append(files, buf.Bytes())
	}
	b.ResetTimer()
	var peak uint64
	for range b.N {
		runtime.GC()
		stop := make(chan struct{})
		heap := peakHeap(stop)
		var shards []Shard
		for k, f := range files {
			r, err := report.ReadJSON(bytes.NewReader(f))
			if err != nil {
				b.Fatal(err)
			}
			shards = append(shards, Shard{Path: fmt.Sprint(k), Result: r})
		}
		m, err := Merge(whole, shards)
		if err != nil || len(m.Problems) > 0 {
			b.Fatal(err, m.Problems)
		}
		close(stop)
		peak = max(peak, <-heap)
	}
	b.ReportMetric(float64(peak)/1e6, "MB-peak-heap")
}

// peakHeap samples the heap every 100 us until stop and sends how far it grew above
// where it began, garbage not yet collected included: about what a merge adds to the
// process's resident memory.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	go func() {
		var top uint64
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			top = max(top, read())
			select {
			case <-stop:
				out <- max(top, read()) - min(base, top)
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
