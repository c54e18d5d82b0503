package demo

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"time"
)

// work is the processor work of a CPU-heavy handler: SHA-256 over a small block, the
// number of rounds that take d on this machine, as measured once when the API starts
// (so on a busy machine the same work takes longer, as real work does).
func work(d time.Duration) {
	n := int(d.Seconds() * roundsPerSecond())
	sum := sha256.Sum256([]byte("perfgate sample API"))
	for range n {
		sum = sha256.Sum256(sum[:])
	}
	runtime.KeepAlive(sum) // the result is used, so the loop cannot be dropped
}

// roundsPerSecond is how many rounds of work's hashing one processor does a second:
// the quickest of a few timed batches, the one least disturbed by anything else.
var roundsPerSecond = sync.OnceValue(func() float64 {
	// Batches of well under a millisecond, many of them: on a busy machine some run
	// without being preempted.
	const batch = 2000
	best := time.Duration(1<<63 - 1)
	sum := sha256.Sum256(nil)
	for range 30 {
		start := time.Now()
		for range batch {
			sum = sha256.Sum256(sum[:])
		}
		best = min(best, time.Since(start))
	}
	runtime.KeepAlive(sum)
	return batch / max(best.Seconds(), 1e-9)
})

// leak is memory the API keeps and never frees, up to a limit: a cache that is never
// evicted, growing with every request.
type leak struct {
	per, limit int64
	mu         sync.Mutex
	kept       [][]byte
	size       int64
}

// grow keeps per more bytes; false once the leak has reached its limit and no memory
// is left to take: the request fails, as an allocation in a full heap would.
func (l *leak) grow() bool {
	if l.per == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size+l.per > l.limit {
		return false
	}
	b := make([]byte, l.per)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1 // touch every page, so the memory is resident
	}
	l.kept = append(l.kept, b)
	l.size += l.per
	return true
}
