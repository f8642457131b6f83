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

// TestCellsCappedWithinAnInterval: nothing bounded the cells of an open
// interval: a store box (or anyone who can post /ble) naming 100,000
// stores within one interval made 100,000 cells, each kept until the
// interval closed (max_devices bounds devices, not cells). MaxCells caps
// them: the sightings that would add a cell beyond it are refused and
// counted, and the stores already held are counted exactly.
func TestCellsCappedWithinAnInterval(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 2, MaxCells: 10})
	for i := range 10 { // ten stores, two shoppers each
		store := fmt.Sprintf("store-%d", i)
		for _, p := range []string{"p", "q"} {
			see(a, store, "entrance", p+store, -60, time.Minute)
			see(a, store, "entrance", p+store, -60, 2*time.Minute)
		}
	}
	const flood = 100000
	for i := range flood {
		see(a, fmt.Sprintf("flood-%d", i), "zone", fmt.Sprintf("x%d", i), -60, 3*time.Minute)
	}
	// A third shopper in store-0, after the flood: still counted.
	see(a, "store-0", "entrance", "r", -60, 4*time.Minute)
	see(a, "store-0", "entrance", "r", -60, 5*time.Minute)
	st := a.Stats()
	a.mu.Lock()
	index, live := len(a.cellKeys), len(a.cells)
	longest := 0
	for i := range a.slot {
		longest = max(longest, len(a.slot[i]))
	}
	a.mu.Unlock()
	if st.Refused != flood || st.Cells != 10 || index > 10 || live > 10 || longest > 10 {
		t.Fatalf("after a flood of %d stores: %d sightings refused, %d cells held, index %d, map %d, counters %d; want %d refused, at most 10 cells",
			flood, st.Refused, st.Cells, index, live, longest, flood)
	}
	clk.Set(t0.Add(17 * time.Minute))
	a.Tick()
	for i := range 10 {
		want := uint32(2)
		if i == 0 {
			want = 3
		}
		if r := c.zone(fmt.Sprintf("store-%d", i), "entrance"); r == nil || r.Visitors != want || r.Visits != want || r.Sightings != 2*want {
			t.Fatalf("store-%d: %+v; want %d visitors, visits, %d sightings", i, r, want, 2*want)
		}
	}
	if len(c.recs) != 10 {
		t.Fatalf("%d aggregates; want the 10 stores'", len(c.recs))
	}
}

// TestCappedIntervalTakesNoCellPartly: once an interval refused a sighting
// at MaxCells, it takes no sighting of a cell it has none of, even once
// cells forgotten made room: the cell would hold only the sightings that
// came after. The next interval takes it whole.
func TestCappedIntervalTakesNoCellPartly(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 1, MaxCells: 2})
	// Interval 0: store A, anonymous (no device keeps its cell).
	a.Add(&Sighting{Site: []byte("shop"), Store: []byte("A"), Zone: []byte("z"), AtMS: t0.Add(14 * time.Minute).UnixMilli()})
	// Interval 1: store B's shopper; C is refused (A and B are held).
	see(a, "B", "z", "b", -60, 16*time.Minute)
	see(a, "C", "z", "c", -60, 16*time.Minute+30*time.Second)
	// Interval 0 closes, A is forgotten: room for one cell.
	clk.Set(t0.Add(17*time.Minute + time.Second))
	a.Tick()
	if st := a.Stats(); st.Cells != 1 || st.Refused != 1 {
		t.Fatalf("after interval 0 closed: %+v; want 1 cell held, 1 sighting refused", st)
	}
	// Refused: C has no sighting of interval 1 (else C would be sent for
	// it with a visit and 2 sightings of 3).
	see(a, "C", "z", "c", -60, 18*time.Minute)
	see(a, "C", "z", "c", -60, 18*time.Minute+30*time.Second)
	see(a, "B", "z", "b", -60, 18*time.Minute) // counted: B has
	see(a, "C", "z", "c", -60, 31*time.Minute) // interval 2: counted
	see(a, "C", "z", "c", -60, 32*time.Minute)
	clk.Set(t0.Add(time.Hour))
	a.Tick()
	iv1, iv2 := t0.Add(15*time.Minute).UTC().Format(cellTime), t0.Add(30*time.Minute).UTC().Format(cellTime)
	for _, r := range c.recs {
		if r.Store == "C" && r.Start == iv1 {
			t.Fatalf("C sent for interval 1 with part of its sightings: %+v", r)
		}
	}
	var b1, c2 *Aggregate
	for i := range c.recs {
		switch r := &c.recs[i]; {
		case r.Store == "B" && r.Start == iv1:
			b1 = r
		case r.Store == "C" && r.Start == iv2:
			c2 = r
		}
	}
	if b1 == nil || b1.Sightings != 2 || b1.Visitors != 1 {
		t.Fatalf("B of interval 1: %+v; want 2 sightings, 1 visitor", b1)
	}
	if c2 == nil || c2.Sightings != 2 || c2.Visitors != 1 {
		t.Fatalf("C of interval 2: %+v; want 2 sightings, 1 visitor", c2)
	}
	if st := a.Stats(); st.Refused != 3 {
		t.Fatalf("%d sightings refused; want 3", st.Refused)
	}
}
