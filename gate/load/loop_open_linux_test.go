package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/poller"
)

// Near its next arrival the open loop sleeps through responses and reads them when it
// wakes to send: each is still timed by its receive stamp, not by that later read. At
// 1000/s the loop wakes once a millisecond; a response read at the wake would carry
// most of that millisecond, while an immediate answer on loopback takes far less: on a
// busy machine, the round trip measured first sets the bound.
func TestOpenLoopSleepsThroughResponsesAndTimesThemByTheirStamps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	bound := stampBound(t, srv)
	rec := &recorder{}
	e := New(mustPlan(t, "target: "+srv.URL+"\nload: {rate: 1000/s, duration: 400ms}\ntasks: [{path: /}]\n"), rec)
	if !e.loopEligible() {
		t.Fatal("not on the event loop")
	}
	res := e.Run(context.Background())
	if d := res.Delivery; d.Planned != 400 || d.Sent != 400 {
		t.Fatalf("delivery %+v", d)
	}
	hold := holdSamples(rec)
	if len(hold) != 400 {
		t.Fatalf("%d hold samples, want 400", len(hold))
	}
	var service []time.Duration
	for _, s := range hold {
		if s.Kind != OK {
			t.Fatalf("sample %+v", s)
		}
		service = append(service, s.Service)
	}
	if e.deferred < 100 {
		t.Fatalf("the loop slept through responses %d times in 400 arrivals", e.deferred)
	}
	if med := quantile(service, 0.5); med > bound {
		t.Errorf("median service time %v, over %v: responses are timed by the read, not by their arrival", med, bound)
	}
}

// The loop sleeps through responses only where a late read changes nothing.
func TestDeferResponsesOnlyWhereALateReadChangesNothing(t *testing.T) {
	base := func() *eventLoop {
		e := &Engine{plan: mustPlan(t, "target: http://127.0.0.1:1\nload: {rate: 2000/s, duration: 1s, max_in_flight: 8}\ntasks: [{path: /}]\n")}
		e.peak.Store(3)
		return &eventLoop{e: e, busy: 2, stamps: &poller.StampReader{}, stamped: true, open: &openLoop{
			next: 5, total: 2000, due: time.Now().Add(400 * time.Microsecond),
		}}
	}
	cases := []struct {
		name   string
		change func(l *eventLoop)
		want   bool
	}{
		{"the next arrival near, reads stamped, requests in flight", func(*eventLoop) {}, true},
		{"the last read had no stamp", func(l *eventLoop) { l.stamped = false }, false},
		{"nothing in flight", func(l *eventLoop) { l.busy = 0 }, false},
		{"the schedule sent", func(l *eventLoop) { l.open.next = l.open.total }, false},
		{"arrivals queued for max_in_flight", func(l *eventLoop) { l.open.queue = []arrival{{}} }, false},
		{"max_in_flight reached once", func(l *eventLoop) { l.e.peak.Store(8) }, false},
		{"the next arrival beyond the limit", func(l *eventLoop) { l.open.due = time.Now().Add(2 * deferLimit) }, false},
	}
	for _, tc := range cases {
		l := base()
		tc.change(l)
		if got := l.deferResponses(); got != tc.want {
			t.Errorf("%s: deferResponses() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// stampBound is the most a response of srv, which answers at once, may take when timed
// by its kernel stamp: twice the median of round trips measured now (so that a busy
// machine sets its own bound), and no less than 400 us.
func stampBound(t *testing.T, srv *httptest.Server) time.Duration {
	t.Helper()
	var trips []time.Duration
	for range 50 {
		start := time.Now()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		trips = append(trips, time.Since(start))
	}
	return max(400*time.Microsecond, 2*quantile(trips, 0.5))
}
