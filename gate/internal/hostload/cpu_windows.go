//go:build windows

package hostload

import (
	"syscall"
	"time"
)

// ProcessCPU is this process's user and system processor time so far.
func ProcessCPU() time.Duration {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0
	}
	var created, exited, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0
	}
	hundreds := func(t syscall.Filetime) int64 { return int64(t.HighDateTime)<<32 | int64(t.LowDateTime) } // 100 ns units
	return time.Duration((hundreds(kernel) + hundreds(user)) * 100)
}
