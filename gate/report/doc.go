// Package report renders a run. Build turns the plan, the engine's delivery, the stats
// summaries and the verdict into one neutral model, Result, which is also the versioned
// JSON result file; every writer (console, JUnit XML, JSON) renders from that model only,
// so a saved result can be re-rendered or merged later without re-running anything.
package report
