// Package clock supplies the current instant to every part of beacongate
// whose output depends on it: receive times, pseudonym key periods, spool
// record times, the ages of unsent records and output file names.
//
// Production passes Real. Tests pass Fixed, Manual or Starting, so that what
// they check does not depend on the day they run. Elapsed-time measurements
// that never reach the output (timeouts, backoff, latency histograms) use the
// monotonic clock directly and are not routed through a Clock.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock reads the current instant. Implementations are safe for concurrent
// use and Now does not allocate.
type Clock interface {
	Now() time.Time
}

// Real reads the system clock (time.Now).
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Or returns c, or Real when c is nil: the default of every optional Clock
// field.
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Fixed returns a clock that always reads t.
func Fixed(t time.Time) Clock { return fixed{t} }

type fixed struct{ t time.Time }

func (f fixed) Now() time.Time { return f.t }

// Starting returns a clock that reads t now and then moves forward with the
// process's monotonic clock: for tests that need a pinned calendar instant
// and also need time to pass (batches that age, files that roll).
func Starting(t time.Time) Clock {
	return &starting{base: t, origin: time.Now()}
}

type starting struct {
	base   time.Time
	origin time.Time // holds a monotonic reading
}

func (s *starting) Now() time.Time { return s.base.Add(time.Since(s.origin)) }

// Manual is a clock that moves only when told to. Its zero value reads the
// Unix epoch. It is safe for concurrent use.
type Manual struct {
	ns atomic.Int64 // Unix nanoseconds
}

// NewManual returns a Manual clock reading t.
func NewManual(t time.Time) *Manual {
	m := &Manual{}
	m.Set(t)
	return m
}

// Now returns the instant last set, in UTC.
func (m *Manual) Now() time.Time { return time.Unix(0, m.ns.Load()).UTC() }

// Set moves the clock to t (forward or backward).
func (m *Manual) Set(t time.Time) { m.ns.Store(t.UnixNano()) }

// Advance moves the clock forward by d and returns the new instant.
func (m *Manual) Advance(d time.Duration) time.Time {
	return time.Unix(0, m.ns.Add(int64(d))).UTC()
}
