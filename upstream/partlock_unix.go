//go:build unix

package upstream

import (
	"errors"
	"os"
	"syscall"
)

// lockPart takes an exclusive advisory lock on the open .part file f
// without waiting, and reports false only when another process holds it.
// A FileSink holds the lock of the .part file it writes until it closes
// it, and the kernel releases it when the process dies (kill -9
// included): so a start tells a .part file another process is writing (a
// second gateway whose file destination writes to the same dir) from one
// a run left behind. A file system without locks (ENOLCK, EOPNOTSUPP)
// leaves the files unlocked, as a system without flock does.
func lockPart(f *os.File) bool {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	return !errors.Is(err, syscall.EWOULDBLOCK)
}
