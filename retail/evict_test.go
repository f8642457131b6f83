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
