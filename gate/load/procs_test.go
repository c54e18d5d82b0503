package load

import (
	"runtime"
	"testing"
	"time"
)

// keepProcessors restores the CPU count and GOMAXPROCS after a test changes them.
func keepProcessors(t *testing.T) {
	n, procs := processors, runtime.GOMAXPROCS(0)
	t.Cleanup(func() {
		processors = n
		runtime.GOMAXPROCS(procs)
	})
}

func TestSpareProcessor(t *testing.T) {
	keepProcessors(t)
	for _, tc := range []struct {
		name string
		cpus int
		env  string // GOMAXPROCS in the environment
		want int
	}{
		{"one CPU", 1, "", 2},
		{"GOMAXPROCS set by the user", 1, "1", 1},
		{"more CPUs: nothing to spare", 4, "", 4},
	} {
		processors = tc.cpus
		runtime.GOMAXPROCS(tc.cpus)
		t.Setenv("GOMAXPROCS", tc.env)
		SpareProcessor()
		if n := runtime.GOMAXPROCS(0); n != tc.want {
			t.Errorf("%s: GOMAXPROCS = %d, want %d", tc.name, n, tc.want)
		}
	}
}

// With the spare, the generator still counts one CPU: one event loop, and its CPU share
// out of one CPU.
func TestTheSpareProcessorIsNotACPU(t *testing.T) {
	keepProcessors(t)
	processors = 1
	runtime.GOMAXPROCS(2)
	if n := Processors(); n != 1 {
		t.Errorf("Processors() = %d on one CPU", n)
	}
	if n := openLoops(5 * openLoopRate); n != 1 {
		t.Errorf("%d open-model loops on one CPU", n)
	}
	if share := cpuShare(time.Second, time.Second); share != 1 {
		t.Errorf("a second of CPU in a second is %.2f of one CPU", share)
	}
}
