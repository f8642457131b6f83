//go:build unix

package flock

import (
	"errors"
	"os"
	"syscall"
)

// Lock takes an exclusive advisory lock on f, waiting for it; it is
// released when f is closed.
func Lock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

// TryLock takes an exclusive advisory lock on f without waiting, and
// reports false only when another process holds it; it is released when f
// is closed, and by the kernel when the process dies (kill -9 included). A
// file system without locks (ENOLCK, EOPNOTSUPP) leaves the file unlocked
// and reports true, as a system without flock does.
func TryLock(f *os.File) bool {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	return !errors.Is(err, syscall.EWOULDBLOCK)
}
