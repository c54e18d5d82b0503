package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/internal/svgchart"
)

// WriteCapacityHTML writes the self-contained HTML report of a capacity search: the
// capacity and its bracket, the latency/throughput curve of every step with the knee
// marked, the target's resources as the load grew, and every step.
func WriteCapacityHTML(w io.Writer, r *CapacityResult) error {
	bw := bufio.NewWriter(w)
	if err := htmlPage.Execute(bw, newCapacityPage(r)); err != nil {
		return err
	}
	return bw.Flush()
}

func newCapacityPage(r *CapacityResult) *page {
	p := &page{Title: "perfgate capacity: " + strings.ToUpper(r.Verdict), Verdict: r.Verdict, Headline: CapacityHeadline(r)}
	p.Facts = []fact{
		{"target", r.Target},
		{"search", fmt.Sprintf("from %s by %gx, to within %s; steps of %s ramp and %s hold, %s cooldown",
			FormatLevel(r.Unit, r.Settings.From), r.Settings.Factor, Percent(r.Settings.Precision), Seconds(r.Settings.RampSeconds),
			Seconds(r.Settings.HoldSeconds), Seconds(r.Settings.CooldownSeconds))},
		{"load used", Duration(time.Duration(r.LoadSeconds * float64(time.Second)).Round(time.Second))},
		{"exit code", fmt.Sprint(r.ExitCode)},
	}
	if len(r.Rules) > 0 {
		p.Facts = append(p.Facts, fact{"each step judged by", strings.Join(r.Rules, "; ")})
	}
	if r.Why != "" {
		p.Reasons = append(p.Reasons, r.Why)
	}
	if line := BottleneckLine(r); line != "" {
		p.Notes = append(p.Notes, line)
	}
	if r.Bottleneck != nil {
		p.Uses = r.Bottleneck.Uses
	}
	for i, c := range r.Checks {
		hc := htmlCheck{Status: c.Status, Rule: c.Rule, Where: "capacity", Message: c.Message, Order: i,
			Measured: FormatLevel(r.Unit, c.Measured), Limit: FormatLevel(r.Unit, c.Limit)}
		if c.File != "" {
			hc.File = fmt.Sprintf("%s:%d", c.File, c.Line)
		}
		p.Checks = append(p.Checks, hc)
	}
	p.breached()
	for i, s := range r.Steps {
		p.Steps = append(p.Steps, htmlStep{N: i + 1, Level: FormatLevel(r.Unit, s.Level), LevelV: s.Level, Role: s.Role, Outcome: s.Outcome, Why: s.Why,
			Achieved: cell{FormatValue("rate", s.Achieved), s.Achieved}, Requests: countCell(s.Requests), ErrorRate: rateCell(s.ErrorRate),
			P50: msCell(s.P50Ms, s.Requests), P90: msCell(s.P90Ms, s.Requests), P99: msCell(s.P99Ms, s.Requests),
			Load: cell{Seconds(s.LoadSeconds), s.LoadSeconds}})
	}
	p.Charts = capacityCharts(r)
	p.Footer = fmt.Sprintf("%s · result %s", r.Tool, r.Version)
	return p
}

// capacityCharts are the latency curve (each step's percentiles by level, the knee and
// the bracket marked), achieved against offered load, and the target's resources by
// level.
func capacityCharts(r *CapacityResult) []htmlChart {
	steps := append([]CapacityStep(nil), r.Steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].Level < steps[j].Level })
	unit := "arrivals/s"
	if r.Unit == "users" {
		unit = "users"
	}
	level := svgchart.Axis{Label: unit, Zero: true, Format: func(v float64) string { return FormatLevel(r.Unit, v) }}
	var bands []svgchart.Band
	if r.BracketHigh > 0 {
		bands = append(bands, svgchart.Band{From: r.BracketLow, To: r.BracketHigh, Label: "bracket", Shade: "bracket"})
	}
	curve := svgchart.Chart{Title: "Latency as the load grows", Width: chartWidth, Height: 260, X: level, Y: svgchart.Axis{Label: "ms", Zero: true}, Bands: bands}
	tips := make([]string, len(steps))
	for i, s := range steps {
		tips[i] = fmt.Sprintf("%s (%s): %s; p50 %s, p90 %s, p99 %s, errors %s", FormatLevel(r.Unit, s.Level), s.Role, s.Outcome,
			Ms(s.P50Ms), Ms(s.P90Ms), Ms(s.P99Ms), Percent(s.ErrorRate))
	}
	for i, q := range []struct {
		name string
		get  func(CapacityStep) float64
	}{{"p50", func(s CapacityStep) float64 { return s.P50Ms }}, {"p90", func(s CapacityStep) float64 { return s.P90Ms }},
		{"p99", func(s CapacityStep) float64 { return s.P99Ms }}} {
		var pts []svgchart.Point
		for _, s := range steps {
			y := q.get(s)
			if s.Requests == 0 {
				y = math.NaN()
			}
			pts = append(pts, svgchart.Point{X: s.Level, Y: y})
		}
		curve.Series = append(curve.Series, svgchart.Series{Name: q.name, Points: pts, Style: []int{0, 5, 1}[i], Dots: true, Tips: tips})
	}
	if k := r.Knee; k != nil {
		curve.Marks = append(curve.Marks, svgchart.Mark{X: k.Level, Y: k.P99Ms, Label: "knee " + FormatLevel(r.Unit, k.Level)})
	}
	if r.Capacity > 0 && (r.Knee == nil || r.Knee.Level != r.Capacity) { // at the knee, the knee's mark says it
		for _, s := range steps {
			if s.Level == r.Capacity && s.Requests > 0 {
				curve.Marks = append(curve.Marks, svgchart.Mark{X: s.Level, Y: s.P50Ms, Label: "capacity " + FormatLevel(r.Unit, r.Capacity)})
				break
			}
		}
	}
	charts := []htmlChart{{Title: curve.Title, SVG: svg(&curve), Note: "Each dot is one step (hover for its figures); shaded: the bracket, between the highest level that held and the lowest that did not."}}

	tp := svgchart.Chart{Title: "Throughput achieved", Width: chartWidth, Height: 220, X: level, Y: svgchart.Axis{Label: "requests/s", Zero: true}, Bands: bands}
	var got, asked []svgchart.Point
	for _, s := range steps {
		got = append(got, svgchart.Point{X: s.Level, Y: s.Achieved})
		if s.Offered > 0 {
			asked = append(asked, svgchart.Point{X: s.Level, Y: s.Offered})
		}
	}
	tp.Series = []svgchart.Series{{Name: "achieved", Points: got, Style: 0, Dots: true, Tips: tips}}
	if len(asked) > 0 {
		tp.Series = append(tp.Series, svgchart.Series{Name: "offered", Points: asked, Style: 2, Dashed: true})
	}
	charts = append(charts, htmlChart{Title: tp.Title, SVG: svg(&tp)})

	var names []string
	seen := map[string]bool{}
	for _, s := range steps {
		for k := range s.Resources {
			if !seen[k] {
				seen[k], names = true, append(names, k)
			}
		}
	}
	sort.Strings(names)
	for _, name := range names {
		var pts []svgchart.Point
		for _, s := range steps {
			y, ok := s.Resources[name]
			if !ok {
				y = math.NaN()
			}
			pts = append(pts, svgchart.Point{X: s.Level, Y: y})
		}
		c := svgchart.Chart{Title: "Target: " + name, Width: 390, Height: 180, X: level, Y: svgchart.Axis{Zero: true}, Bands: bands,
			Series: []svgchart.Series{{Name: name, Points: pts, Style: 6, Dots: true, Hidden: true}}}
		if k := r.Knee; k != nil {
			if y, ok := stepAt(steps, k.Level).Resources[name]; ok {
				c.Marks = []svgchart.Mark{{X: k.Level, Y: y, Label: "knee"}}
			}
		}
		charts = append(charts, htmlChart{Title: c.Title, SVG: svg(&c)})
	}
	return charts
}

// stepAt is the step at level (the last, where several were).
func stepAt(steps []CapacityStep, level float64) CapacityStep {
	var out CapacityStep
	for _, s := range steps {
		if s.Level == level {
			out = s
		}
	}
	return out
}
