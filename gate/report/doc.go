// Package report renders a run. Build turns the plan, the run's record (package run) and
// the verdict on it (package verdict) into one neutral model, Result, which is also the
// versioned JSON result file; every writer (console, JUnit XML, JSON, Markdown, GitHub)
// renders from that model only, so a saved result can be re-rendered later without
// re-running anything. It decides nothing: what passed, failed or could not be judged,
// and why, is the verdict's.
package report
