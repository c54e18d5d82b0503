package load

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// countdown is a Recorder that stops a benchmark's event loop after n samples. The loop
// calls it from its own goroutine only.
type countdown struct {
	n    int
	stop chan struct{}
}

func (c *countdown) Record(Sample) {
	c.n--
	if c.n == 0 {
		close(c.stop)
	}
}

// BenchmarkEventLoopRequest is one request of closed-model users on one event loop,
// against the raw server of BenchmarkRequest: the loop's cost per request, allocations
// included. The wall time of one user's request is mostly the two processes waking each
// other, which varies with where the scheduler puts them; cpu-ns/op is the loop's own
// thread's CPU per request, what the generator spends.
func BenchmarkEventLoopRequest(b *testing.B) {
	for _, users := range []int{1, 16} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			target := rawServer(b)
			p := mustPlan(b, fmt.Sprintf("target: %s\nload: {users: %d}\ntasks: [{path: /index.txt, headers: {Accept: text/plain}}]\n", target, users))
			stop := make(chan struct{})
			e := New(p, &countdown{n: b.N, stop: stop})
			if !e.loopEligible() {
				b.Fatal("not on the event loop")
			}
			e.failed, e.allActive = make(chan struct{}), make(chan struct{})
			l, err := e.newEventLoop()
			if err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread() // the loop runs here: its thread's CPU is the loop's
			defer runtime.UnlockOSThread()
			e.start = time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := threadCPU()
			for id := range users {
				l.pending <- loopStart{id: id, fd: -1}
			}
			l.wake()
			l.run(context.Background(), stop)
			b.ReportMetric(float64(threadCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// threadCPU is the calling thread's user and system CPU time so far.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
