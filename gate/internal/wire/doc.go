// Package wire is the load generator's HTTP/1.1 on the wire: an incremental parser of
// responses that allocates nothing.
//
// It exists because net/http costs several times the CPU per request (contexts, header
// maps, a goroutine per connection, buffered copies); a load generator that spends its
// CPU on itself measures itself. The engine uses this package for plain-HTTP/1.1
// keep-alive targets and net/http for anything unusual. It imports nothing of perfgate's:
// the engine maps a plan onto its plain values.
package wire
