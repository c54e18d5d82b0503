package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/internal/wire"
	"github.com/perfgate/perfgate/gate/plan"
)

// maxCheckedBody bounds how much of a response is kept for extraction and body checks
// on the net/http path: as much as the fast path keeps (see wire.MaxKeptBody).
const maxCheckedBody = wire.MaxKeptBody

// defaultUserAgent is sent unless a request sets its own; userAgent is it as net/http
// takes it.
const defaultUserAgent = "perfgate"

var userAgent = []string{defaultUserAgent}

// user is one virtual user: its own connections, variables and random stream.
type user struct {
	e      *Engine
	id     int
	client *http.Client // the net/http path
	fast   *wire.Client // the fast path, when the target allows it
	wbuf   requestBuf   // the fast path's request buffer
	vars   []string
	rng    *rand.Rand
	buf    bytes.Buffer // a body kept for checks and extraction
}

// newUser gives a virtual user (or an open-model worker) its own connections,
// variables and random stream. close releases the connections.
func (e *Engine) newUser(id int) (u *user, close func()) {
	u = &user{
		e:    e,
		id:   id,
		vars: make([]string, len(e.plan.Vars)),
		rng:  rand.New(rand.NewPCG(e.seed, uint64(id))),
	}
	if e.fastTLS != nil {
		u.fast = wire.NewTLSClient(e.fastAddr, e.plan.Timeout, e.fastTLS)
		u.fast.Handshake = e.handshakes.add
		return u, u.fast.Close
	}
	if e.fastAddr != "" {
		u.fast = wire.NewClient(e.fastAddr, e.plan.Timeout)
		return u, u.fast.Close
	}
	tr := newTransport(e.plan, e.httpTLS, e.handshakes.add)
	u.client = &http.Client{Transport: tr, CheckRedirect: noRedirects}
	return u, tr.CloseIdleConnections
}

// setupWithRetries runs the setup steps, retrying a failure after a pause; after the
// last attempt it stops the run as invalid. It reports whether the user may start.
func (u *user) setupWithRetries(ctx context.Context, stop <-chan struct{}, who string) bool {
	for attempt := 1; ; attempt++ {
		err := u.setup(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt == setupAttempts {
			u.e.fail(&SetupFailure{Worker: who == "worker", N: u.id + 1, Attempts: attempt, Err: err.Error()})
			return false
		}
		if !u.pause(ctx, stop, time.Second) {
			return false
		}
	}
}

func (e *Engine) user(ctx context.Context, id int, stop <-chan struct{}) {
	u, closeConns := e.newUser(id)
	defer closeConns()
	if !u.setupWithRetries(ctx, stop, "user") {
		return
	}
	e.becameActive()
	defer e.active.Add(-1)
	total := e.plan.TotalWeight()
	for {
		select {
		case <-stop:
			return
		default:
		}
		t := &e.plan.Tasks[e.plan.Pick(u.rng.IntN(total))]
		if _, err := u.do(ctx, t, closedRequest); err != nil && ctx.Err() != nil {
			return
		}
		think, from := u.think(), time.Now()
		if !u.pause(ctx, stop, think) {
			return
		}
		e.woke(from.Add(think), time.Now())
	}
}

// woke records a user that woke at woke from a think time that ended at due, if due
// was in the hold.
func (e *Engine) woke(due, woke time.Time) {
	hold := e.holdStart.Load()
	if e.late == nil || hold == 0 {
		return
	}
	if d := due.Sub(e.start.Add(time.Duration(hold))); d >= 0 && d < e.plan.Hold {
		e.late.note(d, woke.Sub(due))
	}
}

func (u *user) think() time.Duration { return thinkTime(u.e.plan.Think, u.rng) }

// thinkTime draws a think time of t from rng: the one draw of users in goroutines and on
// event loops alike, so that a seed gives both the same.
func thinkTime(t config.Think, rng *rand.Rand) time.Duration {
	if t.Max <= t.Min {
		return t.Min
	}
	return t.Min + time.Duration(rng.Int64N(int64(t.Max-t.Min)+1))
}

// pause waits d; false if the user should stop.
func (u *user) pause(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-stop:
			return false
		case <-ctx.Done():
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// setup runs the setup steps in order; the first failure is returned.
func (u *user) setup(ctx context.Context) error {
	for i := range u.e.plan.Setup {
		s := &u.e.plan.Setup[i]
		if _, err := u.do(ctx, s, closedRequest); err != nil {
			return fmt.Errorf("step %q: %w", s.Name, err)
		}
	}
	return nil
}

// do sends one request, records it, and returns its kind and, for a failure, a reason
// that quotes neither the URL nor the body: both may carry secrets. In the open model a
// is the request's arrival, and its latency counts from when it was ready (see arrival);
// a closed-model request (closedRequest) counts from the actual send.
func (u *user) do(ctx context.Context, r *plan.Request, a arrival) (Kind, error) {
	var start time.Time
	var kind Kind
	var status int
	var n int64
	var reason string
	if u.fast != nil {
		req, idempotent, err := u.e.fastRequest(r, u.vars, &u.wbuf)
		if err != nil {
			return u.unsent(r, a, err)
		}
		var body *bytes.Buffer
		if keepsBody(r) {
			u.buf.Reset()
			body = &u.buf
		}
		start = time.Now()
		res, err := u.fast.RoundTrip(ctx, req, idempotent, r.Method == "HEAD", r.Timeout, body)
		kind, status, n = OK, res.Status, res.Bytes
		if err != nil {
			kind = u.e.classify(err)
			reason = describe(kind, err)
			if kind == Transport && errors.Is(err, wire.ErrMalformed) {
				reason = err.Error()
			}
		}
	} else {
		req, cancel, err := u.stdRequest(ctx, r)
		if err != nil {
			return u.unsent(r, a, err)
		}
		start = time.Now()
		kind, status, n, reason = u.exchange(req, r)
		cancel()
	}
	service := time.Since(start)
	if ctx.Err() != nil {
		// The run was cancelled: this request says nothing about the target.
		return kind, ctx.Err()
	}
	if kind == OK {
		kind, reason = u.judge(r, status)
	}
	s := u.sample(r, a, start, service)
	s.Status, s.Kind, s.Bytes = status, kind, n
	u.e.record(s)
	if kind != OK {
		return kind, errors.New(reason)
	}
	return OK, nil
}

// sample is the sample of request r (arrival a in the open model) sent at start and
// answered after service: placed on the schedule, or in the stage it started in.
func (u *user) sample(r *plan.Request, a arrival, start time.Time, service time.Duration) Sample {
	offset := start.Sub(u.e.start)
	s := Sample{User: u.id, Endpoint: r.Endpoint, Offset: offset, Latency: service, Service: service}
	switch {
	case a.due >= 0:
		u.e.schedule(&s, a)
	case u.e.plan.Open:
		// An open-model worker's setup is not a scheduled arrival: it is reported with
		// the ramp, whenever the worker started.
		s.Stage = Ramp
	default:
		s.Stage = u.e.stageAt(offset)
	}
	return s
}

// unsent records a request that could not be sent as it was (err says why: a header or
// the URL filled with a value that cannot be sent) as an error of its own kind, so that
// it counts; it took no time.
func (u *user) unsent(r *plan.Request, a arrival, err error) (Kind, error) {
	s := u.sample(r, a, time.Now(), 0)
	s.Kind = u.e.classify(err)
	u.e.record(s)
	return s.Kind, err
}

// keepsBody says whether a request's response body is needed after it is read.
func keepsBody(r *plan.Request) bool { return r.Expect.Contains != "" || len(r.Extract) > 0 }

// stdRequest builds the net/http request; cancel releases its timeout.
func (u *user) stdRequest(ctx context.Context, r *plan.Request) (*http.Request, context.CancelFunc, error) {
	var body io.Reader
	if r.HasBody {
		body = strings.NewReader(r.Body.Render(u.vars))
	}
	rctx, cancel := context.WithTimeout(ctx, r.Timeout)
	req, err := http.NewRequestWithContext(rctx, r.Method, r.URL.Render(u.vars), body)
	if err != nil {
		cancel()
		return nil, nil, errInvalidURL
	}
	for _, h := range r.Headers {
		v := h.Value.Render(u.vars)
		if !wire.ValidHeaderValue(v) { // the lean client's rule, before net/http's own
			cancel()
			return nil, nil, errInvalidHeader
		}
		if h.Name == "Host" {
			req.Host = v
			continue
		}
		req.Header[h.Name] = []string{v}
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = userAgent
	}
	return req, cancel, nil
}

// exchange sends req with net/http and reads the whole response.
func (u *user) exchange(req *http.Request, r *plan.Request) (kind Kind, status int, n int64, reason string) {
	resp, err := u.client.Do(req)
	if err != nil {
		k := u.e.classify(err)
		return k, 0, 0, describe(k, err)
	}
	defer resp.Body.Close()
	u.buf.Reset()
	if keepsBody(r) {
		n, err = io.Copy(&u.buf, io.LimitReader(resp.Body, maxCheckedBody))
		if err == nil {
			var rest int64
			rest, err = io.Copy(io.Discard, resp.Body)
			n += rest
		}
	} else {
		n, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		k := u.e.classify(err)
		return k, resp.StatusCode, n, describe(k, err)
	}
	return OK, resp.StatusCode, n, ""
}

// judge checks a complete response against what the request expects, and extracts.
func (u *user) judge(r *plan.Request, status int) (Kind, string) {
	if !r.Expect.OK(status) {
		return statusKind(status), fmt.Sprintf("status %d (%s)", status, expected(r.Expect))
	}
	if c := r.Expect.Contains; c != "" && !bytes.Contains(u.buf.Bytes(), []byte(c)) {
		return Expectation, "the response body does not contain the expected text"
	}
	for _, x := range r.Extract {
		v, err := x.Path.Lookup(u.buf.Bytes())
		if err != nil {
			return SetupFailed, fmt.Sprintf("cannot extract %s: %v (status %d)", x.Var, err, status)
		}
		if u.e.onExtract != nil && v != u.vars[x.Slot] {
			u.e.onExtract(v)
		}
		u.vars[x.Slot] = v
	}
	return OK, ""
}

func expected(e plan.Expect) string {
	if len(e.Status) == 0 {
		return "expected below 400"
	}
	return fmt.Sprintf("expected %v", e.Status)
}

// describe words a transport error without the URL, which may carry secrets.
func describe(k Kind, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch k {
	case Timeout:
		return "timed out"
	case ConnRefused:
		return "connection refused"
	case ConnReset:
		return "connection reset or closed by the target"
	case Generator:
		say, _ := generatorFailure(err)
		return say
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}
