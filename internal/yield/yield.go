// Package yield lets a goroutine doing long background work (compressing a
// batch, freeing a delivered spool segment) give the core to the requests.
package yield

import (
	"runtime"
	"time"
)

// pause is how long Core sleeps when other goroutines have work: short
// against the work between two calls (a slice of a batch's compression, a
// step of a segment's removal, each 0.1-0.3 ms), long enough for the
// scheduler to find the run queue empty and poll the network. When nothing
// else is runnable the runtime's network poller waits at least 1 ms (its
// timeout is in milliseconds), so the sleep lasts about that long: wall
// time, not CPU, for work nobody waits on.
const pause = 50 * time.Microsecond

// Core pauses the calling goroutine briefly, so that the goroutines waiting
// for the core run and the requests still in socket buffers are taken off
// the network first. runtime.Gosched alone is not enough when the process
// has one core to itself (GOMAXPROCS=1): the caller goes back to the run
// queue, and the network is polled only once that queue is empty, so a
// loop that calls Gosched holds the core for its whole length. The sleep
// alone is not enough either: a goroutine its timer wakes goes to the head
// of the run queue, ahead of the requests that were waiting, so the caller
// got the core back after the first of them. Gosched after the sleep puts
// it behind them.
func Core() {
	time.Sleep(pause)
	runtime.Gosched()
}
