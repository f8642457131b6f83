package retail

import (
	"fmt"
	"testing"
	"time"
)

// TestEvictedDeviceDoesNotLiftACellToK: a device evicted at MaxDevices and
// seen again in the interval it was already counted in was a second
// visitor, so four shoppers in a zone made a cell of 5 visitors, sent with
// k 5 (a cell of fewer than k people published). While its cell is below
// k, a device seen again is recognised by the interval's visitor marks.
func TestEvictedDeviceDoesNotLiftACellToK(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 5, MaxDevices: 5})
	for i := range 4 { // four shoppers in the shoes zone, a visit each
		dev := fmt.Sprintf("p%d", i)
		see(a, "berlin", "shoes", dev, -60, time.Duration(i)*time.Second)
		see(a, "berlin", "shoes", dev, -60, time.Duration(10+i)*time.Second)
	}
	// Two other shoppers at the entrance: the table (5) is full, the
	// least recently seen shopper of the shoes zone is evicted.
	for i := range 2 {
		dev := fmt.Sprintf("e%d", i)
		see(a, "berlin", "entrance", dev, -60, time.Minute)
		see(a, "berlin", "entrance", dev, -60, time.Minute+10*time.Second)
	}
	if a.Stats().Evicted == 0 {
		t.Fatal("no device evicted: the test does not test eviction")
	}
	// Every shoes shopper is seen again in the same interval.
	for i := range 4 {
		dev := fmt.Sprintf("p%d", i)
		see(a, "berlin", "shoes", dev, -60, 2*time.Minute+time.Duration(i)*time.Second)
		see(a, "berlin", "shoes", dev, -60, 2*time.Minute+time.Duration(10+i)*time.Second)
	}
	clk.Set(t0.Add(17 * time.Minute))
	a.Tick()
	if r := c.zone("berlin", "shoes"); r != nil {
		t.Fatalf("shoes sent as a cell of its own with %d visitors; it had 4 shoppers, k 5: %+v", r.Visitors, r)
	}
	// "*" holds the six distinct shoppers of both zones.
	if r := c.zone("berlin", OtherZones); r == nil || r.Visitors != 6 {
		t.Fatalf("other zones: %+v; want 6 visitors", r)
	}
}

// TestEvictionKeepsTheNewDevicesCounts: a sighting took its cell's
// counters of the interval, then inserted its device; at MaxDevices that
// evicted another, whose ended visit's dwell went into the same interval
// under its own cell. When that cell's index lay beyond the interval's
// counters, they grew into a new array, and the sighting's visit, new or
// returning and visitor went into the old one, lost: the zone was sent
// without the shopper, or (below k, no visitor left) not at all. Cell
// indices used again (forgetCells) made it common: a day's new cells take
// low indices while evicted devices sit in later ones.
func TestEvictionKeepsTheNewDevicesCounts(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 1, EnterAfter: 1, MaxDevices: 1})
	see(a, "berlin", "shoes", "p", -60, 0) // cell 0
	// Another shopper in another zone (cell 1): p is evicted.
	see(a, "berlin", "toys", "q", -60, 15*time.Minute-time.Second)
	// p back in the shoes zone in the next interval, whose counters hold
	// cell 0 only: q is evicted, its visit ends in this interval.
	see(a, "berlin", "shoes", "p", -60, 15*time.Minute)
	clk.Set(t0.Add(time.Hour))
	a.Tick()
	var got *Aggregate
	for i := range c.recs {
		if r := &c.recs[i]; r.Zone == "shoes" && r.Start == t0.Add(15*time.Minute).UTC().Format(cellTime) {
			got = r
		}
	}
	if got == nil || got.Visitors != 1 || got.Visits != 1 || got.New != 1 {
		t.Fatalf("shoes in the second interval: %+v; want 1 visitor, 1 visit, 1 new (all sent: %+v)", got, c.recs)
	}
}

// TestEvictionsHoldNoSlotForTheFuture: an evicted device's visit ended
// where its end would have been known, last sighting + absence: with an
// absence of several intervals, an interval in the future, for which it
// claimed a slot. A few evictions a minute apart held every slot, so the
// current interval's sightings (on time, the clock right) were refused as
// late, and other evicted visits lost their dwell. An evicted visit now
// ends in the latest interval open at the latest.
func TestEvictionsHoldNoSlotForTheFuture(t *testing.T) {
	a, c, clk := newAgg(t, Options{Interval: time.Minute, Absence: 10 * time.Minute, Lateness: 30 * time.Second,
		K: 1, EnterAfter: 1, MaxDevices: 1})
	const minutes = 20
	for m := range minutes {
		// One shopper a minute: the table holds one, so each evicts the
		// one before, whose visit would end 10 minutes on.
		dev := fmt.Sprintf("p%d", m)
		see(a, "berlin", "shoes", dev, -60, time.Duration(m)*time.Minute+5*time.Second)
		see(a, "berlin", "shoes", dev, -60, time.Duration(m)*time.Minute+15*time.Second)
		for s := 20; s <= 60; s += 10 {
			clk.Set(t0.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second))
			a.Tick()
		}
	}
	clk.Set(t0.Add(time.Hour))
	a.Tick()
	st := a.Stats()
	if st.Late != 0 {
		t.Fatalf("%d sightings refused as late; every one was on time", st.Late)
	}
	var visits, dwell uint32
	for _, r := range c.recs {
		visits += r.Visits
		for _, b := range r.Dwell {
			dwell += b.Visits
		}
	}
	// The last shopper's visit ends in an interval with no visitor, whose
	// cell (dwell only) is below k and not sent.
	if visits != minutes || dwell != minutes-1 || st.LateDwell != 0 {
		t.Fatalf("%d visits, %d in dwell histograms, %d counted late; want %d, %d, 0 (evicted %d)",
			visits, dwell, st.LateDwell, minutes, minutes-1, st.Evicted)
	}
}
