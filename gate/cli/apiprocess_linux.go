package cli

import "syscall"

// endWithParent makes a child process end when perfgate does, however it ends.
func endWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
