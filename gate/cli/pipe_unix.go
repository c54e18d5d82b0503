//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openPipe opens a named pipe for writing without waiting for a reader: a pipe nothing
// reads from is an error at once rather than a wait forever. The file is then made
// blocking again, so that a slow reader is waited for.
func openPipe(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) {
			return nil, fmt.Errorf("%s is a pipe nothing reads from", path)
		}
		return nil, err
	}
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = syscall.SetNonblock(int(fd), false) })
	}
	return f, nil
}
