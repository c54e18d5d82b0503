package verdict

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/internal/hostload"
	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/run"
	"github.com/perfgate/perfgate/gate/stats"
)

// process is a service whose latency is 2 ms plus an exponential of mean scale ms, with
// errorShare of its requests failing: known distributions, so known answers.
type process struct {
	scale      float64
	errorShare float64
}

// p99 is the process's true 99th percentile, in seconds.
func (p process) p99() float64 { return (2 + p.scale*math.Log(100)) / 1000 }

// measure runs the process for n windows of perWindow requests each, through a real
// collector, and returns the hold's summary and its windows.
func (p process) measure(seed uint64, n, perWindow int) (stats.Summary, []stats.Window) {
	rng := rand.New(rand.NewPCG(seed, 3))
	c := stats.New(2, time.Minute)
	var ws []stats.Window
	for i := range n {
		for range perWindow {
			k := load.OK
			if rng.Float64() < p.errorShare {
				k = load.Status5xx
			}
			lat := time.Duration((2 + rng.ExpFloat64()*p.scale) * float64(time.Millisecond))
			c.Record(load.Sample{Endpoint: 0, Stage: load.Hold, Latency: lat, Kind: k})
		}
		ws = append(ws, c.CloseWindow(time.Duration(i)*time.Second, time.Duration(i+1)*time.Second))
	}
	return c.Summarize(load.Hold, time.Duration(n)*time.Second, []stats.EndpointInfo{{Name: "/a"}, {Name: "/b"}}), ws
}

// record is a finished run of one phase, peak, that measured hold and windows.
func record(hold stats.Summary, ws []stats.Window, pl plan.Load) *run.Record {
	l := delivered()
	l.HoldEnd = l.HoldStart.Add(pl.Hold)
	ph := ran("peak", l, hold)
	ph.Plan = &plan.Plan{Load: pl}
	return &run.Record{Phases: []run.Phase{ph}, Windows: inPhase(0, ws), StoppedAt: -1}
}

func judgeSure(t *testing.T, texts []string, rec *run.Record, base []baseline.Series) Verdict {
	t.Helper()
	var rules []plan.Rule
	for _, text := range texts {
		r := rule(t, text, -1)
		if r.Ref != nil && r.Ref.Baseline() {
			r.Baseline = base
			var sum float64
			for _, s := range base {
				v, _ := s.Metrics.Value(r.Metric)
				sum += v
			}
			r.BaselineValue = sum / float64(len(base))
		}
		rules = append(rules, r)
	}
	return Judge(&plan.Plan{Rules: rules, Confidence: 0.95}, rec)
}

func TestIntervalDecidesThreeWays(t *testing.T) {
	p := process{scale: 10}
	hold, ws := p.measure(1, 30, 300)
	rec := record(hold, ws, plan.Load{Hold: 30 * time.Second})
	v := judgeSure(t, []string{"p99 < 100ms", "p99 < 30ms", "p99 < 48ms", "error_rate < 1%"}, rec, nil)
	want := []Status{Pass, Fail, Inconclusive, Pass}
	for i, c := range v.Checks {
		s := c.Sure
		if s == nil {
			t.Fatalf("%s: judged without an interval", c.Rule.Text)
		}
		if c.Status != want[i] || !(s.Lo <= c.Measured && c.Measured <= s.Hi) || s.Lo >= s.Hi {
			t.Errorf("%s: %v, measured %.4f [%.4f, %.4f]; want %v with the value inside its interval", c.Rule.Text, c.Status, c.Measured, s.Lo, s.Hi, want[i])
		}
	}
	// p99 is 48 ms (2 + 10 ln 100): a rule at it cannot be told, and the verdict says
	// so; a breached rule beside it makes the run fail all the same.
	if v.Status != Fail {
		t.Errorf("verdict %v, want fail: one rule was breached for sure", v.Status)
	}
	v = judgeSure(t, []string{"p99 < 100ms", "p99 < 48ms"}, rec, nil)
	if v.Status != Invalid || len(v.Reasons) != 1 || v.Reasons[0].Code != InconclusiveRule || v.Reasons[0].Check != 1 {
		t.Errorf("verdict %v %+v, want invalid, reason inconclusive for check 1", v.Status, v.Reasons)
	}
	warn := Judge(&plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 100ms", -1), rule(t, "p99 < 48ms", -1)}, Confidence: 0.95, WarnInconclusive: true}, rec)
	if warn.Status != Pass || warn.Warnings != 1 || len(warn.Reasons) != 0 {
		t.Errorf("with inconclusive as a warning: %v, %d warnings, %+v; want pass with 1 warning", warn.Status, warn.Warnings, warn.Reasons)
	}
	if p.p99() < 0.047 || p.p99() > 0.049 {
		t.Fatalf("true p99 %.4f", p.p99())
	}
}

// TestHolmSetsEachLevel: with no rule breached, every rule is judged at 1 - 2 alpha/m;
// a breached rule takes the first step, and the rest are judged at alpha/(m-1).
func TestHolmSetsEachLevel(t *testing.T) {
	hold, ws := process{scale: 10}.measure(2, 30, 300)
	rec := record(hold, ws, plan.Load{Hold: 30 * time.Second})
	v := judgeSure(t, []string{"p99 < 1s", "p95 < 1s", "p50 < 1s", "mean < 1s"}, rec, nil)
	for _, c := range v.Checks {
		if c.Status != Pass || math.Abs(c.Sure.Level-(1-2*0.05/4)) > 1e-12 {
			t.Errorf("%s: %v at level %v, want pass at %v", c.Rule.Text, c.Status, c.Sure.Level, 1-2*0.05/4)
		}
	}
	v = judgeSure(t, []string{"p99 < 1s", "p95 < 1s", "p50 < 1ms", "mean < 1s"}, rec, nil)
	for i, c := range v.Checks {
		want := 1 - 2*0.05/3
		if i == 2 {
			want = 1 - 2*0.05/4
		}
		if math.Abs(c.Sure.Level-want) > 1e-12 {
			t.Errorf("%s: level %v, want %v", c.Rule.Text, c.Sure.Level, want)
		}
	}
}

// TestFamilyWiseFalseFailRate is the promise of the family-wise control: when every one
// of ten rules holds exactly at its limit (the worst case of a rule that holds), a run
// fails at most 1 - confidence of the time, not ten times that.
func TestFamilyWiseFalseFailRate(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 300 runs")
	}
	p := process{scale: 10, errorShare: 0.02}
	// The truth of each metric, from a very long run of the process.
	longHold, _ := p.measure(999, 400, 2000)
	f := longHold.All.Figures()
	var texts []string
	for _, m := range []string{"p50", "p75", "p90", "p95", "p99", "mean", "error_rate"} {
		v, _ := must(m).Read(f)
		texts = append(texts, m+" < "+formatLimit(m, v))
	}
	texts = append(texts, "p80 < "+formatLimit("p80", mustRead(f, "p80")), "p85 < "+formatLimit("p85", mustRead(f, "p85")), "p97 < "+formatLimit("p97", mustRead(f, "p97")))
	const runs = 300
	failed, inconclusive := 0, 0
	for r := range runs {
		hold, ws := p.measure(uint64(r), 30, 300)
		v := judgeSure(t, texts, record(hold, ws, plan.Load{Hold: 30 * time.Second}), nil)
		if v.Status == Fail {
			failed++
		}
		for _, c := range v.Checks {
			if c.Status == Inconclusive {
				inconclusive++
				break
			}
		}
	}
	rate := float64(failed) / runs
	t.Logf("10 rules at their limits: %d of %d runs failed (%.1f%%), %d inconclusive", failed, runs, 100*rate, inconclusive)
	// 5% of 300 is 15; its binomial spread is about 4.
	if failed > 15+2*4 {
		t.Errorf("%d of %d runs failed: the family-wise error is over 5%%", failed, runs)
	}
}

// TestNoErrorsTellALowErrorRate: windows that vary no more than independent requests
// judge an error rate by the exact binomial interval, so no errors in n requests tell
// error_rate < 1% once n > ln(1/0.05)/1% = 300 (one rule, at 95%), not only after the
// windows' few degrees of freedom allow it; and a rare error rate exactly at its limit
// fails no more often than the error allows.
func TestNoErrorsTellALowErrorRate(t *testing.T) {
	for _, tc := range []struct {
		perWindow int
		want      Status
	}{{30, Pass}, {20, Inconclusive}} {
		hold, ws := process{scale: 10}.measure(5, 12, tc.perWindow)
		v := judgeSure(t, []string{"error_rate < 1%"}, record(hold, ws, plan.Load{Hold: 12 * time.Second}), nil)
		c := v.Checks[0]
		if c.Status != tc.want || !c.Sure.Binomial || c.Sure.Lo != 0 {
			t.Errorf("no errors in %d requests: %v [%v, %v], binomial %v; want %v", 12*tc.perWindow, c.Status, c.Sure.Lo, c.Sure.Hi, c.Sure.Binomial, tc.want)
		}
	}
	if testing.Short() {
		return
	}
	p := process{scale: 10, errorShare: 0.005}
	const runs = 400
	failed := 0
	for r := range runs {
		hold, ws := p.measure(uint64(1000+r), 20, 200)
		if v := judgeSure(t, []string{"error_rate < 0.5%"}, record(hold, ws, plan.Load{Hold: 20 * time.Second}), nil); v.Status == Fail {
			failed++
		}
	}
	t.Logf("an error rate of 0.5%% judged against < 0.5%%: %d of %d runs failed", failed, runs)
	// At most 5% (one rule: the whole error on the side that fails it): 20 of 400,
	// binomial spread about 4.4. (The exact interval is conservative: 12 measured.)
	if failed > 20+2*4 {
		t.Errorf("%d of %d runs failed: over the 5%% the rule may", failed, runs)
	}
}

func mustRead(f metric.Figures, name string) float64 {
	v, _ := must(name).Read(f)
	return v
}

// formatLimit writes a limit as a rule does: milliseconds, or a percentage.
func formatLimit(name string, v float64) string {
	if name == "error_rate" {
		return formatFloat(100*v) + "%"
	}
	return formatFloat(1000*v) + "ms"
}

// TestBaselineSpreadWidensTheInterval: the same candidate, 25% slower than a baseline
// of five runs, fails "p99 < baseline + 15%" when the runs agree with each other, and
// is inconclusive when they are 20% apart: how much runs differ is what the interval
// must carry, not only how precisely one run measured.
func TestBaselineSpreadWidensTheInterval(t *testing.T) {
	cand := process{scale: 12.5}
	hold, ws := cand.measure(7, 30, 300)
	rec := record(hold, ws, plan.Load{Hold: 30 * time.Second})
	series := func(scales []float64) []baseline.Series {
		var out []baseline.Series
		for i, sc := range scales {
			h, w := process{scale: sc}.measure(uint64(100+i), 30, 300)
			out = append(out, seriesOf(t, h.All, w))
		}
		return out
	}
	tight := judgeSure(t, []string{"p99 < baseline + 15%"}, rec, series([]float64{10, 10, 10, 10, 10}))
	spread := judgeSure(t, []string{"p99 < baseline + 15%"}, rec, series([]float64{8, 12, 9, 11, 10}))
	if tight.Checks[0].Status != Fail || spread.Checks[0].Status != Inconclusive {
		t.Errorf("tight baseline: %v, spread baseline: %v; want fail, inconclusive", tight.Checks[0].Status, spread.Checks[0].Status)
	}
	ts, ss := tight.Checks[0].Sure, spread.Checks[0].Sure
	if ts.Runs != 5 || ss.Runs != 5 || ss.Spread <= 3*ts.Spread || ss.SE <= ts.SE {
		t.Errorf("tight %+v, spread %+v: the spread between runs must show and widen the error", ts, ss)
	}
	// A baseline of one run knows its own error only; one of the first version has no
	// windows, and its error is taken as the candidate's, scaled to its sample count.
	// Both judge a candidate 40% slower.
	slower, sws := process{scale: 14}.measure(8, 30, 300)
	rec = record(slower, sws, plan.Load{Hold: 30 * time.Second})
	one := series([]float64{10})
	v1 := series([]float64{10})
	v1[0].Windows = nil
	for name, base := range map[string][]baseline.Series{"one run": one, "no windows": v1} {
		if c := judgeSure(t, []string{"p99 < baseline + 15%"}, rec, base).Checks[0]; c.Sure == nil || c.Status != Fail || c.Sure.Runs != 1 {
			t.Errorf("baseline of %s: %v %+v, want fail", name, c.Status, c.Sure)
		}
	}
}

// seriesOf records a hold and its windows as a baseline run's series of all requests.
func seriesOf(t *testing.T, e stats.Endpoint, ws []stats.Window) baseline.Series {
	t.Helper()
	enc := func(h *hdrhistogram.Histogram) string {
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	f := e.Figures()
	s := baseline.Series{Metrics: baseline.Metrics{Name: "all", Requests: e.Requests, ErrorRate: float64(e.Errors) / float64(e.Requests), Histogram: enc(f.Latency)}}
	for _, w := range ws {
		s.Windows = append(s.Windows, baseline.SeriesWindow{Seconds: w.Length.Seconds(),
			Counts: baseline.Counts{Requests: w.All.Requests, Errors: w.All.Errors, Histogram: enc(w.All.Latency.Histogram())}})
	}
	return s
}

func TestSpendingSpendsTheWholeErrorOnce(t *testing.T) {
	if spending(0) != 0 || math.Abs(spending(1)-1) > 1e-15 || spending(2) != spending(1) {
		t.Errorf("spending(0, 1, 2) = %v, %v, %v", spending(0), spending(1), spending(2))
	}
	prev, sum := 0.0, 0.0
	for k := 1; k <= 25; k++ { // a 60 s hold extending to 5 minutes, 10 s windows
		tt := (60 + 10*float64(k-1)) / 300
		sum += spending(tt) - prev
		prev = spending(tt)
	}
	sum += spending(1) - prev
	if math.Abs(sum-1) > 1e-12 || spending(0.2) < 0.25 {
		t.Errorf("looks spent %v of the error, the first %v", sum, spending(0.2))
	}
}

// TestEnoughExtendsUntilDecided: a hold that may extend goes on while a rule is
// inconclusive, and ends once every rule is decided; its final judgement spends what
// the looks left.
func TestEnoughExtendsUntilDecided(t *testing.T) {
	p := process{scale: 10}
	// p99 is 48 ms: a limit of 53 ms (+10%) is inconclusive after 10 windows and
	// decided after 60.
	texts := []string{"p99 < 53ms"}
	pl := plan.Load{Hold: 10 * time.Second, MaxHold: 60 * time.Second}
	var rules []plan.Rule
	for _, text := range texts {
		rules = append(rules, rule(t, text, -1))
	}
	pp := &plan.Plan{Rules: rules, Confidence: 0.95}
	hold, ws := p.measure(11, 60, 300)
	rec := record(hold, ws[:10], pl)
	rec.Phases[0].Ran = false
	if got := Enough(pp, rec, 0, 10*time.Second); got != run.GoOn {
		t.Fatalf("after 10 windows: %v, want a look that goes on", got)
	}
	rec.Phases[0].Looks = []time.Duration{10 * time.Second}
	rec.Windows = inPhase(0, ws[:12])
	// A look only once the hold is a quarter longer than at the last one.
	if got := Enough(pp, rec, 0, 12*time.Second); got != run.NotYet {
		t.Errorf("after 12 windows: %v, want no look before %v", got, time.Duration(LookGrowth*float64(10*time.Second)))
	}
	rec.Windows = inPhase(0, ws)
	if got := Enough(pp, rec, 0, 60*time.Second); got != run.Decided {
		t.Errorf("after 60 windows: %v, want decided", got)
	}
	rec.Phases[0].Ran = true
	rec.Phases[0].Load.HoldEnd = rec.Phases[0].Load.HoldStart.Add(60 * time.Second)
	v := Judge(pp, rec)
	want := spending(1) - spending(10.0/60)
	if c := v.Checks[0]; c.Status != Pass || math.Abs(c.Sure.Look-want) > 1e-12 {
		t.Errorf("final: %v, spent %v; want pass, spending %v", c.Status, c.Sure.Look, want)
	}
}

// TestContendedHoldHasNoVerdict: windows in which perfgate's threads waited too long
// for a processor, in over a quarter of the hold, leave it without a verdict, with the
// figure; one contended window does not, nor do sparse wakes from idle processors.
func TestContendedHoldHasNoVerdict(t *testing.T) {
	hold, ws := process{scale: 10}.measure(3, 12, 200)
	for _, n := range []int{1, 4} {
		rec := record(hold, ws, plan.Load{Hold: 12 * time.Second})
		for i := range rec.Windows {
			wait := 10 * time.Microsecond
			if i < n {
				wait = 2 * MaxWaitPerRun
			}
			rec.Windows[i].Host = hostUsage(wait)
		}
		v := judgeSure(t, []string{"p99 < 1s"}, rec, nil)
		contended := len(v.Reasons) == 1 && v.Reasons[0].Code == Contended
		if contended != (n == 4) {
			t.Errorf("%d of 12 windows contended: %v %+v", n, v.Status, v.Reasons)
		}
		if contended && (v.Reasons[0].Count != 4 || v.Reasons[0].Of != 12 || v.Status != Invalid) {
			t.Errorf("reason %+v", v.Reasons[0])
		}
		// A hold that may extend does not go on once it is contended.
		pl := plan.Load{Hold: 12 * time.Second, MaxHold: time.Minute}
		ext := record(hold, ws, pl)
		ext.Windows = rec.Windows
		if got := Enough(&plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 48ms", -1)}, Confidence: 0.95}, ext, 0, 12*time.Second) == run.Decided; got != (n == 4) {
			t.Errorf("%d of 12 windows contended: Enough = %v", n, got)
		}
		// A generator that seldom wakes, each time from an idle processor: 70 wakes a
		// second at 2 MaxWaitPerRun each, 0.56% of the window in all, is no neighbour.
		sparse := record(hold, ws, plan.Load{Hold: 12 * time.Second})
		for i := range sparse.Windows {
			sparse.Windows[i].Host = hostload.Usage{Wall: time.Second, Wait: 70 * 2 * MaxWaitPerRun, WaitWall: time.Second, Runs: 70}
		}
		if v := judgeSure(t, []string{"p99 < 1s"}, sparse, nil); v.Status != Pass || len(v.Reasons) != 0 {
			t.Errorf("sparse wakes from idle: %v %+v", v.Status, v.Reasons)
		}
		// Recorded, not judged: the same hold has a verdict.
		recorded := Judge(&plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 1s", -1)}, Confidence: 0.95, RecordContention: true}, rec)
		if recorded.Status != Pass || len(recorded.Reasons) != 0 {
			t.Errorf("contention recorded only: %v %+v", recorded.Status, recorded.Reasons)
		}
	}
}

// TestOnlyANeighbourContends: waits past the limit while the processors were idle are
// the machine's own cost of leaving idle, in every run on it, and no neighbour's; the
// same waits while others took a tenth of the processors or more, or waits no processor
// leaving idle explains (a CPU quota's), are contention. Measured figures (README,
// "Contention"): quiet, 50 us a wake with others at 1%; beside stress-ng --cache 2,
// 90 us with others at 80%; under a 6% quota, 2 ms with others at 0.1%.
func TestOnlyANeighbourContends(t *testing.T) {
	hold, ws := process{scale: 10}.measure(3, 12, 200)
	for _, tc := range []struct {
		name      string
		wait      time.Duration
		others    float64
		contended bool
	}{
		{"quiet, leaving idle", 50 * time.Microsecond, 0.01, false},
		{"quiet, just under the neighbour share", 90 * time.Microsecond, MinNeighbourShare - 0.01, false},
		{"a neighbour", 90 * time.Microsecond, 0.80, true},
		{"a neighbour at the share", 50 * time.Microsecond, MinNeighbourShare, true},
		{"a neighbour that costs nothing", 30 * time.Microsecond, 0.97, false},
		{"a quota", 2 * time.Millisecond, 0.001, true},
	} {
		rec := record(hold, ws, plan.Load{Hold: 12 * time.Second})
		for i := range rec.Windows {
			rec.Windows[i].Host = machine(tc.wait, tc.others)
		}
		v := judgeSure(t, []string{"p99 < 1s"}, rec, nil)
		contended := len(v.Reasons) == 1 && v.Reasons[0].Code == Contended
		if contended != tc.contended {
			t.Errorf("%s: %v %+v, want contended %v", tc.name, v.Status, v.Reasons, tc.contended)
		}
		if r := v.Reasons; contended && (!r[0].HasOthers || math.Abs(r[0].Others-tc.others) > 1e-9 || r[0].Wait != tc.wait) {
			t.Errorf("%s: reason %+v, want others %v and a wait of %v", tc.name, r[0], tc.others, tc.wait)
		}
	}
}

// machine is a second of a 2-processor machine on which perfgate's threads ran 1,000
// times, waited wait each time and used 10% of the processors, while others took
// others of them.
func machine(wait time.Duration, others float64) hostload.Usage {
	u := hostUsage(wait)
	all := 2 * time.Second
	u.Self = all / 10
	u.Busy = u.Self + time.Duration(others*float64(all))
	u.Idle = all - u.Busy
	return u
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// hostUsage is a second of a machine on which perfgate's threads ran 1,000 times and
// waited wait each time.
func hostUsage(wait time.Duration) hostload.Usage {
	return hostload.Usage{Wall: time.Second, Wait: 1000 * wait, WaitWall: time.Second, Runs: 1000}
}

// TestLateWakesInvalidateAClosedModelHold: users woken late from their think time, in
// most of the hold's periods and by the hundred, leave it without a verdict
// (generator_late); two periods of a few users that seldom wake, with one late wake
// each, do not.
func TestLateWakesInvalidateAClosedModelHold(t *testing.T) {
	for _, tc := range []struct {
		wakes load.Lateness
		late  bool
	}{
		{load.Lateness{Late: 477, Behind: 15, Periods: 30, Period: time.Second}, true},
		{load.Lateness{Late: 3, Behind: 2, Periods: 2, Period: time.Second}, false},
		{load.Lateness{Late: 40, Behind: 1, Periods: 30, Period: time.Second}, false},
	} {
		l := delivered()
		l.Wakes = tc.wakes
		v := judgeOne([]plan.Rule{rule(t, "p99 < 1s", -1)}, l, summary(100, 0))
		late := len(v.Reasons) == 1 && v.Reasons[0].Code == GeneratorLate && v.Reasons[0].Wakes
		if late != tc.late {
			t.Errorf("wakes %+v: reasons %+v, want generator_late %v", tc.wakes, v.Reasons, tc.late)
		}
	}
}

// The look that ended a hold decided the rules; the requests in flight then, which
// finish in a last short window, do not undo it: the final judgement is the look's,
// however slow they were.
func TestTheFinalJudgementIsTheLooks(t *testing.T) {
	p := process{scale: 10}
	pl := plan.Load{Hold: 10 * time.Second, MaxHold: 60 * time.Second}
	pp := &plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 53ms", -1)}, Confidence: 0.95}
	hold, ws := p.measure(11, 60, 300)
	rec := record(hold, nil, pl)
	rec.Phases[0].Ran = false
	n := 10
	for ; n <= 60; n++ {
		rec.Windows = inPhase(0, ws[:n])
		held := time.Duration(n) * time.Second
		look := Enough(pp, rec, 0, held)
		if look == run.Decided {
			break
		}
		if look == run.GoOn {
			rec.Phases[0].Looks = append(rec.Phases[0].Looks, held)
		}
	}
	if n > 60 {
		t.Fatal("never enough")
	}
	ph := &rec.Phases[0]
	ph.Decided, ph.DecidedWindows = time.Duration(n)*time.Second, len(rec.Windows)
	// The tail: 200 requests at 400 ms, in the hold's last half second.
	tail := counts(200, 0, 400*time.Millisecond)
	rec.Windows = append(rec.Windows, inPhase(0, []stats.Window{{Start: time.Duration(n) * time.Second, Length: time.Second / 2, All: tail,
		Endpoints: []stats.WindowCounts{tail, counts(0, 0, 0)}}})...)
	ph.Ran = true
	ph.Load.HoldEnd = ph.Load.HoldStart.Add(ph.Decided + time.Second/2)
	v := Judge(pp, rec)
	c := v.Checks[0]
	want := spending(float64(n)/60) - spending(ph.Looks[len(ph.Looks)-1].Seconds()/60)
	if c.Status != Pass || math.Abs(c.Sure.Look-want) > 1e-12 || c.Sure.Windows != n || c.Measured > 0.053 {
		t.Errorf("final after the look at %ds: %v, measured %v from %d windows, spent %v; want the look's pass, spending %v",
			n, c.Status, c.Measured, c.Sure.Windows, c.Sure.Look, want)
	}
	// Without the look's record, the tail counts: 2% of the requests at 400 ms.
	ph.Decided, ph.DecidedWindows = 0, 0
	if c := Judge(pp, rec).Checks[0]; c.Status != Fail || c.Sure.Windows != n+1 {
		t.Errorf("without a deciding look: %v from %d windows, want a fail from %d", c.Status, c.Sure.Windows, n+1)
	}
}
