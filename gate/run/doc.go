// Package run runs a plan: the probe, then each phase in turn with an engine and a stats
// collector of its own, and returns a Record of what happened, judging nothing.
//
// While a phase runs, a time window closes at every multiple of Options.Every on the
// clock (12:00:10, 12:00:20... at 10 s, whenever the run began, so that results recorded
// apart line up window for window) and where the phase ends. Each window is shown to
// Options.StopWhen, which stops the run when an abort rule has held, and to
// Options.OnWindow, which prints progress. After each phase Options.StopAfter says
// whether the run goes on.
//
// The clock, the engine and the probe are injected: package runtest has a fake clock
// and a scripted engine, so that phases, windows, stops and cancellation are tested
// deterministically, without waiting and without traffic.
//
// Data flows one way: the Record holds the plan's phases with what their engines
// reported (load.Result) and what their stats summarised (stats.Summary), and the run's
// windows (stats.Window); package verdict judges it, package report renders both.
package run
