package retail

import (
	"fmt"
	"testing"
	"time"
)

// TestCellsForgottenAfterTheirDay: every (site, store, zone) ever sighted
// stayed in the aggregator's cell index for the life of the process, a
// map entry and three strings each, and every interval walked it: a store
// box (or anyone who can post /ble) naming a new store or zone each day,
// or each request, grew the gateway's memory for weeks. A cell is now
// forgotten once no open interval counts it and no tracked device is in
// it, and its index is used again.
func TestCellsForgottenAfterTheirDay(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 1})
	const days, perDay = 20, 50
	for d := range days {
		day := time.Duration(d) * 24 * time.Hour
		for i := range perDay {
			store := fmt.Sprintf("store-%d-%d", d, i)
			for _, at := range []time.Duration{time.Minute, 2 * time.Minute} {
				see(a, store, "entrance", fmt.Sprintf("dev-%d", i), -60, day+at)
			}
			// An anonymous sighting in a zone of its own: no device keeps
			// this cell, only the interval's counts.
			a.Add(&Sighting{Site: []byte("shop"), Store: []byte(store), Zone: []byte("street"), AtMS: t0.Add(day + time.Minute).UnixMilli()})
		}
		clk.Set(t0.Add(day + 12*time.Hour))
		a.Tick()
	}
	if got := c.zone(fmt.Sprintf("store-%d-0", days-1), "entrance"); got == nil || got.Visitors != 1 {
		t.Fatalf("last day's first store: %+v", got)
	}
	// The last day's devices are still tracked (their day is not over),
	// so their cells are kept; no other day's may be.
	a.mu.Lock()
	live, index := len(a.cells), len(a.cellKeys)
	a.mu.Unlock()
	if live > perDay || index > 3*perDay {
		t.Fatalf("after %d days of %d new stores: %d cells indexed, %d slots; want at most the last day's %d (and %d slots)",
			days, perDay, live, index, perDay, 3*perDay)
	}
	// The next day forgets them too.
	clk.Set(t0.Add(time.Duration(days)*24*time.Hour + 12*time.Hour))
	a.Tick()
	a.mu.Lock()
	live = len(a.cells)
	a.mu.Unlock()
	if live != 0 {
		t.Fatalf("a day without sightings: %d cells still indexed", live)
	}
}
