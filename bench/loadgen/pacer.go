package loadgen

import "time"

// sleeper waits for the open-loop pacer's next release.
type sleeper interface {
	sleep(d time.Duration) error
	stop()
}

// timerSleeper is the portable sleeper, with the Go runtime's timer
// resolution (about a millisecond when the scheduler is idle).
type timerSleeper struct{}

func (timerSleeper) sleep(d time.Duration) error { time.Sleep(d); return nil }
func (timerSleeper) stop()                       {}

// minWait bounds the pacer to 50,000 wake-ups a second (each costs the
// client a few microseconds of CPU): above that rate a wake-up releases
// several requests, each still timed from its own intended send time, so a
// request can leave up to minWait late and that delay counts as latency.
const minWait = 20 * time.Microsecond

// maxWait keeps the pacer responsive to cancellation at low rates.
const maxWait = 100 * time.Millisecond

// pacerWait returns how long the pacer sleeps when the next request is due
// in d.
func pacerWait(d time.Duration) time.Duration {
	return min(max(d, minWait), maxWait)
}
