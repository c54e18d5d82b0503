//go:build !unix

package cli

import "os"

// openPipe opens a named pipe for writing (see pipe_unix.go); elsewhere there is no
// such file to wait on.
func openPipe(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
