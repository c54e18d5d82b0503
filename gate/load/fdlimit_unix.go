//go:build unix

package load

import "syscall"

// OpenFileLimit is how many files perfgate may have open at once (its RLIMIT_NOFILE,
// which the Go runtime raised to the hard limit at start), or 0 if unknown. Each
// connection is one.
func OpenFileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
