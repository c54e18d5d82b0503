// Package wire is the load generator's HTTP/1.1 on the wire: requests written by hand
// (AppendRequest), an incremental response parser that allocates nothing
// (ResponseParser), and the blocking keep-alive client that sends the one and reads with
// the other (Client). The engine's users use the client; its event loops write the
// requests and feed the parser themselves.
//
// It exists because net/http costs several times the CPU per request (contexts, header
// maps, a goroutine per connection, buffered copies); a load generator that spends its
// CPU on itself measures itself. The engine sends plain-HTTP/1.1 keep-alive requests
// this way, and anything unusual (HTTPS, a proxy, the stdlib client asked for) through
// net/http; both paths send the same request, follow no redirect, ask for no
// compression, and count body bytes as received.
//
// It imports nothing of perfgate's: the engine maps its plan onto plain values.
package wire
