package load

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// A target that closes every connection after its response: each request of the loop's
// users is on a connection of its own, dialled on the loop's own thread, so that it
// waits for no processor to be lent back. The users on the loop then make as many
// requests as users in goroutines of their own, and wait no longer for each. Dialled in
// goroutines, they waited for the runtime's look at the processors the loops hold in
// epoll_wait: here a fifth of the goroutine users' requests in the same 300 ms, at 5-6
// times their median latency (1.6-1.9 ms against 0.3 ms), the wait counted as the
// target's. The target runs in a process of its own, as a real one does.
func TestEventLoopDialsForEachRequestOfATargetThatCloses(t *testing.T) {
	addr := closingTarget(t)
	for _, load := range []string{"{users: 4, spawn_rate: 1000, duration: 300ms}", "{rate: 500/s, duration: 300ms}"} {
		doc := "target: http://" + addr + "\nload: " + load + "\ntasks: [{path: /}]\n"
		var n [2]int
		var p50 [2]time.Duration
		for i, opts := range [][]Option{nil, {WithoutEventLoop()}} {
			rec := &recorder{}
			e := New(mustPlan(t, doc), rec, opts...)
			if e.loopEligible() != (i == 0) {
				t.Fatalf("%s: on the event loop: %v", load, !e.loopEligible())
			}
			e.Run(context.Background())
			var lat []time.Duration
			for _, s := range rec.all() {
				if s.Kind != OK || s.Status != 200 {
					t.Fatalf("%s: sample %+v", load, s)
				}
				lat = append(lat, s.Service)
			}
			if len(lat) < 20 {
				t.Fatalf("%s: %d samples", load, len(lat))
			}
			n[i], p50[i] = len(lat), quantile(lat, 0.5)
		}
		t.Logf("%s: event loop %d requests, median %v; goroutines %d, %v", load, n[0], p50[0], n[1], p50[1])
		if 2*n[0] < n[1] || p50[0] > 2*p50[1]+100*time.Microsecond {
			t.Errorf("%s: on the event loop %d requests at a median %v, in goroutines %d at %v: want as many, as fast", load, n[0], p50[0], n[1], p50[1])
		}
	}
}

// A dial the target never completes (its accept queue is full, so the kernel drops the
// connection's SYNs) fails its request at the request's timeout, on the loop's own clock,
// in either model.
func TestEventLoopTimesOutADialThatHangs(t *testing.T) {
	addr := fullListener(t)
	for _, load := range []string{"{users: 2, spawn_rate: 100, duration: 400ms}", "{rate: 20/s, duration: 400ms}"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rec := &recorder{}
		e := New(mustPlan(t, "target: http://"+addr+"\nload: "+load+"\ndefaults: {timeout: 100ms}\ntasks: [{path: /}]\n"), rec)
		if !e.loopEligible() {
			t.Fatal("not on the event loop")
		}
		e.Run(ctx)
		ended := ctx.Err() == nil
		cancel()
		if !ended {
			t.Fatalf("%s: the run did not end with its dials hanging", load)
		}
		timedOutAt100ms(t, load, rec.all())
	}
}

// fullListener is the address of a loopback listener that accepts nothing and whose
// accept queue is full: a connection to it hangs, its SYNs dropped.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 8 { // a backlog of 0 queues one connection, or a few
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // this one hung: the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the listener's accept queue never filled")
	return ""
}
