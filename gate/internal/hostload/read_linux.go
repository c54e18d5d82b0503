package hostload

import (
	"os"
	"time"
)

// userHZ is the unit of /proc/stat's times: 100 a second on every Linux perfgate runs on
// (the kernel's USER_HZ, fixed for user space whatever its own tick).
const userHZ = 100

// Read takes the machine's counters now. A figure the machine does not give (no PSI in
// the kernel, no /proc) is left out, not an error.
func Read() Counters {
	c := Counters{At: time.Now(), Self: ProcessCPU()}
	if b, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		if p, err := parsePressure(b); err == nil {
			c.Pressure, c.HasPressure = p, true
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		if busy, idle, steal, err := parseStat(b, time.Second/userHZ); err == nil {
			c.Busy, c.Idle, c.Steal, c.HasStat = busy, idle, steal, true
		}
	}
	c.Wait, c.Runs, c.HasWait = threadsWait()
	return c
}

// threadsWait is how long this process's threads have waited for a processor, and how
// many times they were run, in all; a thread that has ended takes its share with it
// (Between keeps a usage from going below zero).
func threadsWait() (time.Duration, uint64, bool) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, 0, false
	}
	var sum time.Duration
	var runs uint64
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		w, n, err := parseSchedstat(b)
		if err != nil {
			return 0, 0, false
		}
		sum += w
		runs += n
	}
	return sum, runs, true
}
