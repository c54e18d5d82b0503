package load

import (
	"runtime"
	"testing"
	"time"
)

// On one CPU the scheduler gets a second processor, and the generator still counts one:
// one event loop, and its CPU share out of one CPU.
func TestSpareProcessorCountsTheCPUsThereAre(t *testing.T) {
	defer func(n, procs int) {
		processors = n
		runtime.GOMAXPROCS(procs)
	}(processors, runtime.GOMAXPROCS(0))
	processors = 1
	runtime.GOMAXPROCS(1)
	t.Setenv("GOMAXPROCS", "")
	SpareProcessor()
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("GOMAXPROCS = %d, want 2", n)
	}
	if n := openLoops(5 * openLoopRate); n != 1 {
		t.Errorf("%d open-model loops on one CPU", n)
	}
	if n := Processors(); n != 1 {
		t.Errorf("Processors() = %d on one CPU", n)
	}
	if share := cpuShare(time.Second, time.Second); share != 1 {
		t.Errorf("a second of CPU in a second is %.2f of one CPU", share)
	}

	// A GOMAXPROCS the user set is theirs.
	runtime.GOMAXPROCS(1)
	t.Setenv("GOMAXPROCS", "1")
	SpareProcessor()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("GOMAXPROCS = %d with GOMAXPROCS=1 set", n)
	}

	// More than one CPU: nothing to spare.
	processors = 4
	runtime.GOMAXPROCS(4)
	t.Setenv("GOMAXPROCS", "")
	SpareProcessor()
	if n := runtime.GOMAXPROCS(0); n != 4 {
		t.Errorf("GOMAXPROCS = %d on 4 CPUs", n)
	}
}
