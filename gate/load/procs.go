package load

import (
	"os"
	"runtime"
)

// processors is how many CPUs the generator runs on: GOMAXPROCS as the runtime chose it
// at start (from the CPU affinity and any cgroup limit), before SpareProcessor. The event
// loops and the generator's CPU share count these.
var processors = runtime.GOMAXPROCS(0)

// Processors is how many CPUs the generator runs on (see SpareProcessor): what its
// threads can really do at once.
func Processors() int { return processors }

// SpareProcessor gives the Go scheduler a second processor (P) when the machine gives it
// one CPU, so that an event loop waiting in epoll keeps its own. With a single P the
// runtime takes it from any system call longer than 20 us and wakes another thread to
// look for work, which finds none; the loop then waits for a P of its own, and the
// threads pass it around with futex calls. Loopback, 2000 requests/s on one CPU: 99k
// context switches on that CPU in 5 s with one P, 53k with two; on a shared host each
// wake-up is a chance to be descheduled. With a second P idle the runtime leaves the call
// alone. The loops and the CPU share still count the one CPU. A GOMAXPROCS set in the
// environment is left as it is.
func SpareProcessor() {
	if processors == 1 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
}
