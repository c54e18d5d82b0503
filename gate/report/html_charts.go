package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/perfgate/perfgate/gate/internal/svgchart"
)

// Chart sizes, in the page's pixels.
const (
	chartWidth  = 590
	chartHeight = 240
	// slowestShown is how many endpoints the per-endpoint chart draws: the slowest by
	// p99 (the table lists every one, each with its own sparkline).
	slowestShown = 6
)

// runCharts are a run's charts: latency, throughput and errors over time with its phases
// and ramps marked, the latency distribution of each phase's hold (and of the
// references'), the slowest endpoints over time, how contended the machine was, and the
// target's resources.
func runCharts(r *Result, refs []Reference) []htmlChart {
	var charts []htmlChart
	bands := phaseBands(r)
	secs := svgchart.Axis{Label: "seconds into the run", Zero: true}
	ms := svgchart.Axis{Label: "ms", Zero: true}
	end := func(w Window) float64 { return w.StartSeconds + w.Seconds }

	lat := svgchart.Chart{Title: "Latency over time, all requests", Width: chartWidth, Height: chartHeight, X: secs, Y: ms, Bands: bands}
	var p50, p99, mx []svgchart.Point
	for _, w := range r.Windows {
		p50 = append(p50, svgchart.Point{X: end(w), Y: windowMs(w.WindowFigures, w.P50Ms)})
		p99 = append(p99, svgchart.Point{X: end(w), Y: windowMs(w.WindowFigures, w.P99Ms)})
		mx = append(mx, svgchart.Point{X: end(w), Y: windowMs(w.WindowFigures, w.MaxMs)})
	}
	lat.Series = []svgchart.Series{{Name: "p50", Points: p50, Style: 0}, {Name: "p99", Points: p99, Style: 1}, {Name: "max", Points: mx, Style: 2, Dashed: true}}
	for i, ref := range refs {
		var pts []svgchart.Point
		for _, w := range ref.Windows {
			pts = append(pts, svgchart.Point{X: end(w), Y: windowMs(w.WindowFigures, w.P99Ms)})
		}
		if len(pts) > 0 {
			lat.Series = append(lat.Series, svgchart.Series{Name: "p99, " + ref.Name, Points: pts, Style: 4 + i%4, Dashed: true})
		}
	}
	charts = append(charts, htmlChart{Title: lat.Title, SVG: svg(&lat), Note: "Each point is one time window; shaded: ramps, where the load was still growing."})

	tp := svgchart.Chart{Title: "Throughput and errors over time", Width: chartWidth, Height: chartHeight, X: secs,
		Y: svgchart.Axis{Label: "requests/s", Zero: true}, Bands: bands}
	var ok, bad, users []svgchart.Point
	anyErrors, anyUsers := false, false
	for _, w := range r.Windows {
		per := 0.0
		if w.Seconds > 0 {
			per = float64(w.Errors) / w.Seconds
		}
		ok = append(ok, svgchart.Point{X: end(w), Y: w.Throughput})
		bad = append(bad, svgchart.Point{X: end(w), Y: per})
		users = append(users, svgchart.Point{X: end(w), Y: float64(w.Users)})
		anyErrors = anyErrors || w.Errors > 0
		anyUsers = anyUsers || w.Users > 0
	}
	tp.Series = []svgchart.Series{{Name: "requests/s", Points: ok, Style: 0}}
	if anyErrors {
		tp.Series = append(tp.Series, svgchart.Series{Name: "errors/s", Points: bad, Style: 1})
	}
	charts = append(charts, htmlChart{Title: tp.Title, SVG: svg(&tp)})
	if anyUsers && !r.Open() {
		u := svgchart.Chart{Title: "Users over time", Width: chartWidth, Height: 160, X: secs, Y: svgchart.Axis{Label: "users", Zero: true},
			Bands: bands, Series: []svgchart.Series{{Name: "users running", Points: users, Style: 4}}}
		charts = append(charts, htmlChart{Title: u.Title, SVG: svg(&u)})
	}

	dist := svgchart.Chart{Title: "Latency by percentile, over the hold", Width: chartWidth, Height: chartHeight,
		Y: svgchart.Axis{Label: "ms", Zero: true}, X: svgchart.Axis{Label: "percentile"}}
	most := int64(0)
	for i, ph := range r.Phases {
		name := "this run"
		if r.phased() {
			name = ph.Name
		}
		if s, n := percentileSeries(name, ph.Hold.All, i%4); n > 0 {
			dist.Series, most = append(dist.Series, s), max(most, n)
		}
	}
	for i, ref := range refs {
		if s, n := percentileSeries(ref.Name, ref.Hold, 4+i%4); n > 0 {
			s.Dashed = true
			dist.Series, most = append(dist.Series, s), max(most, n)
		}
	}
	dist.X.Ticks = percentileTicks(most)
	charts = append(charts, htmlChart{Title: dist.Title, SVG: svg(&dist),
		Note: "HdrHistogram percentile plot: each step right is ten times rarer (90%, 99%, 99.9%...), so the tail is as visible as the median."})

	if names := slowest(r.main().Hold, slowestShown); len(r.main().Hold.Endpoints) > 1 && len(names) > 0 {
		ep := svgchart.Chart{Title: "p99 over time, the slowest endpoints", Width: chartWidth, Height: chartHeight, X: secs, Y: ms, Bands: bands}
		for i, name := range names {
			var pts []svgchart.Point
			for _, w := range r.Windows {
				y := math.NaN()
				for _, e := range w.Endpoints {
					if e.Name == name {
						y = windowMs(e.WindowFigures, e.P99Ms)
					}
				}
				pts = append(pts, svgchart.Point{X: end(w), Y: y})
			}
			ep.Series = append(ep.Series, svgchart.Series{Name: name, Points: pts, Style: i})
		}
		note := ""
		if n := len(r.main().Hold.Endpoints); n > len(names) {
			note = fmt.Sprintf("The %d slowest of %d endpoints by p99 over the hold; the table below has every one.", len(names), n)
		}
		charts = append(charts, htmlChart{Title: ep.Title, SVG: svg(&ep), Note: note})
	}

	if host := hostChart(r, bands); host != nil {
		charts = append(charts, *host)
	}
	return append(charts, resourceCharts(r, bands)...)
}

// hostChart is how contended the machine was, window by window; nil without figures.
func hostChart(r *Result, bands []svgchart.Band) *htmlChart {
	c := svgchart.Chart{Title: "The machine perfgate ran on", Width: chartWidth, Height: 200, Bands: bands,
		X: svgchart.Axis{Label: "seconds into the run", Zero: true},
		Y: svgchart.Axis{Label: "% of the processors", Zero: true, Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }}}
	series := []struct {
		name string
		get  func(*Host) *float64
	}{
		{"other processes", func(h *Host) *float64 { return h.OtherProcesses }},
		{"perfgate", func(h *Host) *float64 { return h.Generator }},
		{"steal", func(h *Host) *float64 { return h.Steal }},
		{"CPU pressure (some task waiting)", func(h *Host) *float64 { return h.CPUPressure }},
	}
	seen := false
	for i, s := range series {
		var pts []svgchart.Point
		for _, w := range r.Windows {
			y := math.NaN()
			if w.Host != nil {
				if v := s.get(w.Host); v != nil {
					y, seen = 100**v, true
				}
			}
			pts = append(pts, svgchart.Point{X: w.StartSeconds + w.Seconds, Y: y})
		}
		c.Series = append(c.Series, svgchart.Series{Name: s.name, Points: pts, Style: []int{1, 0, 2, 5}[i]})
	}
	if !seen {
		return nil
	}
	return &htmlChart{Title: c.Title, SVG: svg(&c), Note: "A verdict is judged only where other processes left perfgate room to measure (see How sure a verdict is)."}
}

// resourceCharts are the target's resources over time, one chart each.
func resourceCharts(r *Result, bands []svgchart.Band) []htmlChart {
	var names []string
	seen := map[string]bool{}
	for _, w := range r.Windows {
		for k := range w.Resources {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	var out []htmlChart
	for _, name := range names {
		var pts []svgchart.Point
		for _, w := range r.Windows {
			y, ok := w.Resources[name]
			if !ok {
				y = math.NaN()
			}
			pts = append(pts, svgchart.Point{X: w.StartSeconds + w.Seconds, Y: y})
		}
		c := svgchart.Chart{Title: "Target: " + name, Width: 390, Height: 180, Bands: bands,
			X: svgchart.Axis{Label: "s", Zero: true}, Y: svgchart.Axis{Zero: true}, Series: []svgchart.Series{{Name: name, Points: pts, Style: 6, Hidden: true}}}
		out = append(out, htmlChart{Title: c.Title, SVG: svg(&c)})
	}
	return out
}

// phaseBands shades each phase's ramp and labels each phase, where there are several.
func phaseBands(r *Result) []svgchart.Band {
	var bands []svgchart.Band
	type span struct{ from, to float64 }
	var order []string
	phases := map[string]*span{}
	var ramp *svgchart.Band
	for _, w := range r.Windows {
		from, to := w.StartSeconds, w.StartSeconds+w.Seconds
		if s := phases[w.Phase]; s != nil {
			s.to = to
		} else {
			phases[w.Phase], order = &span{from, to}, append(order, w.Phase)
		}
		switch {
		case w.Stage == "ramp" && ramp != nil && ramp.Label == w.Phase+" ramp":
			ramp.To = to
		case w.Stage == "ramp":
			bands = append(bands, svgchart.Band{From: from, To: to, Label: w.Phase + " ramp", Shade: "ramp"})
			ramp = &bands[len(bands)-1]
		default:
			ramp = nil
		}
	}
	if !r.phased() {
		for i := range bands {
			bands[i].Label = "ramp"
		}
		return bands
	}
	for i := range bands {
		bands[i].Label = "" // the phase's own band says which phase it is
	}
	for i, name := range order {
		bands = append(bands, svgchart.Band{From: phases[name].from, To: phases[name].to, Label: name, Shade: fmt.Sprintf("phase p%d", i%2)})
	}
	return bands
}

// windowMs is a window's latency figure, or a gap for a window without requests.
func windowMs(f WindowFigures, v float64) float64 {
	if f.Requests == 0 {
		return math.NaN()
	}
	return v
}

// percentileSeries is a hold's latency by percentile, on the axis of percentileTicks: x
// is how many nines (1 - q = 10^-x), up to as far as the requests reach. n is how many
// requests it has.
func percentileSeries(name string, e Endpoint, style int) (svgchart.Series, int64) {
	h, err := decodeHistogram(e.Histogram)
	if err != nil || h.TotalCount() == 0 {
		return svgchart.Series{}, 0
	}
	n := h.TotalCount()
	s := svgchart.Series{Name: name, Style: style}
	last := math.Log10(float64(n))
	s.Points = append(s.Points, svgchart.Point{X: 0, Y: float64(h.Min()) / 1000})
	for k := 1; ; k++ {
		x := float64(k) / 10
		if x > last {
			break
		}
		q := 100 * (1 - math.Pow(10, -x))
		s.Points = append(s.Points, svgchart.Point{X: x, Y: float64(h.ValueAtQuantile(q)) / 1000})
	}
	s.Points = append(s.Points, svgchart.Point{X: last, Y: float64(h.Max()) / 1000})
	return s, n
}

// percentileTicks label the nines axis: 0%, 90%, 99%, 99.9%... as far as n requests reach.
func percentileTicks(n int64) []svgchart.Tick {
	ticks := []svgchart.Tick{{V: 0, Label: "0%"}}
	for x := 1; float64(x) <= math.Log10(float64(max(n, 10))); x++ {
		label := "90%"
		if x >= 2 {
			label = "99%"
		}
		if x > 2 {
			label = "99." + strings.Repeat("9", x-2) + "%"
		}
		ticks = append(ticks, svgchart.Tick{V: float64(x), Label: label})
	}
	return ticks
}

// svg draws a chart for the page; svgchart escapes everything it is given.
func svg(c *svgchart.Chart) template.HTML { return template.HTML(c.SVG()) }
