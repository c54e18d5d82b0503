// Package hostload measures how contended the machine was while perfgate measured: how
// long runnable tasks waited for a processor (Linux's CPU pressure, /proc/pressure/cpu),
// the processor time the hypervisor gave to other machines (steal, /proc/stat), and the
// processor time other processes used (the machine's busy time, /proc/stat, less
// perfgate's own), and how long perfgate's own threads waited for a processor
// (/proc/self/task/*/schedstat). A shared CI runner is such a machine: a result measured while it was
// contended may say more about the neighbours than about the target.
//
// Read takes the counters now; Between gives the Usage from one reading to the next, and
// Usages add, so that windows of a run merge exactly into the run's.
package hostload

import "time"

// Counters are the machine's cumulative figures at one moment.
type Counters struct {
	At time.Time
	// Pressure is the total time in which at least one runnable task waited for a
	// processor (PSI "some"); HasPressure is false where the kernel keeps no PSI.
	Pressure    time.Duration
	HasPressure bool
	// Busy, Idle and Steal split every processor's time since boot (from /proc/stat's
	// "cpu" line: user, nice, system, irq and softirq are busy; idle and iowait idle);
	// HasStat is false without it.
	Busy, Idle, Steal time.Duration
	HasStat           bool
	// Self is this process's own processor time; Wait the time its threads were ready to
	// run but waiting for a processor (the sum of /proc/self/task/*/schedstat's second
	// field), HasWait false without it.
	Self time.Duration
	Wait time.Duration
	// Runs is how many times its threads were put on a processor (schedstat's third
	// field): Wait over Runs is how long a thread that became ready waited, on average.
	Runs    uint64
	HasWait bool
}

// Usage is what the machine did between two readings. Each figure is a time, so that
// two Usages add exactly.
type Usage struct {
	// Wall is the time between the readings.
	Wall time.Duration
	// Pressure is the time in it some runnable task waited for a processor, over
	// PressureWall, the part of Wall with pressure figures.
	Pressure, PressureWall time.Duration
	// Busy, Idle and Steal split the processors' time; Self is perfgate's part of Busy.
	Busy, Idle, Steal, Self time.Duration
	// Wait is how long perfgate's threads waited for a processor, over WaitWall, the
	// part of Wall with that figure; Runs how many times they were run meanwhile.
	Wait, WaitWall time.Duration
	Runs           uint64
}

// Between is the Usage from a to b, with only the figures both readings have.
func Between(a, b Counters) Usage {
	u := Usage{Wall: nonNegative(b.At.Sub(a.At))}
	if a.HasPressure && b.HasPressure {
		u.Pressure, u.PressureWall = nonNegative(b.Pressure-a.Pressure), u.Wall
	}
	if a.HasStat && b.HasStat {
		u.Busy = nonNegative(b.Busy - a.Busy)
		u.Idle = nonNegative(b.Idle - a.Idle)
		u.Steal = nonNegative(b.Steal - a.Steal)
		u.Self = min(nonNegative(b.Self-a.Self), u.Busy)
	}
	if a.HasWait && b.HasWait {
		u.Wait, u.WaitWall = nonNegative(b.Wait-a.Wait), u.Wall
		if b.Runs > a.Runs {
			u.Runs = b.Runs - a.Runs
		}
	}
	return u
}

// Add returns the usage of both intervals.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		Wall: u.Wall + v.Wall, Pressure: u.Pressure + v.Pressure, PressureWall: u.PressureWall + v.PressureWall,
		Busy: u.Busy + v.Busy, Idle: u.Idle + v.Idle, Steal: u.Steal + v.Steal, Self: u.Self + v.Self,
		Wait: u.Wait + v.Wait, WaitWall: u.WaitWall + v.WaitWall, Runs: u.Runs + v.Runs,
	}
}

// Shares are a Usage's figures as shares: ok is false for a figure the machine did not
// give.
type Shares struct {
	// Pressure is the share of the time in which some runnable task waited for a
	// processor.
	Pressure    float64
	HasPressure bool
	// Steal is the share of the processors' time taken by the hypervisor, Others that used
	// by other processes, Self perfgate's own.
	Steal, Others, Self float64
	HasStat             bool
	// Wait is how long perfgate's threads waited for a processor per second: 0.05 is
	// 50 ms a second, in all its threads together; WaitPerRun how long, on average, a
	// thread that became ready waited before it ran (0 without runs).
	Wait       float64
	WaitPerRun time.Duration
	HasWait    bool
}

// Shares returns u's figures as shares of its time.
func (u Usage) Shares() Shares {
	var s Shares
	if u.PressureWall > 0 {
		s.Pressure, s.HasPressure = min(1, float64(u.Pressure)/float64(u.PressureWall)), true
	}
	if all := u.Busy + u.Idle + u.Steal; all > 0 {
		s.HasStat = true
		s.Steal = float64(u.Steal) / float64(all)
		s.Others = float64(u.Busy-u.Self) / float64(all)
		s.Self = float64(u.Self) / float64(all)
	}
	if u.WaitWall > 0 {
		s.Wait, s.HasWait = float64(u.Wait)/float64(u.WaitWall), true
		if u.Runs > 0 {
			s.WaitPerRun = u.Wait / time.Duration(u.Runs)
		}
	}
	return s
}

func nonNegative(d time.Duration) time.Duration { return max(0, d) }
