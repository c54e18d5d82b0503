package load

import (
	"container/heap"
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/perfgate/perfgate/gate/internal/poller"

	"github.com/perfgate/perfgate/gate/internal/wire"
)

// Users that think, on the event loop: a user whose response is read sleeps in the
// loop's heap until its think time ends, and the loop's wait for readiness ends no later
// than the first of them. Thousands of users that think cost no goroutine, no timer and
// no wake of their own, and no read buffer while they sleep: only what the loop keeps
// of them.

// loopStart hands a closed-model user to an event loop: its number, and, after a setup
// run in a goroutine of its own (setupForLoop), its variables and its connection: a
// descriptor (or -1), with the TLS connection on it for HTTPS.
type loopStart struct {
	id   int
	vars []string
	fd   int
	tls  *loopTLS
}

// setupForLoop runs user id's setup in a goroutine of its own, as any user's, then
// hands the user, its variables and its connection to an event loop with hand. A TLS
// connection goes over too, session and all: the loop's fdConn was under it from its
// dial.
func (e *Engine) setupForLoop(ctx context.Context, id int, stop <-chan struct{}, hand func(loopStart)) {
	u, closeConns := e.newUser(id)
	defer closeConns()
	var raw *fdConn // under the TLS connection, for HTTPS
	if e.fastTLS != nil {
		u.fast.Wrap = func(c net.Conn) net.Conn {
			raw = &fdConn{Conn: c}
			return raw
		}
	}
	if !u.setupWithRetries(ctx, stop, "user") {
		return
	}
	s := loopStart{id: id, vars: u.vars, fd: -1}
	if conn := u.fast.Release(); conn != nil {
		s.fd, s.tls = handOver(conn, raw)
	}
	hand(s)
}

// handOver takes conn, a lean client's connection, for an event loop: a duplicate of its
// descriptor, and for TLS (conn a *tls.Conn over raw) the TLS connection moved onto it;
// -1 when it cannot be taken, and conn is then closed.
func handOver(conn net.Conn, raw *fdConn) (int, *loopTLS) {
	if tc, ok := conn.(*tls.Conn); ok && raw != nil && raw.Conn != nil {
		fd, err := poller.DupFD(raw.Conn)
		if err != nil {
			conn.Close()
			return -1, nil
		}
		raw.handover(fd)
		return fd, &loopTLS{conn: tc, raw: raw}
	}
	defer conn.Close()
	if tcp, ok := conn.(*net.TCPConn); ok {
		if fd, err := poller.DupFD(tcp); err == nil {
			return fd, nil
		}
	}
	return -1, nil
}

// loopRate is how many requests a second one event loop serves with room to spare, of
// users that think (about 25 us each: a tenth of a processor at 4,000 a second).
const loopRate = 20000

// closedLoops is how many event loops run the closed model's users: one a processor
// without think time, where the loops are the whole work; with think time as many as
// the users' most requests a second need (one loop in all but the largest runs), so
// that a processor stays free. A loop waits in epoll_wait holding its Go processor; with
// every processor so held, the runtime takes one back for any other goroutine (the
// windows' clock, an in-process target) and the loop, once its wait ends, waits for a
// processor in turn: with a loop a processor the same run's p99 moved by 40%.
func (e *Engine) closedLoops() int {
	p := e.plan
	n := min(processors, p.Users)
	if rate := e.thinkRate(); rate > 0 {
		n = min(n, 1+int(rate/loopRate))
	}
	return max(n, 1)
}

// thinkRate is how many requests a second the closed model's users that think can ask
// for at most: the users over their mean think time; 0 without think time.
func (e *Engine) thinkRate() float64 {
	p := e.plan
	if think := (p.Think.Min + p.Think.Max) / 2; think > 0 {
		return float64(p.Users) / think.Seconds()
	}
	return 0
}

// sleepers is a min-heap of users by the end of their think time.
type sleepers []*loopUser

func (s sleepers) Len() int           { return len(s) }
func (s sleepers) Less(i, j int) bool { return s[i].dueAt < s[j].dueAt }
func (s sleepers) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *sleepers) Push(x any)        { *s = append(*s, x.(*loopUser)) }
func (s *sleepers) Pop() any {
	old := *s
	u := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	return u
}

// rest starts u's think time after its response at now, or, without think time, its
// next request at once.
func (l *eventLoop) rest(ctx context.Context, u *loopUser, now time.Time) {
	think := l.think(u)
	if think <= 0 {
		l.next(ctx, u, now) // the response's arrival is the next request's start
		return
	}
	l.sleep(u, now.Add(think))
}

// sleep keeps u idle until due (a close of its connection meanwhile is the target's:
// see ready).
func (l *eventLoop) sleep(u *loopUser, due time.Time) {
	u.task, u.due, u.dueAt = nil, due, due.Sub(l.e.start)
	heap.Push(&l.asleep, u)
}

// think is u's next think time, drawn from its own stream as a goroutine user's is.
func (l *eventLoop) think(u *loopUser) time.Duration { return thinkTime(l.e.plan.Think, u.rng) }

// waitFor is how long the loop may wait for readiness: a tick at most, and no later than
// the end of the first think time, in whole milliseconds (epoll's), rounded up.
func (l *eventLoop) waitFor() time.Duration {
	if len(l.asleep) == 0 {
		return loopTick
	}
	d := time.Until(l.asleep[0].due)
	if d <= 0 {
		return 0
	}
	return min(loopTick, (d + time.Millisecond - 1).Truncate(time.Millisecond))
}

// wakeSleepers sends the next request of every user whose think time has ended, and
// notes how late each woke (see Engine.woke).
func (l *eventLoop) wakeSleepers(ctx context.Context) {
	if len(l.asleep) == 0 {
		return
	}
	now := time.Now()
	// Those due now, taken first: a user whose request cannot be sent sleeps again, and
	// without think time it is due at once; it goes on at the next turn.
	woken := l.dueNow[:0]
	for len(l.asleep) > 0 && !l.asleep[0].due.After(now) {
		woken = append(woken, heap.Pop(&l.asleep).(*loopUser))
	}
	for _, u := range woken {
		l.e.woke(u.due, now)
		l.next(ctx, u, now)
	}
	clear(woken)
	l.dueNow = woken[:0]
}

// stopSleepers ends the users that think when the hold ends: they send nothing more.
func (l *eventLoop) stopSleepers() {
	for _, u := range l.asleep {
		l.e.active.Add(-1)
		l.drop(u)
	}
	clear(l.asleep)
	l.asleep = l.asleep[:0]
}

// unsent records a request that could not be sent as it was (a header or the URL
// filled with a value no request may hold), as user.unsent does: an error of its own
// kind that took no time; the user then thinks, or goes on at the loop's next turn.
func (l *eventLoop) unsent(u *loopUser, now time.Time, err error) {
	offset := now.Sub(l.e.start)
	l.e.record(Sample{User: u.id, Endpoint: u.task.Endpoint, Offset: offset, Stage: l.e.stageAt(offset), Kind: l.e.classify(err)})
	l.sleep(u, now.Add(l.think(u)))
}

// takeBuf gives a response a read buffer: one that another has given back, or a new one.
func (l *eventLoop) takeBuf() []byte {
	if n := len(l.bufs); n > 0 {
		b := l.bufs[n-1]
		l.bufs = l.bufs[:n-1]
		return b
	}
	return make([]byte, wire.ReadBufSize)
}

// giveBuf takes back u's read buffer once its response is read, unless it holds bytes
// beyond the response (kept for the next) or grew for a large head (dropped).
func (l *eventLoop) giveBuf(u *loopUser) {
	if u.buf == nil || u.r != u.w {
		return
	}
	if len(u.buf) == wire.ReadBufSize {
		l.bufs = append(l.bufs, u.buf)
	}
	u.buf, u.r, u.w = nil, 0, 0
}
