// Package plan turns the decoded config and threshold files into one validated,
// defaulted and immutable run plan: the URL, headers and body of every request compiled
// into templates, per-user variables numbered, task weights made cumulative, and every
// threshold rule tied to the endpoint it watches.
//
// Everything a user can get wrong across files is caught here, before any traffic, and
// reported as a *config.Error at the line that caused it. The engine (package load) then
// runs the plan without re-checking it.
package plan
