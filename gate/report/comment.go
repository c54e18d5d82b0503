package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// commentRows is how many breached rules, and how many comparisons with the baseline,
// a pull request's comment lists; the job summary and the HTML report have every one.
const commentRows = 20

// Comment is the pull request comment of a run: the verdict and why, each breached rule,
// and the change against the baseline of every rule that has one, then where to find
// the rest (link: the run's page, "" for none). It starts with marker, the hidden line
// by which the comment is found again, and stays under max characters.
func Comment(r *Result, marker, link string, max int) string {
	var b strings.Builder
	b.WriteString(marker + "\n")
	title := map[string]string{"pass": "✅ PASS", "fail": "❌ FAIL", "invalid": "⚠️ no valid verdict"}[r.Verdict]
	fmt.Fprintf(&b, "### perfgate: %s\n\n", title)
	m := r.main()
	load := fmt.Sprintf("%d users", m.Load.Users)
	if m.Load.Open() {
		load = FormatValue("rate", m.Load.Rate)
	}
	fmt.Fprintf(&b, "%s against `%s`, %s measured. %s Exit code %d.\n\n", load, mdCode(r.Settings.Target), Seconds(m.Delivery.HoldSeconds),
		mdText(runHeadline(r)), r.ExitCode)
	for _, why := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", mdText(why.Message))
	}
	if len(r.Reasons) > 0 {
		b.WriteString("\n")
	}
	if r.Warnings > 0 {
		fmt.Fprintf(&b, "**Warning**: %s inconclusive, treated as a warning.\n\n", plural(r.Warnings, "rule"))
	}

	var bad, vsBase []Check
	for _, c := range r.Checks {
		if c.Status == "fail" || c.Status == "inconclusive" || c.Status == "invalid" {
			bad = append(bad, c)
		}
		if c.Baseline != nil && c.Measured != nil {
			vsBase = append(vsBase, c)
		}
	}
	if len(bad) > 0 {
		b.WriteString("| | rule | scope | measured | interval |\n|---|---|---|--:|--:|\n")
		for i, c := range bad {
			if i == commentRows {
				fmt.Fprintf(&b, "| | … and %d more | | | |\n", len(bad)-commentRows)
				break
			}
			mark := map[string]string{"fail": "❌", "inconclusive": "❔"}[c.Status]
			if mark == "" {
				mark = "⚠️"
			}
			measured := "no samples"
			if c.Measured != nil {
				measured = FormatValue(c.Kind, *c.Measured)
			}
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", mark, mdCode(c.Rule), mdCode(r.where(c)), measured, strings.TrimSpace(c.interval()))
		}
		b.WriteString("\n")
	}
	if len(vsBase) > 0 {
		b.WriteString("**Against the baseline**\n\n| metric | scope | baseline | this run | change |\n|---|---|--:|--:|--:|\n")
		for i, c := range vsBase {
			if i == commentRows {
				fmt.Fprintf(&b, "| … and %d more | | | | |\n", len(vsBase)-commentRows)
				break
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", mdText(c.Metric), mdCode(r.where(c)), FormatValue(c.Kind, *c.Baseline),
				FormatValue(c.Kind, *c.Measured), change(c.Kind, *c.Measured, *c.Baseline))
		}
		b.WriteString("\n")
	}
	if link != "" {
		fmt.Fprintf(&b, "Every rule, endpoint and chart: [the run's job summary](%s).\n", link)
	}
	return fitComment(b.String(), max)
}

// change is how a measured value differs from its baseline: a relative change for
// latencies, rates and counts, a difference in points for a ratio (an error rate).
func change(kind string, measured, base float64) string {
	if kind == "ratio" {
		return fmt.Sprintf("%+.2fpp", 100*(measured-base))
	}
	if base == 0 {
		return "–"
	}
	return fmt.Sprintf("%+.1f%%", 100*(measured/base-1))
}

// fitComment cuts a comment to at most max characters at a line's end, saying so.
func fitComment(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	const cut = "\n\n*Cut to fit GitHub's limit on a comment.*\n"
	r := []rune(s)[:max-utf8.RuneCountInString(cut)]
	out := string(r)
	if i := strings.LastIndexByte(out, '\n'); i > 0 {
		out = out[:i]
	}
	return out + cut
}
