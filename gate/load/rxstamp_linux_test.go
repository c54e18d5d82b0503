package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The kernel's stamp is when the data arrived, however late the reader is.
func TestRxStampIsTheArrivalNotTheRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	fd, err := dupFD(client)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := enableRxStamps(fd); err != nil {
		t.Fatal(err)
	}

	var r stampReader
	buf := make([]byte, 64)
	// The kernel turns stamping on for the whole stack a moment after it is first asked
	// for (the first packets may go unstamped).
	for deadline := time.Now().Add(time.Second); ; {
		if _, err := server.Write([]byte("warm")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
		if _, stamp, err := r.read(fd, buf); err == nil && stamp != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no receive stamp in a second")
		}
	}
	for i := range 3 {
		before := time.Now()
		if _, err := server.Write([]byte("response")); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		time.Sleep(30 * time.Millisecond) // the reader is late
		n, stamp, err := r.read(fd, buf)
		now := time.Now()
		if err != nil || n != len("response") || stamp == 0 || !r.stamped {
			t.Fatalf("read %d: %d bytes, stamp %d (the reader stamped: %v), %v", i, n, stamp, r.stamped, err)
		}
		// The wall clock may be slewed, not stepped, in a test: 1 ms covers it.
		at := arrivedAt(stamp, before, now)
		if at.Before(before) || at.After(after.Add(time.Millisecond)) {
			t.Errorf("read %d: arrived %v after the write began (which took %v), read %v after",
				i, at.Sub(before), after.Sub(before), now.Sub(before))
		}
	}
	// Without stamps asked for, a read says so.
	plain, err := dupFD(server)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(plain)
	if _, err := client.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if n, stamp, err := r.read(plain, buf); err != nil || n != len("request") || stamp != 0 || r.stamped {
		t.Errorf("unstamped read: %d bytes, stamp %d (the reader stamped: %v), %v", n, stamp, r.stamped, err)
	}
}

func TestArrivedAtStaysBetweenTheSendAndTheRead(t *testing.T) {
	from := time.Now()
	now := from.Add(10 * time.Millisecond)
	wall := func(d time.Duration) int64 { return from.Add(d).UnixNano() }
	cases := []struct {
		name  string
		stamp int64
		want  time.Duration // after from
	}{
		{"no stamp", 0, 10 * time.Millisecond},
		{"stamped", wall(4 * time.Millisecond), 4 * time.Millisecond},
		{"after the read (a clock step)", wall(time.Second), 10 * time.Millisecond},
		{"before the send (a clock step)", wall(-time.Second), 0},
	}
	for _, tc := range cases {
		if got := arrivedAt(tc.stamp, from, now).Sub(from); got != tc.want {
			t.Errorf("%s: arrived %v after the send, want %v", tc.name, got, tc.want)
		}
	}
}

// The control messages are walked by their lengths; a truncated or foreign one gives no
// stamp rather than a wrong one.
func TestStampReaderFindsTheTimestampMessage(t *testing.T) {
	put := func(oob []byte, level, typ int32, data []byte) int {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		h.Level, h.Type = level, typ
		h.SetLen(syscall.CmsgLen(len(data)))
		copy(oob[syscall.CmsgLen(0):], data)
		return syscall.CmsgSpace(len(data))
	}
	ts := syscall.NsecToTimespec(1_700_000_000_123_456_789)
	tsBytes := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))

	var r stampReader
	n := put(r.oob[:], syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, tsBytes)
	if got := r.stamp(n); got != 1_700_000_000_123_456_789 {
		t.Errorf("one message: stamp %d", got)
	}
	if got := r.stamp(n - 1); got != 0 {
		t.Errorf("truncated: stamp %d, want none", got)
	}

	r = stampReader{}
	n = put(r.oob[:], syscall.IPPROTO_IP, 1, []byte{1, 2, 3})
	n += put(r.oob[n:], syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, tsBytes)
	if got := r.stamp(n); got != 1_700_000_000_123_456_789 {
		t.Errorf("after another message: stamp %d", got)
	}
	if got := r.stamp(0); got != 0 {
		t.Errorf("no messages: stamp %d", got)
	}
}

// Near its next arrival the open loop sleeps through responses and reads them when it
// wakes to send: each is still timed by its receive stamp, not by that later read. At
// 1000/s the loop wakes once a millisecond; a response read at the wake would carry
// most of that millisecond, while an immediate answer on loopback takes far less.
func TestOpenLoopSleepsThroughResponsesAndTimesThemByTheirStamps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
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
	if med := quantile(service, 0.5); med > 400*time.Microsecond {
		t.Errorf("median service time %v: responses are timed by the read, not by their arrival", med)
	}
}

// The loop sleeps through responses only where a late read changes nothing.
func TestDeferResponsesOnlyWhereALateReadChangesNothing(t *testing.T) {
	base := func() *eventLoop {
		e := &Engine{plan: mustPlan(t, "target: http://127.0.0.1:1\nload: {rate: 2000/s, duration: 1s, max_in_flight: 8}\ntasks: [{path: /}]\n")}
		e.peak.Store(3)
		return &eventLoop{e: e, busy: 2, stamps: &stampReader{stamped: true}, open: &openLoop{
			next: 5, total: 2000, due: time.Now().Add(400 * time.Microsecond),
		}}
	}
	cases := []struct {
		name   string
		change func(l *eventLoop)
		want   bool
	}{
		{"the next arrival near, reads stamped, requests in flight", func(*eventLoop) {}, true},
		{"the last read had no stamp", func(l *eventLoop) { l.stamps.stamped = false }, false},
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
