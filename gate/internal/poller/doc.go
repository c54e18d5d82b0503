// Package poller holds the Linux primitives the load engine's event loops are built on,
// each there because the portable way costs the generator time it would report as the
// target's:
//
//   - StampReader reads a socket with the kernel's receive time of the data
//     (SO_TIMESTAMPNS), and ArrivedAt places that time on the monotonic clock: a
//     response that arrives while the generator's thread is descheduled is timed by its
//     arrival, not by the late read.
//   - Read and Write are raw non-blocking socket calls, without the runtime's
//     bookkeeping for a call that might block, which the syscall package does on every
//     call.
//   - DupFD copies a dialled connection's socket, so that a loop's own epoll set can
//     watch it while net.Dialer does the dialling.
//
// It imports nothing of perfgate's.
package poller
