package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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

func TestCheckCPU(t *testing.T) {
	p := mustPlan(t, "target: http://127.0.0.1:9\ntasks: [{path: /}]\n")
	now := time.Now()
	hold := Result{HoldStart: now, HoldEnd: now.Add(10 * time.Second)}
	procs := time.Duration(processors)
	for _, tc := range []struct {
		cpu     time.Duration
		invalid bool
	}{{9 * time.Second * procs, false}, {9500 * time.Millisecond * procs, true}, {0, false}} {
		e := New(p, discard{})
		e.holdCPU = tc.cpu
		res := e.checkCPU(hold)
		got := strings.Contains(strings.Join(res.Invalid, ";"), "the load generator was the bottleneck")
		if got != tc.invalid {
			t.Errorf("cpu %v over 10 s: invalid %v, want %v (share %.2f)", tc.cpu, got, tc.invalid, res.GeneratorCPU)
		}
	}
}

// TestIdleGeneratorIsValid: a light run does not trip the saturation check.
func TestIdleGeneratorIsValid(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := mustPlan(t, "target: "+srv.URL+"\nload: {users: 1, duration: 600ms, think: 50ms}\ntasks: [{path: /}]\n")
	res := New(p, discard{}).Run(context.Background())
	if res.GeneratorCPU > 0.5 || len(res.Invalid) > 0 {
		t.Errorf("idle generator: cpu %.2f, invalid %v", res.GeneratorCPU, res.Invalid)
	}
}
