package retail

import (
	"fmt"
	"testing"
	"time"
)

// Two sensors of one zone (or one sensor's batch) deliver a device's
// sightings around an interval's end out of order: the device is one
// visitor of each interval, however often its sightings alternate between
// them. Counted again at each return to the earlier interval, three people
// made a cell of 6 visitors, sent with k 5.
func TestVisitorCountedOnceWhenSightingsAlternateIntervals(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 5})
	for i := range 3 {
		dev := fmt.Sprintf("d%d", i)
		see(a, "berlin", "shoes", dev, -60, 14*time.Minute)                // interval 0
		see(a, "berlin", "shoes", dev, -60, 14*time.Minute+30*time.Second) // visit starts: a visitor of 0
		see(a, "berlin", "shoes", dev, -60, 15*time.Minute+10*time.Second) // interval 1
		see(a, "berlin", "shoes", dev, -60, 14*time.Minute+50*time.Second) // the other sensor's, late: 0 again
		see(a, "berlin", "shoes", dev, -60, 15*time.Minute+20*time.Second) // 1 again
	}
	clk.Set(t0.Add(40 * time.Minute))
	a.Tick()
	for _, r := range c.recs {
		t.Errorf("cell of 3 people sent with k 5: %s %s visitors %d", r.Zone, r.Start, r.Visitors)
	}
	a2, c2, clk2 := newAgg(t, Options{K: 3})
	for i := range 3 {
		dev := fmt.Sprintf("d%d", i)
		for _, at := range []time.Duration{14 * time.Minute, 14*time.Minute + 30*time.Second, 15*time.Minute + 10*time.Second,
			14*time.Minute + 50*time.Second, 15*time.Minute + 20*time.Second, 14*time.Minute + 55*time.Second} {
			see(a2, "berlin", "shoes", dev, -60, at)
		}
	}
	clk2.Set(t0.Add(40 * time.Minute))
	a2.Tick()
	if len(c2.recs) != 2 {
		t.Fatalf("want both intervals' cells, got %+v", c2.recs)
	}
	for _, r := range c2.recs {
		if r.Visitors != 3 {
			t.Errorf("%s: visitors %d, want 3", r.Start, r.Visitors)
		}
	}
}

// Two strong sightings further apart than the absence start no visit
// (EnterAfter 2), whichever comes first in the stream: a sensor's batch
// sent late delivers the earlier one second. It started a visit with an
// 8-minute dwell from sightings 8 minutes apart.
func TestSightingsFurtherApartThanTheAbsenceStartNoVisitInAnyOrder(t *testing.T) {
	for _, order := range [][2]time.Duration{{2 * time.Minute, 10 * time.Minute}, {10 * time.Minute, 2 * time.Minute}} {
		a, c, clk := newAgg(t, Options{K: 1})
		see(a, "s", "z", "d", -60, order[0])
		see(a, "s", "z", "d", -60, order[1])
		clk.Set(t0.Add(time.Hour))
		a.Tick()
		for _, r := range c.recs {
			if r.Visits != 0 || len(r.Dwell) != 0 {
				t.Errorf("sightings at %v then %v: visits %d, dwell %+v; want none", order[0], order[1], r.Visits, r.Dwell)
			}
		}
	}
}
