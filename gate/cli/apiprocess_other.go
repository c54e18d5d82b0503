//go:build !linux

package cli

import "syscall"

// endWithParent is nothing where the kernel cannot tie a child's life to perfgate's:
// the child is stopped when perfgate ends normally.
func endWithParent() *syscall.SysProcAttr { return nil }
