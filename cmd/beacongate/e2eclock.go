//go:build e2eclock

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// With -tags e2eclock, e2eStartEnv pins the calendar instant the binary's
// clocks start at. The end-to-end tests build the binary that way, so that
// what they check does not depend on the day they run (a TC string's age,
// pseudonym periods, file names); production builds read no such variable.
func init() {
	v := os.Getenv(e2eStartEnv)
	if v == "" {
		return
	}
	start, err := time.Parse(time.RFC3339, v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: not an RFC 3339 time\n", e2eStartEnv)
		os.Exit(2)
	}
	// The pinned instant, then moving with the process's monotonic clock:
	// batches still age and files still roll.
	c := clock.Starting(start)
	serveClock, cliClock = c, c
}
