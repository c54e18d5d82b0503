// Package resource reads a target's own resources while it is under load (its CPU,
// memory, file descriptors, goroutines, database pool, or any series it exposes) from
// a Prometheus source, so that reports show them beside latency and a stress test can
// say which one ran out first.
//
// A Scraper reads a /metrics endpoint in the text exposition format (parsed by
// github.com/prometheus/common/expfmt) into a Snapshot of the configured Series; Between
// turns two snapshots into what each series did over a window: a gauge's value at its
// end, a counter's rate.
package resource
