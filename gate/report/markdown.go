package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/perfgate/perfgate/gate/internal/safetext"
)

// maxChartPoints bounds the latency chart; longer runs are sampled evenly.
const maxChartPoints = 120

// WriteMarkdown writes the job summary: the verdict first, then what breached or why
// there is no verdict, the per-endpoint table, latency over time as a Mermaid chart
// (GitHub renders it in job summaries and PR comments), and every rule.
func WriteMarkdown(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	title := map[string]string{"pass": "✅ PASS", "fail": "❌ FAIL", "invalid": "⚠️ INVALID: no valid verdict"}[r.Verdict]
	fmt.Fprintf(bw, "## perfgate: %s\n\n", title)
	m := r.main()
	load := fmt.Sprintf("**%d users** (closed model)", m.Load.Users)
	if m.Load.Open() {
		load = fmt.Sprintf("**%s** (open model)", FormatValue("rate", m.Load.Rate))
	}
	fmt.Fprintf(bw, "%s against `%s`. Measured window: %s%s. Exit code %d.\n\n", load, mdCode(r.Settings.Target), mdText(deliveryLine(m)),
		mdText(hostClause(m.Delivery.Host)), r.ExitCode)
	if line := tlsLine(r.Settings.Protocol, m.Delivery.TLS); line != "" {
		fmt.Fprintf(bw, "%s.\n\n", mdText(line))
	}
	if line := resourceLine(m.Resources); line != "" {
		fmt.Fprintf(bw, "%s.\n\n", mdText(line))
	}

	if r.Aborted != nil {
		fmt.Fprintf(bw, "**Stopped early**: %s.\n\n", mdText(r.Aborted.Message))
	}
	if r.Warnings > 0 {
		fmt.Fprintf(bw, "**Warning**: %s inconclusive, treated as a warning (`verdict.inconclusive: warn`).\n\n", plural(r.Warnings, "rule"))
	}
	if len(r.Reasons) > 0 {
		fmt.Fprintf(bw, "### Why there is no valid verdict\n\n")
		for _, reason := range r.Reasons {
			fmt.Fprintf(bw, "- `%s`\n", mdCode(reason.Message))
		}
		fmt.Fprintln(bw)
	}
	if r.askedSeveral() {
		fmt.Fprintf(bw, "### Verdicts\n\n| question | verdict | rules |\n|---|---|--:|\n")
		icon := map[string]string{"pass": "✅ pass", "fail": "❌ fail", "invalid": "⚠️ invalid", "not run": "⏭️ not run", "inconclusive": "❔ inconclusive"}
		for _, g := range r.Verdicts {
			rules := strconv.Itoa(g.Rules)
			if g.Failed > 0 {
				rules = fmt.Sprintf("%d of %d breached", g.Failed, g.Rules)
			}
			fmt.Fprintf(bw, "| %s | %s | %s |\n", mdText(g.Name), icon[g.Verdict], rules)
		}
		fmt.Fprintln(bw)
	}
	if r.phased() {
		fmt.Fprintf(bw, "### Phases\n\n| phase | load | hold | requests | p50 | p95 | p99 | errors | verdict |\n|---|---|--:|--:|--:|--:|--:|--:|---|\n")
		for _, ph := range r.Phases {
			a := ph.Hold.All
			fmt.Fprintf(bw, "| %s | %s | %.1fs | %s | %s | %s | %s | %s | %s |\n", mdText(ph.Name), mdText(phaseLoadLine(ph.Load)),
				ph.Delivery.HoldSeconds, Count(a.Requests), latencyCell(a, a.LatencyMs.P50), latencyCell(a, a.LatencyMs.P95),
				latencyCell(a, a.LatencyMs.P99), mdText(errorsCell(a)), ph.Verdict)
		}
		fmt.Fprintln(bw)
	}
	var breached []Check
	for _, c := range r.Checks {
		if c.Status == "fail" {
			breached = append(breached, c)
		}
	}
	if len(breached) > 0 {
		fmt.Fprintf(bw, "### Breached thresholds\n\n")
		writeCheckTable(bw, r, breached)
	}

	if r.phased() {
		fmt.Fprintf(bw, "### Endpoints (%s phase)\n\n", mdText(m.Name))
	} else {
		fmt.Fprintf(bw, "### Endpoints (measured window)\n\n")
	}
	fmt.Fprintf(bw, "| endpoint | requests | req/s | p50 | p95 | p99 | max | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	row := func(e Endpoint, name string) {
		fmt.Fprintf(bw, "| %s | %s | %.1f | %s | %s | %s | %s | %s |\n", name, Count(e.Requests), e.Throughput,
			latencyCell(e, e.LatencyMs.P50), latencyCell(e, e.LatencyMs.P95), latencyCell(e, e.LatencyMs.P99),
			latencyCell(e, e.LatencyMs.Max), mdText(errorsCell(e)))
	}
	for _, e := range m.Hold.Endpoints {
		if e.Setup && e.Requests == 0 {
			continue
		}
		row(e, "`"+mdCode(e.Name)+"`")
	}
	row(m.Hold.All, "**all**")
	fmt.Fprintln(bw)

	writeChart(bw, r.Windows)

	if len(r.Checks) > 0 {
		fmt.Fprintf(bw, "<details><summary>All %d thresholds</summary>\n\n", len(r.Checks))
		writeCheckTable(bw, r, r.Checks)
		fmt.Fprintf(bw, "</details>\n\n")
	}
	fmt.Fprintf(bw, "> %s\n", r.Note)
	return bw.Flush()
}

func writeCheckTable(w io.Writer, r *Result, checks []Check) {
	fmt.Fprintf(w, "| | rule | scope | measured | interval | limit | samples | file |\n|---|---|---|--:|--:|---|--:|---|\n")
	for _, c := range checks {
		measured := map[string]string{"not run": "not run"}[c.Status]
		if measured == "" {
			measured = "no samples"
		}
		if c.Measured != nil {
			measured = FormatValue(c.Kind, *c.Measured)
		}
		mark := map[string]string{"pass": "✅", "fail": "❌", "not run": "⏭️", "inconclusive": "❔"}[c.Status]
		interval := "-"
		if c.Interval != nil {
			interval = strings.TrimSpace(c.interval()) + " (" + c.level() + ")"
		}
		if mark == "" {
			mark = "⚠️"
		}
		limit := mdText(c.Op) + " " + FormatValue(c.Kind, c.Limit)
		if c.Measured == nil && c.Reference != "" {
			limit = "-" // it would have come from the other phase
		}
		fmt.Fprintf(w, "| %s | `%s` | `%s` | %s | %s | %s | %s | `%s:%d` |\n", mark, mdCode(c.Rule), mdCode(r.where(c)), measured,
			interval, limit, Count(c.Samples), mdCode(c.File), c.Line)
	}
	fmt.Fprintln(w)
}

// writeChart draws p99 and throughput per window as Mermaid xycharts, and lists each
// endpoint's figures per window in a folded table.
func writeChart(w io.Writer, windows []Window) {
	var pts []Window
	for _, win := range windows {
		if win.Requests > 0 {
			pts = append(pts, win)
		}
	}
	if len(pts) < 2 {
		return
	}
	if len(pts) > maxChartPoints {
		sampled := make([]Window, 0, maxChartPoints)
		for i := range maxChartPoints {
			sampled = append(sampled, pts[i*len(pts)/maxChartPoints])
		}
		pts = sampled
	}
	xs := make([]string, len(pts))
	for i, p := range pts {
		xs[i] = strconv.FormatFloat(round(p.StartSeconds+p.Seconds, 0), 'f', -1, 64)
	}
	fmt.Fprintf(w, "### Latency and throughput over time\n\n")
	chart := func(title, axis string, value func(Window) float64) {
		ys := make([]string, len(pts))
		top := 0.0
		for i, p := range pts {
			ys[i] = strconv.FormatFloat(round(value(p), 1), 'f', -1, 64)
			top = max(top, value(p))
		}
		fmt.Fprintf(w, "```mermaid\nxychart-beta\n")
		fmt.Fprintf(w, "    title \"%s per %s window, all endpoints\"\n", title, Seconds(pts[0].Seconds))
		fmt.Fprintf(w, "    x-axis \"seconds since start\" [%s]\n", strings.Join(xs, ", "))
		fmt.Fprintf(w, "    y-axis \"%s\" 0 --> %s\n", axis, strconv.FormatFloat(round(top*1.1+1, 0), 'f', -1, 64))
		fmt.Fprintf(w, "    line [%s]\n```\n\n", strings.Join(ys, ", "))
	}
	chart("p99 latency (ms)", "p99 (ms)", func(p Window) float64 { return p.P99Ms })
	chart("throughput (req/s)", "req/s", func(p Window) float64 { return p.Throughput })

	var names []string
	seen := map[string]bool{}
	for _, p := range pts {
		for _, e := range p.Endpoints {
			if !seen[e.Name] {
				seen[e.Name] = true
				names = append(names, e.Name)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(w, "<details><summary>Per endpoint over time (p99, req/s)</summary>\n\n| end (s) | stage |")
	for _, n := range names {
		fmt.Fprintf(w, " `%s` |", mdCode(n))
	}
	fmt.Fprintf(w, "\n|--:|---|%s\n", strings.Repeat("--:|", len(names)))
	for i, p := range pts {
		stage := p.Stage
		if p.Phase != "" {
			stage = p.Phase + " " + p.Stage
		}
		fmt.Fprintf(w, "| %s | %s |", xs[i], mdText(stage))
		for _, n := range names {
			cell := "-"
			for _, e := range p.Endpoints {
				if e.Name == n {
					cell = fmt.Sprintf("%s, %.1f/s", Ms(e.P99Ms), e.Throughput)
				}
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n</details>\n\n")
}

// mdEscaper escapes what Markdown could take for markup in a line of text or a table
// cell: emphasis, code, links and images (no link without its brackets), HTML, table
// pipes.
var mdEscaper = strings.NewReplacer("\\", `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "*", `\*`, "_", `\_`,
	"`", "'", "[", `\[`, "]", `\]`, "!", `\!`, "~", `\~`)

// mdText is perfgate's own text in Markdown: neutral (safetext.Line), its markup escaped.
func mdText(s string) string { return mdEscaper.Replace(safetext.Line(s)) }

// mdCode is text that came from outside (names, paths, a target's or a certificate's
// words), for a `code span`: neutral, and in a code span no Markdown (no link, image or
// HTML, no bare URL made a link) applies; only a backtick could end it, and a pipe a table
// cell.
func mdCode(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'").Replace(safetext.Line(s))
}
