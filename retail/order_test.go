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

// A visit's dwell runs from its earliest strong sighting to its latest,
// whatever order they arrive in (two sensors of a zone, a batch sent
// late). A sighting earlier than the visit's start, within the absence,
// left the start where it was: 0:00 after 3:00 and 3:30 made a visit of
// 30 s where in order it lasted 3.5 min; and with enter_after 3 an
// earlier pending sighting did not move the pending start either.
func TestDwellDoesNotDependOnSightingOrder(t *testing.T) {
	for _, tc := range []struct {
		enterAfter int
		orders     [][]time.Duration
	}{
		{2, [][]time.Duration{
			{0, 3 * time.Minute, 3*time.Minute + 30*time.Second},
			{3 * time.Minute, 3*time.Minute + 30*time.Second, 0},
		}},
		{3, [][]time.Duration{
			{0, 4 * time.Minute, 8 * time.Minute},
			{4 * time.Minute, 0, 8 * time.Minute},
			{4 * time.Minute, 8 * time.Minute, 0},
		}},
	} {
		var want string
		for i, order := range tc.orders {
			a, c, _ := newAgg(t, Options{K: 1, EnterAfter: tc.enterAfter})
			for _, at := range order {
				see(a, "s", "z", "d", -60, at)
			}
			a.Flush()
			var got string
			for _, r := range c.recs {
				for _, b := range r.Dwell {
					maxS := "inf"
					if b.MaxS != nil {
						maxS = fmt.Sprint(*b.MaxS)
					}
					got += fmt.Sprintf("[%d s, %s s): %d visits; ", b.MinS, maxS, b.Visits)
				}
			}
			if i == 0 {
				want = got
				continue
			}
			if got != want {
				t.Errorf("enter_after %d, sightings at %v: dwell %s; in order %v: %s", tc.enterAfter, order, got, tc.orders[0], want)
			}
		}
	}
}
