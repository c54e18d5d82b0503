package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCPUTimeAndShare(t *testing.T) {
	procs := float64(processors)
	if got := cpuShare(time.Second, 2*time.Second); got != 0.5/procs {
		t.Errorf("cpuShare = %v, want %v", got, 0.5/procs)
	}
	if cpuShare(time.Second, 0) != 0 {
		t.Error("no wall time must give 0")
	}
	// Spinning must show as CPU time (how fast depends on what else the machine runs).
	start := cpuTime()
	for deadline := time.Now().Add(5 * time.Second); cpuTime()-start < 20*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatalf("5 s of spinning added only %v of CPU time", cpuTime()-start)
		}
	}
}

func TestGeneratorCPUOverTheHold(t *testing.T) {
	p := mustPlan(t, "target: http://127.0.0.1:9\ntasks: [{path: /}]\n")
	now := time.Now()
	hold := Result{HoldStart: now, HoldEnd: now.Add(10 * time.Second)}
	e := New(p, discard{})
	e.holdCPU = 9500 * time.Millisecond * time.Duration(processors)
	if res := e.withCPU(hold); res.GeneratorCPU != 0.95 || res.Processors != processors {
		t.Errorf("share %v of %d processors, want 0.95 of %d", res.GeneratorCPU, res.Processors, processors)
	}
}

// TestIdleGeneratorIsValid: a light run does not trip the saturation check.
func TestIdleGeneratorIsValid(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 1, duration: 600ms, think: 50ms}\ntasks: [{path: /}]\n")
	res := New(p, discard{}).Run(context.Background())
	if res.GeneratorCPU > 0.5 || res.Processors < 1 {
		t.Errorf("idle generator: cpu %.2f of %d processors", res.GeneratorCPU, res.Processors)
	}
}
