package load

import (
	"context"
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

// BenchmarkEventLoopRequest is one request of a closed-model user on the event loop,
// against the raw server of BenchmarkRequest: the loop's cost per request, allocations
// included.
func BenchmarkEventLoopRequest(b *testing.B) {
	target := rawServer(b)
	p := mustPlan(b, "target: "+target+"\nload: {users: 1}\ntasks: [{path: /index.txt, headers: {Accept: text/plain}}]\n")
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
	e.start = time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	l.pending <- 0
	l.wake()
	l.run(context.Background(), stop)
}
