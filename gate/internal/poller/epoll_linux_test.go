package poller

import (
	"syscall"
	"testing"
	"time"
)

// The event bits are epoll's own.
func TestEventsAreEpolls(t *testing.T) {
	for _, c := range []struct {
		name   string
		ours   uint32
		theirs int64
	}{
		{"Readable", Readable, syscall.EPOLLIN}, {"Writable", Writable, syscall.EPOLLOUT},
		{"Error", Error, syscall.EPOLLERR}, {"Hangup", Hangup, syscall.EPOLLHUP},
		{"PeerClosed", PeerClosed, syscall.EPOLLRDHUP}, {"EdgeTriggered", EdgeTriggered, syscall.EPOLLET},
	} {
		if c.ours != uint32(c.theirs) {
			t.Errorf("%s = %#x, epoll's is %#x", c.name, c.ours, uint32(c.theirs))
		}
	}
}

func newSet(t *testing.T) *Epoll {
	t.Helper()
	ep, err := NewEpoll()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

// A waker in an epoll set ends its wait, from another goroutine, and is quiet again once
// cleared; after Close a wake does nothing.
func TestWakerEndsAnEpollWait(t *testing.T) {
	ep := newSet(t)
	w, err := NewWaker()
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Add(w.FD(), Readable, -2); err != nil {
		t.Fatal(err)
	}
	events := make([]Event, 4)
	if n, err := ep.Wait(events, 0); n != 0 || err != nil {
		t.Fatalf("before a wake: %d events, %v", n, err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Wake()
	}()
	start := time.Now()
	n, err := ep.Wait(events, 5*time.Second)
	if err != nil || n != 1 || events[0].Slot() != -2 || events[0].Events()&Readable == 0 {
		t.Fatalf("%d events (slot %d, events %#x), %v", n, events[0].Slot(), events[0].Events(), err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the wake ended the wait after %v", took)
	}
	w.Clear()
	if n, err := ep.Wait(events, 0); n != 0 || err != nil {
		t.Errorf("after Clear: %d events, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Wake()
	if err := w.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// A timer in an epoll set fires once, not before its time, and Modify and Delete change
// what the set reports.
func TestTimerInAnEpollSet(t *testing.T) {
	ep := newSet(t)
	tm, err := NewTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := ep.Add(tm.FD(), Readable, 7); err != nil {
		t.Fatal(err)
	}
	events := make([]Event, 4)
	for _, d := range []time.Duration{0, 300 * time.Microsecond, 3 * time.Millisecond} {
		start := time.Now()
		if err := tm.Set(d); err != nil {
			t.Fatal(err)
		}
		n, err := ep.Wait(events, time.Second)
		if err != nil || n != 1 || events[0].Slot() != 7 {
			t.Fatalf("set for %v: %d events (slot %d), %v", d, n, events[0].Slot(), err)
		}
		if took := time.Since(start); took < d {
			t.Errorf("set for %v, fired after %v", d, took)
		}
		tm.Clear()
	}
	if err := ep.Modify(tm.FD(), Readable, 8); err != nil {
		t.Fatal(err)
	}
	_ = tm.Set(0)
	if n, err := ep.Wait(events, time.Second); err != nil || n != 1 || events[0].Slot() != 8 {
		t.Errorf("after Modify: %d events (slot %d), %v", n, events[0].Slot(), err)
	}
	if err := ep.Delete(tm.FD()); err != nil {
		t.Fatal(err)
	}
	if n, err := ep.Wait(events, 0); n != 0 || err != nil {
		t.Errorf("after Delete: %d events, %v", n, err)
	}
}

// WaitReadable ends when one of its files is readable, or at its timeout, and allocates
// nothing.
func TestWaitReadable(t *testing.T) {
	tm, err := NewTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	w, err := NewWaker()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start := time.Now()
	if n, err := WaitReadable(20*time.Millisecond, tm.FD(), w.FD()); n != 0 || err != nil {
		t.Errorf("nothing readable: %d, %v", n, err)
	}
	if took := time.Since(start); took < 20*time.Millisecond || took > time.Second {
		t.Errorf("a 20ms limit ended the wait after %v", took)
	}
	_ = tm.Set(time.Millisecond)
	if n, err := WaitReadable(time.Second, tm.FD(), w.FD()); n != 1 || err != nil {
		t.Errorf("the timer fired: %d, %v", n, err)
	}
	w.Wake()
	if n, err := WaitReadable(-1, tm.FD(), w.FD()); n != 2 || err != nil {
		t.Errorf("both readable: %d, %v", n, err)
	}
	if _, err := WaitReadable(0, 1, 2, 3, 4, 5); err == nil {
		t.Error("five files: no error")
	}
	if allocs := testing.AllocsPerRun(10, func() { _, _ = WaitReadable(0, tm.FD(), w.FD()) }); allocs != 0 {
		t.Errorf("%v allocations per wait", allocs)
	}
}
