package retail

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exposed names the counts left out of r that a reader can work out from
// what r shows: for each partition whose total r shows, the parts it left
// out hold the total minus the parts shown (for the sightings, minus the
// strong ones a reader knows of: max(visitors, visits)); below k that
// pins them down more closely than "1 to k-1".
func exposed(r Aggregate) []string {
	left := func(name string) bool { return slices.Contains(r.Suppressed, name) }
	var out []string
	check := func(total string, shown uint32, known uint32, parts map[string]uint32) {
		if left(total) {
			return
		}
		sum := int64(shown) - int64(known)
		var hidden []string
		for name, v := range parts {
			if left(name) {
				hidden = append(hidden, name)
			} else {
				sum -= int64(v)
			}
		}
		if len(hidden) > 0 && sum < int64(r.K) {
			slices.Sort(hidden)
			out = append(out, fmt.Sprintf("%v = %d", hidden, sum))
		}
	}
	check("visits", r.Visits, 0, map[string]uint32{"new": r.New, "returning": r.Returning})
	check("sightings", r.Sightings, max(r.Visitors, r.Visits), map[string]uint32{
		"randomized_sightings": r.Randomized, "weak_sightings": r.Weak, "anonymous_sightings": r.Anonymous})
	return out
}

func checkNoneExposed(t *testing.T, recs []Aggregate) {
	t.Helper()
	for _, r := range recs {
		if e := exposed(r); len(e) > 0 {
			t.Errorf("cell %s %s %s (k=%d): counts left out can be worked out: %v\n%+v", r.Start, r.Store, r.Zone, r.K, e, r)
		}
	}
}

// TestReturningNotDerivableFromVisitsMinusNew (found by a review): device R
// visits zone shoes in interval 1 and comes back in interval 2 with 5
// first-time devices. Interval 2 showed visits=6 new=5 and left returning
// out as below k, but returning = visits - new = 1. Now new is left out
// too: the two hold 6 >= k together.
func TestReturningNotDerivableFromVisitsMinusNew(t *testing.T) {
	a, c, _ := newAgg(t, Options{}) // k = 5, interval 15m, absence 5m
	stay(a, "s1", "shoes", "R", 0, 2*time.Minute)
	stay(a, "s1", "shoes", "R", 16*time.Minute, 18*time.Minute)
	for _, d := range []string{"D1", "D2", "D3", "D4", "D5"} {
		stay(a, "s1", "shoes", d, 16*time.Minute, 18*time.Minute)
	}
	a.Flush()
	for _, r := range c.recs {
		if r.Visits >= 5 && r.New >= 5 && r.Returning == 0 && r.Visits-r.New > 0 && r.Visits-r.New < 5 {
			t.Errorf("cell %s %s: returning suppressed as below k=%d, but visits-new = %d reveals it", r.Start, r.Zone, r.K, r.Visits-r.New)
		}
	}
	checkNoneExposed(t, c.recs)
	z := c.recs[len(c.recs)-1]
	if z.Zone != "shoes" || z.Visitors != 6 || z.Visits != 6 || z.New != 0 || z.Returning != 0 || !slices.Equal(z.Suppressed, []string{"new", "returning"}) {
		t.Fatalf("interval 2: %+v; want visits 6 shown, new and returning left out", z)
	}
}

// TestNewNotDerivableFromVisitsMinusReturning: the reverse. Five devices
// come back in interval 2 with one first-time device: new (1) is below k,
// and returning (5) is left out with it.
func TestNewNotDerivableFromVisitsMinusReturning(t *testing.T) {
	a, c, _ := newAgg(t, Options{})
	devs := []string{"R1", "R2", "R3", "R4", "R5"}
	for _, d := range devs {
		stay(a, "s1", "shoes", d, 0, 2*time.Minute)
		stay(a, "s1", "shoes", d, 16*time.Minute, 18*time.Minute)
	}
	stay(a, "s1", "shoes", "D1", 16*time.Minute, 18*time.Minute)
	a.Flush()
	checkNoneExposed(t, c.recs)
	z := c.recs[len(c.recs)-1]
	if z.Visitors != 6 || z.Visits != 6 || z.New != 0 || z.Returning != 0 || !slices.Equal(z.Suppressed, []string{"new", "returning"}) {
		t.Fatalf("interval 2: %+v; want visits 6 shown, new and returning left out", z)
	}
}

// seeKind adds one sighting at t0+at: randomized, anonymous (no device
// id), weak or strong.
func seeKind(a *Aggregator, zone, kind string, i int, at time.Duration) {
	s := Sighting{Site: []byte("shop"), Store: []byte("s1"), Zone: []byte(zone), RSSI: -60, AtMS: t0.Add(at).UnixMilli()}
	switch kind {
	case "randomized":
		s.Device, s.Randomized = fmt.Appendf(nil, "r%d", i), true
	case "anonymous":
	case "weak":
		s.Device, s.RSSI = fmt.Appendf(nil, "w%d", i), -90
	default:
		s.Device = fmt.Appendf(nil, "d%d", i)
	}
	a.Add(&s)
}

// TestSightingKindsNotDerivableFromSightings: sightings are randomized,
// anonymous, weak or strong, and a reader knows at least max(visitors,
// visits) were strong. With 5 visitors seen once each (enter_after 1), one
// sighting of one kind and 5 or 7 of the others, sightings minus the kinds
// shown minus the visitors gave the one away. Now the smallest kind shown
// is left out with it; and with no other kind to leave out, the sightings.
func TestSightingKindsNotDerivableFromSightings(t *testing.T) {
	kinds := []string{"randomized", "weak", "anonymous"}
	for _, small := range kinds {
		for _, others := range []int{0, 5, 7} {
			t.Run(fmt.Sprintf("%s_others%d", small, others), func(t *testing.T) {
				a, c, _ := newAgg(t, Options{EnterAfter: 1})
				for i := range 5 {
					seeKind(a, "z", "strong", i, time.Minute)
				}
				n := 0
				for _, kind := range kinds {
					count := others
					if kind == small {
						count = 1
					}
					for range count {
						seeKind(a, "z", kind, n, time.Minute)
						n++
					}
				}
				a.Flush()
				if len(c.recs) != 1 || c.recs[0].Visitors != 5 {
					t.Fatalf("records %+v", c.recs)
				}
				checkNoneExposed(t, c.recs)
				r := c.recs[0]
				name := small + "_sightings"
				if !slices.Contains(r.Suppressed, name) {
					t.Errorf("%s not left out: %+v", name, r)
				}
				if others == 0 && (r.Sightings != 0 || !slices.Contains(r.Suppressed, "sightings")) {
					t.Errorf("no other kind to leave out, yet sightings shown: %+v", r)
				}
				if others > 0 && (r.Sightings != uint32(5+1+2*others) || len(r.Suppressed) != 2) {
					t.Errorf("want the sightings shown and one more kind left out: %+v", r)
				}
			})
		}
	}
}

// TestWithholdComplements checks the rule on counts alone.
func TestWithholdComplements(t *testing.T) {
	for _, tc := range []struct {
		v        [nCounts]uint32
		k        uint32
		visitors uint32
		want     []string
	}{
		// Nothing below k.
		{[nCounts]uint32{6, 6, 0, 60, 5, 0, 5}, 5, 6, nil},
		// returning 1: new (the only other part) goes too.
		{[nCounts]uint32{6, 5, 1, 60, 0, 0, 0}, 5, 6, []string{"new", "returning"}},
		// Two parts below k holding k together: enough.
		{[nCounts]uint32{6, 5, 1, 30, 2, 3, 9}, 5, 6, []string{"new", "returning", "randomized_sightings", "weak_sightings"}},
		// Two parts below k short of k: the smaller shown one goes, the
		// first of equals.
		{[nCounts]uint32{6, 6, 0, 18, 1, 2, 9}, 5, 6, []string{"randomized_sightings", "weak_sightings", "anonymous_sightings"}},
		{[nCounts]uint32{6, 6, 0, 25, 1, 7, 7}, 5, 10, []string{"randomized_sightings", "weak_sightings"}},
		// Strong sightings beyond what a reader knows (20 - 6 = 14) hide
		// the one randomized sighting.
		{[nCounts]uint32{6, 6, 0, 21, 1, 0, 0}, 5, 6, []string{"randomized_sightings"}},
		// Only 2 beyond: the total goes.
		{[nCounts]uint32{6, 6, 0, 9, 1, 0, 0}, 5, 6, []string{"sightings", "randomized_sightings"}},
		// Visits count towards what a reader knows of the strong ones.
		{[nCounts]uint32{9, 9, 0, 10, 1, 0, 0}, 5, 5, []string{"sightings", "randomized_sightings"}},
		// A total below k is left out; its parts give nothing away.
		{[nCounts]uint32{4, 3, 1, 30, 0, 0, 0}, 5, 6, []string{"visits", "new", "returning"}},
	} {
		v := tc.v
		hide := withhold(&v, tc.k, tc.visitors)
		var got []string
		for i := range hide {
			if hide[i] {
				got = append(got, countNames[i])
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("withhold(%v, k=%d, visitors=%d) = %v; want %v", tc.v, tc.k, tc.visitors, got, tc.want)
		}
	}
}

// TestNoCountLeftOutIsDerivable drives a seeded random mix of devices,
// returns and sighting kinds through stores of several zones (some merged
// into "*") and checks that no cell shows a count below k or lets one left
// out be worked out, and every dwell bucket holds k visits.
func TestNoCountLeftOutIsDerivable(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		k := 2 + rng.IntN(5)
		a, c, _ := newAgg(t, Options{K: k, EnterAfter: 1 + rng.IntN(2)})
		for store := range 3 {
			st := fmt.Sprint("s", store)
			for zone := range 4 {
				z := fmt.Sprint("z", zone)
				devs := rng.IntN(2 * k)
				for d := range devs {
					dev := fmt.Sprintf("%s-%s-%d", st, z, d)
					at := time.Duration(rng.IntN(60)) * time.Minute
					for range 1 + rng.IntN(3) { // visits, some returning
						for i := range 1 + rng.IntN(3) {
							see(a, st, z, dev, -60, at+time.Duration(i)*20*time.Second)
						}
						at += time.Duration(6+rng.IntN(20)) * time.Minute
					}
				}
				for i := range rng.IntN(2 * k) {
					a.Add(&Sighting{Site: []byte("shop"), Store: []byte(st), Zone: []byte(z),
						Device: fmt.Appendf(nil, "x%d", i), Randomized: true, RSSI: -60,
						AtMS: t0.Add(time.Duration(rng.IntN(60)) * time.Minute).UnixMilli()})
				}
				for _, weak := range []bool{true, false} { // weak, then anonymous
					for i := range rng.IntN(2 * k) {
						s := Sighting{Site: []byte("shop"), Store: []byte(st), Zone: []byte(z), RSSI: -90,
							AtMS: t0.Add(time.Duration(rng.IntN(60)) * time.Minute).UnixMilli()}
						if weak {
							s.Device = fmt.Appendf(nil, "w%d", i)
						}
						a.Add(&s)
					}
				}
			}
		}
		a.Flush()
		checkNoneExposed(t, c.recs)
		for _, r := range c.recs {
			for _, v := range []uint32{r.Visitors, r.Visits, r.New, r.Returning, r.Sightings, r.Randomized, r.Weak, r.Anonymous} {
				if v > 0 && v < uint32(k) || r.Visitors == 0 {
					t.Fatalf("seed %d: a count below k=%d shown: %+v", seed, k, r)
				}
			}
			for _, b := range r.Dwell {
				if b.Visits < uint32(k) {
					t.Fatalf("seed %d: dwell bucket below k=%d: %+v", seed, k, r)
				}
			}
		}
	}
}
