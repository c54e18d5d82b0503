// Package svgchart draws line charts as inline SVG for perfgate's HTML report: axes with
// round ticks, lines (broken where a value is missing), dots with tooltips, shaded bands
// (a run's phases and ramps) and labelled marks (a knee). It needs no script, loads
// nothing, and escapes every text it is given, so a chart can be put straight into a page.
// Colours come from the page's style sheet: a series of style i has class "s<i>".
package svgchart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Point is one value of a series; a NaN Y is a gap.
type Point struct{ X, Y float64 }

// Series is one line of a chart.
type Series struct {
	Name   string
	Points []Point
	// Style picks the colour (class "s<Style>", from 0).
	Style  int
	Dashed bool
	// Dots draws each point as a dot, with Tips[i] (when given) as its tooltip.
	Dots bool
	Tips []string
	// Hidden leaves the line out of the legend.
	Hidden bool
}

// Tick is one labelled value on an axis.
type Tick struct {
	V     float64
	Label string
}

// Axis is how values map to one side of the chart.
type Axis struct {
	Label string
	// Format labels the ticks (default: the shortest decimal).
	Format func(float64) string
	// Ticks, when given, are the ticks, and bound the axis; otherwise round ticks are
	// chosen to cover the data.
	Ticks []Tick
	// Zero makes the axis start at zero (or end there, for negative data).
	Zero bool
}

// Band shades the stretch From..To of the X axis, with its label at the top.
type Band struct {
	From, To float64
	Label    string
	// Shade is the band's class ("band" when empty); bands of different kinds can
	// then be told apart.
	Shade string
}

// Mark is a labelled point, drawn over the lines.
type Mark struct {
	X, Y  float64
	Label string
}

// Chart is one chart. Width and Height are its size in the page's pixels (the SVG scales
// with the page: they set its proportions).
type Chart struct {
	Title         string
	Width, Height int
	X, Y          Axis
	Series        []Series
	Bands         []Band
	Marks         []Mark
	// Sparkline draws the lines alone: no axes, labels, legend or title.
	Sparkline bool
}

// Plot area margins.
const (
	marginLeft   = 58
	marginRight  = 14
	marginTop    = 26
	marginBottom = 34
	legendRow    = 16
	fontSize     = 11
)

// SVG returns the chart as an <svg> element.
func (c *Chart) SVG() string {
	var b strings.Builder
	w, h := float64(c.Width), float64(c.Height)
	if w <= 0 {
		w = 640
	}
	if h <= 0 {
		h = 240
	}
	var legend [][]Series
	left, right, top, bottom := float64(marginLeft), float64(marginRight), float64(marginTop), float64(marginBottom)
	if c.Sparkline {
		left, right, top, bottom = 1, 1, 1, 1
	} else {
		legend = c.legendRows(w - left - right)
		h += float64(len(legend)) * legendRow
		if c.Title == "" {
			top = 10
		}
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %g %g" width="%g" height="%g" role="img"`, w, h, w, h)
	if c.Title != "" {
		fmt.Fprintf(&b, ` aria-label="%s"`, esc(c.Title))
	}
	b.WriteString(">")
	if c.Title != "" && !c.Sparkline {
		fmt.Fprintf(&b, `<text class="title" x="%g" y="16">%s</text>`, left, esc(c.Title))
	}
	plotH := h - top - bottom - float64(len(legend))*legendRow
	xs, ys := c.scales()
	if xs == nil || ys == nil {
		if !c.Sparkline {
			fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g">no data</text>`, left+(w-left-right)/2, top+plotH/2)
		}
		b.WriteString("</svg>")
		return b.String()
	}
	px := func(v float64) float64 { return round(left + xs.at(v)*(w-left-right)) }
	py := func(v float64) float64 { return round(top + (1-ys.at(v))*plotH) }

	for _, band := range c.Bands {
		x0, x1 := px(math.Max(band.From, xs.lo)), px(math.Min(band.To, xs.hi))
		if x1 <= x0 {
			continue
		}
		shade := band.Shade
		if shade == "" {
			shade = "band"
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%g" y="%g" width="%g" height="%g"><title>%s</title></rect>`, esc(shade), x0, top, round(x1-x0), round(plotH), esc(band.Label))
		if !c.Sparkline && band.Label != "" && x1-x0 >= legendWidth(band.Label)-28 { // where the label fits
			fmt.Fprintf(&b, `<text class="bandlabel" x="%g" y="%g">%s</text>`, x0+3, top+fontSize+1, esc(band.Label))
		}
	}
	if !c.Sparkline {
		c.axes(&b, xs, ys, px, py, left, top, w-right, top+plotH)
	}
	for _, s := range c.Series {
		c.line(&b, s, px, py, xs, ys)
	}
	for _, m := range c.Marks {
		if !xs.in(m.X) || !ys.in(m.Y) {
			continue
		}
		fmt.Fprintf(&b, `<g class="mark"><circle cx="%g" cy="%g" r="5"/><text x="%g" y="%g">%s</text><title>%s</title></g>`,
			px(m.X), py(m.Y), px(m.X)+8, py(m.Y)-6, esc(m.Label), esc(m.Label))
	}
	if len(legend) > 0 {
		y := top + plotH + marginBottom - 2
		for _, row := range legend {
			x := left
			for _, s := range row {
				dash := ""
				if s.Dashed {
					dash = ` stroke-dasharray="5 3"`
				}
				fmt.Fprintf(&b, `<line class="s%d" x1="%g" y1="%g" x2="%g" y2="%g"%s/><text class="legend" x="%g" y="%g">%s</text>`,
					s.Style, x, y-4, x+18, y-4, dash, x+22, y, esc(s.Name))
				x += legendWidth(s.Name)
			}
			y += legendRow
		}
	}
	b.WriteString("</svg>")
	return b.String()
}

// line draws one series: a path broken at gaps and at points outside the axes, and its
// dots.
func (c *Chart) line(b *strings.Builder, s Series, px, py func(float64) float64, xs, ys *scale) {
	var d strings.Builder
	pen := false
	for _, p := range s.Points {
		if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || !xs.in(p.X) || !ys.in(p.Y) {
			pen = false
			continue
		}
		op := "L"
		if !pen {
			op = "M"
		}
		fmt.Fprintf(&d, "%s%g %g", op, px(p.X), py(p.Y))
		pen = true
	}
	dash := ""
	if s.Dashed {
		dash = ` stroke-dasharray="5 3"`
	}
	if d.Len() > 0 {
		fmt.Fprintf(b, `<path class="line s%d" d="%s"%s><title>%s</title></path>`, s.Style, d.String(), dash, esc(s.Name))
	}
	if !s.Dots {
		return
	}
	for i, p := range s.Points {
		if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || !xs.in(p.X) || !ys.in(p.Y) {
			continue
		}
		tip := s.Name
		if i < len(s.Tips) && s.Tips[i] != "" {
			tip = s.Tips[i]
		}
		fmt.Fprintf(b, `<circle class="dot s%d" cx="%g" cy="%g" r="3.5"><title>%s</title></circle>`, s.Style, px(p.X), py(p.Y), esc(tip))
	}
}

// axes draws the grid, the ticks and the axes' labels around the plot x0..x1, y0..y1.
func (c *Chart) axes(b *strings.Builder, xs, ys *scale, px, py func(float64) float64, x0, y0, x1, y1 float64) {
	b.WriteString(`<g class="axis">`)
	for _, t := range ys.ticks {
		y := py(t.V)
		fmt.Fprintf(b, `<line class="grid" x1="%g" y1="%g" x2="%g" y2="%g"/><text class="ytick" x="%g" y="%g">%s</text>`,
			x0, y, x1, y, x0-5, y+4, esc(t.Label))
	}
	for _, t := range xs.ticks {
		x := px(t.V)
		fmt.Fprintf(b, `<line class="tick" x1="%g" y1="%g" x2="%g" y2="%g"/><text class="xtick" x="%g" y="%g">%s</text>`,
			x, y1, x, y1+4, x, y1+15, esc(t.Label))
	}
	fmt.Fprintf(b, `<line class="frame" x1="%g" y1="%g" x2="%g" y2="%g"/>`, x0, y1, x1, y1)
	if c.X.Label != "" {
		fmt.Fprintf(b, `<text class="xlabel" x="%g" y="%g">%s</text>`, x1, y1+28, esc(c.X.Label))
	}
	if c.Y.Label != "" { // along the axis, left of its ticks
		fmt.Fprintf(b, `<text class="ylabel" transform="rotate(-90)" x="%g" y="11">%s</text>`, round(-(y0+y1)/2), esc(c.Y.Label))
	}
	b.WriteString("</g>")
}

// legendRows lays the named series out in rows that fit width.
func (c *Chart) legendRows(width float64) [][]Series {
	var rows [][]Series
	var row []Series
	used := 0.0
	for _, s := range c.Series {
		if s.Hidden || s.Name == "" {
			continue
		}
		lw := legendWidth(s.Name)
		if len(row) > 0 && used+lw > width {
			rows, row, used = append(rows, row), nil, 0
		}
		row, used = append(row, s), used+lw
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// legendWidth is a legend entry's width: its swatch and its name at about 6.5 pixels a
// character.
func legendWidth(name string) float64 { return 34 + 6.5*float64(len([]rune(name))) }

// scale maps one axis's values to 0..1.
type scale struct {
	lo, hi float64
	ticks  []Tick
}

func (s *scale) at(v float64) float64 { return (v - s.lo) / (s.hi - s.lo) }

// in reports whether v lies on the axis (with a little slack for rounding).
func (s *scale) in(v float64) bool {
	slack := (s.hi - s.lo) * 1e-9
	return v >= s.lo-slack && v <= s.hi+slack
}

// scales are the chart's axes, from its data and its axes' settings; nil when there is
// nothing to draw.
func (c *Chart) scales() (xs, ys *scale) {
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
			ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
		}
	}
	for _, m := range c.Marks {
		ylo, yhi = math.Min(ylo, m.Y), math.Max(yhi, m.Y)
	}
	if xlo > xhi {
		return nil, nil
	}
	for _, band := range c.Bands {
		xlo, xhi = math.Min(xlo, band.From), math.Max(xhi, band.To)
	}
	return c.X.scale(xlo, xhi, 6), c.Y.scale(ylo, yhi, 5)
}

// scale fits the axis to lo..hi with about n round ticks, or to its own ticks.
func (a *Axis) scale(lo, hi float64, n int) *scale {
	if len(a.Ticks) > 0 {
		s := &scale{lo: math.Inf(1), hi: math.Inf(-1), ticks: a.Ticks}
		for _, t := range a.Ticks {
			s.lo, s.hi = math.Min(s.lo, t.V), math.Max(s.hi, t.V)
		}
		s.lo, s.hi = math.Min(s.lo, lo), math.Max(s.hi, hi)
		if s.hi == s.lo {
			s.hi = s.lo + 1
		}
		return s
	}
	if a.Zero {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = lo-math.Abs(lo)/2, hi+math.Abs(hi)/2
		}
		if a.Zero {
			lo, hi = math.Min(lo, 0), math.Max(hi, 0)
		}
	}
	step := NiceStep((hi - lo) / float64(n))
	s := &scale{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step}
	format := a.Format
	if format == nil {
		format = func(v float64) string { return Decimal(v, step) }
	}
	for i := 0; ; i++ {
		v := s.lo + float64(i)*step
		if v > s.hi+step/2 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		s.ticks = append(s.ticks, Tick{V: v, Label: format(v)})
	}
	return s
}

// NiceStep is the round step (1, 2 or 5 times a power of ten) nearest above rough.
func NiceStep(rough float64) float64 {
	if rough <= 0 || math.IsNaN(rough) || math.IsInf(rough, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(rough)))
	for _, m := range []float64{1, 2, 5, 10} {
		if rough <= m*mag*(1+1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// Decimal writes v with as many decimals as a tick step of step needs; large values
// with an SI suffix (k, M, G), so that a tick's label stays short.
func Decimal(v, step float64) string {
	for _, u := range []struct {
		scale  float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e4, "k"}} {
		if step >= u.scale/10 && math.Abs(v) >= u.scale {
			if u.suffix == "k" {
				u.scale = 1e3
			}
			return Decimal(v/u.scale, step/u.scale) + u.suffix
		}
	}
	places := 0
	if step > 0 && step < 1 {
		places = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	return strconv.FormatFloat(v, 'f', places, 64)
}

// round keeps two decimals of a pixel: enough for the eye, and short.
func round(v float64) float64 { return math.Round(v*100) / 100 }

// esc escapes text for SVG content and attributes.
func esc(s string) string { return html.EscapeString(s) }
