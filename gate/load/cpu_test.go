package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCPUShare(t *testing.T) {
	procs := float64(runtime.GOMAXPROCS(0))
	if got := cpuShare(time.Second, 2*time.Second); got != 0.5/procs {
		t.Errorf("cpuShare = %v, want %v", got, 0.5/procs)
	}
	if cpuShare(time.Second, 0) != 0 {
		t.Error("no wall time must give 0")
	}
	start := cpuTime()
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	if used := cpuTime() - start; used < 30*time.Millisecond {
		t.Errorf("50 ms of spinning measured as %v of CPU", used)
	}
}

// TestSaturatedGeneratorIsInvalid spins every processor during the hold, as a generator
// that cannot keep up does: the run has no valid verdict.
func TestSaturatedGeneratorIsInvalid(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 1, duration: 600ms, think: 50ms}\ntasks: [{path: /}]\n")
	var stop atomic.Bool
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for !stop.Load() {
				runtime.KeepAlive(&stop) // busy, as a saturated generator is
			}
		}()
	}
	res := New(p, discard{}).Run(context.Background())
	stop.Store(true)
	if res.GeneratorCPU < saturated || !strings.Contains(strings.Join(res.Invalid, ";"), "the load generator was the bottleneck") {
		t.Errorf("cpu %.2f, invalid %v", res.GeneratorCPU, res.Invalid)
	}
	// And an idle generator is fine.
	res = New(p, discard{}).Run(context.Background())
	if res.GeneratorCPU > 0.5 || len(res.Invalid) > 0 {
		t.Errorf("idle generator: cpu %.2f, invalid %v", res.GeneratorCPU, res.Invalid)
	}
}
