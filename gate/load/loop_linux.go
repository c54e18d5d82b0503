package load

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/perfgate/perfgate/gate/internal/poller"
	"github.com/perfgate/perfgate/gate/internal/wire"
	"github.com/perfgate/perfgate/gate/plan"
)

// The event loop runs the closed model's users the way wrk does: one goroutine per
// processor, each with its own epoll instance and many users' connections, answering
// readiness with a read and the next request's write. A user costs no goroutine, so a
// response costs no park and wake of one: on loopback that is about a third of the
// generator's user time per request. It serves only the plans it can run exactly as
// the users of user.go would (see loopEligible); the requests, the samples and the
// stages are the same.

// loopTick bounds how long a loop waits for readiness, so that it notices new users,
// dialled connections, timeouts and the end of the run.
const loopTick = 5 * time.Millisecond

// wakeSlot is the epoll data of the loop's eventfd, which ends its wait when a user is
// handed over or a dial finishes (user slots are >= 0).
const wakeSlot = -2

// connEvents is what a loop asks of a connection: readable, or closed by the peer, once
// per change (edge-triggered: a level-triggered entry would be polled again on every
// wait after it fired, which costs a socket poll per response).
const connEvents = poller.Readable | poller.PeerClosed | poller.EdgeTriggered

// loopEligible reports whether the event loop can run the plan: the fast path, and
// tasks that need no body check. The closed model's users may have a setup (run in a
// goroutine of their own, which then hands them over: setupForLoop), variables and
// think time; the open model's requests must be the same for every arrival, with no
// setup. Users that think go on a loop only where they ask for loopThinkRate requests
// a second or more.
func (e *Engine) loopEligible() bool {
	p := e.plan
	if e.noLoop || e.fastAddr == "" || p.Open && len(p.Setup) > 0 {
		return false
	}
	if rate := e.thinkRate(); !p.Open && rate > 0 && rate < loopThinkRate {
		return false
	}
	for i := range p.Tasks {
		t := &p.Tasks[i]
		if _, static := e.static[t]; keepsBody(t) || p.Open && !static {
			return false
		}
	}
	return true
}

// loopThinkRate is the fewest requests a second (users over their mean think time) for
// which users that think run on an event loop rather than in goroutines of their own.
// Below it the loop's saving is a few percent of one processor (goroutine users cost
// about 70 us a request, the loop's half that), and the goroutines measured a target
// on the same machine more steadily: the demo scenario (200 users, think 1-3 s, about
// 100 requests a second) against perfgate serve-demo, runs of each kind taken in turn,
// 60 s holds with 3 s windows: windows whose p99 rose past 19 ms (the quiet p99 is
// 16.5 ms) were 3.1% of the goroutines' (9 of 294) and 12.9% of the loop's (38 of 294),
// and the verdict series (.ci/verdicts) went inconclusive on 3 of 14 unchanged
// candidates with the loop, against 3 of 90 with goroutines. Why is not known: with
// the responses timed by their kernel stamps the loop's windows still rose (15.9% against
// 6.3% in the same turns), so it is not the loop reading late.
const loopThinkRate = 1000

// loopUser is one user of an event loop: its connection and the request in flight.
type loopUser struct {
	id       int
	slot     int // index in the loop's users, and the epoll data of its connection
	rng      *rand.Rand
	fd       int      // -1 without a connection
	tls      *loopTLS // fd's TLS, for an HTTPS target
	used     bool
	dialing  bool
	dialsOn  bool          // dialing on the loop's own thread (see connect): fd waits to turn writable
	task     *plan.Request // nil while idle: thinking, or a free connection
	arrival  arrival       // open model: the request's place in the schedule
	vars     []string      // the user's variables, from its setup
	reqs     [][]byte      // its requests with variables, by task, once rendered (see request)
	due      time.Time     // the end of its think time, while it thinks
	dueAt    time.Duration // due, from the start of the run (cheaper to compare)
	req      []byte
	sent     int
	start    time.Time
	deadline time.Time
	got      bool // bytes of the current response arrived
	retried  bool
	buf      []byte
	r, w     int
	rx       int64 // when the kernel received the response's last bytes read (see poller.StampReader)
	parser   wire.ResponseParser
	stopped  bool
}

// dialResult hands a connection dialled off the loop back to it.
type dialResult struct {
	u   *loopUser
	fd  int
	tls *loopTLS
	err error
}

type eventLoop struct {
	e       *Engine
	ep      *poller.Epoll
	waker   *poller.Waker  // in ep, as wakeSlot
	users   []*loopUser    // by slot; the epoll data is the slot
	pending chan loopStart // users to start
	dialed  chan dialResult
	dialer  net.Dialer
	// connectTo is the target's address when the loop dials on its own thread (see
	// connect): a plain-HTTP target named by its IP; invalid otherwise.
	connectTo netip.AddrPort
	total     int
	busy      int                 // users with a request in flight or a connection being dialled
	asleep    sleepers            // users thinking, by the end of their think time
	dueNow    []*loopUser         // wakeSleepers' users due, kept for its next turn
	wbuf      requestBuf          // where request renders a user's request before keeping it
	bufs      [][]byte            // read buffers no response holds, for the next to use
	expiry    time.Time           // no request in flight ends its timeout before; zero: none in flight
	open      *openLoop           // the open model's state; nil for the closed model
	stamps    *poller.StampReader // reads with the kernel's receive time (see finish); nil to read plainly
	stamped   bool                // the last read that returned data had a stamp (see deferResponses)
}

func (e *Engine) newEventLoop() (*eventLoop, error) {
	ep, err := poller.NewEpoll()
	if err != nil {
		return nil, err
	}
	waker, err := poller.NewWaker()
	if err != nil {
		ep.Close()
		return nil, err
	}
	if err := ep.Add(waker.FD(), poller.Readable, wakeSlot); err != nil {
		waker.Close()
		ep.Close()
		return nil, err
	}
	l := &eventLoop{
		e: e, ep: ep, waker: waker,
		pending: make(chan loopStart, e.plan.Users),
		dialed:  make(chan dialResult, max(e.plan.Users, e.plan.MaxInFlight)),
		dialer:  net.Dialer{Timeout: e.plan.Timeout, KeepAlive: 30 * time.Second},
		total:   e.plan.TotalWeight(),
		stamps:  &poller.StampReader{},
	}
	if addr, err := netip.ParseAddrPort(e.fastAddr); err == nil && e.fastTLS == nil && addr.Addr().Zone() == "" {
		l.connectTo = addr
	}
	return l, nil
}

// run serves the loop's users until stop (when requests in flight finish) or ctx.
func (l *eventLoop) run(ctx context.Context, stop <-chan struct{}) {
	defer l.closeAll()
	events := make([]poller.Event, 256)
	stopping := false
	nextCheck := time.Now().Add(loopTick)
	for {
		if ctx.Err() != nil {
			return
		}
		if !stopping {
			select {
			case <-stop:
				stopping = true
				for _, u := range l.users {
					u.stopped = true
				}
				l.stopSleepers()
			default:
			}
		}
		if stopping && l.busy == 0 {
			return
		}
		l.admit(ctx, stopping)
		n, err := l.ep.Wait(events, l.waitFor())
		if err != nil {
			return
		}
		if l.e.heldUp != nil {
			l.e.heldUp()
		}
		for i := 0; i < n; i++ {
			if events[i].Slot() == wakeSlot {
				l.woken(ctx, stopping)
				continue
			}
			l.ready(ctx, l.users[events[i].Slot()], events[i].Events())
		}
		l.wakeSleepers(ctx)
		l.periodic(ctx, &nextCheck)
	}
}

// wake ends the loop's wait, from any goroutine.
func (l *eventLoop) wake() { l.waker.Wake() }

// woken clears the wake-up and takes what was handed over.
func (l *eventLoop) woken(ctx context.Context, stopping bool) {
	l.waker.Clear()
	l.admit(ctx, stopping)
}

// admit starts the users the ramp has handed over and takes the dialled connections:
// those handed over when it began, no more, so that dials that fail at once (a target
// that refuses) and are made again cannot keep the loop from its timeouts and the end
// of the run. Whatever comes after waits for the next turn, a tick at most.
func (l *eventLoop) admit(ctx context.Context, stopping bool) {
	for range len(l.pending) + len(l.dialed) {
		select {
		case s := <-l.pending:
			if stopping {
				if s.fd >= 0 {
					poller.Close(s.fd)
				}
				continue
			}
			u := &loopUser{id: s.id, slot: len(l.users), fd: -1, vars: s.vars, rng: rand.New(rand.NewPCG(l.e.seed, uint64(s.id)))}
			l.users = append(l.users, u)
			if s.fd >= 0 && l.register(u, s.fd, connEvents) == nil {
				u.used, u.tls = true, s.tls // it carried the setup's responses
				if s.tls != nil {
					s.tls.raw.stamps = l.stamps
				}
			}
			l.e.becameActive()
			l.next(ctx, u, time.Now())
		case d := <-l.dialed:
			d.u.dialing = false
			if d.err != nil {
				l.finish(ctx, d.u, d.err, 0)
				continue
			}
			if err := l.register(d.u, d.fd, connEvents); err != nil {
				l.finish(ctx, d.u, err, 0)
				continue
			}
			d.u.tls = d.tls
			l.send(ctx, d.u)
		default:
			return
		}
	}
}

// next picks the user's next task and sends it at now, or ends the user after the hold.
func (l *eventLoop) next(ctx context.Context, u *loopUser, now time.Time) {
	if u.stopped || ctx.Err() != nil {
		return
	}
	i := l.e.plan.Pick(u.rng.IntN(l.total))
	u.task = &l.e.plan.Tasks[i]
	req, err := l.request(u, i)
	if err != nil {
		l.unsent(u, now, err)
		return
	}
	u.req = req
	u.retried, u.got = false, false
	u.parser.Reset(u.task.Method == "HEAD", nil) // a failed dial reports no bytes
	l.busy++
	u.start = now
	u.deadline = now.Add(u.task.Timeout)
	l.expires(u.deadline)
	if u.fd < 0 {
		l.dial(ctx, u)
		return
	}
	l.send(ctx, u)
}

// request is u's task i serialised. A loop's user keeps its variables from its setup on
// (a task that extracts one keeps its body, and runs in a goroutine: loopEligible), so
// each of its requests with variables is rendered once, at its first use, and sent as
// it is from then on: a few hundred bytes a task a user, for no rendering a request.
func (l *eventLoop) request(u *loopUser, i int) ([]byte, error) {
	if req, ok := l.e.static[u.task]; ok {
		return req, nil
	}
	if u.reqs == nil {
		u.reqs = make([][]byte, len(l.e.plan.Tasks))
	}
	if u.reqs[i] == nil {
		req, _, err := l.e.serialize(u.task, u.vars, &l.wbuf)
		if err != nil {
			return nil, err
		}
		u.reqs[i] = bytes.Clone(req)
	}
	return u.reqs[i], nil
}

// dial connects u to the target: on the loop's own thread where it can (connect), or
// else off the loop, as net.Dialer does for every other path, and for an HTTPS target
// makes the TLS handshake there too, by the request's deadline.
func (l *eventLoop) dial(ctx context.Context, u *loopUser) {
	u.dialing, u.used = true, false
	if l.connectTo.IsValid() {
		l.connect(u)
		return
	}
	deadline := u.deadline
	go func() {
		defer l.wake()
		c, err := l.dialer.DialContext(ctx, "tcp", l.e.fastAddr)
		if err != nil {
			l.dialed <- dialResult{u: u, err: err}
			return
		}
		fd, err := poller.DupFD(c)
		if err != nil || l.e.fastTLS == nil {
			c.Close()
			l.dialed <- dialResult{u: u, fd: fd, err: err}
			return
		}
		t, err := l.handshake(ctx, c, fd, deadline)
		if err != nil {
			poller.Close(fd)
			fd = -1
		}
		l.dialed <- dialResult{u: u, fd: fd, tls: t, err: err}
	}()
}

// connect dials u's connection without leaving the loop's thread (poller.Connect): a
// dial in a goroutine waits for a processor, and one held in epoll_wait by every loop
// is handed over only at the runtime's next look, up to 10 ms later, so that a target
// that closes its connections left the loop's users waiting for each new one. The
// connection is u's once its socket turns writable (connected), or fails its request at
// u's deadline (expire); a dial that fails at once ends as a dial in a goroutine ends,
// at the loop's next turn.
func (l *eventLoop) connect(u *loopUser) {
	fd, err := poller.Connect(l.connectTo)
	if err == nil {
		err = l.register(u, fd, connEvents|poller.Writable)
	}
	if err != nil {
		l.dialed <- dialResult{u: u, err: l.dialError(err)}
		l.wake()
		return
	}
	u.dialsOn = true
}

// connected takes u's connection once its socket turns writable: the request goes out
// on it, or the dial's failure ends the request.
func (l *eventLoop) connected(ctx context.Context, u *loopUser) {
	u.dialsOn, u.dialing = false, false
	err := poller.ConnectError(u.fd)
	if err == nil {
		err = l.ep.Modify(u.fd, connEvents, u.slot) // which reports a close that came meanwhile
	}
	if err != nil {
		l.drop(u)
		l.finish(ctx, u, l.dialError(err), 0)
		return
	}
	l.send(ctx, u)
}

// dialError is err as net.Dialer reports a failed dial.
func (l *eventLoop) dialError(err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(l.connectTo), Err: err}
}

// register gives u the connection fd and adds it to the loop's epoll set, for events;
// on failure fd is closed.
func (l *eventLoop) register(u *loopUser, fd int, events uint32) error {
	if l.stamps != nil {
		// Best effort: a kernel that will not stamp leaves the batch time (see
		// poller.ArrivedAt).
		_ = poller.EnableRxStamps(fd)
	}
	if err := l.ep.Add(fd, events, u.slot); err != nil {
		poller.Close(fd)
		return err
	}
	u.fd = fd
	return nil
}

// send writes the request (all of it, on any but a congested socket).
func (l *eventLoop) send(ctx context.Context, u *loopUser) {
	u.sent, u.got, u.r, u.w, u.rx = 0, false, 0, 0, 0
	u.parser.Reset(u.task.Method == "HEAD", nil)
	if u.tls != nil {
		if err := u.tls.write(u.req, u.deadline); err != nil {
			l.fail(ctx, u, err)
			return
		}
		u.sent = len(u.req)
		return
	}
	for u.sent < len(u.req) {
		n, err := poller.Write(u.fd, u.req[u.sent:])
		if err == poller.ErrWouldBlock {
			_ = l.ep.Modify(u.fd, connEvents|poller.Writable, u.slot)
			return
		}
		if err != nil {
			l.fail(ctx, u, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)})
			return
		}
		u.sent += n
	}
}

// ready handles readiness of a user's connection.
func (l *eventLoop) ready(ctx context.Context, u *loopUser, events uint32) {
	if u.fd < 0 {
		return
	}
	if u.dialsOn {
		if events&(poller.Writable|poller.Error|poller.Hangup) != 0 {
			l.connected(ctx, u)
		}
		return
	}
	if u.task == nil { // an idle connection the server closed (or wrote to unasked)
		l.drop(u)
		return
	}
	if events&poller.Writable != 0 && u.sent < len(u.req) {
		_ = l.ep.Modify(u.fd, connEvents, u.slot)
		l.send(ctx, u)
		return
	}
	if events&(poller.Readable|poller.PeerClosed|poller.Hangup|poller.Error) == 0 {
		return
	}
	if u.buf == nil {
		// Taken when a response arrives, and given back when it is read (see finish):
		// users that think, or never connect (a target that refuses), hold no buffer,
		// which matters with 100,000 of them.
		u.buf = l.takeBuf()
	}
	for { // edge-triggered: read until the response is whole or the socket is empty
		if u.w == len(u.buf) { // an incomplete header or line fills the buffer
			if u.r > 0 {
				u.w = copy(u.buf, u.buf[u.r:u.w])
				u.r = 0
			} else {
				grown := make([]byte, 2*len(u.buf)) // the parser stops a header past 1 MB
				copy(grown, u.buf)
				u.buf = grown
			}
		}
		n, err := l.read(u)
		if err == poller.ErrWouldBlock {
			return
		}
		if err != nil {
			l.fail(ctx, u, err)
			return
		}
		if n == 0 {
			if err := u.parser.EOF(u.got, u.buf[u.r:u.w]); err != nil {
				l.fail(ctx, u, err)
				return
			}
			l.complete(ctx, u, true)
			return
		}
		u.got = true
		u.w += n
		used, err := u.parser.Feed(u.buf[u.r:u.w])
		u.r += used
		if err != nil {
			l.fail(ctx, u, err)
			return
		}
		if u.r == u.w {
			u.r, u.w = 0, 0
		}
		if u.parser.Done() {
			// A close that came with the response raises no further edge: drop the
			// connection now, not when a request meets it.
			l.complete(ctx, u, events&(poller.PeerClosed|poller.Hangup) != 0)
			return
		}
	}
}

// read reads what u's connection holds into its buffer: poller.ErrWouldBlock when it
// holds nothing, 0 bytes and no error at its end.
func (l *eventLoop) read(u *loopUser) (n int, err error) {
	switch {
	case u.tls != nil:
		n, err = u.tls.read(u.buf[u.w:])
		if raw := u.tls.raw; raw.stamps != nil {
			u.rx, l.stamped = raw.rx, raw.stamped
		}
		return n, err
	case l.stamps == nil:
		n, err = poller.Read(u.fd, u.buf[u.w:])
	default:
		var stamp int64
		n, stamp, err = l.stamps.Read(u.fd, u.buf[u.w:])
		if stamp != 0 {
			u.rx = stamp
		}
		l.stamped = l.stamps.Stamped()
	}
	if err != nil && err != poller.ErrWouldBlock {
		err = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	return n, err
}

// complete records a whole response and moves the user on; closed (by the target, or
// as the response asked) drops the connection.
func (l *eventLoop) complete(ctx context.Context, u *loopUser, closed bool) {
	u.used = true
	if closed || u.parser.CloseAfter() {
		l.drop(u)
	}
	l.finish(ctx, u, nil, u.parser.Status())
}

// fail ends a request with err: a reused connection that failed before any byte of the
// response is tried once more on a new one, as wire.Client does.
func (l *eventLoop) fail(ctx context.Context, u *loopUser, err error) {
	reused := u.used
	l.drop(u)
	if reused && !u.got && !u.retried && wire.Idempotent(u.task.Method) && ctx.Err() == nil && !isTimeout(err) {
		u.retried = true
		l.dial(ctx, u)
		return
	}
	l.finish(ctx, u, err, u.parser.Status())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// finish records the request's sample and starts the user's next request.
func (l *eventLoop) finish(ctx context.Context, u *loopUser, err error, status int) {
	l.busy--
	l.giveBuf(u)
	if ctx.Err() != nil {
		return // the run was cancelled: this request says nothing about the target
	}
	now := time.Now()
	if l.open != nil && !l.open.now.IsZero() {
		now = l.open.now
	}
	// When the kernel received the response, not when the loop got round to it: one
	// thread serves every user of the loop, and a moment it waits for a processor (the
	// runtime lent its own to another goroutine while it waited in epoll) would be every
	// response's latency then. Users in goroutines wake each on its own, on whichever
	// processor is free.
	now = poller.ArrivedAt(u.rx, u.start, now)
	service := now.Sub(u.start)
	kind := OK
	if err != nil {
		kind = l.e.classify(err)
	} else if !u.task.Expect.OK(status) {
		kind = statusKind(status)
	}
	offset := u.start.Sub(l.e.start)
	s := Sample{
		User: u.id, Endpoint: u.task.Endpoint, Offset: offset,
		Latency: service, Service: service, Status: status, Kind: kind, Bytes: u.parser.BodyBytes(),
	}
	if l.open != nil {
		l.openDone(u, s) // which places it in the schedule
		return
	}
	s.Stage = l.e.stageAt(offset)
	l.e.record(s)
	if u.stopped {
		l.e.active.Add(-1)
		u.task = nil
		l.drop(u)
		return
	}
	l.rest(ctx, u, now)
}

// periodic does the loop's work of every loopTick, once next has passed: it fails the
// requests past their deadline, and yields to the scheduler. The yield matters on its own:
// a goroutine the scheduler has not switched for 10 ms counts as running too long, and
// the runtime takes its processor in its next wait in epoll and wakes other threads to
// hand it back, hundreds of times a second.
func (l *eventLoop) periodic(ctx context.Context, next *time.Time) {
	now := time.Now()
	if !now.After(*next) {
		return
	}
	l.expire(ctx, now)
	*next = now.Add(loopTick)
	runtime.Gosched()
}

// expire fails the requests past their deadline. It looks at the loop's users only
// once the earliest deadline it knows of has passed: with 10,000 users that think,
// a look every tick cost 5% of the loop's time.
func (l *eventLoop) expire(ctx context.Context, now time.Time) {
	if l.expiry.IsZero() || now.Before(l.expiry) {
		return
	}
	l.expiry = time.Time{}
	for _, u := range l.users {
		if u.task == nil {
			continue
		}
		if (!u.dialing || u.dialsOn) && u.fd >= 0 && now.After(u.deadline) {
			l.fail(ctx, u, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded})
			continue
		}
		l.expires(u.deadline)
	}
}

// expires notes a deadline of a request in flight for expire.
func (l *eventLoop) expires(deadline time.Time) {
	if l.expiry.IsZero() || deadline.Before(l.expiry) {
		l.expiry = deadline
	}
}

// drop closes a user's connection.
func (l *eventLoop) drop(u *loopUser) {
	if u.fd >= 0 {
		_ = l.ep.Delete(u.fd)
		poller.Close(u.fd) // a TLS connection too: no close_notify, as a browser drops one
		u.fd = -1
	}
	if u.dialsOn { // the dial ends with its socket
		u.dialsOn, u.dialing = false, false
	}
	u.tls, u.used = nil, false
}

// closeAll closes every connection and the epoll instance, and waits for dials in
// progress so that none leaks a socket.
func (l *eventLoop) closeAll() {
	for _, u := range l.users {
		l.drop(u)
	}
	for _, u := range l.users {
		for u.dialing {
			d := <-l.dialed
			d.u.dialing = false
			if d.err == nil {
				poller.Close(d.fd)
			}
		}
	}
	l.waker.Close()
	if l.open != nil {
		l.open.timer.Close()
	}
	l.ep.Close()
}
