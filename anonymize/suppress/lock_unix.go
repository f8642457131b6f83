//go:build unix

package suppress

import (
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on f, released when f is closed.
func lock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
