//go:build unix

package adplatform_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the process used so far:
// a benchmark divides work by it to measure per core even when other
// processes share the machine's cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
