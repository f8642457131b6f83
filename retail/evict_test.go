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
