//go:build linux

package loadgen

import (
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfd sleeps through the network poller. A goroutine that sleeps with
// time.Sleep on an otherwise idle scheduler wakes no sooner than about 1 ms
// later (the runtime's netpoll waits in whole milliseconds), which would add
// up to a millisecond of client delay to every open-loop request; a timerfd
// becomes readable, and wakes the poller, within microseconds of its time.
type timerfd struct {
	fd uintptr  // kept apart: os.File.Fd would switch the file to blocking mode
	f  *os.File // the same fd, registered with the poller for reads
}

func newSleeper() sleeper {
	const clockMonotonic = 1
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return timerSleeper{}
	}
	// The fd is non-blocking, so os.NewFile registers it with the poller.
	return &timerfd{fd: fd, f: os.NewFile(fd, "timerfd")}
}

// sleep arms a one-shot timer d from now and waits for it to expire.
func (t *timerfd) sleep(d time.Duration) error {
	spec := [2]syscall.Timespec{{}, syscall.NsecToTimespec(int64(d))} // struct itimerspec {it_interval: 0, it_value: d}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, t.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		return errno
	}
	var expirations [8]byte
	_, err := io.ReadFull(t.f, expirations[:])
	return err
}

func (t *timerfd) stop() { t.f.Close() }
