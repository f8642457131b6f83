package retail

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// iv2 returns the cell of store/zone in the second interval [t0+15m, t0+30m).
func (c *collector) iv2(store, zone string) *Aggregate {
	start := t0.Add(15 * time.Minute).UTC().Format(cellTime)
	for i := range c.recs {
		if r := &c.recs[i]; r.Store == store && r.Zone == zone && r.Start == start {
			return r
		}
	}
	return nil
}

// TestVisitsAndReturningNeedKDevices: visits and returning were shown once
// they held k visits, and a shopper makes as many visits as they step in:
// with two shoppers whose visits began in the interval before (visitors of
// this one, no visit of it) and one who stepped into the zone three times,
// the cell of 3 visitors was sent with k 3 as "visits 3, returning 3", both
// counts one person's. visitors is no bound of visits from below: a
// visitor's visit may have begun in an earlier interval. Now each needs k
// distinct devices; these are left out (new, 0, with them).
func TestVisitsAndReturningNeedKDevices(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 3, Absence: time.Minute})
	stay(a, "berlin", "shoes", "solo", 0, time.Minute) // solo's first visit, interval 1
	for _, d := range []string{"a", "b"} {
		stay(a, "berlin", "shoes", d, 10*time.Minute, 20*time.Minute) // visitors of both intervals
	}
	stay(a, "berlin", "shoes", "c", 10*time.Minute, 14*time.Minute+31*time.Second) // its visit ends in interval 2
	for _, from := range []time.Duration{16 * time.Minute, 19 * time.Minute, 22 * time.Minute} {
		stay(a, "berlin", "shoes", "solo", from, from+time.Minute)
	}
	clk.Set(t0.Add(33 * time.Minute))
	a.Tick()
	z := c.iv2("berlin", "shoes")
	if z == nil || z.Visitors != 3 {
		t.Fatalf("interval 2: %+v (all %+v)", z, c.recs)
	}
	// The dwell histogram (6 visits of 4 devices: a, b, c and solo) was
	// shown before; visits left out take it with them.
	if z.Visits != 0 || z.Returning != 0 || !slices.Contains(z.Suppressed, "visits") || !slices.Contains(z.Suppressed, "returning") {
		t.Errorf("interval 2: %+v; visits 3 and returning 3 are one device's: want both left out", z)
	}
	checkNoneExposed(t, c.recs)
}

// TestReturningNeedsKDevicesBesideNewOnes: three first-time shoppers and
// one who came back three times: visits 6 of 4 devices may be shown, but
// returning 3 is one device's, and new (3) goes with it, or returning would
// be visits minus new.
func TestReturningNeedsKDevicesBesideNewOnes(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 3, Absence: time.Minute})
	stay(a, "berlin", "shoes", "solo", 0, time.Minute)
	for _, from := range []time.Duration{16 * time.Minute, 19 * time.Minute, 22 * time.Minute} {
		stay(a, "berlin", "shoes", "solo", from, from+time.Minute)
	}
	for i := range 3 {
		stay(a, "berlin", "shoes", fmt.Sprint("n", i), 16*time.Minute, 18*time.Minute)
	}
	clk.Set(t0.Add(33 * time.Minute))
	a.Tick()
	z := c.iv2("berlin", "shoes")
	if z == nil || z.Visitors != 4 {
		t.Fatalf("interval 2: %+v (all %+v)", z, c.recs)
	}
	if z.Visits != 6 || z.New != 0 || z.Returning != 0 || !slices.Equal(z.Suppressed, []string{"new", "returning"}) {
		t.Errorf("interval 2: %+v; want visits 6 shown, new and returning (3, one device's) left out", z)
	}
	checkNoneExposed(t, c.recs)
}

// TestWeakSightingsNeedKDevices: a weak sighting carries its device's
// visitor hash, and one passer-by outside the window seen 7 times made
// weak_sightings 7 in a cell sent with k 3: how long one person stood
// there. Weak sightings now need k distinct devices; the sightings total
// (of every visitor, k or more) may still be shown once another kind goes
// with them.
func TestWeakSightingsNeedKDevices(t *testing.T) {
	a, c, _ := newAgg(t, Options{K: 3, EnterAfter: 1})
	for i := range 3 {
		seeKind(a, "z", "strong", i, time.Minute)
	}
	for i := range 7 {
		see(a, "s1", "z", "passer-by", -90, time.Duration(i)*30*time.Second)
	}
	for i := range 5 {
		seeKind(a, "z", "randomized", i, time.Minute)
	}
	for i := range 4 { // four other passers-by, once each: 4 devices
		see(a, "s1", "z2", fmt.Sprint("p", i), -90, time.Minute)
	}
	for i := range 3 {
		seeKind(a, "z2", "strong", i, time.Minute)
	}
	a.Flush()
	z := c.zone("s1", "z")
	if z == nil || z.Visitors != 3 {
		t.Fatalf("records %+v", c.recs)
	}
	if z.Weak != 0 || !slices.Contains(z.Suppressed, "weak_sightings") {
		t.Errorf("%+v: weak_sightings 7 are one device's; want them left out", z)
	}
	if z2 := c.zone("s1", "z2"); z2 == nil || z2.Weak != 4 {
		t.Errorf("z2 %+v: 4 weak devices; want weak_sightings 4 shown", z2)
	}
	checkNoneExposed(t, c.recs)
}

// TestMergedZonesVisitsCountDistinctDevices: in "*" the visits of the
// zones merged are added up; they need k distinct devices over those
// zones: one device's visits in three zones are one device, three
// devices' visits in three zones are three.
func TestMergedZonesVisitsCountDistinctDevices(t *testing.T) {
	for _, tc := range []struct {
		name  string
		devs  []string
		shown bool
	}{
		{"one device", []string{"solo", "solo", "solo"}, false},
		{"three devices", []string{"p", "q", "r"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, c, clk := newAgg(t, Options{K: 3, Absence: time.Minute})
			zones := []string{"x", "y", "z"}
			// Zone x: three visits of interval 1 that end in interval 2
			// (no visitors of it): dwell of 3 devices in one zone, so
			// "*" can show dwell, and visits with it.
			for i := range 3 {
				stay(a, "berlin", "x", fmt.Sprint("early", i), 12*time.Minute, 14*time.Minute+31*time.Second)
			}
			stay(a, "berlin", "x", "a", 10*time.Minute, 25*time.Minute)
			stay(a, "berlin", "y", "b", 10*time.Minute, 25*time.Minute)
			for i, d := range tc.devs {
				from := 16*time.Minute + time.Duration(2*i)*time.Minute
				stay(a, "berlin", zones[i], d, from, from+time.Minute)
			}
			clk.Set(t0.Add(33 * time.Minute))
			a.Tick()
			o := c.iv2("berlin", OtherZones)
			if o == nil || o.Visitors < 3 {
				t.Fatalf("other zones %+v (all %+v)", o, c.recs)
			}
			// Dwell (zone x's 3 devices) was shown in both cases before;
			// visits left out take it with them.
			if d, out := dwellOf(o); tc.shown && (d == "" || out) {
				t.Fatalf("*: dwell %s (suppressed %v): the test needs it shown", d, out)
			}
			if shown := o.Visits != 0; shown != tc.shown {
				t.Errorf("*: %+v; visits shown %v, want %v", o, shown, tc.shown)
			}
			checkNoneExposed(t, c.recs)
		})
	}
}

// TestEvictedDeviceIsNoSecondVisitDevice: a device evicted at MaxDevices
// and seen again is new to the table, and its visit after is a new visit
// again; it must not count among the visits' devices a second time, or one
// shopper's two visits make visits 2 of 2 devices with k 2. An evicted
// device is counted as none of the devices of the open intervals' visits.
func TestEvictedDeviceIsNoSecondVisitDevice(t *testing.T) {
	a, c, clk := newAgg(t, Options{K: 2, Absence: time.Minute, MaxDevices: 2})
	stay(a, "berlin", "shoes", "a", 10*time.Minute, 25*time.Minute) // a visitor whose visit began in interval 1
	stay(a, "berlin", "shoes", "p", 16*time.Minute, 17*time.Minute)
	stay(a, "berlin", "toys", "q", 18*time.Minute, 19*time.Minute)  // evicts p in shoes
	stay(a, "berlin", "shoes", "p", 20*time.Minute, 21*time.Minute) // evicts q in toys
	clk.Set(t0.Add(33 * time.Minute))
	a.Tick()
	s := c.iv2("berlin", "shoes")
	if s == nil || s.Visitors < 2 {
		t.Fatalf("shoes %+v (all %+v)", s, c.recs)
	}
	if a.Stats().Evicted < 2 {
		t.Fatalf("evicted %d; the test needs p evicted", a.Stats().Evicted)
	}
	if s.Visits != 0 || s.New != 0 || !slices.Contains(s.Suppressed, "visits") {
		t.Errorf("shoes %+v: visits 2 (new 2) are one device's; want them left out", s)
	}
	checkNoneExposed(t, c.recs)
}

// TestWithholdDevicesReaderCannotNarrow runs withholdDevices on every cell
// of small visit counts and devices behind them (k 2 to 5) and checks from
// the side of a reader who knows the rule but sees no device count that no
// count of visits, new and returning left out can be told to fewer than
// k-1 values. The reader tries every visits, new, returning that agrees
// with what is shown and every number of devices behind them that could
// be: 1 to the count (0 for 0), the visits' devices at most visitors and at
// least those of new and of returning, new's exactly new (a device has one
// first visit a day: only an eviction, which the reader is not told of,
// makes two). Sightings are all strong here (TestWithholdReaderCannotNarrow
// and the weak test cover their kinds).
func TestWithholdDevicesReaderCannotNarrow(t *testing.T) {
	hideOf := func(visits, fresh, ret, nv, nr, k, visitors uint32) [nCounts]bool {
		v := [nCounts]uint32{visits, fresh, ret, max(visitors, visits), 0, 0, 0}
		n := v
		n[cVisits], n[cReturning] = nv, nr
		return withholdDevices(&v, &n, k, visitors, false)
	}
	// devices calls f with every (visits' devices, returning's devices)
	// that could be behind visits = fresh + ret.
	devices := func(visits, fresh, ret, visitors uint32, f func(nv, nr uint32)) {
		for nv := min(visits, 1); nv <= min(visits, visitors); nv++ {
			for nr := min(ret, 1); nr <= min(ret, nv); nr++ {
				if nv >= fresh && nv <= fresh+nr {
					f(nv, nr)
				}
			}
		}
	}
	for k := uint32(2); k <= 5; k++ {
		need := int(k) - 1
		for _, visitors := range []uint32{k, k + 2} {
			span := 3 * k
			for visits := range span {
				for fresh := range min(visits, visitors) + 1 {
					ret := visits - fresh
					devices(visits, fresh, ret, visitors, func(nv, nr uint32) {
						hide := hideOf(visits, fresh, ret, nv, nr, k, visitors)
						truth := [3]uint32{visits, fresh, ret}
						if !hide[cVisits] && !hide[cNew] && !hide[cReturning] {
							return
						}
						for i := range 3 {
							if !hide[i] && truth[i] > 0 && (truth[i] < k) {
								t.Fatalf("k=%d: %v shows %s below k", k, truth, countNames[i])
							}
						}
						vals := [3]map[uint32]bool{{}, {}, {}}
						for v2 := range span + k {
							for f2 := range min(v2, visitors) + 1 {
								c := [3]uint32{v2, f2, v2 - f2}
								agrees := true
								for i := range 3 {
									agrees = agrees && (hide[i] || c[i] == truth[i])
								}
								if !agrees {
									continue
								}
								found := false
								devices(c[0], c[1], c[2], visitors, func(nv2, nr2 uint32) {
									found = found || hideOf(c[0], c[1], c[2], nv2, nr2, k, visitors) == hide
								})
								if found {
									for i := range 3 {
										vals[i][c[i]] = true
									}
								}
							}
						}
						for i := range 3 {
							if hide[i] && len(vals[i]) < need {
								t.Errorf("k=%d visitors=%d: visits %d new %d returning %d (devices %d, returning's %d) leaves out %v; a reader narrows %s to %v",
									k, visitors, visits, fresh, ret, nv, nr, hide, countNames[i], vals[i])
							}
						}
					})
				}
			}
		}
	}
}
