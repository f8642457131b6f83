// Package clocktest holds the instants at which the clock-dependent tests
// run, so that the suite proves it passes on other days than the one it was
// written on.
package clocktest

import "time"

// Golden is the instant the golden files were written for: the commit day
// of the golden cases, at noon UTC.
var Golden = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Instant is a named point in time.
type Instant struct {
	Name string // a short name, usable as a subtest and file name
	Time time.Time
}

// Instants are the days the clock-shift tests run at: the commit day, a day
// a year later, a leap day, the day after the signed 32-bit Unix time ends
// (2038-01-19T03:14:07Z), and a UTC midnight (a period boundary of every
// period that divides a day).
var Instants = []Instant{
	{"commit-day", Golden},
	{"year-later", time.Date(2027, 11, 24, 12, 0, 0, 0, time.UTC)},
	{"leap-day", time.Date(2028, 2, 29, 15, 30, 0, 0, time.UTC)},
	{"y2038", time.Date(2038, 1, 20, 9, 0, 0, 0, time.UTC)},
	{"utc-midnight", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
}
