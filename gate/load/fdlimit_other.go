//go:build !unix

package load

// OpenFileLimit is 0: unknown on this system.
func OpenFileLimit() int { return 0 }
