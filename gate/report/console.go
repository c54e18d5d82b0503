package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perfgate/perfgate/gate/resource"
)

// ProgressLine is one periodic line during a run.
type ProgressLine struct {
	// Open selects the open model's wording: requests in flight instead of users.
	Open     bool
	Elapsed  time.Duration
	Stage    string
	Active   int
	Users    int
	Requests int64   // since the start
	Rate     float64 // requests per second since the last line
	P99      time.Duration
	Errors   int64
}

// WriteProgress prints one progress line. CI logs are not terminals, so it is a plain
// line with no cursor tricks.
func WriteProgress(w io.Writer, p ProgressLine) error {
	errPct := 0.0
	if p.Requests > 0 {
		errPct = float64(p.Errors) / float64(p.Requests)
	}
	p99 := "-"
	if p.Requests > 0 {
		p99 = Duration(p.P99)
	}
	who := fmt.Sprintf("users %d/%d", p.Active, p.Users)
	if p.Open {
		who = fmt.Sprintf("in flight %d", p.Active)
	}
	_, err := fmt.Fprintf(w, "[%6s] %-4s %s  requests %s  %.1f req/s  p99 %s  errors %s (%s)\n",
		p.Elapsed.Truncate(time.Second), p.Stage, who, Count(p.Requests), p.Rate, p99, Count(p.Errors), Percent(errPct))
	return err
}

// WriteConsole prints the final report: the per-endpoint table of the measured window,
// errors by kind, every check, and the verdict.
func WriteConsole(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	writeSummary(bw, r)
	writePhases(bw, r)
	writeChecks(bw, r)
	writeVerdict(bw, r)
	return bw.Flush()
}

// hostClause says how contended the machine was, for the end of a sentence: "";
// "; machine: CPU pressure 12%, other processes 45% of its processors, steal 0.1%".
func hostClause(h *Host) string {
	if h == nil {
		return ""
	}
	var parts []string
	if h.CPUPressure != nil {
		parts = append(parts, "CPU pressure "+pct(*h.CPUPressure))
	}
	if h.OtherProcesses != nil {
		parts = append(parts, "other processes "+pct(*h.OtherProcesses)+" of its processors")
	}
	if h.Steal != nil {
		parts = append(parts, "steal "+pct(*h.Steal))
	}
	if h.GeneratorWait != nil {
		waited := fmt.Sprintf("perfgate waited %.0f ms/s for a processor", 1000**h.GeneratorWait)
		if h.GeneratorWaitPerRunMs != nil {
			waited += fmt.Sprintf(" (%s a wake)", FormatValue("latency", *h.GeneratorWaitPerRunMs/1000))
		}
		parts = append(parts, waited)
	}
	if len(parts) == 0 {
		return ""
	}
	return "; machine: " + strings.Join(parts, ", ")
}

// tlsLine says what the load spoke over TLS and what its handshakes cost, or "" for
// plain HTTP.
func tlsLine(protocol string, h *Handshakes) string {
	if h == nil {
		return ""
	}
	s := "TLS: "
	if protocol != "" {
		s = protocol + ": "
	}
	if h.Count == 0 {
		return s + "no handshake"
	}
	return s + fmt.Sprintf("%s handshakes (%s resumed), mean %s, max %s; each also in the latency of the request that opened its connection",
		Count(h.Count), Count(h.Resumed), Ms(h.MeanMs), Ms(h.MaxMs))
}

func pct(share float64) string { return fmt.Sprintf("%.1f%%", 100*share) }

func writeSummary(w io.Writer, r *Result) {
	m := r.main()
	d := m.Delivery
	fmt.Fprintf(w, "\nMeasured window: %s; generator CPU %.0f%%%s\n", deliveryLine(m), 100*d.GeneratorCPU, hostClause(d.Host))
	if line := tlsLine(r.Settings.Protocol, d.TLS); line != "" {
		fmt.Fprintf(w, "%s\n", line)
	}
	if line := resourceLine(m.Resources); line != "" {
		fmt.Fprintf(w, "%s\n", line)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tREQUESTS\tREQ/S\tP50\tP95\tP99\tMAX\tERRORS")
	row := func(e Endpoint) {
		name := e.Name
		if e.Setup {
			name += " (setup)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\n", name, Count(e.Requests), e.Throughput,
			latencyCell(e, e.LatencyMs.P50), latencyCell(e, e.LatencyMs.P95), latencyCell(e, e.LatencyMs.P99),
			latencyCell(e, e.LatencyMs.Max), errorsCell(e))
	}
	for _, e := range m.Hold.Endpoints {
		if e.Setup && e.Requests == 0 {
			continue
		}
		row(e)
	}
	row(m.Hold.All)
	tw.Flush()

	var kinds []string
	for _, e := range m.Hold.Endpoints {
		if len(e.ErrorKinds) > 0 {
			kinds = append(kinds, e.Name+": "+kindList(e.ErrorKinds))
		}
	}
	if len(kinds) > 0 {
		fmt.Fprintf(w, "\nErrors by kind: %s\n", strings.Join(kinds, "; "))
	}
	ramp := m.Ramp.All
	var per []string
	for _, e := range m.Ramp.Endpoints {
		if e.Requests > 0 {
			per = append(per, e.Name+" "+Count(e.Requests))
		}
	}
	fmt.Fprintf(w, "\nRamp: %s requests in %.1fs", Count(ramp.Requests), d.RampSeconds)
	if len(per) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(per, ", "))
	}
	fmt.Fprintf(w, ", errors %s", Count(ramp.Errors))
	if len(ramp.ErrorKinds) > 0 {
		fmt.Fprintf(w, " (%s)", kindList(ramp.ErrorKinds))
	}
	fmt.Fprintln(w)
	if h := m.Hold; h.ServiceMs != nil && h.LagMs != nil {
		fmt.Fprintf(w, "\nService time (from the actual send): p50 %s, p99 %s, max %s. Schedule lag: p50 %s, p99 %s, max %s.\n",
			Ms(h.ServiceMs.P50), Ms(h.ServiceMs.P99), Ms(h.ServiceMs.Max), Ms(h.LagMs.P50), Ms(h.LagMs.P99), Ms(h.LagMs.Max))
	}
	fmt.Fprintf(w, "\n%s\n", r.Note)
}

// deliveryLine says what load a phase's measured window had.
func deliveryLine(ph *Phase) string {
	d := ph.Delivery
	if ph.Load.Open() {
		s := fmt.Sprintf("hold at %s, %.1fs: %s of %s requests due were sent (%s achieved), %s more than 10ms late, at most %d in flight",
			FormatValue("rate", ph.Load.Rate), d.HoldSeconds, Count(d.SentRequests), Count(d.PlannedRequests),
			FormatValue("rate", d.AchievedRate), Count(d.LateRequests), d.PeakInFlight)
		if d.InFlightCapHit {
			s += fmt.Sprintf(" (max_in_flight %d reached)", ph.Load.MaxInFlight)
		}
		if d.RampSeconds > 0 {
			s += fmt.Sprintf("; ramp of %.1fs reported apart", d.RampSeconds)
		}
		return s
	}
	return fmt.Sprintf("hold at peak, %.1fs with %d of %d users (ramp of %.1fs reported apart)",
		d.HoldSeconds, d.PeakUsers, d.PlannedUsers, d.RampSeconds)
}

func latencyCell(e Endpoint, ms float64) string {
	if e.Requests == 0 {
		return "-"
	}
	return Ms(ms)
}

func errorsCell(e Endpoint) string {
	if e.Errors == 0 {
		return "0"
	}
	return fmt.Sprintf("%s (%s)", Count(e.Errors), Percent(e.ErrorRate))
}

func kindList(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s", k, Count(m[k]))
	}
	return strings.Join(parts, ", ")
}

// writePhases prints one line per phase of a run with several: its load, what its
// hold measured over all requests, and its verdict.
func writePhases(w io.Writer, r *Result) {
	if !r.phased() {
		return
	}
	fmt.Fprintf(w, "\nPhases (the table above is %s):\n", r.main().Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PHASE\tLOAD\tHOLD\tREQUESTS\tREQ/S\tP50\tP95\tP99\tERRORS\tVERDICT")
	for _, ph := range r.Phases {
		a := ph.Hold.All
		fmt.Fprintf(tw, "  %s\t%s\t%.1fs\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\n", ph.Name, phaseLoadLine(ph.Load),
			ph.Delivery.HoldSeconds, Count(a.Requests), a.Throughput,
			latencyCell(a, a.LatencyMs.P50), latencyCell(a, a.LatencyMs.P95), latencyCell(a, a.LatencyMs.P99),
			errorsCell(a), strings.ToUpper(ph.Verdict))
	}
	tw.Flush()
}

func writeChecks(w io.Writer, r *Result) {
	if len(r.Checks) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThresholds (%s):\n", strings.Join(r.Settings.ThresholdFiles, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", checkMark(c), r.where(c), c.Rule, c.Message)
	}
	tw.Flush()
}

// plural writes "1 rule", "2 rules".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func checkMark(c Check) string {
	switch c.Status {
	case "pass":
		return "PASS"
	case "fail":
		return "FAIL"
	case "not run":
		return "NOT RUN"
	case "inconclusive":
		return "UNSURE"
	}
	return "NO DATA"
}

func writeVerdict(w io.Writer, r *Result) {
	if r.Aborted != nil {
		fmt.Fprintf(w, "\nStopped early: %s (%s:%d).\n", r.Aborted.Message, r.Aborted.File, r.Aborted.Line)
	}
	if r.askedSeveral() {
		fmt.Fprintln(w, "\nVerdicts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, g := range r.Verdicts {
			detail := plural(g.Rules, "rule") + " held"
			switch {
			case g.Failed > 0:
				detail = fmt.Sprintf("%d of %s breached", g.Failed, plural(g.Rules, "rule"))
			case g.Verdict == "not run":
				detail = plural(g.Rules, "rule") + " not judged: the phase did not run"
			case g.Verdict == "invalid":
				detail = plural(g.Rules, "rule") + ", not all judged"
			case g.Verdict == "inconclusive":
				detail = plural(g.Rules, "rule") + ", not all sure"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", g.Name, strings.ToUpper(g.Verdict), detail)
		}
		tw.Flush()
	}
	switch {
	case r.Shard != nil && r.Verdict == "pass":
		fmt.Fprintf(w, "\nShard %d of %d: delivered its share of the load (exit %d); perfgate merge judges the run from every shard's result\n",
			r.Shard.Index+1, r.Shard.Of, r.ExitCode)
	case r.Shard != nil:
		fmt.Fprintf(w, "\nShard %d of %d: did NOT deliver its share of the load (exit %d), and leaves the merged run without a verdict:\n",
			r.Shard.Index+1, r.Shard.Of, r.ExitCode)
		for _, reason := range r.Reasons {
			fmt.Fprintf(w, "  - %s\n", reason.Message)
		}
	case r.Verdict == "pass":
		if r.Warnings > 0 {
			fmt.Fprintf(w, "\nVerdict: PASS with %s: inconclusive, treated as a warning (verdict.inconclusive: warn), the other %d held (exit %d)\n",
				plural(r.Warnings, "rule"), len(r.Checks)-r.Warnings, r.ExitCode)
			for _, c := range r.Checks {
				if c.Status == "inconclusive" {
					fmt.Fprintf(w, "  warning: %s [%s]: %s\n", c.Rule, r.where(c), c.Message)
				}
			}
			break
		}
		fmt.Fprintf(w, "\nVerdict: PASS, all %d rules held (exit %d)\n", len(r.Checks), r.ExitCode)
	case r.Verdict == "fail":
		failed := 0
		for _, c := range r.Checks {
			if c.Status == "fail" {
				failed++
			}
		}
		fmt.Fprintf(w, "\nVerdict: FAIL, %d of %d rules breached (exit %d)\n", failed, len(r.Checks), r.ExitCode)
		for _, c := range r.Checks {
			if c.Status == "fail" {
				fmt.Fprintf(w, "  breached: %s [%s]: %s\n", c.Rule, r.where(c), c.Message)
			}
		}
	default:
		fmt.Fprintf(w, "\nVerdict: INVALID, no valid verdict (exit %d):\n", r.ExitCode)
		for _, reason := range r.Reasons {
			fmt.Fprintf(w, "  - %s\n", reason.Message)
		}
	}
}

// resourceLine is what the target's resources did over the hold, in one line: "Target
// resources (mean, max over 15 windows): cpu 0.42/s, 0.61/s; memory 38.2MB, 39MB", and
// the first reason a window's could not be read.
func resourceLine(rs []ResourceStat) string {
	if len(rs) == 0 {
		return ""
	}
	var parts, missing []string
	of := 0
	for _, r := range rs {
		of = max(of, r.Of)
		if r.Windows == 0 {
			missing = append(missing, r.Name)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s, %s", r.Name, resourceValue(r, r.Mean), resourceValue(r, r.Max)))
	}
	line := fmt.Sprintf("Target resources (mean, max over %d windows): %s", of, strings.Join(parts, "; "))
	if len(parts) == 0 {
		line = "Target resources: none could be read"
	}
	if len(missing) > 0 {
		line += "; not exposed or not read: " + strings.Join(missing, ", ")
	}
	for _, r := range rs {
		if r.Error != "" {
			return line + "; " + r.Error
		}
	}
	return line
}

// resourceValue prints a resource's value: a counter's as a rate, bytes in megabytes, a
// histogram's mean of seconds as a duration, anything else as it is, to four
// significant digits.
func resourceValue(r ResourceStat, v float64) string {
	switch {
	case r.HistogramMean && strings.HasSuffix(r.Metric, "_seconds"):
		return FormatValue("latency", v)
	case strings.HasSuffix(r.Metric, "_bytes") && v > 0 && !resource.Limited(v):
		return "unlimited" // Go's memory limit when none is set: the largest int64
	case strings.HasSuffix(r.Metric, "_bytes"):
		return trim(fmt.Sprintf("%.4g", v/1e6)) + "MB"
	case r.Counter:
		return trim(fmt.Sprintf("%.4g", v)) + "/s"
	}
	return trim(fmt.Sprintf("%.4g", v))
}
