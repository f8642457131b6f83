package retail

import (
	"fmt"
	"testing"
	"time"
)

// dwellOf returns the dwell buckets of a cell as "min-max:visits" text, and
// whether "dwell" is named in its suppressed list.
func dwellOf(ag *Aggregate) (string, bool) {
	s := ""
	for _, b := range ag.Dwell {
		max := "inf"
		if b.MaxS != nil {
			max = fmt.Sprint(*b.MaxS)
		}
		s += fmt.Sprintf("[%d-%s:%d]", b.MinS, max, b.Visits)
	}
	out := false
	for _, n := range ag.Suppressed {
		out = out || n == "dwell"
	}
	return s, out
}

// TestDwellBucketNeedsKDevices: a dwell bucket was published once it held
// k visits, and the visits of one device are as many as it makes: one
// shopper who stepped into a zone three times for half a minute made the
// bucket "0-60 s: 3 visits" of a cell of 3 visitors, sent with k 3, a
// bucket that stands for one person. A bucket now needs k distinct devices
// (it is merged with the next until it has them, as before with visits);
// a histogram whose devices are fewer than k in all is left out, and the
// visits with it.
func TestDwellBucketNeedsKDevices(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 3, Absence: time.Minute})
	// Three short visits of one device, each ending in [t0, t0+15m).
	for _, from := range []time.Duration{0, 3 * time.Minute, 6 * time.Minute} {
		stay(a, "berlin", "entrance", "solo", from, from+time.Minute)
	}
	// Two more visitors whose visits end in the next interval.
	stay(a, "berlin", "entrance", "a", 0, 20*time.Minute)
	stay(a, "berlin", "entrance", "b", 0, 20*time.Minute)
	// Another zone: three devices, one short visit each: a bucket of 3.
	for i := range 3 {
		stay(a, "berlin", "shoes", fmt.Sprint("s", i), time.Minute, 2*time.Minute)
	}
	clk.Set(t0.Add(18 * time.Minute))
	a.Tick()
	e := c.zone("berlin", "entrance")
	if e == nil || e.Visitors != 3 {
		t.Fatalf("entrance %+v", e)
	}
	if d, out := dwellOf(e); d != "" || !out {
		t.Errorf("entrance: dwell %s (suppressed %v), one device's 3 visits; want it left out", d, out)
	}
	if e.Visits != 0 {
		t.Errorf("entrance: visits %d shown with the dwell left out", e.Visits)
	}
	s := c.zone("berlin", "shoes")
	if d, out := dwellOf(s); d != "[0-60:3]" || out {
		t.Errorf("shoes: dwell %s (suppressed %v); want [0-60:3] of 3 devices", d, out)
	}
}

// TestMergedZonesDwellBucketNeedsKDevices: in zone "*" the buckets of the
// zones merged were added up, so one device with a short visit in each of
// three small zones made "0-60 s: 3 visits" of one person with k 3.
func TestMergedZonesDwellBucketNeedsKDevices(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 3, Absence: time.Minute})
	for i, zone := range []string{"x", "y", "z"} {
		from := time.Duration(2*i) * time.Minute
		stay(a, "berlin", zone, "solo", from, from+time.Minute)
	}
	stay(a, "berlin", "x", "a", 0, 20*time.Minute)
	stay(a, "berlin", "y", "b", 0, 20*time.Minute)
	clk.Set(t0.Add(18 * time.Minute))
	a.Tick()
	o := c.zone("berlin", OtherZones)
	if o == nil || o.Visitors != 3 || o.Merged != 3 {
		t.Fatalf("other zones %+v", o)
	}
	if d, out := dwellOf(o); d != "" || !out {
		t.Errorf("*: dwell %s (suppressed %v), one device's visits in 3 zones; want it left out", d, out)
	}
}

// TestEvictedDeviceIsNoSecondDwellDevice: a device evicted at MaxDevices
// and seen again is new to the table; its visits must not count it among a
// bucket's devices a second time, or one shopper's two short visits make a
// bucket of 2 devices with k 2. An evicted device is counted as no device
// of the buckets of the open intervals.
func TestEvictedDeviceIsNoSecondDwellDevice(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 2, Absence: time.Minute, MaxDevices: 2})
	stay(a, "berlin", "shoes", "a", 0, 20*time.Minute) // a visitor whose visit ends later
	stay(a, "berlin", "shoes", "p", 0, time.Minute)
	stay(a, "berlin", "toys", "p", 2*time.Minute, 3*time.Minute)  // evicts p in shoes
	stay(a, "berlin", "shoes", "p", 3*time.Minute, 4*time.Minute) // evicts p in toys
	clk.Set(t0.Add(18 * time.Minute))
	a.Tick()
	s := c.zone("berlin", "shoes")
	if s == nil || s.Visitors < 2 {
		t.Fatalf("shoes %+v", s)
	}
	if d, out := dwellOf(s); d != "" || !out {
		t.Errorf("shoes: dwell %s (suppressed %v), one device's 2 visits; want it left out (evicted %d)", d, out, a.Stats().Evicted)
	}
}

// TestDwellAcrossMidnightIsNoSecondDevice: a visit of 23:58 ends at 00:03,
// in the new day's first interval, where the same shopper, under the new
// day's visitor hash, may have a visit too: two devices for one shopper.
// A visit whose sightings are of another UTC day than its interval is
// counted as no device there.
func TestDwellAcrossMidnightIsNoSecondDevice(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 2})
	midnight := t0.Truncate(24 * time.Hour).Add(24 * time.Hour)
	at := func(d time.Duration) time.Duration { return midnight.Add(d).Sub(t0) }
	clk.Set(midnight.Add(-5 * time.Minute))
	a.Tick()
	stay(a, "berlin", "shoes", "p-day1", at(-2*time.Minute), at(-time.Minute)) // ends 00:03:30
	stay(a, "berlin", "shoes", "p-day2", at(0), at(time.Minute))               // ends 00:05:30
	stay(a, "berlin", "shoes", "a-day2", at(0), at(20*time.Minute))
	clk.Set(midnight.Add(18 * time.Minute))
	a.Tick()
	var s *Aggregate
	for i := range c.recs {
		if r := &c.recs[i]; r.Zone == "shoes" && r.Start == midnight.UTC().Format(cellTime) {
			s = r
		}
	}
	if s == nil || s.Visitors != 2 {
		t.Fatalf("shoes after midnight %+v (all %+v)", s, c.recs)
	}
	if d, out := dwellOf(s); d != "" || !out {
		t.Errorf("dwell %s (suppressed %v): one shopper under two days' hashes; want it left out", d, out)
	}
}
