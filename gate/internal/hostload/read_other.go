//go:build !linux

package hostload

import "time"

// Read takes the time and this process's processor time only: the machine's figures
// come from Linux's /proc.
func Read() Counters { return Counters{At: time.Now(), Self: ProcessCPU()} }
