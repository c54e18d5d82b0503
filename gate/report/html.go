package report

import (
	"bufio"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/baseline"
	"github.com/perfgate/perfgate/gate/internal/svgchart"
)

// The HTML report is one file that needs nothing else: its style sheet and its one small
// script (sortable and filterable tables) are inside it, its charts are SVG drawn here,
// and its Content-Security-Policy forbids every request, so it reads the same offline,
// as a CI artifact, or opened from a mail. Every text in it is escaped by html/template
// (the charts escape their own).

//go:embed html
var htmlAssets embed.FS

var htmlPage = template.Must(template.New("report.tmpl").Funcs(template.FuncMap{
	"css":   func() template.CSS { return template.CSS(asset("html/report.css")) },
	"js":    func() template.JS { return template.JS(asset("html/report.js")) },
	"upper": strings.ToUpper,
	// num is a value a table sorts by: finite, so that the page's script can read it.
	"num": func(v float64) string {
		switch {
		case math.IsNaN(v), math.IsInf(v, -1):
			return "-1e308"
		case math.IsInf(v, 1):
			return "1e308"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	},
	"share": func(v float64) string {
		if v < 0 {
			return "unknown"
		}
		return pct(v)
	},
	// statusRank sorts the worst outcomes first.
	"statusRank": func(s string) int {
		return map[string]int{"fail": 0, "invalid": 1, "inconclusive": 2, "pass": 3, "not run": 4}[s]
	},
}).ParseFS(htmlAssets, "html/report.tmpl"))

func asset(name string) string {
	b, err := htmlAssets.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot be missing
	}
	return string(b)
}

// Reference is a run drawn beside the one a report is about: an earlier result (a
// baseline's run, the last release's), or a baseline file's pooled figures.
type Reference struct {
	Name string
	// Hold is the main phase's hold, all requests; Endpoints each endpoint's.
	Hold      Endpoint
	Endpoints []Endpoint
	// Windows are its time windows, when it has them (a result's).
	Windows []Window
	Main    string
}

// ReferenceOf makes a saved result a reference named name.
func ReferenceOf(name string, r *Result) Reference {
	m := r.main()
	return Reference{Name: name, Hold: m.Hold.All, Endpoints: m.Hold.Endpoints, Windows: r.Windows, Main: m.Name}
}

// BaselineReference makes a baseline file's pooled figures of its main phase a
// reference named name.
func BaselineReference(name string, f *baseline.File) Reference {
	ref := Reference{Name: name, Hold: endpointOfMetrics(f.All)}
	for _, e := range f.Endpoints {
		ref.Endpoints = append(ref.Endpoints, endpointOfMetrics(e))
	}
	return ref
}

// endpointOfMetrics is a baseline's figures of one scope as an Endpoint, its
// percentiles read from its histogram.
func endpointOfMetrics(m baseline.Metrics) Endpoint {
	e := Endpoint{Name: m.Name, Requests: m.Requests, ErrorRate: m.ErrorRate, Throughput: m.Throughput, Histogram: m.Histogram}
	if h, err := decodeHistogram(m.Histogram); err == nil && h.TotalCount() > 0 {
		e.LatencyMs = latencyOf(h)
	} else {
		e.LatencyMs = Latency{Mean: m.MeanMs, Max: m.MaxMs}
	}
	return e
}

// decodeHistogram reads a histogram of a result or a baseline (see Endpoint.Histogram);
// a damaged one, from a file edited or made elsewhere, is an error, not a panic.
func decodeHistogram(s string) (*hdrhistogram.Histogram, error) { return baseline.Decode(s) }

// WriteHTML writes the self-contained HTML report of a run, with refs drawn beside it.
func WriteHTML(w io.Writer, r *Result, refs []Reference) error {
	bw := bufio.NewWriter(w)
	if err := htmlPage.Execute(bw, newRunPage(r, refs)); err != nil {
		return err
	}
	return bw.Flush()
}

// page is what the template renders: a run's or a capacity search's.
type page struct {
	Title    string
	Verdict  string // pass, fail or invalid
	Headline string
	Facts    []fact
	Reasons  []string
	Notes    []string
	Verdicts []GroupVerdict
	Checks   []htmlCheck
	// Breached are the rules that failed or could not be told, worst first: the first
	// few shown, the rest folded.
	Breached, MoreBreached []htmlCheck
	BreachedTitle          string
	Phases                 []htmlPhase
	Refs                   []htmlRef
	Charts                 []htmlChart
	// Endpoints is the per-endpoint table of the main phase's hold.
	Endpoints []htmlEndpoint
	Steps     []htmlStep
	Uses      []CapacityUse
	Footer    string
}

type fact struct{ Name, Value string }

type htmlChart struct {
	Title string
	Note  string
	SVG   template.HTML
	Wide  bool
}

// cell is a table cell: its text, and the value it sorts by.
type cell struct {
	Text string
	Sort float64
}

type htmlCheck struct {
	Status, Rule, Where, Measured, Limit, Interval, Message, File string
	Order                                                         int
}

type htmlPhase struct {
	Name, Verdict, Load string
	Hold                string
	Requests            cell
	P50, P95, P99       cell
	ErrorRate           cell
}

type htmlRef struct {
	Name               string
	Requests           cell
	P50, P95, P99, Max cell
	ErrorRate          cell
	Throughput         cell
	P99Change          string
}

type htmlEndpoint struct {
	Name                    string
	Requests, Errors        cell
	ErrorRate, Throughput   cell
	P50, P90, P95, P99, Max cell
	Spark                   template.HTML
}

type htmlStep struct {
	N                             int
	Level, Role, Outcome, Why     string
	LevelV                        float64
	Achieved, Requests, ErrorRate cell
	P50, P90, P99                 cell
	Load                          cell
}

// newRunPage lays a run's report out.
func newRunPage(r *Result, refs []Reference) *page {
	m := r.main()
	p := &page{Title: "perfgate: " + strings.ToUpper(r.Verdict), Verdict: r.Verdict, Reasons: r.reasonMessages()}
	p.Headline = runHeadline(r)
	load := fmt.Sprintf("%d users, closed model", m.Load.Users)
	if m.Load.Open() {
		load = FormatValue("rate", m.Load.Rate) + ", open model"
	}
	p.Facts = []fact{
		{"target", r.Settings.Target},
		{"load", load},
		{"measured", deliveryLine(m) + hostClause(m.Delivery.Host)},
		{"started", r.Started.UTC().Format(time.RFC3339)},
		{"took", Duration(r.Ended.Sub(r.Started).Round(time.Second))},
		{"exit code", fmt.Sprint(r.ExitCode)},
	}
	if r.Settings.Protocol != "" {
		p.Facts = append(p.Facts[:1], append([]fact{{"protocol", r.Settings.Protocol}}, p.Facts[1:]...)...)
	}
	if h := m.Delivery.TLS; h != nil {
		p.Facts = append(p.Facts, fact{"TLS handshakes", strings.TrimPrefix(tlsLine("", h), "TLS: ")})
	}
	if line := resourceLine(m.Resources); line != "" {
		p.Facts = append(p.Facts, fact{"target's resources", line})
	}
	if r.Confidence > 0 {
		p.Facts = append(p.Facts, fact{"confidence", fmt.Sprintf("%s family-wise over the statistical rules", trim(fmt.Sprintf("%.2f%%", 100*r.Confidence)))})
	}
	if r.Aborted != nil {
		p.Notes = append(p.Notes, "Stopped early: "+r.Aborted.Message+".")
	}
	if r.Warnings > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s inconclusive, treated as a warning (verdict.inconclusive: warn).", plural(r.Warnings, "rule")))
	}
	if r.askedSeveral() {
		p.Verdicts = r.Verdicts
	}
	for i, c := range r.Checks {
		hc := htmlCheck{Status: c.Status, Rule: c.Rule, Where: r.where(c), Message: c.Message, Order: i}
		if c.Measured != nil {
			hc.Measured = FormatValue(c.Kind, *c.Measured)
		}
		hc.Interval = strings.TrimSpace(c.interval())
		if c.File != "" {
			hc.File = fmt.Sprintf("%s:%d", c.File, c.Line)
		}
		p.Checks = append(p.Checks, hc)
	}
	p.breached()
	if r.phased() {
		for _, ph := range r.Phases {
			l := "closed, " + plural(ph.Load.Users, "user")
			if ph.Load.Open() {
				l = "open, " + FormatValue("rate", ph.Load.Rate)
			}
			a := ph.Hold.All
			p.Phases = append(p.Phases, htmlPhase{Name: ph.Name, Verdict: ph.Verdict, Load: l, Hold: Seconds(ph.Delivery.HoldSeconds),
				Requests: countCell(a.Requests), P50: msCell(a.LatencyMs.P50, a.Requests), P95: msCell(a.LatencyMs.P95, a.Requests),
				P99: msCell(a.LatencyMs.P99, a.Requests), ErrorRate: rateCell(a.ErrorRate)})
		}
	}
	if len(refs) > 0 {
		p.Refs = append(p.Refs, refRow(r.Settings.Target+" (this run)", m.Hold.All, 0))
		for _, ref := range refs {
			p.Refs = append(p.Refs, refRow(ref.Name, ref.Hold, m.Hold.All.LatencyMs.P99))
		}
	}
	p.Charts = runCharts(r, refs)
	p.Endpoints = endpointRows(r)
	p.Footer = fmt.Sprintf("%s · %s · result %s", r.Tool, r.Started.UTC().Format(time.RFC3339), r.Version)
	if r.Note != "" {
		p.Notes = append(p.Notes, r.Note)
	}
	return p
}

// breachedShown is how many breached rules a report shows before its charts; the rest
// are folded under them.
const breachedShown = 10

// breached picks the rules that failed or could not be told out of Checks, failures
// first.
func (p *page) breached() {
	for _, want := range []string{"fail", "invalid", "inconclusive"} {
		for _, c := range p.Checks {
			if c.Status == want {
				p.Breached = append(p.Breached, c)
			}
		}
	}
	if len(p.Breached) > breachedShown {
		p.Breached, p.MoreBreached = p.Breached[:breachedShown], p.Breached[breachedShown:]
	}
	p.BreachedTitle = "Breached rules"
	for _, c := range p.Breached {
		if c.Status != "fail" {
			p.BreachedTitle = "Rules breached or not judged"
		}
	}
}

// runHeadline is the verdict in one sentence.
func runHeadline(r *Result) string {
	switch r.Verdict {
	case "pass":
		return fmt.Sprintf("Passed: all %s held.", plural(len(r.Checks), "rule"))
	case "fail":
		n := 0
		for _, c := range r.Checks {
			if c.Status == "fail" {
				n++
			}
		}
		return fmt.Sprintf("Failed: %s of %d breached.", plural(n, "rule"), len(r.Checks))
	}
	return "No valid verdict."
}

// refRow is one line of the comparison table; against is the reported run's p99, to
// which a reference's is compared (0: the reported run itself).
func refRow(name string, e Endpoint, against float64) htmlRef {
	row := htmlRef{Name: name, Requests: countCell(e.Requests), P50: msCell(e.LatencyMs.P50, e.Requests),
		P95: msCell(e.LatencyMs.P95, e.Requests), P99: msCell(e.LatencyMs.P99, e.Requests), Max: msCell(e.LatencyMs.Max, e.Requests),
		ErrorRate: rateCell(e.ErrorRate), Throughput: cell{FormatValue("rate", e.Throughput), e.Throughput}}
	if against > 0 && e.LatencyMs.P99 > 0 {
		row.P99Change = fmt.Sprintf("%+.1f%%", 100*(against/e.LatencyMs.P99-1))
	}
	return row
}

func countCell(n int64) cell  { return cell{Count(n), float64(n)} }
func rateCell(f float64) cell { return cell{Percent(f), f} }

// msCell is a latency, or a dash where nothing was measured.
func msCell(ms float64, requests int64) cell {
	if requests == 0 {
		return cell{"–", math.Inf(-1)}
	}
	return cell{Ms(ms), ms}
}

// endpointRows is the main phase's per-endpoint table, each row with a sparkline of its
// p99 over the phase's windows.
func endpointRows(r *Result) []htmlEndpoint {
	m := r.main()
	p99s := map[string][]svgchart.Point{}
	for _, w := range r.Windows {
		if w.Phase != m.Name {
			continue
		}
		for _, e := range w.Endpoints {
			p99s[e.Name] = append(p99s[e.Name], svgchart.Point{X: w.StartSeconds + w.Seconds, Y: e.P99Ms})
		}
	}
	var rows []htmlEndpoint
	for _, e := range m.Hold.Endpoints {
		row := htmlEndpoint{Name: e.Name, Requests: countCell(e.Requests), Errors: countCell(e.Errors), ErrorRate: rateCell(e.ErrorRate),
			Throughput: cell{FormatValue("rate", e.Throughput), e.Throughput},
			P50:        msCell(e.LatencyMs.P50, e.Requests), P90: msCell(e.LatencyMs.P90, e.Requests), P95: msCell(e.LatencyMs.P95, e.Requests),
			P99: msCell(e.LatencyMs.P99, e.Requests), Max: msCell(e.LatencyMs.Max, e.Requests)}
		if pts := p99s[e.Name]; len(pts) > 1 {
			c := svgchart.Chart{Width: 120, Height: 24, Sparkline: true, Y: svgchart.Axis{Zero: true},
				Series: []svgchart.Series{{Name: e.Name + ": p99 per window", Points: pts, Style: 1}}}
			row.Spark = template.HTML(c.SVG()) // svgchart escapes what it is given
		}
		rows = append(rows, row)
	}
	return rows
}

// slowest returns the names of the n slowest endpoints of a hold by p99, slowest first.
func slowest(hold Stage, n int) []string {
	eps := append([]Endpoint(nil), hold.Endpoints...)
	sort.SliceStable(eps, func(i, j int) bool { return eps[i].LatencyMs.P99 > eps[j].LatencyMs.P99 })
	var out []string
	for _, e := range eps {
		if len(out) == n {
			break
		}
		if e.Requests > 0 {
			out = append(out, e.Name)
		}
	}
	return out
}
