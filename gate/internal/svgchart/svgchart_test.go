package svgchart

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

func TestNiceStep(t *testing.T) {
	for _, c := range []struct{ rough, want float64 }{
		{0.7, 1}, {1, 1}, {1.2, 2}, {2, 2}, {3, 5}, {7, 10}, {12, 20}, {0.013, 0.02}, {450, 500}, {0, 1}, {math.NaN(), 1},
	} {
		if got := NiceStep(c.rough); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("NiceStep(%g) = %g, want %g", c.rough, got, c.want)
		}
	}
}

func TestAxisCoversTheDataWithRoundTicks(t *testing.T) {
	a := Axis{Zero: true}
	s := a.scale(3.2, 17.9, 5)
	if s.lo != 0 || s.hi != 20 {
		t.Fatalf("axis %g..%g, want 0..20", s.lo, s.hi)
	}
	var labels []string
	for _, tk := range s.ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "0 5 10 15 20" {
		t.Errorf("ticks %q", got)
	}
	// Small values keep the decimals their step needs; a flat series still gets an axis.
	s = (&Axis{}).scale(0.012, 0.031, 5)
	if s.ticks[0].Label != "0.010" && s.ticks[0].Label != "0.01" {
		t.Errorf("first tick %q", s.ticks[0].Label)
	}
	if s = (&Axis{}).scale(7, 7, 5); !(s.lo < 7 && s.hi > 7) {
		t.Errorf("flat data: axis %g..%g does not surround 7", s.lo, s.hi)
	}
}

// wellFormed parses the SVG as XML, as a browser's SVG parser would.
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
	}
}

func TestChartEscapesEveryText(t *testing.T) {
	evil := `<script>alert(1)</script>"&'`
	c := Chart{Title: evil, X: Axis{Label: evil}, Y: Axis{Label: evil},
		Series: []Series{{Name: evil, Points: []Point{{0, 1}, {1, 2}}, Dots: true, Tips: []string{evil, evil}}},
		Bands:  []Band{{From: 0, To: 0.5, Label: evil, Shade: `x" onload="alert(1)`}},
		Marks:  []Mark{{X: 1, Y: 2, Label: evil}}}
	svg := c.SVG()
	wellFormed(t, svg)
	if strings.Contains(svg, "<script") || strings.Contains(svg, `" onload=`) {
		t.Fatalf("unescaped text in the chart:\n%s", svg)
	}
	if n := strings.Count(svg, "&lt;script&gt;"); n < 6 {
		t.Errorf("the text appears escaped %d times, want every place (title, labels, legend, tips, band, mark)", n)
	}
}

func TestLinesBreakAtGaps(t *testing.T) {
	c := Chart{Series: []Series{{Name: "p99", Points: []Point{{0, 1}, {1, 2}, {2, math.NaN()}, {3, 4}, {4, 5}}}}}
	svg := c.SVG()
	wellFormed(t, svg)
	start := strings.Index(svg, ` d="`)
	if start < 0 {
		t.Fatalf("no path:\n%s", svg)
	}
	d := svg[start+4:]
	d = d[:strings.IndexByte(d, '"')]
	if got := strings.Count(d, "M"); got != 2 {
		t.Errorf("path %q has %d pieces, want 2 (broken at the gap)", d, got)
	}
	if got := strings.Count(d, "L"); got != 2 {
		t.Errorf("path %q has %d segments, want 2", d, got)
	}
}

func TestPointsLandWhereTheirValuesSay(t *testing.T) {
	// A 0..10 by 0..10 chart: the plot spans the width less the margins.
	c := Chart{Title: "t", Width: 200 + marginLeft + marginRight, Height: 100 + marginTop + marginBottom,
		X: Axis{Ticks: []Tick{{0, "0"}, {10, "10"}}}, Y: Axis{Ticks: []Tick{{0, "0"}, {10, "10"}}},
		Series: []Series{{Points: []Point{{0, 0}, {5, 10}, {10, 5}}}}}
	svg := c.SVG()
	want := "M58 126L158 26L258 76"
	if !strings.Contains(svg, want) {
		t.Errorf("path not %q:\n%s", want, svg)
	}
}

func TestEmptyChartSaysSo(t *testing.T) {
	c := Chart{Title: "nothing", Series: []Series{{Name: "p99", Points: []Point{{0, math.NaN()}}}}}
	svg := c.SVG()
	wellFormed(t, svg)
	if !strings.Contains(svg, "no data") || strings.Contains(svg, "<path") {
		t.Errorf("an empty chart should say no data and draw nothing:\n%s", svg)
	}
}

func TestLegendWrapsToTheWidth(t *testing.T) {
	var series []Series
	for i := 0; i < 30; i++ {
		series = append(series, Series{Name: strings.Repeat("endpoint", 2), Points: []Point{{0, 1}, {1, float64(i)}}, Style: i % 8})
	}
	c := Chart{Width: 400, Height: 200, Series: series}
	rows := c.legendRows(400 - marginLeft - marginRight)
	if len(rows) < 5 {
		t.Fatalf("30 legend entries in %d rows of a 400-pixel chart", len(rows))
	}
	for _, row := range rows {
		w := 0.0
		for _, s := range row {
			w += legendWidth(s.Name)
		}
		if len(row) > 1 && w > 400-marginLeft-marginRight {
			t.Errorf("a legend row is %g pixels wide", w)
		}
	}
	wellFormed(t, c.SVG())
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		v, step float64
		want    string
	}{
		{0.25, 0.05, "0.25"}, {3, 1, "3"}, {0.5, 0.5, "0.5"}, {150, 50, "150"}, {8000, 2000, "8000"},
		{20000, 5000, "20k"}, {4.5e7, 5e6, "45M"}, {5e7, 1e7, "50M"}, {0, 1e7, "0"}, {2.5e9, 5e8, "2.5G"},
	} {
		if got := Decimal(c.v, c.step); got != c.want {
			t.Errorf("Decimal(%g, %g) = %q, want %q", c.v, c.step, got, c.want)
		}
	}
}
