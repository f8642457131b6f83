package retail

import (
	"testing"
	"time"
)

// TestDwellCountedAfterATickGap: a tick after a gap (a backlog read before
// ticking, a restart reading the day again, a stalled process) ended the
// visits of the absent devices before it closed the intervals that were
// over: those still held every slot, so a visit ending in an interval not
// yet open found none, and its dwell was dropped (counted as a late
// sighting). With one slot free, two such visits ending in different
// intervals took it in the device table's order, which the hash seed
// decides. Here every slot is held: on the code before, A's dwell is lost
// whatever the seed; each run draws a new seed.
func TestDwellCountedAfterATickGap(t *testing.T) {
	for run := range 8 {
		a, c, clk := newAgg(t, Options{K: 1})
		// Sightings of intervals 0 to 3, with no tick in between: each
		// interval holds a slot.
		see(a, "berlin", "x", "w0", -60, 1*time.Minute)
		see(a, "berlin", "x", "w0", -60, 2*time.Minute)
		see(a, "berlin", "x", "w1", -60, 16*time.Minute)
		see(a, "berlin", "x", "w1", -60, 17*time.Minute)
		see(a, "berlin", "x", "w2", -60, 31*time.Minute)
		see(a, "berlin", "x", "w2", -60, 32*time.Minute)
		// A's visit, 54:00 to 58:00 (4 min of dwell), ends at 63:00, in
		// interval 4 (60:00 to 75:00), which holds no slot yet.
		see(a, "berlin", "a", "A", -60, 54*time.Minute)
		see(a, "berlin", "a", "A", -60, 56*time.Minute)
		see(a, "berlin", "a", "A", -60, 58*time.Minute)
		// The first tick after the gap: intervals 0 to 3 are over.
		clk.Set(t0.Add(64 * time.Minute))
		a.Tick()
		// B in zone a in interval 4: 1 min of dwell, ending in it too.
		see(a, "berlin", "a", "B", -60, 65*time.Minute)
		see(a, "berlin", "a", "B", -60, 66*time.Minute)
		clk.Set(t0.Add(2 * time.Hour))
		a.Tick()

		var got *Aggregate
		for i := range c.recs {
			if r := &c.recs[i]; r.Zone == "a" && r.Start == t0.Add(time.Hour).UTC().Format(cellTime) {
				got = r
			}
		}
		if got == nil {
			t.Fatalf("run %d: zone a of 01:00 not sent: %+v", run, c.recs)
		}
		var dwell uint32
		for _, b := range got.Dwell {
			dwell += b.Visits
		}
		if dwell != 2 {
			t.Fatalf("run %d: zone a of 01:00: %d visits in its dwell histogram %+v; want 2 (A's, ended in it, and B's)", run, dwell, got.Dwell)
		}
		if s := a.Stats(); s.Late != 0 || s.LateDwell != 0 {
			t.Fatalf("run %d: %d sightings and %d visits' dwell counted late; none was", run, s.Late, s.LateDwell)
		}
	}
}
