// Package poller holds the Linux primitives the load engine's event loops are built on,
// each there because the portable way costs the generator time it would report as the
// target's:
//
//   - Epoll is an epoll set whose entries carry a slot number: one thread can watch many
//     connections and answer each readiness with a read and the next write, where a
//     goroutine per connection would cost a park and wake of one per response.
//   - Waker is an eventfd in such a set, so that another goroutine (one handing over
//     work, or a dial that ended) can end the set's wait at once rather than at its
//     next tick.
//   - Timer is a timerfd, which wakes a wait to the microsecond where Go's timers wake
//     in whole milliseconds; NewSleeper gives a goroutine the same precision in a
//     blocking sleep (a timerfd the runtime's own poller watches), and falls back to a
//     Go timer elsewhere.
//   - WaitReadable is a ppoll on a few files, for a wait that must end for a timer or a
//     waker but not for the connections of the same epoll set.
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
// Elsewhere than Linux every primitive but the sleeper reports ErrNotSupported, and the
// engine runs without event loops. The package imports nothing of perfgate's.
package poller
