//go:build unix

package flock

import (
	"os"
	"syscall"
)

// Lock takes an exclusive advisory lock on f, waiting for it; it is
// released when f is closed.
func Lock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
