package hostload

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"
)

// parsePressure reads the "some" total of a /proc/pressure/cpu file:
//
//	some avg10=1.23 avg60=0.50 avg300=0.10 total=123456789
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//
// total is in microseconds.
func parsePressure(b []byte) (time.Duration, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "some" {
			continue
		}
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				us, err := strconv.ParseUint(v, 10, 63)
				if err != nil || us > uint64(maxTime/time.Microsecond) {
					return 0, errors.New("pressure: bad total")
				}
				return time.Duration(us) * time.Microsecond, nil
			}
		}
		return 0, errors.New("pressure: no total")
	}
	return 0, errors.New("pressure: no \"some\" line")
}

// maxTime bounds what a counter may hold: far past any uptime, and safe to add.
const maxTime = time.Duration(1<<62 - 1)

// parseStat reads the machine's processor times from a /proc/stat file's "cpu" line, in
// clock ticks (USER_HZ, tick long):
//
//	cpu  user nice system idle iowait irq softirq steal guest guest_nice
//
// guest time is already in user and nice, so it is not added again.
func parseStat(b []byte, tick time.Duration) (busy, idle, steal time.Duration, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, 0, errors.New("stat: no \"cpu\" line")
	}
	var v [8]uint64
	for i := range v {
		if i+1 >= len(fields) {
			break // older kernels stop before steal
		}
		n, err := strconv.ParseUint(fields[i+1], 10, 63)
		if err != nil || n > uint64(maxTime/tick)/8 {
			return 0, 0, 0, errors.New("stat: bad number")
		}
		v[i] = n
	}
	t := func(n uint64) time.Duration { return time.Duration(n) * tick }
	busy = t(v[0] + v[1] + v[2] + v[5] + v[6])
	idle = t(v[3] + v[4])
	return busy, idle, t(v[7]), nil
}

// parseSchedstat reads the run-queue wait and the number of times the thread was run
// from a /proc/.../schedstat file: "run wait slices", times in nanoseconds.
func parseSchedstat(b []byte) (time.Duration, uint64, error) {
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return 0, 0, errors.New("schedstat: too few fields")
	}
	ns, err := strconv.ParseUint(fields[1], 10, 63)
	if err != nil {
		return 0, 0, errors.New("schedstat: bad wait")
	}
	slices, err := strconv.ParseUint(fields[2], 10, 63)
	if err != nil {
		return 0, 0, errors.New("schedstat: bad count")
	}
	return time.Duration(ns), slices, nil
}
